"""Faults: the standalone dispatcher killed (SIGKILL) in the middle of an SMS send, and Redis
stopped while subscribers are connected. Nothing is lost and no SMS goes out twice.

Redis here is always a private ``redis-server`` started by the test, never the machine's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlmodel import col, select

from integrations.broker import Gap
from integrations.redis_broker import RedisBroker
from models.outbox import OutboxChannel, OutboxMessage, OutboxStatus
from models.registration import RegistrationEvent
from tests.api import Api, running_api, settings_for
from tests.fakes.dysmsapi import serve_fake_dysmsapi
from tests.realtime import (
    HISTORY,
    REGISTRATION_EVENTS,
    Cluster,
    all_sent,
    dispatch_worker,
    eventually,
    fake_gateway,
    graphql_ws,
    redis_server,
    service_env,
)
from tests.review import approve, return_, reviewer
from tests.wizard import SUBMIT, ok, sign_in, submitted_registration
from tools.sample_answers import resident_id

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT"},
]
APPLICANTS = [
    {"name": "张三", "idType": "01", "idNumber": "330106199003071236", "phone": "13812345678"},
    {"name": "李四", "idType": "01", "idNumber": "330106198501011231", "phone": "13900002222"},
    {"name": "王五", "idType": "01", "idNumber": "330102199205124564", "phone": "13700003333"},
]

WU = {"name": "吴九", "idType": "01", "idNumber": resident_id(209), "phone": "13600007777"}


@pytest.fixture
async def quiet_api(postgres_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The API in this process, without a dispatcher: the rows wait for the standalone one."""
    async with running_api(
        settings_for(postgres_url, tmp_path, dispatcher_in_process=False)
    ) as api:
        yield api


async def decided_registrations(api: Api) -> list[str]:
    """Three submitted registrations: approved, returned (2 items), approved."""
    staff = await reviewer(api)
    ids = []
    for n, identity in enumerate(APPLICANTS):
        registration = await submitted_registration(await sign_in(api, identity))
        if n == 1:
            result = await return_(staff, registration, items=ITEMS)
        else:
            result = await approve(staff, registration)
        assert result["errors"] == []
        ids.append(registration["id"])
    return ids


async def rows(api: Api) -> list[OutboxMessage]:
    async with api.services.db() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


async def test_dispatcher_killed_mid_send_delivers_everything_once(
    quiet_api: Api, postgres_url: str, tmp_path: Path
) -> None:
    registration_ids = await decided_registrations(quiet_api)
    async with quiet_api.services.db() as session:
        cursors = set(
            (
                await session.exec(
                    select(RegistrationEvent.id).where(
                        col(RegistrationEvent.registration_id).in_(registration_ids)
                    )
                )
            ).all()
        )
    gateway = fake_gateway()
    gateway.delay_next(4.0)  # the first SendSms hangs, then is delivered anyway
    with redis_server() as redis, serve_fake_dysmsapi(gateway) as gateway_url:
        observer = RedisBroker(redis.url, client_name="test-observer")
        await observer.start()
        received: set[int] = set()

        async def observe(channel: str) -> None:
            async with observer.subscribe(channel) as sub:
                async for item in sub:
                    if not isinstance(item, Gap):
                        received.add(orjson.loads(item)["cursor"])

        watchers = [asyncio.create_task(observe(f"reg:{rid}")) for rid in registration_ids]
        env = service_env(
            postgres_url,
            redis.url,
            tmp_path,
            gateway_url,
            sms_timeout_seconds="5",
            sms_lookup_grace_seconds="1",
            outbox_lease_seconds="2",
        )
        first = dispatch_worker(env, tmp_path, "dispatcher-1")
        second = dispatch_worker(env, tmp_path, "dispatcher-2")
        try:
            first.start()
            await eventually(lambda: gateway.requests >= 1, within=60)
            await asyncio.sleep(0.5)  # the other messages go through meanwhile
            first.kill()  # SIGKILL with one request on its way to the gateway

            in_flight = [r for r in await rows(quiet_api) if r.status == OutboxStatus.SENDING]
            assert any(r.channel == OutboxChannel.SMS and r.in_doubt for r in in_flight)
            assert len(gateway.messages) < 3  # the delayed one is not delivered yet

            second.start()
            await eventually(lambda: all_sent(quiet_api.services), within=60)
        finally:
            first.kill()
            second.stop()
            for watcher in watchers:
                watcher.cancel()
            await asyncio.gather(*watchers, return_exceptions=True)
            await observer.aclose()

    final = await rows(quiet_api)
    sms = [r for r in final if r.channel == OutboxChannel.SMS]
    assert len(sms) == 3 and all(r.status == OutboxStatus.SENT for r in sms)
    # two answered with a BizId; the one in flight was marked sent by the lookup
    assert sum(1 for r in sms if r.provider_id) >= 2 and any(r.attempts == 2 for r in sms)
    # every SMS went out exactly once, the one in flight was found by QuerySendDetails
    assert gateway.requests == 3, gateway.rejections
    assert sorted(m.out_id or "" for m in gateway.messages) == sorted(r.dedupe_key for r in sms)
    assert gateway.query_requests >= 1
    by_phone = sorted((m.phone, m.params.get("count")) for m in gateway.messages)
    assert by_phone == [("13700003333", None), ("13812345678", None), ("13900002222", "2")]
    # and every event reached the broker (at least once; subscribers drop duplicates)
    assert received == cursors
    assert "13812345678" not in first.output() + second.output()


