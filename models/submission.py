"""Submitting a registration for review, and withdrawing it: the wizard's last steps.

The applicant's declaration is stored with an immutable snapshot of what was submitted; a
repeated submit with the same idempotency key answers the same result. Both go through
``models.history.record_transition`` like every status change.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import ErrorCode, ProblemsFound
from models.history import record_transition
from models.reference import ReferenceData
from models.registration import EDITABLE_STATUSES, OPEN_STATUSES, Status, Submission
from models.registration_data import RegistrationData
from models.sections import recheck
from models.wizard import DECLARATION, claim_version, owned_registration, problem


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
    data = await owned_registration(session, registration_id, person_id)
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
            raise problem("idempotencyKey", ErrorCode.IDEMPOTENCY_KEY_REUSED)
    if data.registration.status not in EDITABLE_STATUSES:
        raise problem("registrationId", ErrorCode.NOT_EDITABLE)
    if data.registration.version != expected_version:
        raise problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    if not agreed:
        raise problem("agreed", ErrorCode.NOT_AGREED)
    problems = data.incomplete() + recheck(data, reference, now.date())
    if problems:
        raise ProblemsFound(problems)
    await claim_version(session, data.registration, expected_version, now)
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
    data = await owned_registration(session, registration_id, person_id)
    registration = data.registration
    if registration.status not in OPEN_STATUSES:
        raise problem("registrationId", ErrorCode.INVALID_TRANSITION)
    if registration.version != expected_version:
        raise problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    await claim_version(session, registration, expected_version, now)
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
