"""The answer to ``registrationStats``: the counter rows of one scope read in bounded time
(:func:`registration_stats`) and turned into protected breakdowns (:func:`answer`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, text
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.reference import Department, Division, ReferenceData
from models.registration import Status
from models.review_reasons import REASON_NAMES, ReturnReason
from models.stats.privacy import Cell, protect, protect_one, rate
from models.stats.request import StatsRequest, StatsScope
from models.stats.rules import china_day, city_of, histogram_percentile
from models.stats.tables import (
    DISTRIBUTIONS,
    MIN_GROUP,
    NONE_CODE,
    Dimension,
    Metric,
    StatsCounter,
    StatsDaily,
)


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
