"""The transactional outbox: what each registration event still has to deliver.

Every status change goes through ``models.history.record_transition``; the effect below runs
in the same transaction and adds one ``OutboxMessage`` per event and channel:

* ``BROKER``: publish the event to the event broker, on the registration's channel
  (``reg:<registration_id>``, read by ``registrationEvents``) and, for changes to the review
  queue, on the department's channel and the province's (``queue:<code>``, ``queue:all``);
* ``SMS``: the review result (approved / returned with the number of items to fix) to the
  applicant's phone (``basic_info_section.phone``), for APPROVED and RETURNED only.

So an event is committed together with what it must trigger, or not at all. The dispatcher
(``services.dispatcher``) claims due rows and moves them through the states below; delivery is
at least once, and each row has a unique ``dedupe_key`` (for SMS also the Aliyun ``OutId``).

States: ``PENDING`` (waiting for ``next_attempt_at``) → ``SENDING`` (claimed by a dispatcher
until ``next_attempt_at``, its lease) → ``SENT``; back to ``PENDING`` with a backoff after a
failure, ``DEAD`` after ``max_attempts`` or a failure that retrying cannot fix. A ``SENDING``
row whose lease ran out belongs to a dispatcher that died and is claimed again.

``in_doubt`` marks an SMS that may have reached the provider without us learning the answer
(a crash or a timeout mid-send): before sending it again the dispatcher asks the provider
(``QuerySendDetails`` by phone, date and ``OutId``), so a crash never sends a message twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog
from sqlalchemy import JSON, Column, Index, func
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import enum_type, utcnow
from models.reference import PROVINCE_CODE
from models.registration import BasicInfoSection, Registration, RegistrationEvent, Status

_log = structlog.get_logger("outbox")

QUEUE_ALL = "all"
"""The review-queue channel suffix that carries every department's changes (the province)."""

QUEUE_KINDS = frozenset({"SUBMITTED", "RESUBMITTED", "WITHDRAWN", "APPROVED", "RETURNED"})
"""Event kinds that may change a department's review queue (see ``is_queue_event``)."""


def is_queue_event(kind: str, from_status: str | None) -> bool:
    """A submission arrives (SUBMITTED, RESUBMITTED) or leaves the queue (APPROVED,
    RETURNED, or WITHDRAWN while it was SUBMITTED; withdrawing a draft concerns no one)."""
    if kind == "WITHDRAWN":
        return from_status == Status.SUBMITTED
    return kind in QUEUE_KINDS


class OutboxChannel(StrEnum):
    BROKER = "BROKER"
    SMS = "SMS"


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    DEAD = "DEAD"


