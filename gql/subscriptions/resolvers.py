"""The subscriptions: ``registrationEvents`` (an applicant's own registration) and
``reviewQueueEvents`` (a department's reviewers; the province sees every department).

Both follow the same recipe, so nothing falls between the database and the live stream:

1. subscribe to the broker channel first (``integrations.broker``: active once entered);
2. replay from the database the events after the client's cursor ``after``;
3. stream live messages, skipping cursors already sent; on a broker ``Gap`` (Redis
   reconnected, or this subscriber fell behind) replay from the database again.

For ``registrationEvents`` a live message also carries ``prev``, the registration's previous
event id: when it is newer than the last cursor sent, an event was missed (e.g. published out
of order by two dispatchers) and the stream replays from the database instead. Event ids of
one registration are committed in order (every transition claims the registration's
version first), so "no duplicates, no gaps" holds per registration.

Authentication comes from the socket's ``connection_init`` payload (``gql.view``). A refused
subscription is a GraphQL ``error`` message for that operation id; the socket stays open.
The broker subscription is released in ``async with`` cleanup when the client sends
``complete`` or disconnects (Strawberry cancels the generator).
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

import orjson
import strawberry
import structlog
from graphql import GraphQLError
from sqlmodel import and_, col, func, or_, select

from gql.context import Context, Info
from gql.errors import GraphQLErrorCode, extensions_for
from gql.permissions import IsApplicant, IsAuthenticated, IsReviewer
from gql.registration.events import parse_cursor
from gql.sockets import FORBIDDEN, UNAUTHORIZED, refuse_subscription
from gql.subscriptions.types import RegistrationEvent, ReviewQueueEvent
from integrations.broker import Gap
from models.db import SessionFactory
from models.events import registration_events
from models.limits import is_record_id
from models.outbox import (
    QUEUE_KINDS,
    is_queue_event,
    message_event,
    queue_channel,
    registration_channel,
)
from models.reference import PROVINCE_CODE
from models.registration import Registration, Status
from models.registration import RegistrationEvent as EventRow
from services.principal import Principal

_log = structlog.get_logger("gql.subscriptions")

REPLAY_BATCH = 500
_SENT_MEMORY = 10_000


def _error(message: str, code: GraphQLErrorCode) -> GraphQLError:
    return GraphQLError(message, extensions=extensions_for(code))


def _allowed(info: Info, role: type[IsApplicant | IsReviewer]) -> Principal:
    """The principal when it may subscribe; otherwise the socket closes (4401 not signed in,
    4403 not allowed: see gql.sockets) and the operation gets the permission's error."""
    principal = info.context.principal
    if principal is None:
        refuse_subscription(info.context, info.operation.operation, UNAUTHORIZED)
        raise _error(IsAuthenticated.message, GraphQLErrorCode.UNAUTHENTICATED)
    if not role().has_permission(None, info):
        refuse_subscription(info.context, info.operation.operation, FORBIDDEN)
        raise _error(str(role.message), GraphQLErrorCode.FORBIDDEN)
    return principal


