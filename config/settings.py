"""The service's configuration: every setting comes from an environment variable, read here once.

``Settings()`` reads the environment (and a ``.env`` file if present). In production the
service refuses to start with development login on, a default secret, or SQLite.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: Literal["dev", "production"] = Field("dev", description="dev or production")
    host: str = Field("127.0.0.1", description="address uvicorn binds to")
    port: int = Field(8000, description="port uvicorn listens on")
    workers: int = Field(1, ge=1, description="uvicorn worker processes")
    public_base_url: str = Field(
        "", description="URL clients reach the service at (default http://HOST:PORT)"
    )
    log_format: Literal["json", "console", ""] = Field(
        "", description="json or console (default: console in dev, json in production)"
    )
    log_level: str = Field("INFO", description="root log level")

    database_url: str = Field(
        "sqlite+aiosqlite:///./var/registration.db",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///… or postgresql+asyncpg://…",
    )
    database_pool_size: int = Field(10, description="connections per worker (PostgreSQL)")
    redis_url: str = Field("", description="Redis URL; unset: in-process event broker")

    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET),
        description="signs access tokens and local upload policies; 32+ characters",
    )
    person_key_secret: SecretStr = Field(
        SecretStr(DEFAULT_SECRET),
        description="keys the hash that links one person's logins (HMAC of the ID number)",
    )
    access_token_minutes: int = Field(15, ge=1, description="access token lifetime")
    refresh_token_days: int = Field(10, ge=1, description="refresh token lifetime (十天之内免登录)")
    dev_login_enabled: bool = Field(True, description="devLogin mutation (refused in production)")

    max_body_bytes: int = Field(1_000_000, description="largest HTTP request body accepted")
    max_query_depth: int = Field(12, description="deepest GraphQL selection accepted")
    max_query_tokens: int = Field(2_000, description="most GraphQL tokens in one document")
    max_query_aliases: int = Field(30, description="most aliases in one document")
    cors_origins: str = Field("", description="comma-separated origins allowed (browser tools)")

    storage_backend: Literal["local", "s3"] = Field("local", description="local or s3")
    storage_local_root: Path = Field(Path("./var/uploads"), description="local storage folder")
    s3_bucket: str = Field("", description="bucket for attachments")
    s3_endpoint_url: str = Field("", description="S3 or OSS endpoint URL")
    s3_public_endpoint_url: str = Field("", description="endpoint URL the phones reach")
    s3_region: str = Field("cn-hangzhou", description="S3 region")
    s3_access_key_id: SecretStr = Field(SecretStr(""), description="S3 access key id")
    s3_secret_access_key: SecretStr = Field(SecretStr(""), description="S3 secret key")
    s3_addressing_style: Literal["path", "virtual"] = Field("path", description="path or virtual")
    upload_expires_seconds: int = Field(600, description="lifetime of an upload policy")
    upload_requests_per_person: str = Field(
        "30/hour", description="upload policies one applicant may request (a rate, limits syntax)"
    )

    alipay_gateway_url: str = Field("", description="Alipay OpenAPI gateway (gateway.do)")
    alipay_app_id: str = Field("", description="Alipay app id")
    alipay_app_private_key: SecretStr = Field(
        SecretStr(""), description="app private key, PEM text or file path"
    )
    alipay_public_key: str = Field("", description="Alipay public key, PEM text or file path")
    zlb_gateway_url: str = Field("", description="IRS gateway base URL")
    zlb_access_key: str = Field("", description="IRS gateway access key")
    zlb_secret_key: SecretStr = Field(SecretStr(""), description="IRS gateway secret key")
    zlb_app_id: str = Field("", description="浙里办 app id")
    zlb_sso_flow: Literal["ticket", "token"] = Field(
        "ticket", description="ticket (simpleauth) or token (IRS v2)"
    )

    sms_backend: Literal["log", "aliyun"] = Field("log", description="log or aliyun")
    sms_endpoint_url: str = Field("https://dysmsapi.aliyuncs.com/", description="dysmsapi URL")
    sms_access_key_id: str = Field("", description="Aliyun access key id")
    sms_access_key_secret: SecretStr = Field(SecretStr(""), description="Aliyun key secret")
    sms_sign_name: str = Field("", description="SMS signature name")
    sms_template_approved: str = Field("", description="template code: approved")
    sms_template_returned: str = Field("", description="template code: returned")
    sms_timeout_seconds: float = Field(5.0, gt=0, description="timeout of one dysmsapi request")
    sms_lookup_grace_seconds: float = Field(
        60.0,
        ge=0,
        description="wait this long after an SMS send of unknown outcome before looking it up "
        "(QuerySendDetails) and sending again if it is not found",
    )

    dispatcher_in_process: bool = Field(
        True,
        description="run the outbox dispatcher (broker publishes, SMS) in each web worker; "
        "false: run `python -m server.dispatch_worker` instead",
    )
    outbox_poll_seconds: float = Field(
        1.0, gt=0, description="how often the dispatcher looks for due outbox rows"
    )
    outbox_max_attempts: int = Field(
        10, ge=1, description="attempts before an outbox row is DEAD (and logged as an error)"
    )
    outbox_backoff_seconds: float = Field(
        1.0, gt=0, description="first retry delay of an outbox row; doubles per attempt"
    )
    outbox_backoff_max_seconds: float = Field(
        300.0, gt=0, description="longest retry delay of an outbox row"
    )
    outbox_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="how long a dispatcher owns a claimed outbox row before another may take "
        "it over (longer than SMS_TIMEOUT_SECONDS)",
    )

    staff_login_max_failures: int = Field(
        5, ge=1, description="failed sign-ins of one username from one address before it backs off"
    )
    staff_login_lock_minutes: int = Field(
        15, ge=1, description="window of those failures (a username/address pair backs off)"
    )
    staff_login_per_ip: str = Field("20/minute", description="staff login attempts per address")
    forwarded_allow_ips: str = Field(
        "127.0.0.1",
        description="comma-separated proxy addresses (or networks) whose X-Forwarded-For is "
        "believed; '*' trusts every peer (only behind a proxy that overwrites the header)",
    )

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env != "production":
            return self
        problems = []
        if self.dev_login_enabled:
            problems.append("DEV_LOGIN_ENABLED must be false")
        for name in ("secret_key", "person_key_secret"):
            value = getattr(self, name).get_secret_value()
            if value == DEFAULT_SECRET or len(value) < 32:
                problems.append(f"{name.upper()} must be set to a secret of 32+ characters")
        if self.database_url.startswith("sqlite"):
            problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self

    @property
    def is_dev(self) -> bool:
        return self.app_env == "dev"

    @cached_property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("console" if self.is_dev else "json")
