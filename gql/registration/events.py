"""A registration's events after a cursor: one query for the ``registrationEvents``
subscription (replay) and the ``Registration.history(after:)`` polling fallback, so both
return the same events with the same cursors (the event id as a decimal string)."""

from __future__ import annotations

from graphql import GraphQLError
from sqlmodel import col, select

from models.db import SessionFactory
from models.registration import RegistrationEvent as EventRow

REPLAY_BATCH = 500


def parse_cursor(after: str | None) -> int | None:
    """``after`` as an event id; a GraphQL error (BAD_REQUEST) when it is not one."""
    if after is None or after == "":
        return None
    if not after.isdigit() or len(after) > 18:
        raise GraphQLError("after 不是有效的游标。", extensions={"code": "BAD_REQUEST"})
    return int(after)


async def registration_events_after(
    db: SessionFactory, registration_id: str, after: int, limit: int = REPLAY_BATCH
) -> list[EventRow]:
    """At most ``limit`` events of the registration with an id above ``after``, in order."""
    async with db() as session:
        rows = (
            await session.exec(
                select(EventRow)
                .where(EventRow.registration_id == registration_id, col(EventRow.id) > after)
                .order_by(col(EventRow.id))
                .limit(limit)
            )
        ).all()
    return list(rows)


async def all_events_after(
    db: SessionFactory, registration_id: str, after: int | None
) -> list[EventRow]:
    """Every event after ``after`` (all when None), read in batches."""
    events: list[EventRow] = []
    last = after or 0
    while True:
        rows = await registration_events_after(db, registration_id, last)
        events += rows
        if len(rows) < REPLAY_BATCH:
            return events
        assert rows[-1].id is not None
        last = rows[-1].id
