"""Registration statistics for the dashboards: counters kept current by every status change and
read in bounded time, whatever the number of registrations.

Scopes
    Every counter is kept for each scope a registration falls in: the province (``P``), its
    city (``C330100``) and its department (``D330102``). A dashboard query reads the rows of
    one scope: a bounded number (code lists, departments, and days of the date range).

A registration's *statistical department*
    The 会计管理部门 recorded with its latest status change (``registration_event
    .department_code`` of its newest event), once it has been submitted at least once; before
    that it has none. Its city is that department's city (reference data).

What each figure counts (``registrationStats``)
    Current state (``from``/``to`` do not apply):

    - ``total``, ``byStatus``: every registration by its current status. One never submitted
      (DRAFT, or withdrawn as a draft) has no department and counts only province-wide.
    - ``byDepartment``, ``byCity``: registrations with a statistical department, any status.
    - distributions (``byEducationLevel``, ``byDegree``, ``byQualificationLevel``,
      ``byEconomicType``, ``byIdType``): registrations whose submitted data stands, SUBMITTED
      (awaiting review) or APPROVED, read from their sections (frozen, equal to the latest
      submission, in both statuses). A RETURNED registration leaves them until it is
      resubmitted: its data is being corrected. Education level and degree are the highest of
      the full-time and part-time entries (the code list's order: first is highest);
      ``NONE`` when absent (no qualification, a residence instead of a work unit).
    - ``backlogByAge``: SUBMITTED registrations by whole days (China dates) since their latest
      submission: 0-1, 2-3, 4-7, over 7.

    Activity from ``from`` to ``to`` (inclusive, China dates of the events):

    - ``daily``: submissions (first and repeated) and decisions (approvals and returns) a day.
    - ``turnaroundHours``: hours from a submission to the decision on it, for the decisions of
      the range: median and 90th percentile from a histogram (1 h buckets to 24 h, then 2 h,
      6 h, 12 h, 24 h and 72 h buckets; over 90 days one bucket), interpolated in the bucket.
    - ``firstPassApprovalRate``: approvals of first submissions / decisions on first
      submissions.
    - ``returnsByReason``: returns citing each reason (a return citing a reason for several
      fields counts once); ``rate`` is that count / all decisions of the range.

Small groups (:func:`protect`)
    No statistic names a person. A count of 1 to 4 people is never shown: ``count`` is null,
    ``display`` is ``"<5"``, ``suppressed`` is true (0 is shown). Within one answer, when such
    a count could be worked out by subtracting the shown cells from the breakdown's total (the
    total of a breakdown is assumed known), further cells are hidden, smallest first, with
    ``display`` ``"*"``. Departments are protected within their city (``byCity`` shows the
    city's total). Rates and percentiles are null when fewer than 5 decisions lie under them.
    The daily series and ``returnsByReason`` get the first rule only (their totals are not
    shown). The rule applies at every scope and to every role. It protects each answer on its
    own: a breakdown with no other cell left to hide (1 + 5 = 6) stays readable, and comparing
    answers for different filters (a department's ``total`` against the ``byDepartment`` of
    its city) is not guarded against.

Keeping the counters current
    :func:`record_stats` runs inside :func:`models.history.record_transition`, in the same
    transaction as the status change: it subtracts what the registration contributed before
    the change and adds what it contributes after, and counts the event's activity. Counters
    are upserted atomically (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``) in a
    fixed key order, so concurrent transitions neither lose an update nor deadlock on each
    other. :func:`rebuild_aggregates` recomputes every counter from the raw tables.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import Table, and_, case, delete, exists, func, insert, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.clock import CHINA_TZ
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.reference import Department, Division, ReferenceData, load_reference_data
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
from models.review_reasons import REASON_NAMES, ReturnReason

MIN_GROUP = 5
MAX_RANGE_YEARS = 5
DEFAULT_RANGE_DAYS = 30
NONE_CODE = "NONE"

PROVINCE_SCOPE = "P"

# registrations whose submitted data stands: the distributions count them
COUNTED_STATUSES = frozenset({Status.SUBMITTED, Status.APPROVED})
DECISIONS = frozenset({Status.APPROVED, Status.RETURNED})


class Dimension(StrEnum):
    """Stock counters (``stats_counter.dimension``)."""

    STATUS = "status"
    DEPARTMENT = "department"
    CITY = "city"
    EDUCATION_LEVEL = "education_level"
    DEGREE = "degree"
    QUALIFICATION_LEVEL = "qualification_level"
    ECONOMIC_TYPE = "economic_type"
    ID_TYPE = "id_type"


class Metric(StrEnum):
    """Day counters (``stats_daily.metric``); ``code`` is empty unless noted."""

    SUBMITTED = "submitted"
    DECIDED = "decided"
    APPROVED = "approved"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"  # after a submission
    FIRST_DECIDED = "first_decided"
    FIRST_PASS = "first_pass"
    TURNAROUND = "turnaround"  # code: the bucket's lower bound in hours
    RETURN_REASON = "return_reason"  # code: the reason
    WAITING = "waiting"  # day: of the latest submission of a SUBMITTED registration


# code list behind each distribution, and the name shown for NONE
DISTRIBUTIONS: dict[Dimension, tuple[str, str | None]] = {
    Dimension.EDUCATION_LEVEL: ("education_level", "未填写学历"),
    Dimension.DEGREE: ("degree", "未填写学历"),
    Dimension.QUALIFICATION_LEVEL: ("qualification_level", "未取得专业技术资格"),
    Dimension.ECONOMIC_TYPE: ("unit_economic_type", "无工作单位（按居住地登记）"),
    Dimension.ID_TYPE: ("id_document_type", None),
}


class StatsCounter(SQLModel, table=True):
    """Current-state counters: registrations of a scope by one dimension's code."""

    __tablename__ = "stats_counter"

    scope: str = Field(primary_key=True, max_length=8)
    dimension: str = Field(primary_key=True, max_length=24)
    code: str = Field(primary_key=True, max_length=32)
    n: int = 0


