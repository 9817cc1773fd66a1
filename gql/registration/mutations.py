"""The applicant's wizard: one mutation per step. Resolvers stay thin: models/wizard.py decides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from sqlmodel.ext.asyncio.session import AsyncSession

from gql.context import Info
from gql.errors import Refused, one_error, refused
from gql.permissions import APPLICANT
from gql.registration.inputs import (
    AcknowledgeNoticeInput,
    SaveBasicInfoInput,
    SaveEducationInput,
    SaveQualificationInput,
    SaveRegistrationInput,
    SaveWorkOrResidenceInput,
    SubmitRegistrationInput,
    WithdrawRegistrationInput,
    WorkUnitInput,
)
from gql.registration.types import Registration, RegistrationPayload
from integrations.unit_directory import LookupOutcome, lookup_unit
from models import sections, wizard
from models.db import transaction, utcnow
from models.errors import ErrorCode, RuleViolation
from models.limits import MAX_CREDIT_CODE_INPUT, MAX_ID_INPUT, MAX_IDEMPOTENCY_KEY
from models.registration_data import RegistrationData, load_registration
from models.unit_codes import check_unit_code
from services.tokens import new_id

Operation = Callable[[AsyncSession, datetime], Awaitable[wizard.EditResult | RegistrationData]]


async def _current(info: Info, registration_id: str, person_id: int) -> Registration | None:
    async with info.context.db() as db:
        data = await load_registration(db, registration_id[:MAX_ID_INPUT])
    if data is None or data.registration.person_id != person_id:
        return None
    return Registration.of(data, info.context.reference)


async def run_edit(
    info: Info, registration_id: str | None, operation: Operation
) -> RegistrationPayload:
    """Run one applicant operation in a transaction; on a mistake nothing is written and the
    payload carries the errors and the registration as it stands."""
    principal = info.context.principal
    assert principal is not None
    if principal.person_id is None:
        return RegistrationPayload(errors=one_error("", ErrorCode.IDENTITY_NOT_VERIFIED))
    if registration_id is not None and len(registration_id) > MAX_ID_INPUT:
        return RegistrationPayload(errors=one_error("registrationId", ErrorCode.NOT_FOUND))
    now = utcnow()

    async def operate() -> wizard.EditResult | RegistrationData:
        async with transaction(info.context.db) as session:
            return await operation(session, now)

    result = await refused(operate())
    if isinstance(result, Refused):
        current = (
            await _current(info, registration_id, principal.person_id) if registration_id else None
        )
        return RegistrationPayload(registration=current, errors=result.errors)
    data = result.data if isinstance(result, wizard.EditResult) else result
    if isinstance(result, wizard.EditResult) and result.orphaned_keys:
        await info.context.services.discard_files(result.orphaned_keys)
    await info.context.services.after_commit(data.id)
    return RegistrationPayload(registration=Registration.of(data, info.context.reference))


def _person(info: Info) -> int:
    principal = info.context.principal
    assert principal is not None and principal.person_id is not None
    return principal.person_id


async def _directory_name(info: Info, work_unit: WorkUnitInput | None) -> str | None:
    """The unit's name in the directory when its credit code is there (the name's source)."""
    if work_unit is None or not work_unit.credit_code:
        return None
    try:
        code = check_unit_code(work_unit.credit_code[:MAX_CREDIT_CODE_INPUT]).code
    except RuleViolation:
        return None
    found = await lookup_unit(info.context.services.unit_registries, code)
    return found.unit_name if found.outcome is LookupOutcome.FOUND else None


async def _form_answers(info: Info, input: SaveRegistrationInput) -> wizard.FormAnswers:
    place = input.work_or_residence
    return wizard.FormAnswers(
        notice=[e.value for e in input.notice.eligibility] if input.notice else None,
        basic_info=input.basic_info.answer() if input.basic_info else None,
        work_or_residence=sections.WorkOrResidenceAnswer(
            place.work_unit.answer() if place.work_unit else None,
            place.residence.answer() if place.residence else None,
            await _directory_name(info, place.work_unit),
        )
        if place
        else None,
        education=input.education.answers() if input.education else None,
        qualification=sections.QualificationStep(
            input.qualification.qualification.answer()
            if input.qualification.qualification
            else None
        )
        if input.qualification
        else None,
    )


@strawberry.type
class RegistrationMutation:
    @strawberry.mutation(
        permission_classes=APPLICANT,
        description="The applicant's open registration, or a new draft (idempotent).",
    )
    async def start_registration(self, info: Info) -> RegistrationPayload:
        return await run_edit(
            info,
            None,
            lambda s, now: wizard.start_registration(
                s, person_id=_person(info), new_id=new_id(), now=now
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="登记须知")
    async def acknowledge_notice(
        self, info: Info, input: AcknowledgeNoticeInput
    ) -> RegistrationPayload:
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.acknowledge_notice(
                s,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                eligibility=[e.value for e in input.eligibility],
                now=now,
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="基本信息")
    async def save_basic_info(self, info: Info, input: SaveBasicInfoInput) -> RegistrationPayload:
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.save_basic_info(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                answer=input.answer(),
                now=now,
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="工作单位或居住地")
    async def save_work_or_residence(
        self, info: Info, input: SaveWorkOrResidenceInput
    ) -> RegistrationPayload:
        directory_name = await _directory_name(info, input.work_unit)
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.save_work_or_residence(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                work_unit=input.work_unit.answer() if input.work_unit else None,
                residence=input.residence.answer() if input.residence else None,
                directory_name=directory_name,
                now=now,
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="学历学位")
    async def save_education(self, info: Info, input: SaveEducationInput) -> RegistrationPayload:
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.save_education(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                full_time=input.full_time.answer() if input.full_time else None,
                part_time=input.part_time.answer() if input.part_time else None,
                now=now,
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="专业技术资格 (optional)")
    async def save_qualification(
        self, info: Info, input: SaveQualificationInput
    ) -> RegistrationPayload:
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.save_qualification(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                answer=input.qualification.answer() if input.qualification else None,
                now=now,
            ),
        )

    @strawberry.mutation(
        permission_classes=APPLICANT,
        description="Several steps (any subset of the sections) in one request, all or nothing; "
        "errors carry the step mutations' paths. version rises by one if anything changed.",
    )
    async def save_registration(
        self, info: Info, input: SaveRegistrationInput
    ) -> RegistrationPayload:
        answers = await _form_answers(info, input)
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.save_registration(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                answers=answers,
                now=now,
            ),
        )

    @strawberry.mutation(
        permission_classes=APPLICANT,
        description="确认提交. A repeat with the same idempotencyKey returns the same result.",
    )
    async def submit_registration(
        self, info: Info, input: SubmitRegistrationInput
    ) -> RegistrationPayload:
        key = input.idempotency_key
        if key is not None and not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY and key.isprintable()):
            return RegistrationPayload(errors=one_error("idempotencyKey", ErrorCode.INVALID_FORMAT))
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.submit_registration(
                s,
                info.context.reference,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                agreed=input.agreed,
                idempotency_key=key,
                now=now,
            ),
        )

    @strawberry.mutation(permission_classes=APPLICANT, description="Withdraw a registration")
    async def withdraw_registration(
        self, info: Info, input: WithdrawRegistrationInput
    ) -> RegistrationPayload:
        return await run_edit(
            info,
            input.registration_id,
            lambda s, now: wizard.withdraw_registration(
                s,
                person_id=_person(info),
                registration_id=input.registration_id,
                expected_version=input.expected_version,
                now=now,
            ),
        )
