"""The long-lived parts of one process, built from the settings and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from auth.principal import Principal
from auth.providers import alipay_provider, zlb_provider
from auth.sessions import SessionConfig
from auth.staff import AddressLimiter, LoginPolicy
from identity.base import IdentityProvider
from models.attachments import Attachment
from models.db import SessionFactory, create_engine, session_factory
from models.reference import ReferenceData, load_reference_data
from models.registration import Registration
from settings import Settings
from units.directory import LocalUnitDirectory, UnitRegistry


@dataclass
class Services:
    settings: Settings
    reference: ReferenceData
    engine: AsyncEngine
    db: SessionFactory
    session_config: SessionConfig
    login_policy: LoginPolicy
    login_limiter: AddressLimiter
    outbound_http: httpx.AsyncClient
    alipay: IdentityProvider
    zlb: IdentityProvider
    cache: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        outbound_http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0), limits=httpx.Limits(max_connections=50)
        )
        return cls(
            settings=settings,
            reference=load_reference_data(),
            engine=engine,
            db=session_factory(engine),
            session_config=SessionConfig(
                secret=settings.secret_key.get_secret_value(),
                access_lifetime=timedelta(minutes=settings.access_token_minutes),
                refresh_lifetime=timedelta(days=settings.refresh_token_days),
            ),
            login_policy=LoginPolicy(
                max_failures=settings.staff_login_max_failures,
                lock_for=timedelta(minutes=settings.staff_login_lock_minutes),
                per_address=settings.staff_login_per_ip,
            ),
            login_limiter=AddressLimiter(settings.staff_login_per_ip, settings.redis_url),
            outbound_http=outbound_http,
            alipay=alipay_provider(settings, outbound_http),
            zlb=zlb_provider(settings, outbound_http),
        )

    @property
    def person_secret(self) -> bytes:
        return self.settings.person_key_secret.get_secret_value().encode()

    @property
    def unit_registries(self) -> list[UnitRegistry]:
        return [LocalUnitDirectory(self.db)]

    async def start(self) -> None:
        pass

    async def discard_files(self, keys: list[str]) -> None:
        """Delete files that no longer belong to any registration (after the commit)."""

    async def after_commit(self, registration_id: str) -> None:
        """Hand new events of a registration to the dispatcher (after the commit)."""

    async def record_staff_read(self, principal: Principal, registration: Registration) -> None:
        """Record that a staff member read a registration's personal data."""

    async def attachment_links(self, attachment: Attachment) -> tuple[str | None, str | None]:
        """Short-lived signed URLs of an attachment's file and thumbnail."""
        return None, None

    async def close(self) -> None:
        await self.outbound_http.aclose()
        await self.engine.dispose()

    def extra_routes(self) -> list[BaseRoute]:
        """Routes that integrations serve (the local-storage upload endpoint)."""
        return []

    async def readiness(self) -> dict[str, bool]:
        return {"database": await self.database_ready()}

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any driver error means not ready
            return False
        return True
