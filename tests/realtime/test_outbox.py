"""The transactional outbox and its dispatcher: rows committed with the status change, claims
that never overlap, backoff, DEAD with an error line, SMS that is never sent twice, and the
Aliyun QuerySendDetails lookup against the fake gateway."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlmodel import col, select
from structlog.testing import capture_logs

from integrations.broker import BrokerUnavailable, InProcessBroker
from integrations.sms.aliyun import (
    AliyunSmsConfig,
    AliyunSmsSender,
    SendDetail,
    SentLookup,
    send_dates,
)
from integrations.sms.base import SmsMessage, SmsResult, approved_message
from models.db import transaction, utcnow
from models.history import record_transition
from models.outbox import OutboxChannel, OutboxMessage, OutboxStatus
from models.registration import Registration, RegistrationEvent, Status
from server.dispatch_worker import status as worker_status
from services.dispatcher import (
    DispatcherConfig,
    OutboxDispatcher,
    backoff_delay,
    outbox_counts,
    retry_dead,
)
from tests.api import Api, running_api, settings_for
from tests.fakes.dysmsapi import FakeDysmsapi, serve_fake_dysmsapi
from tests.realtime import eventually
from tests.review import approve, return_, reviewer
from tests.wizard import RESIDENT, sign_in, submitted_registration

PHONE = RESIDENT["phone"]
ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT"},
]


# -- fakes ----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class FlakyBroker(InProcessBroker):
    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, channel: str, payload: bytes) -> None:
        if self.down:
            raise BrokerUnavailable("cannot publish to Redis: ConnectionError")
        self.published.append((channel, orjson.loads(payload)))
        await super().publish(channel, payload)


@dataclass
class ScriptedSms:
    """A sender with a lookup: answers come from ``script`` (default: sent)."""

    script: list[SmsResult] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)
    requests: list[SmsMessage] = field(default_factory=list)
    lookups: int = 0
    lookup_unavailable: bool = False

    async def send(self, msg: SmsMessage) -> SmsResult:
        self.requests.append(msg)
        result = self.script.pop(0) if self.script else SmsResult("sent", "biz-1", "OK")
        if result.status == "sent" or result.detail.startswith("timeout"):
            # a timeout after which the provider delivered anyway
            self.delivered[msg.dedupe_key] = self.delivered.get(msg.dedupe_key, 0) + 1
        return result

    async def find_sent(self, phone: str, out_id: str, dates: Sequence[date]) -> SentLookup:
        self.lookups += 1
        if self.lookup_unavailable:
            return SentLookup("unknown", None, "isp.SYSTEM_ERROR")
        if out_id in self.delivered:
            record = SendDetail(out_id, "biz-found", 3, "DELIVERED", None, None)
            return SentLookup("found", record, "found")
        return SentLookup("not_found", None, "no record")


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
async def quiet_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app without its own dispatcher: the tests drive one by hand."""
    settings = settings_for(database_url, tmp_path, dispatcher_in_process=False)
    async with running_api(settings) as client:
        yield client


CONFIG = DispatcherConfig(
    max_attempts=3, backoff=1.0, backoff_max=30.0, lease=30.0, lookup_grace=20.0
)


def dispatcher(api: Api, broker: Any, sms: Any, clock: Clock, **config: Any) -> OutboxDispatcher:
    settings = CONFIG if not config else DispatcherConfig(**{**CONFIG.__dict__, **config})
    return OutboxDispatcher(
        api.services.db,
        broker,
        sms,
        settings,
        postgres=api.services.engine.dialect.name == "postgresql",
        clock=clock,
    )


async def outbox(api: Api, registration_id: str | None = None) -> list[OutboxMessage]:
    async with api.services.db() as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if registration_id is not None:
            statement = statement.where(OutboxMessage.registration_id == registration_id)
        return list((await session.exec(statement)).all())


