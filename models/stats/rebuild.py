"""Recomputing every counter from the raw tables (:func:`rebuild_aggregates`): streamed through
the same rules as :func:`models.stats.counters.record_stats` (the reference), or set-based SQL on
PostgreSQL (:mod:`models.stats.rebuild_postgres`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, case, delete, exists, func, insert, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
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
from models.stats.rebuild_postgres import recount_postgres
from models.stats.rules import Profile, Standing, add_activity, add_standing, china_day, scopes_for
from models.stats.tables import (
    COUNTED_STATUSES,
    COUNTER_TABLE,
    DAILY_TABLE,
    DECISIONS,
    Deltas,
    Metric,
    StatsCounter,
    StatsDaily,
)


def statistical_department() -> Any:
    """SQL: a registration's statistical department (see the module's docstring)."""
    latest = (
        select(RegistrationEvent.department_code)
        .where(col(RegistrationEvent.registration_id) == col(Registration.id))
        .order_by(col(RegistrationEvent.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    submitted = exists().where(
        col(RegistrationEvent.registration_id) == col(Registration.id),
        col(RegistrationEvent.to_status) == Status.SUBMITTED,
    )
    return case((submitted, latest), else_=None)


def latest_submission_before() -> Any:
    """SQL: the sequence of the registration's latest submission at or before an event."""
    inner = aliased(Submission)
    return (
        select(func.max(inner.sequence))
        .where(
            col(inner.registration_id) == col(RegistrationEvent.registration_id),
            col(inner.submitted_at) <= col(RegistrationEvent.occurred_at),
        )
        .scalar_subquery()
    )


@dataclass(frozen=True, slots=True)
class RebuildReport:
    registrations: int
    counter_rows: int
    daily_rows: int


