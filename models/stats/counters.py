"""Keeping the counters current: :func:`record_stats`, called by
:func:`models.history.record_transition` in the same transaction as every status change, and
the atomic upsert of its deltas (:func:`apply_deltas`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.reference import load_reference_data
from models.registration import (
    BasicInfoSection,
    EducationKind,
    EducationSection,
    QualificationSection,
    Registration,
    RegistrationEvent,
    Status,
    Submission,
    WorkUnitSection,
)
from models.stats.rules import Profile, Standing, add_activity, add_standing, china_day
from models.stats.tables import (
    COUNTED_STATUSES,
    COUNTER_TABLE,
    DAILY_TABLE,
    DECISIONS,
    Deltas,
    Metric,
    StatsDaily,
)


async def _profile(session: AsyncSession, registration_id: str) -> Profile:
    reference = load_reference_data()
    row = (
        await session.exec(
            select(
                BasicInfoSection.id_type, WorkUnitSection.economic_type, QualificationSection.level
            )
            .select_from(Registration)
            .outerjoin(
                BasicInfoSection, col(BasicInfoSection.registration_id) == col(Registration.id)
            )
            .outerjoin(
                WorkUnitSection, col(WorkUnitSection.registration_id) == col(Registration.id)
            )
            .outerjoin(
                QualificationSection,
                col(QualificationSection.registration_id) == col(Registration.id),
            )
            .where(col(Registration.id) == registration_id)
        )
    ).one()
    educations = {
        kind: (level, degree)
        for kind, level, degree in (
            await session.exec(
                select(
                    EducationSection.kind, EducationSection.level, EducationSection.degree
                ).where(col(EducationSection.registration_id) == registration_id)
            )
        ).all()
    }
    return Profile.of(
        reference,
        id_type=row[0],
        full_time=educations.get(EducationKind.FULL_TIME, (None, None)),
        part_time=educations.get(EducationKind.PART_TIME, (None, None)),
        qualification_level=row[2],
        economic_type=row[1],
    )


async def record_stats(
    session: AsyncSession, registration: Registration, event: RegistrationEvent
) -> None:
    """A transition effect (``models.history``): move the registration's counts, count the event."""
    reference = load_reference_data()
    to_status = Status(event.to_status)
    from_status = Status(event.from_status) if event.from_status is not None else None
    earlier = (
        await session.exec(
            select(RegistrationEvent.department_code, RegistrationEvent.to_status)
            .where(
                col(RegistrationEvent.registration_id) == registration.id,
                col(RegistrationEvent.id) < event.id,
            )
            .order_by(col(RegistrationEvent.id).desc())
        )
    ).all()
    submitted_before = any(Status(s) is Status.SUBMITTED for _, s in earlier)
    submitted_now = submitted_before or to_status is Status.SUBMITTED
    needs_profile = to_status in COUNTED_STATUSES or from_status in COUNTED_STATUSES
    profile = await _profile(session, registration.id) if needs_profile else None
    waiting = china_day(registration.submitted_at) if registration.submitted_at else None

    deltas = Deltas()
    add_standing(
        deltas,
        Standing(
            to_status,
            event.department_code if submitted_now else None,
            profile if to_status in COUNTED_STATUSES else None,
            waiting if to_status is Status.SUBMITTED else None,
        ),
        reference,
        +1,
    )
    if from_status is not None:
        add_standing(
            deltas,
            Standing(
                from_status,
                earlier[0][0] if earlier and submitted_before else None,
                profile if from_status in COUNTED_STATUSES else None,
                waiting if from_status is Status.SUBMITTED else None,
            ),
            reference,
            -1,
        )
    sequence: int | None = None
    submitted_at: datetime | None = None
    if to_status in DECISIONS:
        latest = (
            await session.exec(
                select(Submission.sequence, Submission.submitted_at)
                .where(
                    col(Submission.registration_id) == registration.id,
                    col(Submission.submitted_at) <= event.occurred_at,
                )
                .order_by(col(Submission.sequence).desc())
                .limit(1)
            )
        ).first()
        if latest is not None:
            sequence, submitted_at = latest
    add_activity(
        deltas,
        reference,
        to_status=to_status,
        from_status=from_status,
        department=event.department_code if submitted_now else None,
        occurred_at=event.occurred_at,
        items=event.items,
        sequence=sequence,
        submitted_at=submitted_at,
    )
    await apply_deltas(session, deltas)


def _upsert_table(dialect: str, table: Table) -> Any:
    if dialect == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def apply_deltas(session: AsyncSession, deltas: Deltas) -> None:
    """Add the deltas to the counters: one atomic upsert per table, keys in a fixed order."""
    connection = await session.connection()
    dialect = connection.dialect.name
    counter_table, daily_table = COUNTER_TABLE, DAILY_TABLE
    counters = sorted((k, n) for k, n in deltas.counters.items() if n)
    if counters:
        stmt = _upsert_table(dialect, counter_table).values(
            [{"scope": s, "dimension": d, "code": c, "n": n} for (s, d, c), n in counters]
        )
        await session.exec(
            stmt.on_conflict_do_update(
                index_elements=["scope", "dimension", "code"],
                set_={"n": counter_table.c.n + stmt.excluded.n},
            )
        )
    daily = sorted((k, n) for k, n in deltas.daily.items() if n)
    if daily:
        stmt = _upsert_table(dialect, daily_table).values(
            [{"scope": s, "metric": m, "day": d, "code": c, "n": n} for (s, m, d, c), n in daily]
        )
        await session.exec(
            stmt.on_conflict_do_update(
                index_elements=["scope", "metric", "day", "code"],
                set_={"n": daily_table.c.n + stmt.excluded.n},
            )
        )
        emptied = {(s, d) for (s, m, d, _), n in daily if m == Metric.WAITING and n < 0}
        for scope, day in sorted(emptied):
            await session.exec(
                delete(StatsDaily).where(
                    col(StatsDaily.scope) == scope,
                    col(StatsDaily.metric) == Metric.WAITING.value,
                    col(StatsDaily.day) == day,
                    col(StatsDaily.n) == 0,
                )
            )