async def events(api: Api, registration_id: str) -> list[RegistrationEvent]:
    async with api.services.db() as session:
        return list(
            (
                await session.exec(
                    select(RegistrationEvent)
                    .where(RegistrationEvent.registration_id == registration_id)
                    .order_by(col(RegistrationEvent.id))
                )
            ).all()
        )


async def approved_registration(api: Api) -> dict[str, Any]:
    applicant = await sign_in(api)
    registration = await submitted_registration(applicant)
    result = await approve(await reviewer(api), registration)
    assert result["errors"] == []
    return result["registration"]  # type: ignore[no-any-return]


def sms_rows(rows: list[OutboxMessage]) -> list[OutboxMessage]:
    return [r for r in rows if r.channel == OutboxChannel.SMS]


# -- the rows -------------------------------------------------------------------------------


async def test_each_status_change_commits_its_outbox_rows(quiet_api: Api) -> None:
    applicant = await sign_in(quiet_api)
    registration = await submitted_registration(applicant)
    rid = registration["id"]
    started, submitted = await events(quiet_api, rid)
    rows = await outbox(quiet_api, rid)
    assert [(r.channel, r.event_id, r.status) for r in rows] == [
        (OutboxChannel.BROKER, started.id, OutboxStatus.PENDING),
        (OutboxChannel.BROKER, submitted.id, OutboxStatus.PENDING),
    ]
    assert rows[0].payload["channels"] == [f"reg:{rid}"]
    assert rows[1].payload["channels"] == [f"reg:{rid}", "queue:330102", "queue:all"]
    message = rows[1].payload["message"]
    assert message["cursor"] == submitted.id and message["prev"] == started.id
    assert message["kind"] == "SUBMITTED" and message["status"] == "SUBMITTED"

    staff = await reviewer(quiet_api)
    returned = await return_(staff, registration, items=ITEMS, comment="请修改")
    assert returned["errors"] == []
    version = returned["registration"]["version"]
    sms = sms_rows(await outbox(quiet_api, rid))
    assert len(sms) == 1
    assert sms[0].dedupe_key == f"{rid}:returned:{version}"
    assert sms[0].payload == {"result": "RETURNED", "itemsToFix": 2}
    assert PHONE not in orjson.dumps(sms[0].payload).decode()  # the phone is read at send time

    # a transition whose transaction fails leaves neither the event nor its rows
    before = len(await outbox(quiet_api))
    with pytest.raises(RuntimeError):
        async with transaction(quiet_api.services.db) as session:
            row = await session.get(Registration, rid)
            assert row is not None
            row.status = Status.WITHDRAWN
            await record_transition(
                session,
                row,
                "WITHDRAWN",
                Status.RETURNED,
                actor_kind="SYSTEM",
                actor_id=None,
                now=utcnow(),
            )
            raise RuntimeError("the request failed after the transition")
    assert len(await outbox(quiet_api)) == before
    assert [e.kind for e in await events(quiet_api, rid)][-1] == "RETURNED"


async def test_dispatcher_publishes_sends_and_marks_sent_once(quiet_api: Api) -> None:
    registration = await approved_registration(quiet_api)
    broker, sms, clock = FlakyBroker(), ScriptedSms(), Clock()
    await broker.start()
    worker = dispatcher(quiet_api, broker, sms, clock)

    handled = await worker.run_once()
    rows = await outbox(quiet_api, registration["id"])
    assert handled == len(rows) == 4  # STARTED, SUBMITTED, APPROVED on the broker; one SMS
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert [m["kind"] for c, m in broker.published if c.startswith("reg:")] == [
        "STARTED",
        "SUBMITTED",
        "APPROVED",
    ]
    assert [c for c, m in broker.published if m["kind"] == "APPROVED"] == [
        f"reg:{registration['id']}",
        "queue:330102",
        "queue:all",
    ]
    [sent] = sms.requests
    assert (
        sent.phone == PHONE
        and sent.dedupe_key == f"{registration['id']}:approved:{registration['version']}"
    )
    assert sms_rows(rows)[0].provider_id == "biz-1"
    assert await worker.run_once() == 0  # nothing twice
    assert len(sms.requests) == 1


