"""The outbox dispatcher: delivers ``models.outbox`` rows to the event broker and to SMS.

It claims due rows, delivers them and records the outcome; several dispatchers (one per web
worker, or standalone ``python -m server.dispatch_worker`` processes) can share one database.

* **Claim.** One short transaction moves up to ``batch_size`` due rows (``PENDING`` whose
  ``next_attempt_at`` has come, or ``SENDING`` whose lease ran out because a dispatcher died)
  to ``SENDING`` with a fresh ``claim_token``, ``next_attempt_at = now + lease`` and one more
  attempt. PostgreSQL picks the rows with ``FOR UPDATE SKIP LOCKED``, so dispatchers never
  wait for each other; SQLite has one writer at a time, so a plain ``UPDATE … WHERE id IN
  (SELECT …)`` is already atomic. Every later write names the claim token: a dispatcher that
  lost its claim (lease run out) cannot overwrite the new owner's result.
* **Broker.** The event is published on each of its channels; ``BrokerUnavailable`` means
  retry. Subscribers drop duplicates by cursor, so publishing again is always safe. The
  broker rows of one claim are published in event order.
* **SMS.** Before a request leaves, the row is committed as ``in_doubt`` with the send time.
  ``sent`` → ``SENT``; ``failed`` (bad number, template, account) → ``DEAD`` at once;
  ``retry_later`` (rate limit, outage, timeout) → back to ``PENDING`` after a backoff (at
  least ``rate_limit_delay`` for rate limits; never a second request right away). An
  ``in_doubt`` row (crash or timeout mid-send) is never sent again blindly: after
  ``lookup_grace`` the dispatcher asks the provider (``find_sent``: ``QuerySendDetails`` by
  phone, China-time date and ``OutId`` = dedupe key); found → ``SENT``, not found → send.
  Senders without a lookup (the log sender) simply send again.
* **Backoff.** ``min(backoff_max, backoff * 2**(attempts-1))`` with jitter (50-100 %).
  After ``max_attempts`` claims a row that still fails is ``DEAD`` and an ERROR line
  (``outbox.dead``: row id, channel, dedupe key, last error, never a phone) is logged;
  ``python -m server.dispatch_worker status`` counts and lists them, ``retry-dead`` requeues.

Wake-ups: ``wake()`` (``Services.after_commit`` calls it after every commit that may have
added rows) runs a claim at once; otherwise the dispatcher polls every ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import orjson
import structlog
from sqlalchemy import func, update
from sqlmodel import col, select

from config.logs import scrub
from config.settings import Settings
from integrations.broker import BrokerUnavailable, EventBroker
from integrations.sms.aliyun import SentLookup, send_dates
from integrations.sms.base import (
    SmsMessage,
    SmsSender,
    approved_message,
    forwarded_message,
    returned_message,
)
from models.db import SessionFactory, transaction, utcnow
from models.outbox import OutboxChannel, OutboxMessage, OutboxStatus
from models.reference import load_reference_data
from models.registration import BasicInfoSection
from services import metrics

_log = structlog.get_logger("outbox.dispatcher")

WAKE_CHANNEL = "outbox:wake"
"""Web workers publish here after a commit when the dispatcher runs in another process."""

_ACTIVE = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@runtime_checkable
class SentSmsLookup(Protocol):
    """A sender that can tell whether a message (by ``OutId``) reached the provider."""

    async def find_sent(self, phone: str, out_id: str, dates: Sequence[date]) -> SentLookup: ...


@dataclass(frozen=True, slots=True)
class DispatcherConfig:
    poll_interval: float = 1.0
    batch_size: int = 50
    concurrency: int = 32
    """Rows in flight at once (SMS requests run concurrently; broker rows are quick)."""
    lease: float = 60.0
    max_attempts: int = 10
    backoff: float = 1.0
    backoff_max: float = 300.0
    rate_limit_delay: float = 60.0
    lookup_grace: float = 60.0
    stop_timeout: float = 5.0
    forwarded_sms: bool = False
    """SMS_TEMPLATE_FORWARDED is set: applicants hear of a forward by SMS too."""

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatcherConfig:
        return cls(
            poll_interval=settings.outbox_poll_seconds,
            lease=max(settings.outbox_lease_seconds, settings.sms_timeout_seconds + 1.0),
            max_attempts=settings.outbox_max_attempts,
            backoff=settings.outbox_backoff_seconds,
            backoff_max=settings.outbox_backoff_max_seconds,
            lookup_grace=max(settings.sms_lookup_grace_seconds, settings.sms_timeout_seconds),
            forwarded_sms=bool(settings.sms_template_forwarded),
        )


def backoff_delay(attempts: int, initial: float, cap: float) -> float:
    """Capped exponential backoff with jitter: attempt 1 waits ~``initial``, then doubles."""
    base = min(cap, initial * 2 ** max(0, min(attempts - 1, 30)))
    return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def _short(text: str) -> str:
    return scrub(text)[:480]


def _definitely_not_sent(detail: str) -> bool:
    """A ``retry_later`` answer that proves the provider did not take the message."""
    return "LIMIT_CONTROL" in detail or detail.startswith(("Throttling", "SignatureNonceUsed"))


def sms_message(row: OutboxMessage, phone: str) -> SmsMessage:
    """The SMS of an outbox row (``models.outbox.sms_notice``); ``ValueError`` if unknown."""
    result = row.payload.get("result")
    if result == "APPROVED":
        return approved_message(phone, dedupe_key=row.dedupe_key)
    if result == "RETURNED":
        count = int(row.payload.get("itemsToFix") or 1)
        return returned_message(phone, items_to_fix=max(1, count), dedupe_key=row.dedupe_key)
    if result == "FORWARDED":
        department = load_reference_data().department(str(row.payload.get("departmentCode")))
        if department is None:
            raise ValueError("a forward to an unknown department")
        return forwarded_message(phone, department=department.name, dedupe_key=row.dedupe_key)
    raise ValueError(f"unknown SMS notice {result!r}")


class OutboxDispatcher:
    """Claims and delivers outbox rows until stopped. See the module docstring."""

    def __init__(
        self,
        db: SessionFactory,
        broker: EventBroker,
        sms: SmsSender,
        config: DispatcherConfig | None = None,
        *,
        postgres: bool,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._broker = broker
        self._sms = sms
        self.config = config or DispatcherConfig()
        self._postgres = postgres
        self._clock = clock
        self._wakeup = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        self._tasks: dict[asyncio.Task[None], list[OutboxMessage]] = {}
        self._in_flight = 0
        self._db_failing = False

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._runner is None:
            self._stopping = False
            self._runner = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        """Stop claiming; give rows in flight ``stop_timeout`` to finish, then cancel them and
        hand their claims back (an SMS already on its way stays ``in_doubt``)."""
        self._stopping = True
        self._wakeup.set()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.wait({self._runner}, timeout=self.config.stop_timeout)
            self._runner = None
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.config.stop_timeout)
        left = [row for task, rows in self._tasks.items() if not task.done() for row in rows]
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=1.0)
        if left:
            with contextlib.suppress(Exception):
                await self._release(left)

    def wake(self) -> None:
        """Look for due rows now (cheap; call it after every commit that may have added some)."""
        self._wakeup.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run_once(self) -> int:
        """Claim what is due and deliver it; returns how many rows were handled (for tests
        and scripts; don't mix with a running ``start()``)."""
        handled = 0
        while True:
            rows = await self.claim(self.config.batch_size)
            if not rows:
                return handled
            handled += len(rows)
            await asyncio.gather(*(self._deliver_group(group) for group in _groups(rows)))

    # -- the loop --------------------------------------------------------------------------
    async def _run(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            room = self.config.concurrency - self._in_flight
            limit = min(room, self.config.batch_size)
            rows: list[OutboxMessage] = []
            if limit > 0:
                try:
                    rows = await self.claim(limit)
                except Exception as exc:  # the database is down: keep polling
                    if not self._db_failing:
                        _log.warning("outbox.claim_failed", error=type(exc).__name__)
                    self._db_failing = True
                    await self._wait(self.config.poll_interval)
                    continue
                if self._db_failing:
                    _log.info("outbox.claim_recovered")
                self._db_failing = False
                for group in _groups(rows):
                    self._spawn(group)
            if rows and len(rows) == limit:
                continue  # there may be more due right now
            await self._wait(self.config.poll_interval)

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wakeup.wait()

    def _spawn(self, rows: list[OutboxMessage]) -> None:
        task = asyncio.create_task(self._deliver_group(rows), name="outbox-delivery")
        self._tasks[task] = rows
        self._in_flight += len(rows)
        task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[None]) -> None:
        rows = self._tasks.pop(task, [])
        saturated = self._in_flight >= self.config.concurrency
        self._in_flight -= len(rows)
        if saturated:
            self._wakeup.set()  # a slot is free again
        if not task.cancelled() and task.exception() is not None:
            _log.error("outbox.delivery_crashed", error=type(task.exception()).__name__)

    # -- claiming --------------------------------------------------------------------------
    async def claim(self, limit: int) -> list[OutboxMessage]:
        """Claim up to ``limit`` due rows (oldest first) for this dispatcher."""
        now = self._clock()
        token = uuid.uuid4().hex
        due = (
            select(OutboxMessage.id)
            .where(col(OutboxMessage.status).in_(_ACTIVE), OutboxMessage.next_attempt_at <= now)
            .order_by(col(OutboxMessage.id))
            .limit(limit)
        )
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        async with transaction(self._db) as session:
            await session.exec(
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
                .values(
                    status=OutboxStatus.SENDING,
                    claim_token=token,
                    attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=self.config.lease),
                    updated_at=now,
                )
            )
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(OutboxMessage.claim_token == token)
                    .order_by(col(OutboxMessage.id))
                )
            ).all()
        for row in rows:
            if row.attempts == 1:  # first claim: how long the event waited for a dispatcher
                metrics.OUTBOX_LAG.observe(max(0.0, (now - row.created_at).total_seconds()))
        return list(rows)

    async def _update(self, row: OutboxMessage, **values: Any) -> bool:
        """Write ``values`` to a row this dispatcher still holds; False if the claim was lost."""
        values.setdefault("updated_at", self._clock())
        async with transaction(self._db) as session:
            result = await session.exec(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == row.id,
                    col(OutboxMessage.claim_token) == row.claim_token,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                )
                .values(**values)
            )
        held = bool(result.rowcount)
        if not held:
            _log.warning("outbox.claim_lost", outbox_id=row.id, channel=str(row.channel))
        return held

    async def _release(self, rows: list[OutboxMessage]) -> None:
        now = self._clock()
        async with transaction(self._db) as session:
            for row in rows:
                await session.exec(
                    update(OutboxMessage)
                    .where(
                        col(OutboxMessage.id) == row.id,
                        col(OutboxMessage.claim_token) == row.claim_token,
                        col(OutboxMessage.status) == OutboxStatus.SENDING,
                    )
                    .values(
                        status=OutboxStatus.PENDING,
                        claim_token=None,
                        attempts=OutboxMessage.attempts - 1,
                        next_attempt_at=now,
                        updated_at=now,
                    )
                )

    # -- outcomes --------------------------------------------------------------------------
    async def _sent(self, row: OutboxMessage, provider_id: str | None = None) -> None:
        now = self._clock()
        await self._update(
            row,
            status=OutboxStatus.SENT,
            claim_token=None,
            in_doubt=False,
            sent_at=now,
            provider_id=provider_id,
            last_error=None,
        )

    async def _dead(self, row: OutboxMessage, error: str) -> None:
        if await self._update(
            row, status=OutboxStatus.DEAD, claim_token=None, last_error=_short(error)
        ):
            _log.error(
                "outbox.dead",
                outbox_id=row.id,
                channel=str(row.channel),
                dedupe_key=row.dedupe_key,
                event_id=row.event_id,
                attempts=row.attempts,
                last_error=_short(error),
            )

    async def _retry(
        self,
        row: OutboxMessage,
        error: str,
        *,
        min_delay: float = 0.0,
        **values: Any,
    ) -> None:
        if row.attempts >= self.config.max_attempts:
            await self._dead(row, error)
            return
        metrics.DISPATCHER_RETRIES.inc()
        delay = max(
            min_delay, backoff_delay(row.attempts, self.config.backoff, self.config.backoff_max)
        )
        await self._update(
            row,
            status=OutboxStatus.PENDING,
            claim_token=None,
            next_attempt_at=self._clock() + timedelta(seconds=delay),
            last_error=_short(error),
            **values,
        )
        _log.warning(
            "outbox.retry",
            outbox_id=row.id,
            channel=str(row.channel),
            attempts=row.attempts,
            delay_s=round(delay, 2),
            error=_short(error),
        )

    async def _postpone(self, row: OutboxMessage, until: datetime, reason: str) -> None:
        """Try again at ``until`` without spending an attempt."""
        await self._update(
            row,
            status=OutboxStatus.PENDING,
            claim_token=None,
            attempts=row.attempts - 1,
            next_attempt_at=until,
            last_error=reason,
        )

    # -- delivery --------------------------------------------------------------------------
    async def _deliver_group(self, rows: list[OutboxMessage]) -> None:
        for row in rows:
            try:
                if row.channel == OutboxChannel.BROKER:
                    await self._publish(row)
                else:
                    await self._send_sms(row)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug or the database: the row is retried
                _log.exception("outbox.delivery_failed", outbox_id=row.id)
                with contextlib.suppress(Exception):
                    await self._retry(row, f"unexpected {type(exc).__name__}")

    async def _publish(self, row: OutboxMessage) -> None:
        data = orjson.dumps(row.payload["message"])
        try:
            for channel in row.payload["channels"]:
                await self._broker.publish(str(channel), data)
        except BrokerUnavailable as exc:
            await self._retry(row, f"broker unavailable: {exc}")
            return
        await self._sent(row)

    async def _phone(self, registration_id: str) -> str | None:
        async with self._db() as session:
            return (
                await session.exec(
                    select(BasicInfoSection.phone).where(
                        BasicInfoSection.registration_id == registration_id
                    )
                )
            ).first()

    async def _send_sms(self, row: OutboxMessage) -> None:
        if row.payload.get("result") == "FORWARDED" and not self.config.forwarded_sms:
            _log.info("outbox.sms_forward_not_configured", outbox_id=row.id)
            await self._sent(row)  # nothing to send: SMS_TEMPLATE_FORWARDED is unset
            return
        phone = await self._phone(row.registration_id)
        if not phone:
            await self._dead(row, "the registration has no phone number")
            return
        try:
            message = sms_message(row, phone)
        except ValueError as exc:
            await self._dead(row, str(exc))
            return
        now = self._clock()
        if row.in_doubt and isinstance(self._sms, SentSmsLookup):
            last = row.last_send_at or now
            ready = last + timedelta(seconds=self.config.lookup_grace)
            if now < ready:
                await self._postpone(row, ready, "waiting to look up an SMS of unknown outcome")
                return
            lookup = await self._sms.find_sent(
                phone, row.dedupe_key, send_dates(row.first_send_at or last, now)
            )
            if lookup.outcome == "unknown":
                await self._retry(row, f"lookup: {lookup.detail}")
                return
            if lookup.outcome == "found" and lookup.record is not None:
                if lookup.record.send_status == 2:
                    await self._dead(
                        row, f"the provider reports delivery failed: {lookup.record.err_code}"
                    )
                    return
                _log.info("outbox.sms_found_sent", outbox_id=row.id, dedupe_key=row.dedupe_key)
                await self._sent(row, lookup.record.biz_id or row.provider_id)
                return
        if not await self._update(
            row,
            in_doubt=True,
            first_send_at=row.first_send_at or now,
            last_send_at=now,
        ):
            return
        result = await self._sms.send(message)
        if result.status == "sent":
            await self._sent(row, result.provider_id)
        elif result.status == "failed":
            await self._dead(row, result.detail)
        else:
            limited = _definitely_not_sent(result.detail)
            await self._retry(
                row,
                result.detail,
                min_delay=self.config.rate_limit_delay if limited else 0.0,
                in_doubt=not limited,
            )


