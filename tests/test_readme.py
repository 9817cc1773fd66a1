"""The README documents every error code with its message and every setting."""

from pathlib import Path

from config.settings import Settings
from models.errors import MESSAGES, ErrorCode

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_error_code_is_documented_with_its_message() -> None:
    missing = [c.value for c in ErrorCode if f"| `{c.value}` | {MESSAGES[c]} |" not in README]
    assert missing == []


def test_every_setting_is_documented() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert missing == []
