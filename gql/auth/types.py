"""Who is signed in, and what a sign-in returns."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from gql.errors import FieldError
from gql.reference.types import Department, Option
from models.accounts import StaffRole as DomainStaffRole

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