class StatsDaily(SQLModel, table=True):
    """Activity counters of a scope, by metric and China date."""

    __tablename__ = "stats_daily"

    scope: str = Field(primary_key=True, max_length=8)
    metric: str = Field(primary_key=True, max_length=16)
    day: date = Field(primary_key=True)
    code: str = Field(primary_key=True, default="", max_length=32)
    n: int = 0


COUNTER_TABLE: Table = SQLModel.metadata.tables["stats_counter"]
DAILY_TABLE: Table = SQLModel.metadata.tables["stats_daily"]

CounterKey = tuple[str, str, str]  # scope, dimension, code
DailyKey = tuple[str, str, date, str]  # scope, metric, day, code


@dataclass
class Deltas:
    counters: dict[CounterKey, int] = field(default_factory=dict)
    daily: dict[DailyKey, int] = field(default_factory=dict)

    def count(self, key: CounterKey, n: int) -> None:
        self.counters[key] = self.counters.get(key, 0) + n

    def day(self, key: DailyKey, n: int) -> None:
        self.daily[key] = self.daily.get(key, 0) + n


# -- pure rules ---------------------------------------------------------------------------------


def china_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA_TZ).date()


def scopes_for(department: str | None, reference: ReferenceData) -> tuple[str, ...]:
    """The scopes a registration of ``department`` counts in (the province alone for none)."""
    if department is None:
        return (PROVINCE_SCOPE,)
    division = reference.division(department)
    city = division.city_code if division else None
    if city is None:
        return (PROVINCE_SCOPE, f"D{department}")
    return (PROVINCE_SCOPE, f"C{city}", f"D{department}")


def city_of(department: str | None, reference: ReferenceData) -> str | None:
    division = reference.division(department) if department else None
    return division.city_code if division else None


def highest(reference: ReferenceData, list_name: str, *codes: str | None) -> str:
    """The highest of the codes (the code list's order, first is highest); NONE for none."""
    present = [c for c in codes if c]
    if not present:
        return NONE_CODE
    order = {o.code: i for i, o in enumerate(reference.options(list_name))}
    return min(present, key=lambda c: (order.get(c, len(order)), c))


@dataclass(frozen=True, slots=True)
class Profile:
    """The coded answers the distributions count, for one registration."""

    id_type: str
    education_level: str
    degree: str
    qualification_level: str
    economic_type: str

    @classmethod
    def of(
        cls,
        reference: ReferenceData,
        *,
        id_type: str | None,
        full_time: tuple[str | None, str | None],
        part_time: tuple[str | None, str | None],
        qualification_level: str | None,
        economic_type: str | None,
    ) -> Profile:
        return cls(
            id_type=id_type or NONE_CODE,
            education_level=highest(reference, "education_level", full_time[0], part_time[0]),
            degree=highest(reference, "degree", full_time[1], part_time[1]),
            qualification_level=qualification_level or NONE_CODE,
            economic_type=economic_type or NONE_CODE,
        )

    def codes(self) -> tuple[tuple[Dimension, str], ...]:
        return (
            (Dimension.ID_TYPE, self.id_type),
            (Dimension.EDUCATION_LEVEL, self.education_level),
            (Dimension.DEGREE, self.degree),
            (Dimension.QUALIFICATION_LEVEL, self.qualification_level),
            (Dimension.ECONOMIC_TYPE, self.economic_type),
        )


@dataclass(frozen=True, slots=True)
class Standing:
    """What one registration contributes to the current-state counters at one moment."""

    status: Status
    department: str | None  # the statistical department; None before the first submission
    profile: Profile | None = None  # for SUBMITTED and APPROVED
    waiting_since: date | None = None  # for SUBMITTED: China date of the latest submission


def add_standing(
    deltas: Deltas, standing: Standing, reference: ReferenceData, sign: int = 1
) -> None:
    scopes = scopes_for(standing.department, reference)
    city = city_of(standing.department, reference)
    for scope in scopes:
        deltas.count((scope, Dimension.STATUS, standing.status.value), sign)
        if standing.department is not None:
            deltas.count((scope, Dimension.DEPARTMENT, standing.department), sign)
            if city is not None:
                deltas.count((scope, Dimension.CITY, city), sign)
        if standing.profile is not None and standing.status in COUNTED_STATUSES:
            for dimension, code in standing.profile.codes():
                deltas.count((scope, dimension, code), sign)
        if standing.waiting_since is not None and standing.status is Status.SUBMITTED:
            deltas.day((scope, Metric.WAITING, standing.waiting_since, ""), sign)


