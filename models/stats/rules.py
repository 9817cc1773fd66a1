"""The counting rules, pure: which scopes a registration counts in, what it contributes
to the current-state counters (:func:`add_standing`) and what one status change adds to the
day counters (:func:`add_activity`), and the turnaround histogram.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from models.clock import CHINA_TZ
from models.reference import ReferenceData
from models.registration import Status
from models.stats.tables import (
    COUNTED_STATUSES,
    DECISIONS,
    NONE_CODE,
    PROVINCE_SCOPE,
    Deltas,
    Dimension,
    Metric,
)


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
