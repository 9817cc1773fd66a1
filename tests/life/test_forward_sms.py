"""The applicant hears of a forward by SMS only when SMS_TEMPLATE_FORWARDED is set; otherwise
the SMS row is settled without sending (never DEAD)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from integrations.sms.base import TEMPLATE_FORWARDED, render_text
from models.outbox import OutboxStatus
from services.dispatcher import OutboxDispatcher
from tests.api import Api
from tests.life.test_forward_reopen import _forward
from tests.realtime.test_outbox import (
    CONFIG,
    Clock,
    FlakyBroker,
    ScriptedSms,
    outbox,
    quiet_api,
    sms_rows,
)
from tests.review import XIHU, reviewer
from tests.wizard import sign_in, submitted_registration

__all__ = ["quiet_api"]


@pytest.mark.parametrize("configured", [True, False])
async def test_forward_sms_follows_the_setting(quiet_api: Api, configured: bool) -> None:
    applicant = await sign_in(quiet_api)
    registration = await submitted_registration(applicant)
    moved = await _forward(await reviewer(quiet_api), registration, departmentCode=XIHU)
    assert moved["errors"] == []
    broker, sms, clock = FlakyBroker(), ScriptedSms(), Clock()
    sender: Any = sms  # a scripted stand-in for the SMS sender
    await broker.start()
    worker = OutboxDispatcher(
        quiet_api.services.db,
        broker,
        sender,
        replace(CONFIG, forwarded_sms=configured),
        postgres=quiet_api.services.engine.dialect.name == "postgresql",
        clock=clock,
    )
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status is OutboxStatus.SENT
    if configured:
        [sent] = sms.requests
        assert sent.template_code == TEMPLATE_FORWARDED
        assert "西湖区财政局" in render_text(sent)
    else:
        assert sms.requests == []
