"""Reading a registration's history: its events, oldest first.

The one query for "the events of a registration": the applicant's ``history``, the staff audit
trail and the subscription's replay all read through ``registration_events``.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.registration import RegistrationEvent


async def registration_events(
    session: AsyncSession,
    registration_id: str,
    *,
    after: int | None = None,
    limit: int | None = None,
) -> list[RegistrationEvent]:
    """The registration's events in order (by id); only those after the event id ``after``,
    and at most ``limit`` of them, when given."""
    statement = select(RegistrationEvent).where(
        RegistrationEvent.registration_id == registration_id
    )
    if after is not None:
        statement = statement.where(col(RegistrationEvent.id) > after)
    statement = statement.order_by(col(RegistrationEvent.id))
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.exec(statement)).all())
