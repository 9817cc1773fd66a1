"""The applicant's side of a registration: start, save each step, submit, withdraw.

Every operation runs inside the caller's transaction and either completes or raises
``ProblemsFound`` (the caller rolls back: nothing is written). Edits carry the version the
applicant saw; a stale one is ``VERSION_CONFLICT``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import Person
from models.errors import ErrorCode, FieldProblem, ProblemsFound, RuleViolation
from models.history import record_transition
from models.id_numbers import check_id_number
from models.reference import ReferenceData
from models.registration import (
    EDITABLE_STATUSES,
    OPEN_STATUSES,
    BasicInfoSection,
    DepartmentRule,
    EducationKind,
    EducationSection,
    NoticeSection,
    QualificationSection,
    Registration,
    ResidenceSection,
    Status,
    Submission,
    UnitNameSource,
    WorkUnitSection,
)
from models.registration_data import RegistrationData, load_registration, load_sections
from models.sections import (
    BasicInfoAnswer,
    EducationAnswer,
    EducationAnswers,
    EducationValues,
    FormAnswers,
    QualificationAnswer,
    QualificationStep,
    ResidenceAnswer,
    ResidenceValues,
    WorkOrResidenceAnswer,
    WorkUnitAnswer,
    WorkUnitValues,
    clean_basic_info,
    clean_education,
    clean_eligibility,
    clean_qualification,
    clean_residence,
    clean_work_unit,
    recheck,
)

DECLARATION = "同意以上资料填写无误"

__all__ = [
    "EducationAnswers",
    "FormAnswers",
    "QualificationStep",
    "WorkOrResidenceAnswer",
    "recheck",
]


@dataclass
class EditResult:
    data: RegistrationData
    # storage keys of files that no longer belong to the registration; delete after commit
    orphaned_keys: list[str] = field(default_factory=list)


def _problem(path: str, code: ErrorCode) -> ProblemsFound:
    return ProblemsFound([FieldProblem(path, code)])


async def _owned(session: AsyncSession, registration_id: str, person_id: int) -> RegistrationData:
    data = await load_registration(session, registration_id)
    if data is None or data.registration.person_id != person_id:
        # someone else's registration looks exactly like a missing one
        raise _problem("registrationId", ErrorCode.NOT_FOUND)
    return data


async def _person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise _problem("registrationId", ErrorCode.IDENTITY_NOT_VERIFIED)
    return person


async def _editable(
    session: AsyncSession, registration_id: str, person_id: int, expected_version: int
) -> RegistrationData:
    data = await _owned(session, registration_id, person_id)
    if data.registration.status not in EDITABLE_STATUSES:
        raise _problem("registrationId", ErrorCode.NOT_EDITABLE)
    if data.registration.version != expected_version:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    return data


async def _claim_version(
    session: AsyncSession, registration: Registration, expected_version: int, now: datetime
) -> None:
    """Bump the version if it is still the one the applicant saw; else VERSION_CONFLICT.

    The conditional UPDATE is what makes two concurrent saves safe: on PostgreSQL the second
    waits for the first's row lock, then finds the version changed and updates nothing.
    """
    result = await session.exec(
        update(Registration)
        .where(
            col(Registration.id) == registration.id, col(Registration.version) == expected_version
        )
        .values(version=expected_version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    registration.version = expected_version + 1
    registration.updated_at = now


def _reopened(registration: Registration, path: str) -> bool:
    return any(
        path == r or path.startswith(f"{r}.") or r.startswith(f"{path}.")
        for r in registration.reopened
    )


def _check_frozen(data: RegistrationData, before: dict[str, Any], after: dict[str, Any]) -> None:
    """In a returned registration only the fields the reviewer flagged may change."""
    if data.registration.status != Status.RETURNED:
        return
    frozen = [
        FieldProblem(path, ErrorCode.FIELD_FROZEN)
        for path in sorted(set(before) | set(after))
        if before.get(path) != after.get(path) and not _reopened(data.registration, path)
    ]
    if frozen:
        raise ProblemsFound(frozen)


def _flat(prefix: str, row: Any, names: dict[str, str]) -> dict[str, Any]:
    if row is None:
        return {}
    return {f"{prefix}.{api}": getattr(row, attr) for api, attr in names.items()}


_BASIC = {
    "countryOrRegion": "country_or_region",
    "ethnicGroup": "ethnic_group",
    "politicalStatus": "political_status",
    "remarks": "remarks",
    "gender": "gender",
    "birthDate": "birth_date",
}
_WORK = {
    "creditCode": "credit_code",
    "unitName": "unit_name",
    "economicType": "economic_type",
    "officeDivisionCode": "office_division_code",
    "postalCode": "postal_code",
    "accountingStartDate": "accounting_start_date",
    "accountingPost": "accounting_post",
    "administrativeTitle": "administrative_title",
}
_RESIDENCE = {"divisionCode": "division_code", "address": "address", "postalCode": "postal_code"}
_EDUCATION = {
    "level": "level",
    "degree": "degree",
    "verificationNumber": "verification_number",
    "major": "major",
    "school": "school",
    "graduationDate": "graduation_date",
}
_QUALIFICATION = {
    "level": "level",
    "type": "type",
    "acquisitionMethod": "acquisition_method",
    "acquiredOn": "acquired_on",
    "appointedPost": "appointed_post",
    "appointedOn": "appointed_on",
    "certificateNumber": "certificate_number",
}


async def _retire_unrequired(
    session: AsyncSession, data: RegistrationData, now: datetime
) -> list[str]:
    """Attachments whose kind the answers no longer require are retired with their files."""
    required = set(data.required_kinds())
    keys: list[str] = []
    for attachment in list(data.attachments):
        if attachment.kind not in required:
            attachment.replaced_at = now
            session.add(attachment)
            data.attachments.remove(attachment)
            keys += [k for k in (attachment.storage_key, attachment.thumbnail_key) if k]
    return keys


# -- start ------------------------------------------------------------------------------------


async def open_registration(session: AsyncSession, person_id: int) -> Registration | None:
    return (
        await session.exec(
            select(Registration).where(
                Registration.person_id == person_id, col(Registration.status).in_(OPEN_STATUSES)
            )
        )
    ).first()


async def latest_registration(session: AsyncSession, person_id: int) -> Registration | None:
    """The open registration, or else the most recent one (approved or withdrawn)."""
    current = await open_registration(session, person_id)
    if current is not None:
        return current
    return (
        await session.exec(
            select(Registration)
            .where(Registration.person_id == person_id)
            .order_by(col(Registration.created_at).desc())
        )
    ).first()


async def start_registration(
    session: AsyncSession, *, person_id: int, new_id: str, now: datetime
) -> RegistrationData:
    """The applicant's open registration; a new draft when there is none (idempotent)."""
    existing = await open_registration(session, person_id)
    if existing is not None:
        return await load_sections(session, existing)
    person = await _person(session, person_id)
    registration = Registration(id=new_id, person_id=person_id, created_at=now, updated_at=now)
    session.add(registration)
    await session.flush()
    facts = _identity_facts(person, now.date())
    session.add(
        BasicInfoSection(
            registration_id=registration.id,
            name=person.name,
            phone=person.phone,
            id_type=person.id_type,
            id_number=person.id_number,
            gender=facts[0],
            birth_date=facts[1],
        )
    )
    await session.flush()
    await record_transition(
        session, registration, "STARTED", None, actor_kind="APPLICANT", actor_id=person_id, now=now
    )
    return await load_sections(session, registration)


