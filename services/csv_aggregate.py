"""The DASHBOARD's CSV: counts of one department's submitted registrations, no row per person.

Each breakdown (status, gender, full-time education, qualification level, unit economic type)
is counted in the database with GROUP BY, so no personal row is ever read, and the counts go
through the statistics' small-group rule (:func:`models.stats.protect`): 1 to 4 people show
as ``<5``, and further cells as ``*`` while a ``<5`` could be worked out from the total.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import and_, func
from sqlalchemy import select as sa_select
from sqlmodel import col

from models.db import SessionFactory
from models.reference import ReferenceData
from models.registration import (
    BasicInfoSection,
    EducationKind,
    EducationSection,
    QualificationSection,
    Registration,
    WorkUnitSection,
)
from models.stats import protect

HEADER = ("统计项", "分类", "人数")
GENDER_NAMES = {"1": "男", "2": "女"}
STATUS_NAMES = {
    "DRAFT": "草稿",
    "SUBMITTED": "待审核",
    "RETURNED": "退回修改",
    "APPROVED": "审核通过",
    "WITHDRAWN": "已撤回",
}
UNKNOWN = "未填写"


def _breakdowns() -> list[tuple[str, Any, Any, str | None]]:
    """(label, column counted, join, code list) of each breakdown."""
    rid = col(Registration.id)
    return [
        ("状态", col(Registration.status), None, None),
        (
            "性别",
            col(BasicInfoSection.gender),
            (BasicInfoSection, col(BasicInfoSection.registration_id) == rid),
            None,
        ),
        (
            "全日制学历",
            col(EducationSection.level),
            (
                EducationSection,
                and_(
                    col(EducationSection.registration_id) == rid,
                    col(EducationSection.kind) == EducationKind.FULL_TIME,
                ),
            ),
            "education_level",
        ),
        (
            "专业技术资格级别",
            col(QualificationSection.level),
            (QualificationSection, col(QualificationSection.registration_id) == rid),
            "qualification_level",
        ),
        (
            "单位经济类型",
            col(WorkUnitSection.economic_type),
            (WorkUnitSection, col(WorkUnitSection.registration_id) == rid),
            "unit_economic_type",
        ),
    ]


def _label(reference: ReferenceData, label: str, code: Any, list_name: str | None) -> str:
    if code is None or code == "":
        return UNKNOWN
    text = str(getattr(code, "value", code))
    if label == "状态":
        return STATUS_NAMES.get(text, text)
    if label == "性别":
        return GENDER_NAMES.get(text, text)
    return (reference.name_of(list_name, text) or text) if list_name else text


async def aggregate_rows(
    db: SessionFactory, reference: ReferenceData, department_code: str
) -> AsyncIterator[list[str]]:
    """Rows ``[breakdown, category, count]`` for the department, the total first."""
    submitted = and_(
        col(Registration.department_code) == department_code,
        col(Registration.submitted_at).is_not(None),
    )
    async with db() as session:
        total = (
            await session.exec(sa_select(func.count()).select_from(Registration).where(submitted))  # type: ignore[call-overload]
        ).one()[0]
        yield ["合计", "", protect([int(total)], complementary=False)[0].display]
        for label, column, join, list_name in _breakdowns():
            statement: Any = sa_select(column, func.count()).select_from(Registration)
            if join is not None:
                statement = statement.outerjoin(*join)
            statement = statement.where(submitted).group_by(column).order_by(column)
            groups = [(code, int(n)) for code, n in (await session.exec(statement)).all()]
            cells = protect([n for _, n in groups])
            for (code, _), shown in zip(groups, cells, strict=True):
                yield [label, _label(reference, label, code, list_name), shown.display]