async def test_redis_restart_subscribers_catch_up(workers: Cluster) -> None:
    first, second = workers.workers
    # a person of its own: the cluster (and its database) is shared with other suites
    applicant = await sign_in(workers.api(0), WU)
    registration = await submitted_registration(applicant)
    rid = registration["id"]
    staff = await reviewer(workers.api(1))
    last = (await applicant.data(HISTORY))["myRegistration"]["history"][-1]["cursor"]

    async with graphql_ws(first.base_url) as near, graphql_ws(second.base_url) as far:
        for client in (near, far):
            await client.init(applicant.token)
            await client.subscribe("s", REGISTRATION_EVENTS, {"id": rid, "after": last})
            await client.ping()

        workers.redis.stop()
        async with httpx.AsyncClient() as probe:

            async def broker_down() -> bool:
                body = (await probe.get(f"{first.base_url}/readyz")).json()
                return body["checks"]["broker"] is False

            await eventually(broker_down, within=10)
            # the API keeps answering: a review is recorded, the applicant reads it
            returned = await return_(staff, registration, items=ITEMS)
            assert returned["errors"] == []
            mine = (await applicant.data(HISTORY))["myRegistration"]
            assert mine["status"] == "RETURNED"
            assert (await probe.get(f"{second.base_url}/healthz")).status_code == 200
            assert await near.quiet("s", 0.5) and await far.quiet("s", 0.1)

            started = time.monotonic()
            workers.redis.start()
            for client in (near, far):  # replayed once Redis is back
                event = (await client.next("s", within=30))["registrationEvents"]
                assert event["kind"] == "RETURNED" and len(event["items"]) == 2
            assert time.monotonic() - started < 30

            async def broker_up() -> bool:
                response = await probe.get(f"{first.base_url}/readyz")
                return response.status_code == 200

            await eventually(broker_up, within=15)

        # the outbox publishes the same event again later: nobody sees it twice
        await eventually(lambda: all_sent(workers.local), within=30)
        assert await near.quiet("s", 0.3) and await far.quiet("s", 0.1)
        # and live events flow again
        resubmitted = await ok(applicant, SUBMIT, mine, agreed=True)
        assert (await approve(staff, resubmitted))["errors"] == []
        for client in (near, far):
            kinds = [(await client.next("s"))["registrationEvents"]["kind"] for _ in range(2)]
            assert kinds == ["RESUBMITTED", "APPROVED"]
            assert await client.quiet("s", 0.2)
