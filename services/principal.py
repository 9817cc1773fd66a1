"""Who is asking: the principal a valid access token stands for."""

from __future__ import annotations

from dataclasses import dataclass

from models.accounts import SessionKind, StaffRole
from models.reference import PROVINCE_CODE


@dataclass(frozen=True, slots=True)
class Principal:
    kind: SessionKind
    session_id: str
    login_identity_id: int | None = None
    person_id: int | None = None  # set when the applicant has a verified identity
    staff_id: int | None = None
    role: StaffRole | None = None
    department_code: str | None = None

    @property
    def is_applicant(self) -> bool:
        return self.kind is SessionKind.APPLICANT

    @property
    def is_staff(self) -> bool:
        return self.kind is SessionKind.STAFF

    @property
    def sees_personal_data(self) -> bool:
        return self.role in (StaffRole.REVIEWER, StaffRole.PROVINCE)

    def may_review(self, department_code: str | None) -> bool:
        """A reviewer acts on their own department's registrations; the province on all."""
        if self.role is StaffRole.PROVINCE:
            return True
        return (
            self.role is StaffRole.REVIEWER
            and department_code is not None
            and department_code == self.department_code
        )

    def may_see_department(self, department_code: str | None) -> bool:
        """Statistics: the province and dashboards see all, a reviewer their own department."""
        if self.role in (StaffRole.PROVINCE, StaffRole.DASHBOARD):
            return True
        return self.role is StaffRole.REVIEWER and department_code == self.department_code

    @property
    def effective_department(self) -> str | None:
        """The department a staff member is limited to, or None for province-wide roles."""
        if self.role is StaffRole.REVIEWER:
            return self.department_code
        return None


def role_for_department(department_code: str) -> StaffRole:
    return StaffRole.PROVINCE if department_code == PROVINCE_CODE else StaffRole.REVIEWER