def _identity_facts(person: Person, today: date) -> tuple[str | None, date | None]:
    try:
        facts = check_id_number(person.id_type, person.id_number, today=today)
    except RuleViolation:
        return None, None
    return facts.gender, facts.birth_date


# -- steps ------------------------------------------------------------------------------------
#
# Each step is planned first (cleaned, checked against frozen fields, compared with what is
# stored) and written only when something differs: a save that changes nothing writes nothing
# and leaves ``version`` as it is. ``save_registration`` plans several steps and writes them
# under one version claim, so a change of the whole form raises ``version`` by exactly one.


@dataclass
class _Plan:
    changed: bool
    write: Callable[[], Awaitable[None]]


async def _carry_out(
    session: AsyncSession,
    data: RegistrationData,
    expected_version: int,
    now: datetime,
    plans: list[_Plan],
) -> EditResult:
    if not any(plan.changed for plan in plans):
        return EditResult(data)
    await _claim_version(session, data.registration, expected_version, now)
    for plan in plans:
        if plan.changed:
            await plan.write()
    await session.flush()
    return EditResult(data, await _retire_unrequired(session, data, now))


def _plan_notice(
    session: AsyncSession, data: RegistrationData, eligibility: list[str], now: datetime
) -> _Plan:
    chosen = clean_eligibility(eligibility)
    notice = data.notice
    before = list(notice.eligibility) if notice else None
    _check_frozen(data, {"notice.eligibility": before}, {"notice.eligibility": chosen})

    async def write() -> None:
        row = data.notice or NoticeSection(registration_id=data.id)
        row.eligibility, row.acknowledged_at = chosen, now
        session.add(row)
        data.notice = row

    unchanged = notice is not None and notice.acknowledged_at is not None and before == chosen
    return _Plan(not unchanged, write)


