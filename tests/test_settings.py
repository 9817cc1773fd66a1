"""Production refuses unsafe settings; development starts with nothing configured."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from config.settings import Settings

SAFE = {
    "app_env": "production",
    "dev_login_enabled": False,
    "secret_key": "s" * 40,
    "person_key_secret": "p" * 40,
    "database_url": "postgresql+asyncpg://app@db/registration",
}


def test_development_defaults_are_the_embedded_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.redis_url == ""
    assert settings.storage_backend == "local"
    assert settings.dev_login_enabled


def test_safe_production_settings_are_accepted() -> None:
    assert Settings(**SAFE).app_env == "production"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"dev_login_enabled": True}, "DEV_LOGIN_ENABLED"),
        ({"secret_key": "dev-only-secret-change-me-0123456789abcdef"}, "SECRET_KEY"),
        ({"secret_key": "short"}, "SECRET_KEY"),
        ({"person_key_secret": "dev-only-secret-change-me-0123456789abcdef"}, "PERSON_KEY_SECRET"),
        ({"database_url": "sqlite+aiosqlite:///./var/x.db"}, "SQLite"),
    ],
)
def test_production_refuses_unsafe_settings(override: dict[str, object], complaint: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**{**SAFE, **override})  # type: ignore[arg-type]
    assert complaint in str(caught.value)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9123")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.port == 9123
    assert settings.redis_url == "redis://127.0.0.1:6379/3"
