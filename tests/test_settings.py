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


PG = "postgresql+asyncpg://app@db/registration"
SECRETS = {"secret_key": "s" * 40, "person_key_secret": "p" * 40}


@pytest.mark.parametrize(
    "environment",
    [
        {"DATABASE_URL": PG, **{k.upper(): v for k, v in SECRETS.items()}},
        {"HOST": "0.0.0.0"},
        {"HOST": "10.0.0.5", "DATABASE_URL": PG},
    ],
)
def test_dev_mode_on_real_data_must_be_asked_for_by_name(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="APP_ENV"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("APP_ENV", "dev")
    if "SECRET_KEY" not in environment:
        monkeypatch.setenv("SECRET_KEY", "s" * 40)
        monkeypatch.setenv("PERSON_KEY_SECRET", "p" * 40)
    assert Settings(_env_file=None).app_env == "dev"  # type: ignore[call-arg]


@pytest.mark.parametrize("secret", ["secret_key", "person_key_secret"])
@pytest.mark.parametrize("where", [{"database_url": PG}, {"host": "0.0.0.0"}])
def test_the_default_secrets_only_work_on_sqlite_on_loopback(
    secret: str, where: dict[str, str]
) -> None:
    values = {"app_env": "dev", **SECRETS, **where}
    del values[secret]
    with pytest.raises(ValidationError, match=secret.upper()):
        Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_the_embedded_default_needs_nothing_on_loopback(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    monkeypatch.delenv("APP_ENV", raising=False)
    settings = Settings(_env_file=None, host=host)  # type: ignore[call-arg]
    assert settings.is_dev and settings.secret_key.get_secret_value().startswith("dev-only")
