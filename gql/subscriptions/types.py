"""What the subscriptions push: ``RegistrationEvent`` (reused from gql.registration) and the
review queue's ``ReviewQueueEvent``."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql.reference.types import Department
from gql.registration.events import RegistrationEvent, RegistrationStatus
from models.reference import ReferenceData
from models.registration import RegistrationEvent as EventRow

__all__ = ["RegistrationEvent", "ReviewQueueEvent"]


@strawberry.type(
    description="A change in a department's review queue: a registration was submitted "
    "(SUBMITTED, RESUBMITTED) or left the queue (WITHDRAWN, APPROVED, RETURNED)."
)
class ReviewQueueEvent:
    cursor: str = strawberry.field(description="Pass as `after` when reconnecting")
    registration_id: strawberry.ID
    kind: str
    status: RegistrationStatus
    department: Department | None = strawberry.field(description="The 会计管理部门")
    occurred_at: datetime

    @classmethod
    def of(cls, row: EventRow, reference: ReferenceData) -> ReviewQueueEvent:
        department = reference.department(row.department_code) if row.department_code else None
        return cls(
            cursor=str(row.id),
            registration_id=strawberry.ID(row.registration_id),
            kind=row.kind,
            status=RegistrationStatus(row.to_status),
            department=Department.of(department) if department else None,
            occurred_at=row.occurred_at,
        )
