"""What staff read of a registration's review: decisions, submissions, the diff between two
submissions and the audit trail, with the staff who acted.

Types only (gql/registration/resolvers.py fills them); gql/review reuses them.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gql.reference.types import Option
from gql.registration.events import RegistrationStatus, ReturnItem
from models import review
from models.review_reasons import reason_name

strawberry.enum(review.ReviewOutcome, name="ReviewOutcome")
ReviewOutcome = review.ReviewOutcome


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
