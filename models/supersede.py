"""An approved change replaces the record it amends (SUPERSEDED)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.history import record_transition
from models.registration import Registration, Status


def _problem(path: str, code: ErrorCode) -> ProblemsFound:
    return ProblemsFound([FieldProblem(path, code)])


async def supersede(
    session: AsyncSession, change: Registration, staff_id: int | None, now: datetime
) -> None:
    """An approved change replaces the record it amends, which becomes SUPERSEDED (and its
    department sees it in its history). BASE_SUPERSEDED when that record is no longer the
    person's approved one (reopened or replaced meanwhile): nothing changes."""
    base = (
        await session.exec(
            select(Registration).where(col(Registration.id) == change.amends_id).with_for_update()
        )
    ).first()
    if base is None or base.status != Status.APPROVED or base.person_id != change.person_id:
        raise _problem("registrationId", ErrorCode.BASE_SUPERSEDED)
    result = await session.exec(
        update(Registration)
        .where(col(Registration.id) == base.id, col(Registration.status) == Status.APPROVED.value)
        .values(status=Status.SUPERSEDED.value, version=base.version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise _problem("registrationId", ErrorCode.BASE_SUPERSEDED)
    await session.refresh(base)
    await record_transition(
        session,
        base,
        "SUPERSEDED",
        Status.APPROVED,
        actor_kind="STAFF",
        actor_id=staff_id,
        now=now,
        comment=f"由信息变更 {change.id} 取代",
    )