def _plan_basic(
    session: AsyncSession,
    reference: ReferenceData,
    data: RegistrationData,
    person: Person,
    answer: BasicInfoAnswer,
    now: datetime,
) -> tuple[_Plan, date]:
    gender, birth = _identity_facts(person, now.date())
    values = clean_basic_info(
        answer,
        id_type=person.id_type,
        derived_gender=gender,
        derived_birth_date=birth,
        reference=reference,
        today=now.date(),
    )
    basic = data.basic
    assert basic is not None  # created with the registration
    before = _flat("basicInfo", basic, _BASIC)
    after = {f"basicInfo.{api}": getattr(values, attr) for api, attr in _BASIC.items()}
    _check_frozen(data, before, after)
    identity = (person.name, person.phone, person.id_type, person.id_number)

    async def write() -> None:
        basic.name, basic.phone, basic.id_type, basic.id_number = identity  # the login's
        for attr in _BASIC.values():
            setattr(basic, attr, getattr(values, attr))
        basic.saved_at = now
        session.add(basic)

    stored = (basic.name, basic.phone, basic.id_type, basic.id_number)
    unchanged = basic.saved_at is not None and before == after and stored == identity
    return _Plan(not unchanged, write), values.birth_date


def _plan_work_or_residence(
    session: AsyncSession,
    reference: ReferenceData,
    data: RegistrationData,
    answer: WorkOrResidenceAnswer,
    birth: date | None,
    now: datetime,
) -> _Plan:
    """Exactly one branch; switching clears the other. The department follows the district."""
    if (answer.work_unit is None) == (answer.residence is None):
        raise _problem("workUnit", ErrorCode.WORK_OR_RESIDENCE_EXCLUSIVE)
    before = {
        **_flat("workUnit", data.work_unit, _WORK),
        **_flat("residence", data.residence, _RESIDENCE),
    }
    work: WorkUnitValues | None = None
    place: ResidenceValues | None = None
    source: UnitNameSource | None = None
    differing_directory_name: str | None = None
    if answer.work_unit is not None:
        work = clean_work_unit(
            answer.work_unit, birth_date=birth, reference=reference, today=now.date()
        )
        after = {f"workUnit.{api}": getattr(work, attr) for api, attr in _WORK.items()}
        name = answer.directory_name
        source = UnitNameSource.LOOKUP if name and name == work.unit_name else UnitNameSource.MANUAL
        # a typed name the directory knows otherwise: the advisory UNIT_NAME_DIFFERS
        differing_directory_name = name if name and name != work.unit_name else None
        division_code, rule = work.office_division_code, DepartmentRule.OFFICE_DIVISION
    else:
        assert answer.residence is not None
        place = clean_residence(answer.residence, reference=reference)
        after = {f"residence.{api}": getattr(place, attr) for api, attr in _RESIDENCE.items()}
        division_code, rule = place.division_code, DepartmentRule.RESIDENCE_DIVISION
    _check_frozen(data, before, after)
    division = reference.division(division_code)
    assert division is not None  # checked by the cleaning
    registration = data.registration

    async def write() -> None:
        if work is not None:
            if data.residence is not None:
                await session.delete(data.residence)
                data.residence = None
            row = data.work_unit or WorkUnitSection(registration_id=data.id, **vars(work))
            for attr, value in vars(work).items():
                setattr(row, attr, value)
            row.unit_name_source = source or UnitNameSource.MANUAL
            row.directory_unit_name = differing_directory_name
            session.add(row)
            data.work_unit = row
        else:
            assert place is not None
            if data.work_unit is not None:
                await session.delete(data.work_unit)
                data.work_unit = None
            row_r = data.residence or ResidenceSection(registration_id=data.id, **vars(place))
            for attr, value in vars(place).items():
                setattr(row_r, attr, value)
            session.add(row_r)
            data.residence = row_r
        registration.department_code = division.department.code
        registration.department_rule = rule
        registration.city_code = division.city_code
        session.add(registration)

    unchanged = (
        before == after
        and (
            work is None
            or data.work_unit is None
            or (
                data.work_unit.unit_name_source == source
                and data.work_unit.directory_unit_name == differing_directory_name
            )
        )
        and registration.department_code == division.department.code
        and registration.department_rule == rule
    )
    return _Plan(not unchanged, write)


