"""A forward over a real socket: the sending queue hears FORWARDED_OUT, the receiving one
FORWARDED_IN (live and on replay), the province FORWARDED, the applicant the event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api import settings_for
from tests.life.test_forward_reopen import _forward
from tests.realtime import QUEUE_EVENTS, REGISTRATION_EVENTS, LiveServer, graphql_ws, live_server
from tests.review import PROVINCE, XIHU, reviewer
from tests.wizard import sign_in, submitted_registration


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    async with live_server(settings_for(url, tmp_path)) as live:
        yield live


async def test_forward_reaches_both_queues_and_the_applicant(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    east = await reviewer(server.api)
    west = await reviewer(server.api, XIHU, "西湖审核员")
    province = await reviewer(server.api, PROVINCE, "省厅")
    registration = await submitted_registration(applicant)
    async with (
        graphql_ws(server.base_url) as sending,
        graphql_ws(server.base_url) as receiving,
        graphql_ws(server.base_url) as everyone,
        graphql_ws(server.base_url) as phone,
    ):
        for client, token in ((sending, east), (receiving, west), (everyone, province)):
            await client.init(token.token)
            await client.subscribe("q", QUEUE_EVENTS, {})
        await phone.init(applicant.token)
        await phone.subscribe("r", REGISTRATION_EVENTS, {"id": registration["id"]})
        for _ in range(2):  # the replay: STARTED, SUBMITTED
            await phone.next("r")
        await sending.ping()
        await receiving.ping()
        await everyone.ping()

        assert (await _forward(east, registration, departmentCode=XIHU))["errors"] == []
        out = (await sending.next("q"))["reviewQueueEvents"]
        assert out["kind"] == "FORWARDED_OUT" and out["registrationId"] == registration["id"]
        assert out["department"]["code"] == XIHU
        arrived = (await receiving.next("q"))["reviewQueueEvents"]
        assert arrived["kind"] == "FORWARDED_IN" and arrived["status"] == "SUBMITTED"
        assert (await everyone.next("q"))["reviewQueueEvents"]["kind"] == "FORWARDED"
        told = (await phone.next("r"))["registrationEvents"]
        assert told["kind"] == "FORWARDED" and told["status"] == "SUBMITTED"
        cursor = int(out["cursor"]) - 1

    # a reconnecting reviewer of either side gets it on replay, with its side's kind
    for token, kind in ((east, "FORWARDED_OUT"), (west, "FORWARDED_IN")):
        async with graphql_ws(server.base_url) as again:
            await again.init(token.token)
            await again.subscribe("q", QUEUE_EVENTS, {"after": str(cursor)})
            assert (await again.next("q"))["reviewQueueEvents"]["kind"] == kind