async def rebuild_aggregates(
    session: AsyncSession, *, batch: int = 20_000, portable: bool = False
) -> RebuildReport:
    """Recompute every statistics counter from the raw tables, in the caller's transaction.

    On PostgreSQL the counter tables are locked (EXCLUSIVE: dashboards still read the old
    counts) so that no status change commits between the recount and its own counter update,
    and the recount is set-based SQL (:func:`~models.stats.rebuild_postgres.recount_postgres`, about a minute for a million
    registrations). Elsewhere, or with ``portable``, the rows are streamed through the same
    Python rules as :func:`record_stats` (the reference; the tests compare the two).
    """
    reference = load_reference_data()
    connection = await session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        await connection.execute(text("LOCK TABLE stats_counter, stats_daily IN EXCLUSIVE MODE"))
    await session.exec(delete(StatsCounter))
    await session.exec(delete(StatsDaily))
    if postgres and not portable:
        return RebuildReport(*await recount_postgres(connection, reference))
    deltas = Deltas()
    department = statistical_department().label("department")

    # current state: status and department, then the distributions, then the backlog
    registrations = 0
    for status, dept, n in (
        await session.exec(
            select(col(Registration.status), department, func.count())
            .where(col(Registration.status).not_in(COUNTED_STATUSES))
            .group_by(col(Registration.status), department)
        )
    ).all():
        registrations += n
        add_standing(deltas, Standing(Status(status), dept), reference, n)
    full, part = aliased(EducationSection), aliased(EducationSection)
    profile_columns = (
        col(BasicInfoSection.id_type),
        col(full.level),
        col(full.degree),
        col(part.level),
        col(part.degree),
        col(QualificationSection.level),
        col(WorkUnitSection.economic_type),
    )
    rid = col(Registration.id)
    profiles: Any = (
        sa_select(col(Registration.status), department, *profile_columns, func.count())
        .select_from(Registration)
        .outerjoin(BasicInfoSection, col(BasicInfoSection.registration_id) == rid)
        .outerjoin(
            full,
            and_(col(full.registration_id) == rid, col(full.kind) == EducationKind.FULL_TIME),
        )
        .outerjoin(
            part,
            and_(col(part.registration_id) == rid, col(part.kind) == EducationKind.PART_TIME),
        )
        .outerjoin(QualificationSection, col(QualificationSection.registration_id) == rid)
        .outerjoin(WorkUnitSection, col(WorkUnitSection.registration_id) == rid)
        .where(col(Registration.status).in_(COUNTED_STATUSES))
        .group_by(col(Registration.status), department, *profile_columns)
    )
    for status, dept, id_type, fl, fd, pl, pd, ql, et, n in (await session.exec(profiles)).all():
        registrations += n
        profile = Profile.of(
            reference,
            id_type=id_type,
            full_time=(fl, fd),
            part_time=(pl, pd),
            qualification_level=ql,
            economic_type=et,
        )
        add_standing(deltas, Standing(Status(status), dept, profile), reference, n)
    waiting = select(department, col(Registration.submitted_at)).where(
        col(Registration.status) == Status.SUBMITTED
    )
    async for dept, submitted_at in _stream(session, waiting, batch):
        if submitted_at is not None:
            for scope in scopes_for(dept, reference):
                deltas.day((scope, Metric.WAITING, china_day(submitted_at), ""), 1)

    # activity: submissions and withdrawals, then decisions with the submission they decide
    moves = select(
        col(RegistrationEvent.to_status),
        col(RegistrationEvent.from_status),
        col(RegistrationEvent.department_code),
        col(RegistrationEvent.occurred_at),
    ).where(col(RegistrationEvent.to_status).in_((Status.SUBMITTED, Status.WITHDRAWN)))
    async for to_status, from_status, dept, occurred_at in _stream(session, moves, batch):
        add_activity(
            deltas,
            reference,
            to_status=Status(to_status),
            from_status=Status(from_status) if from_status else None,
            department=dept,
            occurred_at=occurred_at,
        )
    decided = aliased(Submission)
    decisions: Any = (
        sa_select(
            col(RegistrationEvent.to_status),
            col(RegistrationEvent.department_code),
            col(RegistrationEvent.occurred_at),
            col(RegistrationEvent.items),
            col(decided.sequence),
            col(decided.submitted_at),
        )
        .select_from(RegistrationEvent)
        .outerjoin(
            decided,
            and_(
                col(decided.registration_id) == col(RegistrationEvent.registration_id),
                col(decided.sequence) == latest_submission_before(),
            ),
        )
        .where(col(RegistrationEvent.to_status).in_(DECISIONS))
    )
    async for to_status, dept, occurred_at, items, sequence, submitted_at in _stream(
        session, decisions, batch
    ):
        add_activity(
            deltas,
            reference,
            to_status=Status(to_status),
            from_status=Status.SUBMITTED,
            department=dept,
            occurred_at=occurred_at,
            items=items or [],
            sequence=sequence,
            submitted_at=submitted_at,
        )

    counter_rows = [
        {"scope": s, "dimension": d, "code": c, "n": n}
        for (s, d, c), n in sorted(deltas.counters.items())
        if n
    ]
    daily_rows = [
        {"scope": s, "metric": m, "day": d, "code": c, "n": n}
        for (s, m, d, c), n in sorted(deltas.daily.items())
        if n
    ]
    await bulk_insert(session, COUNTER_TABLE, counter_rows)
    await bulk_insert(session, DAILY_TABLE, daily_rows)
    return RebuildReport(registrations, len(counter_rows), len(daily_rows))


async def _stream(session: AsyncSession, statement: Any, batch: int) -> AsyncIterator[Any]:
    """The rows of a large select, fetched ``batch`` at a time (a server-side cursor)."""
    result = await session.stream(statement.execution_options(yield_per=batch))
    async for partition in result.partitions():
        for row in partition:
            yield row


async def bulk_insert(session: AsyncSession, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (asyncpg), batched INSERTs elsewhere."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        raw = await connection.get_raw_connection()
        columns = list(rows[0])
        await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
            table.name, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
        )
        return
    for start in range(0, len(rows), 5_000):
        await session.exec(insert(table), params=rows[start : start + 5_000])