async def test_broker_outage_backs_off_goes_dead_logs_and_can_be_requeued(
    quiet_api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    applicant = await sign_in(quiet_api)
    registration = await submitted_registration(applicant)
    broker, clock = FlakyBroker(), Clock()
    await broker.start()
    broker.down = True
    worker = dispatcher(quiet_api, broker, ScriptedSms(), clock)

    with capture_logs() as logs:
        assert await worker.run_once() == 2
        rows = await outbox(quiet_api, registration["id"])
        assert {r.status for r in rows} == {OutboxStatus.PENDING}
        assert all(r.attempts == 1 and "broker unavailable" in (r.last_error or "") for r in rows)
        assert all(
            r.next_attempt_at.replace(tzinfo=None) > clock.now.replace(tzinfo=None) for r in rows
        )
        assert await worker.run_once() == 0  # not due yet
        for _ in range(2):
            clock.advance(60)
            assert await worker.run_once() == 2
    rows = await outbox(quiet_api, registration["id"])
    assert {r.status for r in rows} == {OutboxStatus.DEAD} and {r.attempts for r in rows} == {3}
    dead = [entry for entry in logs if entry["event"] == "outbox.dead"]
    assert len(dead) == 2 and {entry["log_level"] for entry in dead} == {"error"}
    assert all(PHONE not in str(entry) for entry in logs)
    assert (await outbox_counts(quiet_api.services.db))["DEAD"] == 2
    # what an operator runs: python -m server.dispatch_worker status (exit 1 with DEAD rows)
    assert await worker_status(quiet_api.services.settings) == 1
    report = capsys.readouterr().out
    assert "DEAD=2" in report and report.count("DEAD id=") == 2
    assert "broker unavailable" in report and PHONE not in report

    broker.down = False
    assert await retry_dead(quiet_api.services.db) == 2
    assert await worker.run_once() == 2
    assert {r.status for r in await outbox(quiet_api, registration["id"])} == {OutboxStatus.SENT}
    assert [m["kind"] for _, m in broker.published][:1] == ["STARTED"]


def test_backoff_is_capped_exponential_with_jitter() -> None:
    delays = [backoff_delay(n, 1.0, 30.0) for n in range(1, 10)]
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 4.0 <= delays[3] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[5:])


async def test_rate_limit_is_try_later_and_failure_is_dead(quiet_api: Api) -> None:
    registration = await approved_registration(quiet_api)
    broker, clock = FlakyBroker(), Clock()
    await broker.start()
    sms = ScriptedSms(
        script=[SmsResult("retry_later", None, "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控")]
    )
    worker = dispatcher(quiet_api, broker, sms, clock)
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.PENDING and not row.in_doubt
    wait = (
        row.next_attempt_at.replace(tzinfo=None) - clock.now.replace(tzinfo=None)
    ).total_seconds()
    assert wait >= 59  # at least a minute: never a quick second request
    clock.advance(30)
    assert await worker.run_once() == 0 and len(sms.requests) == 1
    clock.advance(31)
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.SENT and len(sms.requests) == 2
    assert sms.lookups == 0 and sms.delivered == {row.dedupe_key: 1}

    # a bad number (or template, account) cannot get better: DEAD at once
    other = await approved_registration_for(
        quiet_api,
        {"name": "李四", "idType": "01", "idNumber": "330106198501011231", "phone": "13900002222"},
    )
    sms.script.append(SmsResult("failed", None, "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"))
    with capture_logs() as logs:
        await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, other["id"]))
    assert row.status == OutboxStatus.DEAD and row.attempts == 1
    assert row.last_error == "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号"
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["outbox.dead"]