def _plan_education(
    session: AsyncSession,
    reference: ReferenceData,
    data: RegistrationData,
    answer: EducationAnswers,
    birth: date | None,
    now: datetime,
) -> _Plan:
    problems: list[FieldProblem] = []
    cleaned: dict[EducationKind, EducationValues | None] = {}
    for kind, prefix, given in (
        (EducationKind.FULL_TIME, "education.fullTime", answer.full_time),
        (EducationKind.PART_TIME, "education.partTime", answer.part_time),
    ):
        cleaned[kind] = None
        if given is None:
            continue
        try:
            cleaned[kind] = clean_education(
                given, prefix, birth_date=birth, reference=reference, today=now.date()
            )
        except ProblemsFound as exc:
            problems += exc.problems
    if problems:
        raise ProblemsFound(problems)
    before = {
        **_flat("education.fullTime", data.full_time, _EDUCATION),
        **_flat("education.partTime", data.part_time, _EDUCATION),
    }
    after: dict[str, Any] = {}
    for kind, prefix in (
        (EducationKind.FULL_TIME, "education.fullTime"),
        (EducationKind.PART_TIME, "education.partTime"),
    ):
        values = cleaned[kind]
        if values is not None:
            after |= {f"{prefix}.{api}": getattr(values, attr) for api, attr in _EDUCATION.items()}
    _check_frozen(data, before, after)

    async def write() -> None:
        for kind in (EducationKind.FULL_TIME, EducationKind.PART_TIME):
            current = data.full_time if kind is EducationKind.FULL_TIME else data.part_time
            values = cleaned[kind]
            row: EducationSection | None = None
            if values is None:
                if current is not None:
                    await session.delete(current)
            else:
                row = current or EducationSection(
                    registration_id=data.id, kind=kind, **vars(values)
                )
                for attr, value in vars(values).items():
                    setattr(row, attr, value)
                session.add(row)
            if kind is EducationKind.FULL_TIME:
                data.full_time = row
            else:
                data.part_time = row
        data.registration.education_saved_at = now
        session.add(data.registration)

    unchanged = data.registration.education_saved_at is not None and before == after
    return _Plan(not unchanged, write)


