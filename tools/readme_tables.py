"""Rewrite the README's error-code and settings tables from the code: ``make docs``."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import SecretStr

from config.settings import Settings
from models.errors import MESSAGES, ErrorCode

README = Path(__file__).resolve().parent.parent / "README.md"


def error_table() -> str:
    rows = "\n".join(f"| `{code.value}` | {MESSAGES[code]} |" for code in ErrorCode)
    return "| code | message |\n| --- | --- |\n" + rows


def settings_table() -> str:
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, SecretStr):
            default = "(secret)" if default.get_secret_value() else ""
        rows.append(f"| `{name.upper()}` | `{default}` | {field.description or ''} |")
    return "| variable | default | meaning |\n| --- | --- | --- |\n" + "\n".join(rows)


def replace_block(text: str, name: str, body: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(\n<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {name} markers")
    return pattern.sub(lambda m: m.group(1) + body + m.group(2), text)


def main() -> None:
    text = README.read_text(encoding="utf-8")
    text = replace_block(text, "error-codes", error_table())
    text = replace_block(text, "settings", settings_table())
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
