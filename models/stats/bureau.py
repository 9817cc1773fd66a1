"""Figures a bureau works with, read live from the registrations of one scope: the backlog of
each department (waiting for review, returned and waiting on the applicant, the oldest
submission waiting), returned registrations by days since the return, and a head count.

Staff who may read the department's registrations (its REVIEWER, the PROVINCE) see exact
counts; the DASHBOARD role sees them under the small-group rule (``models.stats.privacy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.reference import Department, ReferenceData
from models.registration import Registration, Status
from models.stats.answer import BacklogAge, backlog_age
from models.stats.privacy import Cell, protect
from models.stats.request import StatsScope
from models.stats.rules import china_day


@dataclass(frozen=True, slots=True)
class DepartmentBacklog:
    department: Department
    waiting: Cell
    returned: Cell
    oldest_waiting_since: datetime | None  # None when none waits, or the count is hidden


@dataclass(frozen=True, slots=True)
class BureauFigures:
    people: Cell
    backlog_by_department: list[DepartmentBacklog]
    returned_by_age: list[tuple[BacklogAge, Cell]]


def cells(counts: list[int], *, exact: bool) -> list[Cell]:
    """Exact cells for staff who may read the registrations, else the small-group rule."""
    return [Cell.shown(n) for n in counts] if exact else protect(counts)


def _in_scope(scope: StatsScope) -> list[Any]:
    if scope.kind == "department" and scope.department is not None:
        return [col(Registration.department_code) == scope.department.code]
    if scope.kind == "city" and scope.city is not None:
        return [col(Registration.city_code) == scope.city.code]
    if scope.kind == "province":
        return []
    return [col(Registration.id).is_(None)]  # an empty scope


def _departments(scope: StatsScope, reference: ReferenceData) -> list[Department]:
    if scope.kind == "department" and scope.department is not None:
        return [scope.department]
    wanted = [
        d
        for d in reference.divisions.values()
        if d.level in ("city", "county")
        and (
            scope.kind == "province" or (scope.city is not None and d.city_code == scope.city.code)
        )
    ]
    return [d.department for d in wanted] if scope.kind in ("province", "city") else []


async def bureau_figures(
    session: AsyncSession,
    reference: ReferenceData,
    scope: StatsScope,
    *,
    today: date,
    exact: bool,
) -> BureauFigures:
    where = _in_scope(scope)
    people = (
        await session.exec(
            select(func.count(func.distinct(col(Registration.person_id)))).where(
                col(Registration.submitted_at).is_not(None), *where
            )
        )
    ).one()
    rows = (
        await session.exec(
            select(
                col(Registration.department_code),
                col(Registration.status),
                func.count(),
                func.min(col(Registration.submitted_at)),
            )
            .where(col(Registration.status).in_([Status.SUBMITTED, Status.RETURNED]), *where)
            .group_by(col(Registration.department_code), col(Registration.status))
        )
    ).all()
    counts: dict[tuple[str | None, str], tuple[int, datetime | None]] = {
        (code, str(status)): (int(n), oldest) for code, status, n, oldest in rows
    }
    departments = _departments(scope, reference)
    listed = {d.code for d in departments}
    for code in sorted({code for code, _ in counts if code is not None} - listed):
        departments.append(reference.department(code) or Department(code, ""))
    waiting = [counts.get((d.code, Status.SUBMITTED.value), (0, None)) for d in departments]
    returned = [counts.get((d.code, Status.RETURNED.value), (0, None))[0] for d in departments]
    waiting_cells = cells([n for n, _ in waiting], exact=exact)
    returned_cells = cells(returned, exact=exact)
    backlog = [
        DepartmentBacklog(
            department,
            w_cell,
            r_cell,
            oldest if w_cell.count else None,
        )
        for department, (_, oldest), w_cell, r_cell in zip(
            departments, waiting, waiting_cells, returned_cells, strict=True
        )
    ]
    ages: dict[BacklogAge, int] = dict.fromkeys(BacklogAge, 0)
    for decided_at in (
        await session.exec(
            select(col(Registration.decided_at)).where(
                col(Registration.status) == Status.RETURNED, *where
            )
        )
    ).all():
        if decided_at is not None:
            ages[backlog_age(china_day(decided_at), today)] += 1
    age_cells = cells(list(ages.values()), exact=exact)
    return BureauFigures(
        people=cells([int(people)], exact=exact)[0]
        if exact
        else protect([int(people)], complementary=False)[0],
        backlog_by_department=backlog,
        returned_by_age=list(zip(ages, age_cells, strict=True)),
    )