def _groups(rows: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """Broker rows together (published in order, they are quick); each SMS on its own."""
    broker = [row for row in rows if row.channel == OutboxChannel.BROKER]
    sms = [[row] for row in rows if row.channel == OutboxChannel.SMS]
    return ([broker] if broker else []) + sms


# -- operators ----------------------------------------------------------------------------


async def outbox_counts(db: SessionFactory) -> dict[str, int]:
    """Rows per status (every status present, zero if none)."""
    async with db() as session:
        rows = (
            await session.exec(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            )
        ).all()
    counts = {status.value: 0 for status in OutboxStatus}
    for status, count in rows:
        counts[str(status)] = int(count)
    return counts


async def dead_messages(db: SessionFactory, limit: int = 100) -> list[OutboxMessage]:
    async with db() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.status == OutboxStatus.DEAD)
                .order_by(col(OutboxMessage.id))
                .limit(limit)
            )
        ).all()
    return list(rows)


async def retry_dead(db: SessionFactory, ids: Sequence[int] | None = None) -> int:
    """Requeue DEAD rows (all, or those in ``ids``) with a fresh attempt budget."""
    now = utcnow()
    statement = update(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.DEAD)
    if ids:
        statement = statement.where(col(OutboxMessage.id).in_(list(ids)))
    async with transaction(db) as session:
        result = await session.exec(
            statement.values(
                status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now
            )
        )
    return int(result.rowcount or 0)
