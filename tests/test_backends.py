"""Every pluggable backend is built one way (its family's ``from_settings``) and answers
``ping`` and ``aclose``: on the embedded default, and with the outside services configured."""

from __future__ import annotations

from pathlib import Path

import httpx

from config.backend import Backend
from integrations import broker_factory, unit_directory
from integrations.broker import InProcessBroker
from integrations.identity import providers as identity_providers
from integrations.identity.alipay import AlipayClient
from integrations.identity.base import DisabledProvider
from integrations.redis_broker import RedisBroker
from integrations.sms import factory as sms_factory
from integrations.sms.aliyun import AliyunSmsSender
from integrations.sms.log_sender import LogSmsSender
from models.db import create_engine, session_factory
from storage import factory as storage_factory
from storage.local import LocalDiskStorage
from tests.api import settings_for
from tests.fakes.alipay_gateway import generate_rsa_keypair


async def _lifecycle(backend: Backend) -> bool:
    alive = await backend.ping()
    await backend.aclose()
    await backend.aclose()  # twice is harmless
    return alive


async def test_the_embedded_default_builds_local_backends(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite+aiosqlite:///{tmp_path / 'db'}", tmp_path)
    storage = storage_factory.from_settings(settings)
    assert isinstance(storage, LocalDiskStorage)
    await storage.start()
    broker = broker_factory.from_settings(settings)
    assert isinstance(broker, InProcessBroker)
    await broker.start()
    sms = sms_factory.from_settings(settings)
    assert isinstance(sms, LogSmsSender)
    async with httpx.AsyncClient() as http:
        identities = identity_providers.from_settings(settings, http)
        assert isinstance(identities.alipay, DisabledProvider)
        assert isinstance(identities.zlb, DisabledProvider)
        engine = create_engine(settings.database_url)
        registries = unit_directory.from_settings(settings, session_factory(engine))
        backends: list[Backend] = [
            storage,
            broker,
            sms,
            identities.alipay,
            identities.zlb,
            *registries,
        ]
        assert [await _lifecycle(b) for b in backends] == [True] * len(backends)
        await engine.dispose()


async def test_configured_outside_services_get_their_real_clients(tmp_path: Path) -> None:
    app_private, _ = generate_rsa_keypair()
    _, gateway_public = generate_rsa_keypair()
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'db'}",
        tmp_path,
        redis_url="redis://127.0.0.1:6379/0",
        sms_backend="aliyun",
        sms_access_key_id="id",
        sms_access_key_secret="secret",
        alipay_gateway_url="http://127.0.0.1:9/gateway.do",
        alipay_app_id="2021000000000000",
        alipay_app_private_key=app_private,
        alipay_public_key=gateway_public,
    )
    assert isinstance(broker_factory.from_settings(settings), RedisBroker)
    sms = sms_factory.from_settings(settings)
    assert isinstance(sms, AliyunSmsSender)
    assert await _lifecycle(sms) is True
    async with httpx.AsyncClient() as http:
        identities = identity_providers.from_settings(settings, http)
        assert isinstance(identities.alipay, AlipayClient)
        assert isinstance(identities.zlb, DisabledProvider)
