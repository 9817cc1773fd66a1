"""A registration's history as clients read it: status changes and the items of a return.

Shared by gql/registration (``history``), gql/review (decisions, the audit trail) and the
subscriptions; it imports none of them. ``parse_cursor`` reads the cursor both the
``registrationEvents`` subscription and the polling ``history(after:)`` take: the event id.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from graphql import GraphQLError

from gql.errors import GraphQLErrorCode, extensions_for
from gql.reference.types import Option
from models.limits import MAX_EVENT_CURSOR_DIGITS
from models.reference import ReferenceData
from models.registration import RegistrationEvent as EventRow
from models.registration import Status as DomainStatus
from models.review_reasons import reason_name


def parse_cursor(after: str | None) -> int | None:
    """``after`` as an event id; a GraphQL error (BAD_REQUEST) when it is not one."""
    if after is None or after == "":
        return None
    if not after.isdigit() or len(after) > MAX_EVENT_CURSOR_DIGITS:
        raise GraphQLError(
            "after 不是有效的游标。", extensions=extensions_for(GraphQLErrorCode.BAD_REQUEST)
        )
    return int(after)


strawberry.enum(DomainStatus, name="RegistrationStatus")
RegistrationStatus = DomainStatus


@strawberry.type(description="One entry of a registration's history; cursor orders them.")
class RegistrationEvent:
    cursor: str
    kind: str
    status: RegistrationStatus
    from_status: RegistrationStatus | None
    occurred_at: datetime
    comment: str | None
    items: list[ReturnItem]

    @classmethod
    def of(cls, row: EventRow, reference: ReferenceData) -> RegistrationEvent:
        return cls(
            cursor=str(row.id),
            kind=row.kind,
            status=RegistrationStatus(row.to_status),
            from_status=RegistrationStatus(row.from_status) if row.from_status else None,
            occurred_at=row.occurred_at,
            comment=row.comment,
            items=[ReturnItem.of(item, reference) for item in row.items],
        )


@strawberry.type(description="A field or attachment kind a reviewer asked to fix, and why.")
class ReturnItem:
    field: str
    reason: Option
    note: str | None

    @classmethod
    def of(cls, item: dict[str, str], reference: ReferenceData) -> ReturnItem:
        code = item.get("reasonCode", "")
        return cls(
            field=item.get("field", ""),
            reason=Option(code=code, name=reason_name(code)),
            note=item.get("note"),
        )