def _plan_qualification(
    session: AsyncSession,
    reference: ReferenceData,
    data: RegistrationData,
    answer: QualificationAnswer | None,
    birth: date | None,
    now: datetime,
) -> _Plan:
    values = (
        clean_qualification(answer, birth_date=birth, reference=reference, today=now.date())
        if answer is not None
        else None
    )
    before = _flat("qualification", data.qualification, _QUALIFICATION)
    after = (
        {}
        if values is None
        else {f"qualification.{api}": getattr(values, attr) for api, attr in _QUALIFICATION.items()}
    )
    _check_frozen(data, before, after)

    async def write() -> None:
        if values is None:
            if data.qualification is not None:
                await session.delete(data.qualification)
            data.qualification = None
        else:
            row = data.qualification or QualificationSection(
                registration_id=data.id, **vars(values)
            )
            for attr, value in vars(values).items():
                setattr(row, attr, value)
            session.add(row)
            data.qualification = row
        data.registration.qualification_saved_at = now
        session.add(data.registration)

    unchanged = data.registration.qualification_saved_at is not None and before == after
    return _Plan(not unchanged, write)


def _birth(data: RegistrationData) -> date | None:
    return data.basic.birth_date if data.basic else None


async def acknowledge_notice(
    session: AsyncSession,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    eligibility: list[str],
    now: datetime,
) -> EditResult:
    data = await _editable(session, registration_id, person_id, expected_version)
    plan = _plan_notice(session, data, eligibility, now)
    return await _carry_out(session, data, expected_version, now, [plan])


async def save_basic_info(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    answer: BasicInfoAnswer,
    now: datetime,
) -> EditResult:
    data = await _editable(session, registration_id, person_id, expected_version)
    person = await _person(session, person_id)
    plan, _ = _plan_basic(session, reference, data, person, answer, now)
    return await _carry_out(session, data, expected_version, now, [plan])


async def save_work_or_residence(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    work_unit: WorkUnitAnswer | None,
    residence: ResidenceAnswer | None,
    directory_name: str | None,
    now: datetime,
) -> EditResult:
    answer = WorkOrResidenceAnswer(work_unit, residence, directory_name)
    if (work_unit is None) == (residence is None):
        raise _problem("workUnit", ErrorCode.WORK_OR_RESIDENCE_EXCLUSIVE)
    data = await _editable(session, registration_id, person_id, expected_version)
    plan = _plan_work_or_residence(session, reference, data, answer, _birth(data), now)
    return await _carry_out(session, data, expected_version, now, [plan])


async def save_education(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    full_time: EducationAnswer | None,
    part_time: EducationAnswer | None,
    now: datetime,
) -> EditResult:
    data = await _editable(session, registration_id, person_id, expected_version)
    answer = EducationAnswers(full_time, part_time)
    plan = _plan_education(session, reference, data, answer, _birth(data), now)
    return await _carry_out(session, data, expected_version, now, [plan])


async def save_qualification(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    answer: QualificationAnswer | None,
    now: datetime,
) -> EditResult:
    data = await _editable(session, registration_id, person_id, expected_version)
    plan = _plan_qualification(session, reference, data, answer, _birth(data), now)
    return await _carry_out(session, data, expected_version, now, [plan])