async def approved_registration_for(api: Api, identity: dict[str, str]) -> dict[str, Any]:
    applicant = await sign_in(api, identity)
    registration = await submitted_registration(applicant)
    result = await approve(await reviewer(api), registration)
    assert result["errors"] == []
    return result["registration"]  # type: ignore[no-any-return]


async def test_sms_of_unknown_outcome_is_looked_up_not_sent_twice(quiet_api: Api) -> None:
    registration = await approved_registration(quiet_api)
    broker, clock = FlakyBroker(), Clock()
    await broker.start()
    timeout = SmsResult("retry_later", None, "timeout after 5.0s (ReadTimeout); may have been sent")
    sms = ScriptedSms(script=[timeout])
    worker = dispatcher(quiet_api, broker, sms, clock)
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.PENDING and row.in_doubt and row.attempts == 1

    clock.advance(5)  # the backoff is over, the lookup grace is not: wait, spend nothing
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert sms.lookups == 0 and row.attempts == 1 and row.status == OutboxStatus.PENDING

    clock.advance(20)
    sms.lookup_unavailable = True  # the provider cannot be asked: try again later
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.PENDING and sms.lookups == 1 and len(sms.requests) == 1

    clock.advance(60)
    sms.lookup_unavailable = False
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.SENT and row.provider_id == "biz-found"
    assert len(sms.requests) == 1 and sms.delivered == {row.dedupe_key: 1}


async def test_sms_lost_before_reaching_the_provider_is_sent_after_the_lookup(
    quiet_api: Api,
) -> None:
    registration = await approved_registration(quiet_api)
    broker, clock = FlakyBroker(), Clock()
    await broker.start()
    lost = SmsResult("retry_later", None, "transport error: ConnectError")
    sms = ScriptedSms(script=[lost])
    worker = dispatcher(quiet_api, broker, sms, clock)
    await worker.run_once()
    clock.advance(25)
    await worker.run_once()
    [row] = sms_rows(await outbox(quiet_api, registration["id"]))
    assert row.status == OutboxStatus.SENT and sms.lookups == 1 and len(sms.requests) == 2


async def test_claims_never_overlap_and_expired_leases_are_taken_over(
    quiet_api: Api,
) -> None:
    applicant = await sign_in(quiet_api)
    registration = await submitted_registration(applicant)
    [_, event] = await events(quiet_api, registration["id"])
    assert event.id is not None
    now = utcnow()
    async with transaction(quiet_api.services.db) as session:
        for n in range(40):
            session.add(
                OutboxMessage(
                    dedupe_key=f"test:{n}",
                    channel=OutboxChannel.BROKER,
                    event_id=event.id,
                    registration_id=registration["id"],
                    next_attempt_at=now,
                    payload={"channels": ["test"], "message": {"cursor": event.id}},
                )
            )
    clock = Clock()
    first = dispatcher(quiet_api, FlakyBroker(), ScriptedSms(), clock)
    second = dispatcher(quiet_api, FlakyBroker(), ScriptedSms(), clock)
    claims = await asyncio.gather(first.claim(25), second.claim(25), first.claim(25))
    ids = [row.id for claim in claims for row in claim]
    assert len(ids) == len(set(ids)) == 42  # 40 rows and the two real events' rows
    assert await second.claim(25) == []  # all held
    clock.advance(CONFIG.lease + 1)  # their dispatchers died: the leases run out
    again = await second.claim(100)
    assert len(again) == 42 and {row.attempts for row in again} == {2}
    # the first owner lost its claim: its late result is ignored
    stale = (claims[0] + claims[2])[0]  # a row the first dispatcher held
    await first._sent(stale)
    async with quiet_api.services.db() as session:
        current = await session.get(OutboxMessage, stale.id)
        assert current is not None and current.status == OutboxStatus.SENDING


