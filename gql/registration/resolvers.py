"""Fields of a Registration that read more than the loaded record, through models/: its
history, and the staff-only fields (null unless a reviewer of its department) with the staff
who acted."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gql.registration.events import RegistrationEvent, RegistrationStatus, ReturnItem
from gql.registration.staff_types import (
    AuditEntry,
    FieldChange,
    ReviewDecisionType,
    StaffActor,
    SubmissionType,
)
from models import review
from models.accounts import staff_accounts
from models.events import registration_events
from models.reference import ReferenceData
from models.registration import Registration as RegistrationRow


async def history_of(
    info: strawberry.Info,
    registration_id: str,
    reference: ReferenceData,
    *,
    after: int | None = None,
) -> list[RegistrationEvent]:
    """The registration's status changes and review results, oldest first; with ``after``
    only those after that event id (the subscription's replay reads the same query)."""
    async with info.context.db() as db:
        rows = await registration_events(db, registration_id, after=after)
    return [RegistrationEvent.of(row, reference) for row in rows]


def staff_view(info: strawberry.Info, registration: RegistrationRow) -> bool:
    """Staff-only fields resolve for a reviewer of the registration's department, else null."""
    principal = info.context.principal
    return (
        principal is not None
        and principal.is_staff
        and principal.may_review(registration.department_code)
    )


async def staff_actors(info: strawberry.Info, ids: set[int]) -> dict[int, StaffActor]:
    if not ids:
        return {}
    async with info.context.db() as db:
        rows = await staff_accounts(db, ids)
    return {
        a.id: StaffActor(id=a.id, username=a.username, display_name=a.display_name)
        for a in rows
        if a.id is not None
    }


async def submissions_for(
    info: strawberry.Info, registration: RegistrationRow
) -> list[SubmissionType] | None:
    if not staff_view(info, registration):
        return None
    async with info.context.db() as db:
        rows = await review.submissions_of(db, registration.id)
    return [
        SubmissionType(
            sequence=s.sequence,
            submitted_at=s.submitted_at,
            declaration=s.declaration,
            based_on_version=s.based_on_version,
            snapshot=JSON(s.snapshot),
        )
        for s in rows
    ]


async def changes_for(
    info: strawberry.Info, registration: RegistrationRow
) -> list[FieldChange] | None:
    if not staff_view(info, registration):
        return None
    async with info.context.db() as db:
        changes = await review.changes_since_last_submission(db, registration.id)
    if changes is None:
        return None
    return [FieldChange(field=c.field, old=c.old, new=c.new) for c in changes]


async def decisions_for(
    info: strawberry.Info, registration: RegistrationRow
) -> list[ReviewDecisionType] | None:
    if not staff_view(info, registration):
        return None
    async with info.context.db() as db:
        records = await review.decisions_of(db, registration.id)
    actors = await staff_actors(info, {r.decision.reviewer_id for r in records})
    return [ReviewDecisionType.of(r, actors) for r in records]


async def audit_trail_for(
    info: strawberry.Info, registration: RegistrationRow
) -> list[AuditEntry] | None:
    if not staff_view(info, registration):
        return None
    reference: ReferenceData = info.context.reference
    async with info.context.db() as db:
        events = await registration_events(db, registration.id)
        reads = await review.staff_reads(db, registration.id)
    staff_ids = {e.actor_id for e in events if e.actor_kind == "STAFF" and e.actor_id is not None}
    actors = await staff_actors(info, staff_ids | {r.staff_id for r in reads})
    entries: list[tuple[datetime, int, AuditEntry]] = [
        (
            e.occurred_at,
            0,
            AuditEntry(
                kind=e.kind,
                occurred_at=e.occurred_at,
                actor_kind=e.actor_kind,
                actor=actors.get(e.actor_id)
                if e.actor_kind == "STAFF" and e.actor_id is not None
                else None,
                from_status=RegistrationStatus(e.from_status) if e.from_status else None,
                to_status=RegistrationStatus(e.to_status),
                comment=e.comment,
                items=[ReturnItem.of(item, reference) for item in e.items],
            ),
        )
        for e in events
    ]
    entries += [
        (
            r.read_at,
            1,
            AuditEntry(
                kind="READ",
                occurred_at=r.read_at,
                actor_kind="STAFF",
                actor=actors.get(r.staff_id),
                from_status=None,
                to_status=None,
                comment=None,
                items=[],
            ),
        )
        for r in reads
    ]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in entries]
