"""The review as staff read it: the queue's masked items, and the inputs and payload of
approveRegistration / returnRegistration (decisions, submissions, the diff and the audit trail
are in gql/registration/staff_types.py, fields of the Registration)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry.relay import PageInfo

from gql.errors import FieldError
from gql.reference.types import Department, Division, Option
from gql.registration.events import RegistrationStatus
from gql.registration.staff_types import ReviewDecisionType
from gql.registration.types import Registration
from models import review
from models.id_numbers import mask_id_number, mask_phone
from models.limits import (
    MAX_DIVISION_CODE_INPUT,
    MAX_FIELD_PATH,
    MAX_NAME_SEARCH,
    MAX_REASON_CODE,
)
from models.reference import ReferenceData

strawberry.enum(
    review.QueueOrder, name="QueueOrder", description="By submission time; OLDEST_FIRST by default"
)
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
        return review.ReturnItemInput(
            self.field[:MAX_FIELD_PATH], self.reason_code[:MAX_REASON_CODE], self.note
        )


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
        description="Field paths of warning findings (registration.problems) the reviewer has "
        "checked; any other finding makes the approval UNRESOLVED_PROBLEMS",
    )


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
            city_code=self.city_code[:MAX_DIVISION_CODE_INPUT] if self.city_code else None,
            district_code=self.district_code[:MAX_DIVISION_CODE_INPUT]
            if self.district_code
            else None,
            name=self.name[:MAX_NAME_SEARCH] if self.name else None,
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


@strawberry.type
class ReviewPayload:
    registration: Registration | None = None
    decision: ReviewDecisionType | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)
