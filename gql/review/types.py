"""The review as staff read it: the queue's masked items, decisions, submissions, the diff,
the audit trail, and the inputs and payload of approveRegistration / returnRegistration."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from sqlmodel import col, select
from strawberry.relay import PageInfo
from strawberry.scalars import JSON

from gql.errors import FieldError
from gql.reference.types import Department, Division, Option
from gql.registration.types import Registration, RegistrationStatus, ReturnItem
from models import review
from models.accounts import StaffAccount
from models.id_numbers import mask_id_number, mask_phone
from models.reference import ReferenceData
from models.registration import Registration as RegistrationRow
from models.registration import RegistrationEvent as EventRow
from models.review_reasons import reason_name

strawberry.enum(review.ReviewOutcome, name="ReviewOutcome")
strawberry.enum(
    review.QueueOrder, name="QueueOrder", description="By submission time; OLDEST_FIRST by default"
)
ReviewOutcome = review.ReviewOutcome
QueueOrder = review.QueueOrder


# -- inputs -------------------------------------------------------------------------------------


@strawberry.input(description="One field or attachment kind to fix, and why.")
class ReturnItemInput:
    field: str = strawberry.field(
        description="A dotted path (basicInfo.ethnicGroup, workUnit, education.fullTime.school) "
        "or an attachment kind as attachments.ID_PHOTO"
    )
    reason_code: str = strawberry.field(description="A code from returnReasons")
    note: str | None = strawberry.field(default=None, description="Required for OTHER")

    def domain(self) -> review.ReturnItemInput:
        return review.ReturnItemInput(self.field[:200], self.reason_code[:64], self.note)


@strawberry.input(description="退回修改: only the named fields and attachments reopen.")
class ReturnRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    items: list[ReturnItemInput]
    comment: str | None = None


@strawberry.input(description="审核通过")
class ApproveRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    comment: str | None = None
    checked_fields: list[str] = strawberry.field(
        default_factory=list,
        description="Paths of advisory findings (registration.problems) the reviewer has "
        "checked: a path confirms every advisory finding on it (attachments.ID_PHOTO). Blocking "
        "findings cannot be confirmed (UNRESOLVED_PROBLEMS); a path without a finding is "
        "FINDING_NOT_FOUND",
    )


@strawberry.input(description="转办: send a SUBMITTED registration to the bureau it belongs to.")
class ForwardRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    department_code: str = strawberry.field(description="The receiving 会计管理部门")
    comment: str | None = None


@strawberry.input(description="Reopen an approval made by mistake: back to SUBMITTED.")
class ReopenRegistrationInput:
    registration_id: strawberry.ID
    expected_version: int
    reason: str = strawberry.field(description="Why; kept in the history, shown to the applicant")


@strawberry.input(description="Filters of the review queue; all optional.")
class RegistrationQueueFilter:
    status: list[RegistrationStatus] | None = strawberry.field(
        default=None, description="Default: SUBMITTED. Drafts never appear."
    )
    submitted_from: date | None = strawberry.field(
        default=None, description="Latest submission on or after this day (Beijing time)"
    )
    submitted_to: date | None = strawberry.field(
        default=None, description="Latest submission on or before this day (Beijing time)"
    )
    city_code: str | None = None
    district_code: str | None = strawberry.field(
        default=None, description="County-level code (its 会计管理部门 has the same code)"
    )
    name: str | None = strawberry.field(default=None, description="Part of the applicant's name")
    order: QueueOrder = QueueOrder.OLDEST_FIRST

    def domain(self) -> review.QueueFilter:
        return review.QueueFilter(
            statuses=tuple(self.status or ()),
            submitted_from=self.submitted_from,
            submitted_to=self.submitted_to,
            city_code=self.city_code[:12] if self.city_code else None,
            district_code=self.district_code[:12] if self.district_code else None,
            name=self.name[:100] if self.name else None,
            order=self.order,
        )


# -- the queue ----------------------------------------------------------------------------------


@strawberry.type(description="A registration in the review queue: identity and phone masked.")
class RegistrationSummary:
    id: strawberry.ID
    status: RegistrationStatus
    version: int
    name: str
    id_type: Option
    masked_id_number: str = strawberry.field(description="e.g. 330102********1234")
    masked_phone: str | None = strawberry.field(description="e.g. 138****5678")
    accounting_department: Department | None
    city: Division | None
    submitted_at: datetime | None
    decided_at: datetime | None
    submission_count: int = strawberry.field(description="2 or more: a resubmission")

    @classmethod
    def of(cls, item: review.QueueItem, reference: ReferenceData) -> RegistrationSummary:
        r, b = item.registration, item.basic
        department = reference.department(r.department_code) if r.department_code else None
        city = reference.division(r.city_code) if r.city_code else None
        return cls(
            id=strawberry.ID(r.id),
            status=RegistrationStatus(r.status),
            version=r.version,
            name=b.name,
            id_type=Option(
                code=b.id_type, name=reference.name_of("id_document_type", b.id_type) or ""
            ),
            masked_id_number=mask_id_number(b.id_number),
            masked_phone=mask_phone(b.phone) if b.phone else None,
            accounting_department=Department.of(department) if department else None,
            city=Division.of(city) if city else None,
            submitted_at=r.submitted_at,
            decided_at=r.decided_at,
            submission_count=item.submission_count,
        )


@strawberry.type
class RegistrationEdge:
    cursor: str
    node: RegistrationSummary


@strawberry.type(
    description="The review queue, one page. first is clamped to 0..100 (default 20); "
    "a bad filter or cursor is reported in errors with no edges."
)
class RegistrationConnection:
    edges: list[RegistrationEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="All matches of the filter, every page")
    errors: list[FieldError]

    @classmethod
    def empty(cls, errors: list[FieldError]) -> RegistrationConnection:
        return cls(
            edges=[],
            page_info=PageInfo(
                has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
            ),
            total_count=0,
            errors=errors,
        )

    @classmethod
    def of(cls, page: review.QueuePage, reference: ReferenceData) -> RegistrationConnection:
        edges = [
            RegistrationEdge(cursor=item.cursor, node=RegistrationSummary.of(item, reference))
            for item in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=page.total,
            errors=[],
        )


# -- decisions, submissions, changes, the audit trail -------------------------------------------


@strawberry.type(description="A staff member who acted on or read a registration.")
class StaffActor:
    id: int
    username: str
    display_name: str


@strawberry.type(name="ReviewDecision", description="审核结果, referring to the submission judged.")
class ReviewDecisionType:
    id: strawberry.ID
    outcome: ReviewOutcome
    comment: str | None
    decided_at: datetime
    submission_sequence: int = strawberry.field(description="The submission this decision judged")
    checked_fields: list[str]
    items: list[ReturnItem]
    reviewer: StaffActor | None

    @classmethod
    def of(cls, record: review.DecisionRecord, actors: dict[int, StaffActor]) -> ReviewDecisionType:
        d = record.decision
        return cls(
            id=strawberry.ID(str(d.id)),
            outcome=ReviewOutcome(d.outcome),
            comment=d.comment,
            decided_at=d.decided_at,
            submission_sequence=record.submission_sequence,
            checked_fields=list(d.checked_fields),
            items=[
                ReturnItem(
                    field=i.field,
                    reason=Option(code=i.reason_code, name=reason_name(i.reason_code)),
                    note=i.note,
                )
                for i in record.items
            ],
            reviewer=actors.get(d.reviewer_id),
        )


@strawberry.type(name="Submission", description="One submission, kept unchanged.")
class SubmissionType:
    sequence: int
    submitted_at: datetime
    declaration: str = strawberry.field(description="What the applicant agreed to")
    based_on_version: int
    snapshot: JSON = strawberry.field(description="Everything the applicant confirmed, as JSON")


@strawberry.type(description="One field or attachment that differs between two submissions.")
class FieldChange:
    field: str = strawberry.field(description="Dotted path, or attachments.KIND")
    old: JSON | None
    new: JSON | None


@strawberry.type(description="One entry of the full record: a transition or a staff read.")
class AuditEntry:
    kind: str = strawberry.field(description="SUBMITTED, RETURNED, APPROVED, ... or READ")
    occurred_at: datetime
    actor_kind: str = strawberry.field(description="APPLICANT, STAFF or SYSTEM")
    actor: StaffActor | None
    from_status: RegistrationStatus | None
    to_status: RegistrationStatus | None
    comment: str | None
    items: list[ReturnItem]
    checked_fields: list[str] = strawberry.field(
        description="APPROVED: the paths whose advisory findings the reviewer confirmed"
    )


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
        rows = (await db.exec(select(StaffAccount).where(col(StaffAccount.id).in_(ids)))).all()
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
        events = (
            await db.exec(
                select(EventRow)
                .where(EventRow.registration_id == registration.id)
                .order_by(col(EventRow.id))
            )
        ).all()
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
                items=ReturnItem.all_of(e.items, reference),
                checked_fields=sorted({i["field"] for i in e.items if "confirmedCode" in i}),
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
                checked_fields=[],
            ),
        )
        for r in reads
    ]
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry for _, _, entry in entries]


@strawberry.type
class ReviewPayload:
    registration: Registration | None = None
    decision: ReviewDecisionType | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)
