"""Reading registrations: the applicant's own, one by id, and the unit lookup (获取单位信息)."""

from __future__ import annotations

import strawberry

from gql.context import Info
from gql.errors import FieldError, one_error
from gql.permissions import APPLICANT, SIGNED_IN
from gql.registration.types import Registration
from integrations.unit_directory import LookupOutcome as DomainLookupOutcome
from integrations.unit_directory import lookup_unit
from models.db import read_with_retry
from models.errors import RuleViolation
from models.limits import MAX_CREDIT_CODE_INPUT, MAX_ID_INPUT
from models.registration import OPEN_STATUSES
from models.registration_data import load_latest_registration, load_registration
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
        person_id = principal.person_id
        data = await read_with_retry(
            info.context.db, lambda db: load_latest_registration(db, person_id, OPEN_STATUSES)
        )
        if data is None:
            return None
        return Registration.of(data, info.context.reference)

    @strawberry.field(
        permission_classes=SIGNED_IN,
        description="One registration: its owner, or a reviewer of its department",
    )
    async def registration(self, info: Info, id: strawberry.ID) -> Registration | None:
        principal = info.context.principal
        assert principal is not None
        if len(id) > MAX_ID_INPUT:
            return None
        data = await read_with_retry(info.context.db, lambda db: load_registration(db, str(id)))
        if data is None:
            return None
        if principal.is_applicant:
            allowed = (
                principal.person_id is not None
                and data.registration.person_id == principal.person_id
            )
        else:
            allowed = principal.may_review(data.registration.department_code)
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
                errors=one_error("creditCode", exc.code),
            )
        result = await lookup_unit(info.context.services.unit_registries, code)
        return UnitLookupResult(
            outcome=result.outcome,
            credit_code=result.credit_code,
            unit_name=result.unit_name,
            errors=[],
        )
