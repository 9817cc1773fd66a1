"""The long-lived parts of one process, built from the settings and shared by every request."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from config.settings import Settings
from integrations import broker_factory, unit_directory
from integrations.broker import EventBroker, InProcessBroker
from integrations.identity import providers as identity_providers
from integrations.identity.base import IdentityProvider
from integrations.sms import factory as sms_factory
from integrations.sms.base import SmsSender
from integrations.sms.log_sender import LogSmsSender
from integrations.unit_directory import UnitRegistry
from models.attachments import Attachment
from models.db import SessionFactory, create_engine, session_factory
from models.reference import ReferenceData, load_reference_data
from models.registration import Registration
from services.dispatcher import (
    WAKE_CHANNEL,
    DispatcherConfig,
    OutboxDispatcher,
)
from services.principal import Principal
from services.revocations import Revocations
from services.sessions import SessionConfig
from services.staff import AddressLimiter, LoginBackoff, LoginPolicy
from storage import factory as storage_factory
from storage.base import AttachmentStorage


@dataclass
class Services:
    settings: Settings
    reference: ReferenceData
    engine: AsyncEngine
    db: SessionFactory
    session_config: SessionConfig
    login_policy: LoginPolicy
    login_limiter: AddressLimiter
    login_backoff: LoginBackoff
    upload_limiter: AddressLimiter
    outbound_http: httpx.AsyncClient
    alipay: IdentityProvider
    zlb: IdentityProvider
    storage: AttachmentStorage  # always there: local disk unless STORAGE_BACKEND=s3
    unit_registries: list[UnitRegistry]
    cache: dict[str, Any] = field(default_factory=dict)
    broker: EventBroker = field(default_factory=InProcessBroker)
    sms_sender: SmsSender = field(default_factory=LogSmsSender)
    dispatcher: OutboxDispatcher | None = None
    _wake_tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _sweeper: asyncio.Task[None] | None = None
    _revocations: Revocations | None = None

    @classmethod
    def build(cls, settings: Settings) -> Services:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        outbound_http = httpx.AsyncClient(
            timeout=httpx.Timeout(5.0), limits=httpx.Limits(max_connections=50)
        )
        login_policy = LoginPolicy(
            max_failures=settings.staff_login_max_failures,
            lock_for=timedelta(minutes=settings.staff_login_lock_minutes),
            per_address=settings.staff_login_per_ip,
        )
        db = session_factory(engine)
        identities = identity_providers.from_settings(settings, outbound_http)
        return cls(
            settings=settings,
            reference=load_reference_data(),
            engine=engine,
            db=db,
            session_config=SessionConfig(
                secret=settings.secret_key.get_secret_value(),
                access_lifetime=timedelta(minutes=settings.access_token_minutes),
                refresh_lifetime=timedelta(days=settings.refresh_token_days),
            ),
            login_policy=login_policy,
            login_limiter=AddressLimiter(settings.staff_login_per_ip, settings.redis_url),
            login_backoff=LoginBackoff(login_policy, settings.redis_url),
            upload_limiter=AddressLimiter(
                settings.upload_requests_per_person, settings.redis_url, "upload-request"
            ),
            outbound_http=outbound_http,
            alipay=identities.alipay,
            zlb=identities.zlb,
            broker=broker_factory.from_settings(settings),
            sms_sender=sms_factory.from_settings(settings),
            storage=storage_factory.from_settings(settings),
            unit_registries=unit_directory.from_settings(settings, db),
        )

    @property
    def person_secret(self) -> bytes:
        return self.settings.person_key_secret.get_secret_value().encode()

    @property
    def template_secret(self) -> bytes:
        return hashlib.sha256(
            b"templates:" + self.settings.secret_key.get_secret_value().encode()
        ).digest()

    @property
    def revocations(self) -> Revocations:
        """Session revocations over the broker (``services.revocations``)."""
        if self._revocations is None:
            self._revocations = Revocations(self.broker)
        return self._revocations

    async def start(self) -> None:
        await self.start_storage()
        await self.start_realtime()

    async def start_storage(self) -> None:
        await self.storage.start()
        self._sweeper = asyncio.create_task(self._sweep_uploads_forever())

    async def _sweep_uploads_forever(self) -> None:
        """Expire pending uploads that were never confirmed, every few minutes."""
        from models.db import utcnow
        from storage.uploads import sweep_expired_uploads

        while True:
            try:
                await sweep_expired_uploads(self.db, self.storage, utcnow())
            except Exception:  # the next round tries again
                structlog.get_logger("services").exception("services.upload_sweep_failed")
            await asyncio.sleep(300)

    async def discard_files(self, keys: list[str]) -> None:
        """Delete files that no longer belong to any registration (after the commit)."""
        for key in keys:
            try:
                await self.storage.delete(key)
            except Exception:  # a leftover file is harmless; the sweep of orphans may catch it
                structlog.get_logger("services").warning("services.file_delete_failed")

    async def after_commit(self, registration_id: str) -> None:
        """Hand new events of a registration to the dispatcher (after the commit)."""
        if self.dispatcher is not None:
            self.dispatcher.wake()
        elif self.broker.healthy() and not isinstance(self.broker, InProcessBroker):
            # the dispatcher runs in its own process: wake it through the broker
            task = asyncio.create_task(self._wake_remote_dispatcher())
            self._wake_tasks.add(task)
            task.add_done_callback(self._wake_tasks.discard)

    async def _wake_remote_dispatcher(self) -> None:
        with contextlib.suppress(Exception):  # it polls anyway
            await self.broker.publish(WAKE_CHANNEL, b"")

    async def start_realtime(self) -> None:
        """Start the event broker and, with DISPATCHER_IN_PROCESS, the outbox dispatcher."""
        await self.broker.start()
        await self.revocations.start()
        if not self.settings.dispatcher_in_process and isinstance(self.broker, InProcessBroker):
            structlog.get_logger("services").warning(
                "services.dispatcher_unreachable",
                detail="DISPATCHER_IN_PROCESS=false needs REDIS_URL: subscribers here only "
                "see events through the database (on connect and after a gap)",
            )
        if self.settings.dispatcher_in_process and self.dispatcher is None:
            self.dispatcher = OutboxDispatcher(
                self.db,
                self.broker,
                self.sms_sender,
                DispatcherConfig.from_settings(self.settings),
                postgres=self.engine.dialect.name == "postgresql",
            )
            await self.dispatcher.start()

    async def close_realtime(self) -> None:
        if self.dispatcher is not None:
            await self.dispatcher.stop()
            self.dispatcher = None
        for task in list(self._wake_tasks):
            task.cancel()
        await self.revocations.aclose()
        await self.broker.aclose()
        await self.sms_sender.aclose()

    async def record_staff_read(self, principal: Principal, registration: Registration) -> None:
        """Record that a staff member read a registration's personal data (own transaction)."""
        if not principal.is_staff or principal.staff_id is None or principal.role is None:
            return
        from models.db import transaction, utcnow
        from models.review import record_read

        async with transaction(self.db) as session:
            await record_read(
                session,
                registration_id=registration.id,
                staff_id=principal.staff_id,
                staff_role=principal.role,
                staff_department_code=principal.department_code,
                now=utcnow(),
            )

    async def attachment_links(self, attachment: Attachment) -> tuple[str | None, str | None]:
        """Short-lived signed URLs of an attachment's file and thumbnail."""
        url = await self.storage.presign_download(attachment.storage_key, expires_in_s=300)
        preview = (
            await self.storage.presign_download(attachment.thumbnail_key, expires_in_s=300)
            if attachment.thumbnail_key
            else url
        )
        return url, preview

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        await self.storage.aclose()
        await self.close_realtime()
        for limiter in (self.login_limiter, self.login_backoff, self.upload_limiter):
            await limiter.aclose()
        await self.outbound_http.aclose()
        await self.engine.dispose()

    async def readiness(self) -> dict[str, bool]:
        checks = {"database": await self.database_ready(), "broker": self.broker.healthy()}
        checks["storage"] = await self.storage.ping()
        return checks

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:  # any driver error means not ready
            return False
        return True