# Turnaround histogram: (from hour, to hour, bucket width); past the last segment one bucket.
TURNAROUND_SEGMENTS: tuple[tuple[int, int, int], ...] = (
    (0, 24, 1),
    (24, 72, 2),
    (72, 168, 6),
    (168, 336, 12),
    (336, 720, 24),
    (720, 2160, 72),
)
TURNAROUND_OPEN_BUCKET = TURNAROUND_SEGMENTS[-1][1]


def turnaround_bucket(hours: float) -> int:
    """The lower bound, in hours, of the histogram bucket holding ``hours``."""
    if hours <= 0:
        return 0
    for start, end, width in TURNAROUND_SEGMENTS:
        if hours < end:
            return start + int((hours - start) // width) * width
    return TURNAROUND_OPEN_BUCKET


def bucket_upper(lower: int) -> int | None:
    for start, end, width in TURNAROUND_SEGMENTS:
        if start <= lower < end:
            return lower + width
    return None


def histogram_percentile(histogram: dict[int, int], fraction: float) -> float | None:
    """The ``fraction`` quantile of the bucketed values, interpolated within its bucket."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = fraction * total
    seen = 0
    for lower in sorted(histogram):
        n = histogram[lower]
        if n <= 0:
            continue
        if seen + n >= rank:
            upper = bucket_upper(lower)
            if upper is None:
                return float(lower)
            return round(lower + (upper - lower) * (rank - seen) / n, 1)
        seen += n
    return float(max(histogram))


def add_activity(
    deltas: Deltas,
    reference: ReferenceData,
    *,
    to_status: Status,
    from_status: Status | None,
    department: str | None,
    occurred_at: datetime,
    items: Iterable[dict[str, Any]] = (),
    sequence: int | None = None,
    submitted_at: datetime | None = None,
) -> None:
    """Count one status change in the day counters of its department's scopes."""
    day = china_day(occurred_at)
    metrics: list[tuple[Metric, str]] = []
    if to_status is Status.SUBMITTED:
        metrics.append((Metric.SUBMITTED, ""))
    elif to_status is Status.WITHDRAWN and from_status not in (None, Status.DRAFT):
        metrics.append((Metric.WITHDRAWN, ""))
    elif to_status in DECISIONS:
        approved = to_status is Status.APPROVED
        metrics += [(Metric.DECIDED, ""), (Metric.APPROVED if approved else Metric.RETURNED, "")]
        if sequence == 1:
            metrics.append((Metric.FIRST_DECIDED, ""))
            if approved:
                metrics.append((Metric.FIRST_PASS, ""))
        if submitted_at is not None:
            hours = (occurred_at - submitted_at).total_seconds() / 3600
            metrics.append((Metric.TURNAROUND, str(turnaround_bucket(hours))))
        if not approved:
            reasons = {str(item.get("reasonCode") or "") for item in items}
            metrics += [(Metric.RETURN_REASON, r[:32]) for r in sorted(reasons) if r]
    for scope in scopes_for(department, reference):
        for metric, code in metrics:
            deltas.day((scope, metric, day, code), 1)


# -- the transition effect ----------------------------------------------------------------------


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


# -- rebuilding from the raw tables -------------------------------------------------------------


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
    and the recount is set-based SQL (:func:`_rebuild_postgres`, about a minute for a million
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
        return await _rebuild_postgres(connection, reference)
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


def _turnaround_sql(hours: str) -> str:
    """SQL for :func:`turnaround_bucket` of the numeric expression ``hours``."""
    cases = [f"WHEN {hours} <= 0 THEN 0"]
    cases += [
        f"WHEN {hours} < {end} THEN {start} + floor(({hours} - {start}) / {width})::int * {width}"
        for start, end, width in TURNAROUND_SEGMENTS
    ]
    return f"CASE {' '.join(cases)} ELSE {TURNAROUND_OPEN_BUCKET} END"


def _highest_sql(full: str, part: str, order: str) -> str:
    """SQL for :func:`highest` of two codes, ``order`` being the code list as an array."""
    rank_part = f"(coalesce(array_position({order}, {part}), 1000000), {part})"
    rank_full = f"(coalesce(array_position({order}, {full}), 1000000), {full})"
    return (
        f"coalesce(CASE WHEN {part} IS NOT NULL AND ({full} IS NULL OR {rank_part} < {rank_full})"
        f" THEN {part} ELSE {full} END, 'NONE')"
    )


_CHINA_DAY = "((({0}) AT TIME ZONE 'UTC') + interval '8 hours')::date"
_SCOPES = (
    "LEFT JOIN _stats_dept dc ON dc.code = {0}.department "
    "CROSS JOIN LATERAL (VALUES ('P'), ('C' || dc.city), ('D' || {0}.department)) AS sc(scope)"
)


def _postgres_rebuild_statements() -> list[str]:
    """The set-based recount: the same definitions as add_standing and add_activity.

    Only module constants are formatted into the SQL; the code lists are bound parameters.
    """
    levels, degrees = "CAST(:levels AS text[])", "CAST(:degrees AS text[])"
    groups = f"""
        CREATE TEMP TABLE _stats_groups ON COMMIT DROP AS
        WITH history AS (
            SELECT registration_id, max(id) AS last_id,
                   bool_or(to_status = 'SUBMITTED') AS submitted
            FROM registration_event GROUP BY registration_id
        ), latest AS (
            SELECT h.registration_id, h.submitted, e.department_code
            FROM history h JOIN registration_event e ON e.id = h.last_id
        ), standing AS (
            SELECT r.status, CASE WHEN l.submitted THEN l.department_code END AS department,
                   r.status IN ('SUBMITTED', 'APPROVED') AS counted,
                   b.id_type, ft.level AS fl, ft.degree AS fd, pt.level AS pl, pt.degree AS pd,
                   q.level AS ql, w.economic_type AS et,
                   CASE WHEN r.status = 'SUBMITTED' THEN {_CHINA_DAY.format("r.submitted_at")}
                   END AS waiting
            FROM registration r
            LEFT JOIN latest l ON l.registration_id = r.id
            LEFT JOIN basic_info_section b ON b.registration_id = r.id
            LEFT JOIN education_section ft ON ft.registration_id = r.id AND ft.kind = 'FULL_TIME'
            LEFT JOIN education_section pt ON pt.registration_id = r.id AND pt.kind = 'PART_TIME'
            LEFT JOIN qualification_section q ON q.registration_id = r.id
            LEFT JOIN work_unit_section w ON w.registration_id = r.id
        )
        SELECT status, department, waiting,
               CASE WHEN counted THEN coalesce(nullif(id_type, ''), 'NONE') END AS id_type,
               CASE WHEN counted THEN {_highest_sql("fl", "pl", levels)} END AS education_level,
               CASE WHEN counted THEN {_highest_sql("fd", "pd", degrees)} END AS degree,
               CASE WHEN counted THEN coalesce(nullif(ql, ''), 'NONE') END AS qualification_level,
               CASE WHEN counted THEN coalesce(nullif(et, ''), 'NONE') END AS economic_type,
               count(*) AS n
        FROM standing GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""  # noqa: S608 - only our constants
    counters = f"""
        INSERT INTO stats_counter (scope, dimension, code, n)
        SELECT sc.scope, d.dimension, d.code, sum(g.n)
        FROM _stats_groups g {_SCOPES.format("g")}
        CROSS JOIN LATERAL (VALUES
            ('status', g.status::text), ('department', g.department),
            ('city', CASE WHEN g.department IS NOT NULL THEN dc.city END),
            ('id_type', g.id_type), ('education_level', g.education_level),
            ('degree', g.degree), ('qualification_level', g.qualification_level),
            ('economic_type', g.economic_type)
        ) AS d(dimension, code)
        WHERE sc.scope IS NOT NULL AND d.code IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""  # noqa: S608 - only our constants
    waiting = f"""
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT sc.scope, 'waiting', g.waiting, '', sum(g.n)
        FROM _stats_groups g {_SCOPES.format("g")}
        WHERE g.waiting IS NOT NULL AND sc.scope IS NOT NULL
        GROUP BY 1, 3"""  # noqa: S608 - only our constants
    hours = "extract(epoch FROM e.occurred_at - sub.submitted_at)::float8 / 3600"
    events = f"""
        CREATE TEMP TABLE _stats_events ON COMMIT DROP AS
        SELECT e.to_status, e.from_status IS NOT NULL AND e.from_status <> 'DRAFT' AS later,
               e.department_code AS department, {_CHINA_DAY.format("e.occurred_at")} AS day,
               sub.sequence = 1 AS first,
               CASE WHEN sub.submitted_at IS NOT NULL THEN {_turnaround_sql(hours)} END AS bucket,
               count(*) AS n
        FROM registration_event e
        LEFT JOIN (
            SELECT DISTINCT ON (d.id) d.id, s.sequence, s.submitted_at
            FROM registration_event d
            JOIN submission s
              ON s.registration_id = d.registration_id AND s.submitted_at <= d.occurred_at
            WHERE d.to_status IN ('APPROVED', 'RETURNED')
            ORDER BY d.id, s.sequence DESC
        ) sub ON sub.id = e.id
        WHERE e.to_status IN ('SUBMITTED', 'WITHDRAWN', 'APPROVED', 'RETURNED')
        GROUP BY 1, 2, 3, 4, 5, 6"""  # noqa: S608 - only our constants
    decision = "to_status IN ('APPROVED', 'RETURNED')"
    metrics = [
        ("submitted", "''", "to_status = 'SUBMITTED'"),
        ("withdrawn", "''", "to_status = 'WITHDRAWN' AND later"),
        ("decided", "''", decision),
        ("approved", "''", "to_status = 'APPROVED'"),
        ("returned", "''", "to_status = 'RETURNED'"),
        ("first_decided", "''", f"{decision} AND first"),
        ("first_pass", "''", "to_status = 'APPROVED' AND first"),
        ("turnaround", "bucket::text", f"{decision} AND bucket IS NOT NULL"),
    ]
    union = " UNION ALL ".join(
        f"SELECT '{metric}' AS metric, {code} AS code, department, day, n "  # noqa: S608
        f"FROM _stats_events WHERE {where}"
        for metric, code, where in metrics
    )
    by_department = f"""
        CREATE TEMP TABLE _stats_by_department ON COMMIT DROP AS
        SELECT department, metric, day, code, sum(n) AS n
        FROM ({union}) m
        GROUP BY 1, 2, 3, 4"""  # noqa: S608 - only our constants
    # each department's rows, then summed up to its city and to the province
    activity = """
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT * FROM (
            SELECT 'D' || d.department, d.metric, d.day, d.code, d.n
            FROM _stats_by_department d WHERE d.department IS NOT NULL
            UNION ALL
            SELECT 'C' || dc.city, d.metric, d.day, d.code, sum(d.n)
            FROM _stats_by_department d JOIN _stats_dept dc ON dc.code = d.department
            WHERE dc.city IS NOT NULL
            GROUP BY dc.city, d.metric, d.day, d.code
            UNION ALL
            SELECT 'P', d.metric, d.day, d.code, sum(d.n)
            FROM _stats_by_department d
            GROUP BY d.metric, d.day, d.code
        ) a
        ORDER BY 1, 2, 3, 4"""
    reasons = f"""
        INSERT INTO stats_daily (scope, metric, day, code, n)
        SELECT sc.scope, 'return_reason', a.day, left(a.reason, 32), count(*)
        FROM (
            SELECT DISTINCT e.id, e.department_code AS department,
                   {_CHINA_DAY.format("e.occurred_at")} AS day, item ->> 'reasonCode' AS reason
            FROM registration_event e CROSS JOIN LATERAL json_array_elements(e.items) AS item
            WHERE e.to_status = 'RETURNED' AND coalesce(item ->> 'reasonCode', '') <> ''
        ) a {_SCOPES.format("a")}
        WHERE sc.scope IS NOT NULL
        GROUP BY 1, 3, 4 ORDER BY 1, 3, 4"""  # noqa: S608 - only our constants
    return [groups, counters, waiting, events, by_department, activity, reasons]


async def _rebuild_postgres(connection: AsyncConnection, reference: ReferenceData) -> RebuildReport:
    await connection.execute(text("SET LOCAL work_mem = '256MB'"))
    await connection.execute(text("SET LOCAL jit = off"))  # short queries: compiling costs more
    await connection.execute(
        text(
            "CREATE TEMP TABLE _stats_dept (code varchar(6) PRIMARY KEY, city varchar(6))"
            " ON COMMIT DROP"
        )
    )
    await connection.execute(
        text("INSERT INTO _stats_dept (code, city) VALUES (:code, :city)"),
        [{"code": d.code, "city": d.city_code} for d in reference.divisions.values()],
    )
    params = {
        "levels": [o.code for o in reference.options("education_level")],
        "degrees": [o.code for o in reference.options("degree")],
    }
    for statement in _postgres_rebuild_statements():
        await connection.execute(text(statement), params if ":levels" in statement else {})
    registrations = (
        await connection.execute(text("SELECT coalesce(sum(n), 0) FROM _stats_groups"))
    ).scalar_one()
    counter_rows = (
        await connection.execute(text("SELECT count(*) FROM stats_counter"))
    ).scalar_one()
    daily_rows = (await connection.execute(text("SELECT count(*) FROM stats_daily"))).scalar_one()
    await connection.execute(
        text("DROP TABLE _stats_groups, _stats_events, _stats_by_department, _stats_dept")
    )
    await connection.execute(text("ANALYZE stats_counter, stats_daily"))
    return RebuildReport(int(registrations), int(counter_rows), int(daily_rows))


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


# -- small groups ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """One count as shown: ``count`` is None when hidden (``display`` "<5" or "*")."""

    count: int | None
    display: str
    suppressed: bool

    @classmethod
    def shown(cls, n: int) -> Cell:
        return cls(n, str(n), False)


SMALL = "<5"
COMPLEMENT = "*"


def protect(
    counts: Sequence[int],
    groups: Sequence[Hashable] | None = None,
    *,
    complementary: bool = True,
) -> list[Cell]:
    """Apply the small-group rule to one breakdown (see the module's docstring).

    A count of 1 to ``MIN_GROUP - 1`` is hidden as "<5". With ``complementary``, in each group
    (all cells, or the cells sharing a ``groups`` key) further non-zero cells are hidden as "*",
    smallest first, while someone knowing the group's total could still work out a "<5" count
    from the cells shown (a "<5" cell holds 1-4, a "*" cell at least 5).
    """
    hidden: dict[int, str] = {i: SMALL for i, n in enumerate(counts) if 0 < n < MIN_GROUP}
    if complementary and hidden:
        keys: Sequence[Hashable] = groups if groups is not None else [None] * len(counts)
        members_of: dict[Hashable, list[int]] = {}
        for i, key in enumerate(keys):
            members_of.setdefault(key, []).append(i)
        for members in members_of.values():
            while _recoverable(members, counts, hidden):
                shown = [i for i in members if i not in hidden and counts[i] > 0]
                if not shown:
                    break
                hidden[min(shown, key=lambda i: (counts[i], i))] = COMPLEMENT
    return [
        Cell(None, hidden[i], True) if i in hidden else Cell.shown(n) for i, n in enumerate(counts)
    ]


def _recoverable(members: list[int], counts: Sequence[int], hidden: dict[int, str]) -> bool:
    """Could a "<5" count of the group be worked out from the group total and the cells shown?"""
    small = [i for i in members if hidden.get(i) == SMALL]
    if not small:
        return False
    large = sum(1 for i in members if hidden.get(i) == COMPLEMENT)
    hidden_total = sum(counts[i] for i in members if i in hidden)
    others_low = (len(small) - 1) + large * MIN_GROUP
    others_high = math.inf if large else (len(small) - 1) * (MIN_GROUP - 1)
    low = max(1, hidden_total - others_high)
    high = min(MIN_GROUP - 1, hidden_total - others_low)
    return high <= low


def protect_one(n: int) -> Cell:
    return protect([n], complementary=False)[0]


def rate(numerator: int, denominator: int) -> float | None:
    """A share, or None when fewer than MIN_GROUP registrations lie under it."""
    if denominator < MIN_GROUP:
        return None
    return round(numerator / denominator, 4)


# -- the question: scope and date range -----------------------------------------------------------


ScopeKind = Literal["province", "city", "department", "empty"]


@dataclass(frozen=True, slots=True)
class StatsScope:
    kind: ScopeKind
    department: Department | None = None
    city: Division | None = None

    @property
    def key(self) -> str | None:
        if self.kind == "province":
            return PROVINCE_SCOPE
        if self.kind == "city" and self.city is not None:
            return f"C{self.city.code}"
        if self.kind == "department" and self.department is not None:
            return f"D{self.department.code}"
        return None


@dataclass(frozen=True, slots=True)
class StatsRequest:
    scope: StatsScope
    start: date
    end: date


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def resolve_request(
    reference: ReferenceData,
    *,
    department_code: str | None,
    city_code: str | None,
    start: date | None,
    end: date | None,
    today: date,
    own_department: str | None,
    may_see: Callable[[str | None], bool],
) -> StatsRequest:
    """Check a dashboard's filter against the data and the asker's reach.

    ``may_see(code)`` is the asker's permission for one department, ``may_see(None)`` for every
    department; ``own_department`` is where a reviewer is sent without a filter. Raises
    ``ProblemsFound`` (paths under ``filter.``) on a bad range, an unknown department or city,
    or a department the asker may not see. A department outside the given city is an empty
    scope (both filters apply).
    """
    problems: list[FieldProblem] = []
    end = end or (today if start is None or start <= today else start)
    start = start or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        problems.append(FieldProblem("filter.from", ErrorCode.DATE_RANGE_BACKWARDS))
    elif end >= add_years(start, MAX_RANGE_YEARS):
        problems.append(FieldProblem("filter.to", ErrorCode.DATE_RANGE_TOO_LONG))

    department: Department | None = None
    if department_code is not None:
        division = reference.division(department_code.strip())
        if division is None:
            problems.append(FieldProblem("filter.departmentCode", ErrorCode.UNKNOWN_DEPARTMENT))
        elif not may_see(division.department.code):
            problems.append(FieldProblem("filter.departmentCode", ErrorCode.WRONG_DEPARTMENT))
        else:
            department = division.department
    city: Division | None = None
    if city_code is not None:
        city = reference.division(city_code.strip())
        if city is None or city.level != "city":
            problems.append(FieldProblem("filter.cityCode", ErrorCode.DIVISION_UNKNOWN))
            city = None
    if problems:
        raise ProblemsFound(problems)

    if department is None and not may_see(None):
        # a reviewer: their own department, which must lie in the city asked for
        own = reference.department(own_department or "")
        if own is None or not may_see(own.code):
            raise ProblemsFound([FieldProblem("filter.departmentCode", ErrorCode.WRONG_DEPARTMENT)])
        if city is not None and city_of(own.code, reference) != city.code:
            raise ProblemsFound([FieldProblem("filter.cityCode", ErrorCode.WRONG_DEPARTMENT)])
        department = own
    if department is not None:
        department_city = city_of(department.code, reference)
        if city is not None and department_city != city.code:
            return StatsRequest(StatsScope("empty", department, city), start, end)
        return StatsRequest(
            StatsScope("department", department, reference.division(department_city or "")),
            start,
            end,
        )
    if city is not None:
        return StatsRequest(StatsScope("city", None, city), start, end)
    return StatsRequest(StatsScope("province"), start, end)


# -- the answer -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeCount:
    code: str
    name: str
    cell: Cell


@dataclass(frozen=True, slots=True)
class DepartmentCount:
    department: Department
    cell: Cell


@dataclass(frozen=True, slots=True)
class CityCount:
    city: Division
    cell: Cell


@dataclass(frozen=True, slots=True)
class DailyCount:
    day: date
    submitted: Cell
    decided: Cell


@dataclass(frozen=True, slots=True)
class ReasonCount:
    code: str
    name: str
    cell: Cell
    rate: float | None


class BacklogAge(StrEnum):
    DAYS_0_1 = "DAYS_0_1"
    DAYS_2_3 = "DAYS_2_3"
    DAYS_4_7 = "DAYS_4_7"
    OVER_7_DAYS = "OVER_7_DAYS"


BACKLOG_LABELS: dict[BacklogAge, str] = {
    BacklogAge.DAYS_0_1: "0-1天",
    BacklogAge.DAYS_2_3: "2-3天",
    BacklogAge.DAYS_4_7: "4-7天",
    BacklogAge.OVER_7_DAYS: "7天以上",
}


def backlog_age(waiting_since: date, today: date) -> BacklogAge:
    days = (today - waiting_since).days
    if days <= 1:
        return BacklogAge.DAYS_0_1
    if days <= 3:
        return BacklogAge.DAYS_2_3
    if days <= 7:
        return BacklogAge.DAYS_4_7
    return BacklogAge.OVER_7_DAYS


@dataclass(frozen=True, slots=True)
class BacklogCount:
    bucket: BacklogAge
    cell: Cell


@dataclass(frozen=True, slots=True)
class RegistrationStats:
    request: StatsRequest
    total: Cell
    by_status: list[CodeCount]
    by_department: list[DepartmentCount]
    by_city: list[CityCount]
    daily: list[DailyCount]
    distributions: dict[Dimension, list[CodeCount]]
    turnaround_median: float | None
    turnaround_p90: float | None
    first_pass_approval_rate: float | None
    returns_by_reason: list[ReasonCount]
    backlog_by_age: list[BacklogCount]


@dataclass
class _Raw:
    """The counter rows of one scope, as read."""

    counters: dict[tuple[str, str], int] = field(default_factory=dict)
    series: dict[tuple[str, date], int] = field(default_factory=dict)
    sums: dict[tuple[str, str], int] = field(default_factory=dict)
    waiting: dict[date, int] = field(default_factory=dict)

    def dimension(self, dimension: Dimension) -> dict[str, int]:
        return {c: n for (d, c), n in self.counters.items() if d == dimension}

    def metric(self, metric: Metric) -> dict[str, int]:
        return {c: n for (m, c), n in self.sums.items() if m == metric}


SERIES_METRICS = (Metric.SUBMITTED, Metric.DECIDED)
SUMMED_METRICS = (
    Metric.DECIDED,
    Metric.FIRST_DECIDED,
    Metric.FIRST_PASS,
    Metric.TURNAROUND,
    Metric.RETURN_REASON,
)


async def _read(session: AsyncSession, scope: str, start: date, end: date) -> _Raw:
    raw = _Raw()
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        # a plan for these dates and this scope: the generic plan of a prepared statement
        # cannot see how many rows a date range holds and aggregates them by sorting
        await connection.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    for dimension, code, n in (
        await session.exec(
            select(col(StatsCounter.dimension), col(StatsCounter.code), col(StatsCounter.n)).where(
                col(StatsCounter.scope) == scope
            )
        )
    ).all():
        raw.counters[(dimension, code)] = n
    in_range = (
        col(StatsDaily.scope) == scope,
        col(StatsDaily.day) >= start,
        col(StatsDaily.day) <= end,
    )
    for metric, day, n in (
        await session.exec(
            select(col(StatsDaily.metric), col(StatsDaily.day), col(StatsDaily.n)).where(
                *in_range, col(StatsDaily.metric).in_(SERIES_METRICS)
            )
        )
    ).all():
        raw.series[(metric, day)] = n
    for metric, code, n in (
        await session.exec(
            select(col(StatsDaily.metric), col(StatsDaily.code), func.sum(col(StatsDaily.n)))
            .where(*in_range, col(StatsDaily.metric).in_(SUMMED_METRICS))
            .group_by(col(StatsDaily.metric), col(StatsDaily.code))
        )
    ).all():
        raw.sums[(metric, code)] = int(n or 0)
    for day, n in (
        await session.exec(
            select(col(StatsDaily.day), col(StatsDaily.n)).where(
                col(StatsDaily.scope) == scope,
                col(StatsDaily.metric) == Metric.WAITING.value,
                col(StatsDaily.n) != 0,
            )
        )
    ).all():
        raw.waiting[day] = n
    return raw


def _departments_in(scope: StatsScope, reference: ReferenceData) -> list[Department]:
    if scope.kind == "department" and scope.department is not None:
        return [scope.department]
    counties = [d for d in reference.divisions.values() if d.level == "county"]
    if scope.kind == "city" and scope.city is not None:
        counties = [d for d in counties if d.parent_code == scope.city.code]
    return [d.department for d in counties]


def _cities_in(scope: StatsScope, reference: ReferenceData) -> list[Division]:
    if scope.kind in ("city", "department"):
        return [scope.city] if scope.city is not None else []
    return [d for d in reference.divisions.values() if d.level == "city"]


def _distribution(
    reference: ReferenceData, dimension: Dimension, counts: dict[str, int]
) -> list[CodeCount]:
    list_name, none_name = DISTRIBUTIONS[dimension]
    options = [(o.code, o.name) for o in reference.options(list_name)]
    known = {code for code, _ in options}
    if none_name is not None:
        options.append((NONE_CODE, none_name))
        known.add(NONE_CODE)
    options += [(code, "") for code in sorted(counts) if code not in known and counts[code]]
    cells = protect([counts.get(code, 0) for code, _ in options])
    return [CodeCount(code, name, cell) for (code, name), cell in zip(options, cells, strict=True)]


def answer(
    request: StatsRequest, raw: _Raw, reference: ReferenceData, *, today: date
) -> RegistrationStats:
    """The answer to a dashboard from the counter rows of its scope, small groups hidden."""
    scope = request.scope
    by_status_counts = raw.dimension(Dimension.STATUS)
    statuses = list(Status)
    total = sum(by_status_counts.values())
    status_cells = protect([by_status_counts.get(s.value, 0) for s in statuses])

    department_counts = raw.dimension(Dimension.DEPARTMENT)
    departments = _departments_in(scope, reference)
    listed = {d.code for d in departments}
    departments += [
        reference.department(code) or Department(code, "")
        for code in sorted(department_counts)
        if code not in listed and department_counts[code]
    ]
    department_cells = protect(
        [department_counts.get(d.code, 0) for d in departments],
        [city_of(d.code, reference) for d in departments],
    )
    city_counts = raw.dimension(Dimension.CITY)
    cities = _cities_in(scope, reference)
    city_cells = protect([city_counts.get(c.code, 0) for c in cities])

    days = [
        request.start + timedelta(days=i) for i in range((request.end - request.start).days + 1)
    ]
    daily = [
        DailyCount(
            day,
            protect_one(raw.series.get((Metric.SUBMITTED, day), 0)),
            protect_one(raw.series.get((Metric.DECIDED, day), 0)),
        )
        for day in days
    ]

    histogram = {int(code): n for code, n in raw.metric(Metric.TURNAROUND).items() if n}
    decisions = sum(histogram.values())
    enough = decisions >= MIN_GROUP
    decided = raw.metric(Metric.DECIDED).get("", 0)
    first_decided = raw.metric(Metric.FIRST_DECIDED).get("", 0)
    first_pass = raw.metric(Metric.FIRST_PASS).get("", 0)

    reason_counts = raw.metric(Metric.RETURN_REASON)
    reasons = [(r.value, REASON_NAMES[r]) for r in ReturnReason]
    reasons += [
        (c, "") for c in sorted(reason_counts) if c not in REASON_NAMES and reason_counts[c]
    ]
    reason_cells = protect([reason_counts.get(c, 0) for c, _ in reasons], complementary=False)
    returns = [
        ReasonCount(
            code,
            name,
            cell,
            None if cell.count is None or decided < MIN_GROUP else round(cell.count / decided, 4),
        )
        for (code, name), cell in zip(reasons, reason_cells, strict=True)
    ]

    backlog: dict[BacklogAge, int] = dict.fromkeys(BacklogAge, 0)
    for day, n in raw.waiting.items():
        backlog[backlog_age(day, today)] += n
    backlog_cells = protect(list(backlog.values()))

    return RegistrationStats(
        request=request,
        total=protect_one(total),
        by_status=[
            CodeCount(s.value, s.value, cell)
            for s, cell in zip(statuses, status_cells, strict=True)
        ],
        by_department=[
            DepartmentCount(d, cell) for d, cell in zip(departments, department_cells, strict=True)
        ],
        by_city=[CityCount(c, cell) for c, cell in zip(cities, city_cells, strict=True)],
        daily=daily,
        distributions={
            dimension: _distribution(reference, dimension, raw.dimension(dimension))
            for dimension in DISTRIBUTIONS
        },
        turnaround_median=histogram_percentile(histogram, 0.5) if enough else None,
        turnaround_p90=histogram_percentile(histogram, 0.9) if enough else None,
        first_pass_approval_rate=rate(first_pass, first_decided),
        returns_by_reason=returns,
        backlog_by_age=[
            BacklogCount(b, cell) for b, cell in zip(backlog, backlog_cells, strict=True)
        ],
    )


async def registration_stats(
    session: AsyncSession, reference: ReferenceData, request: StatsRequest, *, today: date
) -> RegistrationStats:
    """Read the counters of the request's scope (a bounded number of rows) and answer."""
    key = request.scope.key
    raw = _Raw() if key is None else await _read(session, key, request.start, request.end)
    return answer(request, raw, reference, today=today)


def today_in_china(now: datetime) -> date:
    return china_day(now)
