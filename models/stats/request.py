"""The question a dashboard asks: its scope (province, city, department) and date range,
checked against the data and the asker's reach (:func:`resolve_request`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.reference import Department, Division, ReferenceData
from models.stats.rules import city_of
from models.stats.tables import DEFAULT_RANGE_DAYS, MAX_RANGE_YEARS, PROVINCE_SCOPE

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
