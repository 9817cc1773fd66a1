"""Every status change of a registration goes through ``record_transition``.

It appends the event to the registration's append-only history and, in the same transaction,
keeps what follows from it current: the statistics aggregates and the outbox rows that carry
the event to subscribers and SMS. One choke point, so no transition can skip either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models.outbox import enqueue_event
from models.registration import Registration, RegistrationEvent, Status
from models.stats import record_stats


async def record_transition(
    session: AsyncSession,
    registration: Registration,
    kind: str,
    from_status: Status | None,
    *,
    actor_kind: str,
    actor_id: int | None,
    now: datetime,
    comment: str | None = None,
    items: list[dict[str, Any]] | None = None,
    previous_department_code: str | None = None,
) -> RegistrationEvent:
    """Append one event (the registration already carries its new status) and its effects."""
    event = RegistrationEvent(
        registration_id=registration.id,
        kind=kind,
        from_status=from_status,
        to_status=registration.status,
        actor_kind=actor_kind,
        actor_id=actor_id,
        comment=comment,
        items=items or [],
        department_code=registration.department_code,
        previous_department_code=previous_department_code,
        occurred_at=now,
    )
    session.add(event)
    await session.flush()  # assigns the id: the subscription cursor
    # What follows from the event, in the same transaction, called here and nowhere else.
    await record_stats(session, registration, event)
    await enqueue_event(session, registration, event)
    return event