class OutboxMessage(SQLModel, table=True):
    """One delivery (an event on one channel) and where it stands."""

    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=128, unique=True)
    channel: OutboxChannel = Field(sa_type=enum_type(OutboxChannel))
    event_id: int = Field(foreign_key="registration_event.id", index=True)
    registration_id: str = Field(max_length=32)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=enum_type(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    """When a PENDING row is due; for a SENDING row, when its claim (lease) runs out."""
    claim_token: str | None = Field(default=None, max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """BROKER: ``{"channels": [...], "message": {...}}``; SMS: ``{"result", "itemsToFix"}``."""
    in_doubt: bool = False
    first_send_at: datetime | None = None
    """When an SMS request first left for the provider (the date QuerySendDetails needs)."""
    last_send_at: datetime | None = None
    provider_id: str | None = Field(default=None, max_length=64)
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


# -- channels and messages ----------------------------------------------------------------


def registration_channel(registration_id: str) -> str:
    return f"reg:{registration_id}"


def queue_channel(department_code: str) -> str:
    """``queue:<department code>``; the province listens on ``queue:all``."""
    return f"queue:{QUEUE_ALL if department_code == PROVINCE_CODE else department_code}"


def event_message(event: RegistrationEvent, previous: int | None) -> dict[str, Any]:
    """What subscribers receive for ``event`` (JSON). ``prev`` is the registration's previous
    event id, so a subscriber can tell whether it missed one."""
    return {
        "cursor": event.id,
        "prev": previous,
        "registrationId": event.registration_id,
        "kind": event.kind,
        "status": str(event.to_status),
        "fromStatus": str(event.from_status) if event.from_status else None,
        "occurredAt": event.occurred_at.isoformat(),
        "comment": event.comment,
        "items": list(event.items),
        "departmentCode": event.department_code,
    }


def message_event(message: dict[str, Any]) -> RegistrationEvent:
    """The (unsaved) event row a published message stands for."""
    from_status = message.get("fromStatus")
    return RegistrationEvent(
        id=int(message["cursor"]),
        registration_id=str(message["registrationId"]),
        kind=str(message["kind"]),
        from_status=Status(from_status) if from_status else None,
        to_status=Status(message["status"]),
        actor_kind="",
        comment=message.get("comment"),
        items=list(message.get("items") or []),
        department_code=message.get("departmentCode"),
        occurred_at=datetime.fromisoformat(str(message["occurredAt"])),
    )


def broker_channels(event: RegistrationEvent) -> list[str]:
    channels = [registration_channel(event.registration_id)]
    if is_queue_event(event.kind, event.from_status):
        if event.department_code and event.department_code != PROVINCE_CODE:
            channels.append(queue_channel(event.department_code))
        channels.append(queue_channel(PROVINCE_CODE))
    return channels


def sms_notice(event: RegistrationEvent) -> dict[str, Any] | None:
    """What the SMS of a review result says (``result`` and ``itemsToFix``); None for other
    events. ``services.dispatcher`` turns it into the approved / returned message."""
    if event.to_status == Status.APPROVED:
        return {"result": "APPROVED", "itemsToFix": 0}
    if event.to_status == Status.RETURNED:
        return {"result": "RETURNED", "itemsToFix": max(1, len(event.items))}
    return None


def sms_key(registration: Registration, event: RegistrationEvent) -> str:
    """``<registration id>:<event kind>:<version>``, as ``sms.sms_dedupe_key`` builds it."""
    return f"{registration.id}:{event.kind.lower()}:{registration.version}"


# -- the transition effect ----------------------------------------------------------------


async def enqueue_event(
    session: AsyncSession, registration: Registration, event: RegistrationEvent
) -> None:
    """Add the outbox rows of ``event`` to the current transaction (called by record_transition)."""
    assert event.id is not None
    now = utcnow()
    previous = (
        await session.exec(
            select(func.max(RegistrationEvent.id)).where(
                RegistrationEvent.registration_id == event.registration_id,
                col(RegistrationEvent.id) < event.id,
            )
        )
    ).one()
    session.add(
        OutboxMessage(
            dedupe_key=f"event:{event.id}:broker",
            channel=OutboxChannel.BROKER,
            event_id=event.id,
            registration_id=event.registration_id,
            next_attempt_at=now,
            payload={"channels": broker_channels(event), "message": event_message(event, previous)},
            created_at=now,
            updated_at=now,
        )
    )
    notice = sms_notice(event)
    if notice is None:
        return
    key = sms_key(registration, event)
    if (
        await session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key))
    ).first() is not None:
        _log.warning("outbox.sms_duplicate_key", dedupe_key=key, event_id=event.id)
        return
    basic = await session.get(BasicInfoSection, registration.id)
    if basic is None or not basic.phone:
        _log.info("outbox.sms_without_phone", registration_id=registration.id, event_id=event.id)
        return
    session.add(
        OutboxMessage(
            dedupe_key=key,
            channel=OutboxChannel.SMS,
            event_id=event.id,
            registration_id=event.registration_id,
            next_attempt_at=now,
            payload=notice,
            created_at=now,
            updated_at=now,
        )
    )