async def save_registration(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    answers: FormAnswers,
    now: datetime,
) -> EditResult:
    """Save several steps at once, all or nothing: every step's problems are reported
    together (with the step mutations' paths) and nothing is written if there is any. A
    birth date given here is the one the other steps are checked against."""
    data = await _editable(session, registration_id, person_id, expected_version)
    plans: list[_Plan] = []
    problems: list[FieldProblem] = []
    birth = _birth(data)

    def plan(make: Callable[[], _Plan]) -> None:
        try:
            plans.append(make())
        except ProblemsFound as exc:
            problems.extend(exc.problems)

    if answers.notice is not None:
        notice = answers.notice
        plan(lambda: _plan_notice(session, data, notice, now))
    if answers.basic_info is not None:
        person = await _person(session, person_id)
        try:
            basic_plan, birth = _plan_basic(
                session, reference, data, person, answers.basic_info, now
            )
            plans.append(basic_plan)
        except ProblemsFound as exc:
            problems.extend(exc.problems)
    if (place := answers.work_or_residence) is not None:
        plan(lambda: _plan_work_or_residence(session, reference, data, place, birth, now))
    if (education := answers.education) is not None:
        plan(lambda: _plan_education(session, reference, data, education, birth, now))
    if (qualification := answers.qualification) is not None:
        step = qualification.answer
        plan(lambda: _plan_qualification(session, reference, data, step, birth, now))
    if problems:
        raise ProblemsFound(problems)
    return await _carry_out(session, data, expected_version, now, plans)


# -- submit and withdraw ----------------------------------------------------------------------


async def submit_registration(
    session: AsyncSession,
    reference: ReferenceData,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    agreed: bool,
    idempotency_key: str | None,
    now: datetime,
) -> RegistrationData:
    """Submit for review. A repeat (same idempotency key, or a double tap with the version that
    was submitted) returns the registration as it is and writes nothing."""
    data = await _owned(session, registration_id, person_id)
    latest = (
        await session.exec(
            select(Submission)
            .where(Submission.registration_id == registration_id)
            .order_by(col(Submission.sequence).desc())
        )
    ).first()
    if latest is not None and data.registration.status != Status.RETURNED:
        same_key = idempotency_key is not None and latest.idempotency_key == idempotency_key
        double_tap = idempotency_key is None and latest.based_on_version == expected_version
        if same_key or double_tap:
            return data
    if idempotency_key is not None:
        used = (
            await session.exec(
                select(Submission).where(
                    Submission.registration_id == registration_id,
                    Submission.idempotency_key == idempotency_key,
                )
            )
        ).first()
        if used is not None:
            raise _problem("idempotencyKey", ErrorCode.IDEMPOTENCY_KEY_REUSED)
    if data.registration.status not in EDITABLE_STATUSES:
        raise _problem("registrationId", ErrorCode.NOT_EDITABLE)
    if data.registration.version != expected_version:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    if not agreed:
        raise _problem("agreed", ErrorCode.NOT_AGREED)
    problems = data.incomplete() + recheck(data, reference, now.date())
    if problems:
        raise ProblemsFound(problems)
    await _claim_version(session, data.registration, expected_version, now)
    registration = data.registration
    previous = registration.status
    registration.status = Status.SUBMITTED
    registration.submitted_at = now
    registration.reopened = []
    session.add(registration)
    session.add(
        Submission(
            registration_id=registration.id,
            sequence=(latest.sequence + 1) if latest else 1,
            idempotency_key=idempotency_key,
            based_on_version=expected_version,
            snapshot=data.snapshot(reference),
            declaration=DECLARATION,
            submitted_at=now,
        )
    )
    kind = "RESUBMITTED" if previous == Status.RETURNED else "SUBMITTED"
    await session.flush()
    await record_transition(
        session, registration, kind, previous, actor_kind="APPLICANT", actor_id=person_id, now=now
    )
    return data


async def withdraw_registration(
    session: AsyncSession,
    *,
    person_id: int,
    registration_id: str,
    expected_version: int,
    now: datetime,
) -> RegistrationData:
    data = await _owned(session, registration_id, person_id)
    registration = data.registration
    if registration.status not in OPEN_STATUSES:
        raise _problem("registrationId", ErrorCode.INVALID_TRANSITION)
    if registration.version != expected_version:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    await _claim_version(session, registration, expected_version, now)
    previous = registration.status
    registration.status = Status.WITHDRAWN
    registration.reopened = []
    session.add(registration)
    await session.flush()
    await record_transition(
        session,
        registration,
        "WITHDRAWN",
        previous,
        actor_kind="APPLICANT",
        actor_id=person_id,
        now=now,
    )
    return data