def _decode(data: bytes) -> dict[str, Any] | None:
    try:
        message = orjson.loads(data)
        int(message["cursor"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        _log.warning("subscriptions.bad_message", size=len(data))
        return None
    return message if isinstance(message, dict) else None


class _LastMessage:
    """The broker hands the same ``bytes`` object to every local subscriber of a channel:
    decode it (and build its GraphQL object) once, not once per socket."""

    data: bytes | None = None
    message: dict[str, Any] | None = None
    event: RegistrationEvent | None = None


_last = _LastMessage()


def _shared(data: bytes, reference: Any) -> tuple[dict[str, Any] | None, RegistrationEvent | None]:
    if data is not _last.data:
        message = _decode(data)
        event = None
        if message is not None:
            try:
                event = RegistrationEvent.of(message_event(message), reference)
            except (KeyError, TypeError, ValueError):
                message = None
        _last.data, _last.message, _last.event = data, message, event
    return _last.message, _last.event


async def _registration_events_after(
    db: SessionFactory, registration_id: str, after: int
) -> list[EventRow]:
    async with db() as session:
        return await registration_events(session, registration_id, after=after, limit=REPLAY_BATCH)


async def _queue_events_after(
    db: SessionFactory, department_code: str | None, after: int
) -> list[EventRow]:
    statement = select(EventRow).where(
        col(EventRow.id) > after,
        or_(
            col(EventRow.kind).in_(sorted(QUEUE_KINDS - {"WITHDRAWN"})),
            and_(EventRow.kind == "WITHDRAWN", EventRow.from_status == Status.SUBMITTED),
        ),
    )
    if department_code is not None:
        statement = statement.where(EventRow.department_code == department_code)
    async with db() as session:
        rows = (await session.exec(statement.order_by(col(EventRow.id)).limit(REPLAY_BATCH))).all()
    return list(rows)


async def _latest_event_id(db: SessionFactory) -> int:
    async with db() as session:
        latest = (await session.exec(select(func.max(EventRow.id)))).one()
    return int(latest or 0)


async def registration_stream(
    context: Context, registration_id: str, after: int | None
) -> AsyncGenerator[RegistrationEvent, None]:
    """Every event of one registration after ``after`` (all when None), then live ones."""
    services = context.services
    reference = services.reference
    async with services.broker.subscribe(registration_channel(registration_id)) as sub:
        last = after or 0

        while True:  # the replay: the database is the truth
            rows = await _registration_events_after(services.db, registration_id, last)
            for row in rows:
                assert row.id is not None
                last = row.id
                yield RegistrationEvent.of(row, reference)
            if len(rows) < REPLAY_BATCH:
                break

        async for item in sub:
            message, event = (None, None) if isinstance(item, Gap) else _shared(item, reference)
            if message is not None and event is not None:
                cursor = int(message["cursor"])
                if cursor <= last:
                    continue  # already sent (replayed, or published twice)
                previous = message.get("prev")
                if previous is None or int(previous) <= last:
                    last = cursor
                    yield event
                    continue
            # a gap, an unreadable message or a missed event: catch up from the database
            while True:
                rows = await _registration_events_after(services.db, registration_id, last)
                for row in rows:
                    assert row.id is not None
                    last = row.id
                    yield RegistrationEvent.of(row, reference)
                if len(rows) < REPLAY_BATCH:
                    break


async def queue_stream(
    context: Context, department_code: str | None, after: int | None
) -> AsyncGenerator[ReviewQueueEvent, None]:
    """Queue changes of one department (None: all) after ``after`` (None: live only)."""
    services = context.services
    reference = services.reference
    channel = queue_channel(department_code or PROVINCE_CODE)
    async with services.broker.subscribe(channel) as sub:
        sent: set[int] = set()
        order: deque[int] = deque()
        floor = after if after is not None else await _latest_event_id(services.db)
        start = floor

        def remember(cursor: int) -> None:
            sent.add(cursor)
            order.append(cursor)
            if len(order) > _SENT_MEMORY:
                sent.discard(order.popleft())

        async def replay() -> list[EventRow]:
            nonlocal floor
            fresh: list[EventRow] = []
            while True:
                rows = await _queue_events_after(services.db, department_code, floor)
                for row in rows:
                    assert row.id is not None
                    floor = max(floor, row.id)
                    if row.id not in sent:
                        remember(row.id)
                        fresh.append(row)
                if len(rows) < REPLAY_BATCH:
                    return fresh

        if after is not None:
            for row in await replay():
                yield ReviewQueueEvent.of(row, reference)

        async for item in sub:
            message = None if isinstance(item, Gap) else _decode(item)
            if message is not None:
                cursor = int(message["cursor"])
                if cursor <= start or cursor in sent:
                    continue
                if not is_queue_event(str(message.get("kind")), message.get("fromStatus")):
                    continue
                remember(cursor)
                yield ReviewQueueEvent.of(message_event(message), reference)
                continue
            for row in await replay():
                yield ReviewQueueEvent.of(row, reference)


@strawberry.type(name="Subscription")
class RealtimeSubscription:
    @strawberry.subscription(
        description="Status changes and review results of the applicant's own registration. "
        "First the events after `after` (every event when it is null), then each new one as it "
        "happens; pass the last `cursor` received as `after` when reconnecting.",
    )
    async def registration_events(
        self, info: Info, registration_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[RegistrationEvent, None]:
        principal = _allowed(info, IsApplicant)
        cursor = parse_cursor(after)
        registration_id = strawberry.ID(str(registration_id))
        owner: int | None = None
        if is_record_id(registration_id):
            async with info.context.db() as session:
                owner = (
                    await session.exec(
                        select(Registration.person_id).where(Registration.id == registration_id)
                    )
                ).first()
        if owner is None or principal.person_id is None or owner != principal.person_id:
            refuse_subscription(info.context, info.operation.operation, FORBIDDEN)
            raise _error("无权查看此登记的进度。", GraphQLErrorCode.FORBIDDEN)
        return registration_stream(info.context, str(registration_id), cursor)

    @strawberry.subscription(
        description="New submissions (and submissions leaving the queue) of the reviewer's "
        "department; the province receives every department's. With `after`, the changes "
        "after that cursor are sent first; without it, only new ones.",
    )
    async def review_queue_events(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[ReviewQueueEvent, None]:
        principal = _allowed(info, IsReviewer)
        cursor = parse_cursor(after)
        return queue_stream(info.context, principal.effective_department, cursor)
