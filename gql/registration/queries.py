"""Reading registrations: the applicant's own, one by id, and the unit lookup (获取单位信息)."""

from __future__ import annotations

import strawberry

from gql.context import Info
from gql.errors import FieldError, one_error
from gql.permissions import APPLICANT, SIGNED_IN
from gql.registration.types import Registration
from integrations.unit_directory import LookupOutcome as DomainLookupOutcome
from integrations.unit_directory import lookup_unit
from models import wizard
from models.errors import RuleViolation
from models.limits import MAX_CREDIT_CODE_INPUT, MAX_ID_INPUT
from models.registration import Status
from models.registration_data import load_registration, load_sections
from models.unit_codes import check_unit_code

strawberry.enum(
    DomainLookupOutcome,
    name="LookupOutcome",
    description="NOT_FOUND or UNAVAILABLE: the applicant types the unit name",
)
LookupOutcome = DomainLookupOutcome


@strawberry.type
class UnitLookupResult:
    outcome: LookupOutcome | None
    credit_code: str | None
    unit_name: str | None
    verified: bool = strawberry.field(
        description="The name comes from an authoritative list; false for a name learned "
        "from an earlier approval (the applicant should check it) and when nothing was found"
    )
    errors: list[FieldError]


@strawberry.type
class RegistrationQuery:
    @strawberry.field(
        permission_classes=APPLICANT,
        description="The applicant's open registration, else the latest one; null if none",
    )
    async def my_registration(self, info: Info) -> Registration | None:
        principal = info.context.principal
        if principal is None or principal.person_id is None:
            return None
        async with info.context.db() as db:
            registration = await wizard.latest_registration(db, principal.person_id)
            if registration is None:
                return None
            data = await load_sections(db, registration)
        return Registration.of(data, info.context.reference)

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="One registration: its owner, or (once submitted) a reviewer of its department",
    )
    async def registration(self, info: Info, id: strawberry.ID) -> Registration | None:
        principal = info.context.principal
        assert principal is not None
        if len(id) > MAX_ID_INPUT:
            return None
        async with info.context.db() as db:
            data = await load_registration(db, str(id))
        if data is None:
            return None
        if principal.is_applicant:
            allowed = (
                principal.person_id is not None
                and data.registration.person_id == principal.person_id
            )
        else:  # staff read what was submitted to them, never an applicant's unsent draft
            allowed = (
                principal.may_review(data.registration.department_code)
                and data.registration.submitted_at is not None
                and data.registration.status != Status.DRAFT
            )
        if not allowed:
            return None
        await info.context.services.record_staff_read(principal, data.registration)
        return Registration.of(data, info.context.reference)

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="获取单位信息: the unit's name by its credit code, when known",
    )
    async def lookup_unit(self, info: Info, credit_code: str) -> UnitLookupResult:
        try:
            code = check_unit_code(credit_code[:MAX_CREDIT_CODE_INPUT]).code
        except RuleViolation as exc:
            return UnitLookupResult(
                outcome=None,
                credit_code=None,
                unit_name=None,
                verified=False,
                errors=one_error("creditCode", exc.code),
            )
        result = await lookup_unit(info.context.services.unit_registries, code)
        return UnitLookupResult(
            outcome=result.outcome,
            credit_code=result.credit_code,
            unit_name=result.unit_name,
            verified=result.verified,
            errors=[],
        )