async def test_embedded_default_writes_the_sms_to_the_log(sqlite_url: str, tmp_path: Path) -> None:
    async with running_api(settings_for(sqlite_url, tmp_path)) as api:
        with capture_logs() as logs:
            registration = await approved_registration(api)

            async def sms_sent() -> bool:
                return [r.status for r in sms_rows(await outbox(api, registration["id"]))] == [
                    OutboxStatus.SENT
                ]

            await eventually(sms_sent)
    [line] = [entry for entry in logs if entry["event"] == "integrations.sms.log_sender.sent"]
    assert line["phone"] == "138****5678"
    assert line["text"].startswith("您提交的会计人员信息登记已审核通过")
    assert PHONE not in str(logs)


# -- QuerySendDetails against the fake gateway ------------------------------------------------

KEY_ID, SECRET, SIGN = "LTAI-outbox", "outbox-secret", "浙江会计登记"


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[FakeDysmsapi, str]]:
    fake = FakeDysmsapi(
        access_keys={KEY_ID: SECRET},
        sign_names={SIGN},
        templates={"SMS_1": set(), "SMS_2": {"count"}},
    )
    with serve_fake_dysmsapi(fake) as url:
        yield fake, url


def aliyun(url: str, timeout_s: float = 5.0) -> AliyunSmsSender:
    return AliyunSmsSender(
        AliyunSmsConfig(
            endpoint_url=url,
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            sign_name=SIGN,
            template_approved="SMS_1",
            template_returned="SMS_2",
            timeout_s=timeout_s,
        )
    )


async def test_query_send_details_finds_a_message_by_out_id(
    gateway: tuple[FakeDysmsapi, str],
) -> None:
    fake, url = gateway
    fake.reset()
    async with aliyun(url) as sender:
        for n in range(3):
            result = await sender.send(approved_message(PHONE, dedupe_key=f"r{n}:approved:3"))
            assert result.status == "sent"
        today = send_dates(utcnow(), utcnow())
        page = await sender.query_send_details(PHONE, today[-1], page=2, page_size=2)
        assert page.status == "ok" and page.total == 3 and len(page.records) == 1
        assert page.records[0].out_id == "r2:approved:3" and page.records[0].send_status == 3

        found = await sender.find_sent(PHONE, "r1:approved:3", today)
        assert found.outcome == "found" and found.record is not None
        assert (await sender.find_sent(PHONE, "r9:approved:3", today)).outcome == "not_found"
        assert (
            await sender.find_sent("13900001111", "r1:approved:3", today)
        ).outcome == "not_found"
        fake.answer_query_error("isp.SYSTEM_ERROR", "system error")
        assert (await sender.find_sent(PHONE, "r1:approved:3", today)).outcome == "unknown"
    assert fake.query_requests >= 5 and not fake.rejections[:-1]


async def test_a_timed_out_send_is_found_by_the_lookup(gateway: tuple[FakeDysmsapi, str]) -> None:
    fake, url = gateway
    fake.reset()
    fake.delay_next(0.6)  # the gateway answers late, but delivers
    async with aliyun(url, timeout_s=0.2) as sender:
        msg = approved_message(PHONE, dedupe_key="late:approved:2")
        result = await sender.send(msg)
        assert result.status == "retry_later" and "may have been sent" in result.detail
        dates = send_dates(utcnow() - timedelta(minutes=1), utcnow())
        await eventually(lambda: len(fake.messages) == 1, within=3)
        found = await sender.find_sent(PHONE, msg.dedupe_key, dates)
        assert found.outcome == "found"
    assert len(fake.sent_with_out_id("late:approved:2")) == 1


def test_send_dates_are_china_days() -> None:
    late = datetime.fromisoformat("2026-03-01T15:30:00+00:00")  # 23:30 in Beijing
    after_midnight = late + timedelta(hours=1)
    assert send_dates(late, after_midnight) == [date(2026, 3, 1), date(2026, 3, 2)]
    assert len(send_dates(late - timedelta(days=90), late)) == 30
