"""Who is signed in, and what a sign-in returns."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gql.errors import FieldError
from gql.reference.types import Department, Option
from models.accounts import LoginIdentity, Person, StaffAccount
from models.accounts import StaffRole as DomainStaffRole
from models.db import SessionFactory
from models.id_numbers import mask_id_number, mask_phone
from models.reference import ReferenceData
from services.principal import Principal

strawberry.enum(DomainStaffRole, name="StaffRole")
StaffRole = DomainStaffRole


@strawberry.enum
class ViewerKind(Enum):
    APPLICANT = "APPLICANT"
    STAFF = "STAFF"


@strawberry.type(
    description="The signed-in user. Identity fields are masked; the full values "
    "appear only in the applicant's own basicInfo."
)
class Viewer:
    kind: ViewerKind
    identity_verified: bool = strawberry.field(
        description="Applicants: a real-name identity is linked (needed to start a registration)"
    )
    name: str | None
    id_type: Option | None
    masked_id_number: str | None
    masked_phone: str | None
    provider: str | None = strawberry.field(description="alipay, zlb or dev")
    username: str | None
    role: StaffRole | None
    department: Department | None


async def load_viewer(db: SessionFactory, reference: ReferenceData, principal: Principal) -> Viewer:
    async with db() as session:
        if principal.is_applicant:
            identity = await session.get(LoginIdentity, principal.login_identity_id)
            person = await session.get(Person, principal.person_id) if principal.person_id else None
            id_type_name = reference.name_of("id_document_type", person.id_type) if person else None
            return Viewer(
                kind=ViewerKind.APPLICANT,
                identity_verified=person is not None,
                name=person.name if person else None,
                id_type=Option(code=person.id_type, name=id_type_name or "") if person else None,
                masked_id_number=mask_id_number(person.id_number) if person else None,
                masked_phone=mask_phone(person.phone) if person and person.phone else None,
                provider=identity.provider if identity else None,
                username=None,
                role=None,
                department=None,
            )
        staff = await session.get(StaffAccount, principal.staff_id)
        department = (
            reference.department(staff.department_code) if staff and staff.department_code else None
        )
        return Viewer(
            kind=ViewerKind.STAFF,
            identity_verified=True,
            name=staff.display_name if staff else None,
            id_type=None,
            masked_id_number=None,
            masked_phone=None,
            provider=None,
            username=staff.username if staff else None,
            role=staff.role if staff else None,
            department=Department.of(department) if department else None,
        )


@strawberry.type
class AuthPayload:
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the access token expires; refresh before then"
    )
    viewer: Viewer | None = None
    errors: list[FieldError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[FieldError] = strawberry.field(default_factory=list)
