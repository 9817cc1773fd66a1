"""Moves of a registration beyond approve and return: forward it to the bureau it belongs to,
reopen an approval made by mistake. Like the rest of the review, each runs inside the caller's
transaction and either completes or raises ``ProblemsFound`` (nothing is written)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.history import record_transition
from models.reference import ReferenceData
from models.registration import OPEN_STATUSES, DepartmentRule, Registration, Status, Submission
from models.registration_data import RegistrationData, load_registration
from models.review import Reviewer, clean_comment, latest_submission


def _problem(path: str, code: ErrorCode) -> ProblemsFound:
    return ProblemsFound([FieldProblem(path, code)])


async def _decidable(
    session: AsyncSession,
    reviewer: Reviewer,
    registration_id: str,
    expected_version: int,
    status: Status,
) -> RegistrationData:
    data = await load_registration(session, registration_id)
    if data is None:
        raise _problem("registrationId", ErrorCode.NOT_FOUND)
    registration = data.registration
    if reviewer.staff_id is None or not reviewer.may_review(registration.department_code):
        raise _problem("registrationId", ErrorCode.WRONG_DEPARTMENT)
    if registration.version != expected_version:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    if registration.status != status:
        raise _problem("registrationId", ErrorCode.INVALID_TRANSITION)
    return data


async def _claim(
    session: AsyncSession,
    registration: Registration,
    expected_version: int,
    status: Status,
    now: datetime,
) -> None:
    """Of two staff members acting at once, exactly one wins (VERSION_CONFLICT otherwise)."""
    result = await session.exec(
        update(Registration)
        .where(
            col(Registration.id) == registration.id,
            col(Registration.version) == expected_version,
            col(Registration.status) == status.value,
        )
        .values(version=expected_version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    registration.version = expected_version + 1
    registration.updated_at = now


async def forward_registration(
    session: AsyncSession,
    reference: ReferenceData,
    reviewer: Reviewer,
    *,
    registration_id: str,
    expected_version: int,
    department_code: str,
    comment: str | None,
    now: datetime,
) -> RegistrationData:
    """转办: a SUBMITTED registration goes straight to the bureau it belongs to, still
    SUBMITTED. A reviewer forwards from their own department, the province from any. The
    department then stays fixed (``departmentRule: FORWARDED``) until the applicant changes
    the office or residence district."""
    cleaned = clean_comment(comment)
    code = department_code.strip()
    target = reference.department(code) if len(code) == 6 and code.isdigit() else None
    data = await _decidable(session, reviewer, registration_id, expected_version, Status.SUBMITTED)
    registration = data.registration
    if target is None:
        raise _problem("departmentCode", ErrorCode.UNKNOWN_DEPARTMENT)
    if target.code == registration.department_code:
        raise _problem("departmentCode", ErrorCode.FORWARD_SAME_DEPARTMENT)
    await _claim(session, registration, expected_version, Status.SUBMITTED, now)
    previous = registration.department_code
    division = reference.division(target.code)
    registration.department_code = target.code
    registration.department_rule = DepartmentRule.FORWARDED
    registration.city_code = division.city_code if division else None
    session.add(registration)
    await session.flush()
    await record_transition(
        session,
        registration,
        "FORWARDED",
        Status.SUBMITTED,
        actor_kind="STAFF",
        actor_id=reviewer.staff_id,
        now=now,
        comment=cleaned,
        previous_department_code=previous,
    )
    return data


async def reopen_registration(
    session: AsyncSession,
    reviewer: Reviewer,
    *,
    registration_id: str,
    expected_version: int,
    reason: str,
    now: datetime,
) -> RegistrationData:
    """An approval made by mistake goes back to SUBMITTED (the approving department or the
    province). A reopened change gives the person back the record it had superseded.
    Refused (INVALID_TRANSITION) while the person has another registration open."""
    cleaned = clean_comment(reason)
    if cleaned is None:
        raise _problem("reason", ErrorCode.REQUIRED)
    data = await _decidable(session, reviewer, registration_id, expected_version, Status.APPROVED)
    registration = data.registration
    other_open = (
        await session.exec(
            select(Registration.id).where(
                Registration.person_id == registration.person_id,
                col(Registration.status).in_(OPEN_STATUSES),
            )
        )
    ).first()
    if other_open is not None:
        raise _problem(
            "registrationId",
            ErrorCode.INVALID_TRANSITION,
        )
    latest = await latest_submission(session, registration.id)
    if latest is None:  # an approved registration always has one
        raise _problem("registrationId", ErrorCode.INVALID_TRANSITION)
    await _claim(session, registration, expected_version, Status.APPROVED, now)
    registration.status = Status.SUBMITTED
    session.add(registration)
    # a new round of review: the same answers as a new submission (one decision each)
    session.add(
        Submission(
            registration_id=registration.id,
            sequence=latest.sequence + 1,
            based_on_version=latest.based_on_version,
            snapshot=latest.snapshot,
            declaration=latest.declaration,
            submitted_at=now,
        )
    )
    await session.flush()
    if registration.amends_id is not None:
        await _restore_base(session, registration.amends_id, reviewer, now)
    await record_transition(
        session,
        registration,
        "REOPENED",
        Status.APPROVED,
        actor_kind="STAFF",
        actor_id=reviewer.staff_id,
        now=now,
        comment=cleaned,
    )
    return data


async def _restore_base(
    session: AsyncSession, base_id: str, reviewer: Reviewer, now: datetime
) -> None:
    base = await session.get(Registration, base_id)
    if base is None or base.status != Status.SUPERSEDED:
        return
    base.status = Status.APPROVED
    base.version += 1
    base.updated_at = now
    session.add(base)
    await session.flush()
    await record_transition(
        session,
        base,
        "RESTORED",
        Status.SUPERSEDED,
        actor_kind="STAFF",
        actor_id=reviewer.staff_id,
        now=now,
        comment="信息变更的审核通过已撤回，恢复为有效登记",
    )
