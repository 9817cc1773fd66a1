"""CSV export of one department's registrations, behind a short-lived HMAC-signed link.

Who may export (checked when the link is issued, and again when it is used):

- REVIEWER: their own department, identity shown;
- PROVINCE: any department, identity shown;
- DASHBOARD: any department, counts only (:mod:`services.csv_aggregate`): no row per person.

The link is ``<base_url>/exports/registrations.csv?department=…&masked=…&staff=…&expires=…
&signature=…``: the signature is an HMAC-SHA256, under a key derived from
``settings.secret_key``, of every other parameter, so none can be changed; it expires after
``LINK_LIFETIME``. Using it needs no Authorization header (a browser download), but the
staff account it names must still be active and still allowed. Rows: the department's
registrations that have been submitted at least once (its current ``department_code``),
oldest id first, streamed in batches. Cells that a spreadsheet would run as a formula are
prefixed with an apostrophe. Personal data is never logged: the log line names the staff id,
the department and the row count.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import structlog
from sqlalchemy import and_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from models.accounts import StaffAccount, StaffRole
from models.clock import CHINA_TZ
from models.db import SessionFactory, utcnow
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.id_numbers import mask_id_number, mask_phone
from models.link_signing import link_key, link_signature, signature_holds
from models.reference import Department, ReferenceData
from models.registration import (
    BasicInfoSection,
    EducationKind,
    EducationSection,
    QualificationSection,
    Registration,
    ResidenceSection,
    Status,
    WorkUnitSection,
)
from services.csv_aggregate import HEADER as AGGREGATE_HEADER
from services.csv_aggregate import aggregate_rows
from services.principal import Principal

log = structlog.get_logger(__name__)

EXPORT_PATH = "/exports/registrations.csv"
LINK_LIFETIME = timedelta(minutes=5)
BATCH = 1000

STATUS_NAMES: dict[str, str] = {
    Status.DRAFT: "草稿",
    Status.SUBMITTED: "待审核",
    Status.RETURNED: "退回修改",
    Status.APPROVED: "审核通过",
    Status.WITHDRAWN: "已撤回",
}
GENDER_NAMES = {"1": "男", "2": "女"}
HEADER = (
    "登记编号",
    "状态",
    "会计管理部门",
    "姓名",
    "证件类型",
    "证件号码",
    "手机号码",
    "性别",
    "出生日期",
    "国家或地区",
    "民族",
    "政治面貌",
    "工作单位名称",
    "统一社会信用代码",
    "单位经济类型",
    "办公场所或居住地",
    "全日制学历",
    "全日制学位",
    "非全日制学历",
    "非全日制学位",
    "专业技术资格级别",
    "专业技术资格类型",
    "提交时间",
    "审核时间",
)


# -- the signed link --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportGrant:
    department_code: str
    masked: bool
    staff_id: int
    expires: int  # unix seconds

    def claims(self) -> dict[str, str | int]:
        return {
            "department": self.department_code,
            "masked": int(self.masked),
            "staff": self.staff_id,
            "expires": self.expires,
        }


@dataclass(frozen=True, slots=True)
class ExportLink:
    url: str
    expires_at: datetime
    department: Department
    masked: bool


def grant_query(secret: str, grant: ExportGrant) -> str:
    claims = grant.claims()
    return urlencode({**claims, "signature": link_signature(_key(secret), claims)})


def _key(secret: str) -> bytes:
    return link_key(secret, "exports/registrations")


def read_grant(secret: str, params: Mapping[str, str], now: datetime) -> ExportGrant | None:
    """The grant a link's parameters carry, if its signature holds and it has not expired."""
    try:
        grant = ExportGrant(
            department_code=params["department"][:6],
            masked=params["masked"] == "1",
            staff_id=int(params["staff"]),
            expires=int(params["expires"]),
        )
        signature = params["signature"]
    except (KeyError, ValueError):
        return None
    if params["masked"] not in ("0", "1"):
        return None
    if not signature_holds(_key(secret), grant.claims(), signature):
        return None
    if grant.expires <= int(now.timestamp()):
        return None
    return grant


def authorize_export(
    reference: ReferenceData, principal: Principal, department_code: str | None
) -> tuple[Department, bool]:
    """The department to export and whether identity is masked; ProblemsFound otherwise."""
    code = (department_code or "").strip() or principal.effective_department
    if not code:
        raise ProblemsFound([FieldProblem("departmentCode", ErrorCode.REQUIRED)])
    department = reference.department(code)
    if department is None:
        raise ProblemsFound([FieldProblem("departmentCode", ErrorCode.UNKNOWN_DEPARTMENT)])
    if principal.staff_id is None or not principal.may_see_department(department.code):
        raise ProblemsFound([FieldProblem("departmentCode", ErrorCode.WRONG_DEPARTMENT)])
    return department, not principal.sees_personal_data


def export_link(
    *,
    secret: str,
    base_url: str,
    reference: ReferenceData,
    principal: Principal,
    department_code: str | None,
    now: datetime,
) -> ExportLink:
    department, masked = authorize_export(reference, principal, department_code)
    assert principal.staff_id is not None  # checked by authorize_export
    expires_at = now.replace(microsecond=0) + LINK_LIFETIME
    grant = ExportGrant(department.code, masked, principal.staff_id, int(expires_at.timestamp()))
    url = f"{base_url.rstrip('/')}{EXPORT_PATH}?{grant_query(secret, grant)}"
    return ExportLink(url=url, expires_at=expires_at, department=department, masked=masked)


def still_allowed(staff: StaffAccount | None, grant: ExportGrant) -> bool:
    """The account that asked for the link may still export this, this way."""
    if staff is None or not staff.active:
        return False
    if staff.role is StaffRole.PROVINCE:
        return True
    if staff.role is StaffRole.REVIEWER:
        return staff.department_code == grant.department_code
    return staff.role is StaffRole.DASHBOARD and grant.masked


# -- the rows ---------------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """``张三`` → ``张*``; a one-character name is masked completely."""
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell as text; spreadsheet formulas are neutralised with a leading apostrophe."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _moment(value: datetime | None) -> str:
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


async def export_rows(
    db: SessionFactory,
    reference: ReferenceData,
    department_code: str,
    *,
    masked: bool,
    batch: int = BATCH,
) -> AsyncIterator[list[str]]:
    """The department's submitted registrations as CSV rows, one short read per batch."""
    full, part = aliased(EducationSection), aliased(EducationSection)
    rid = col(Registration.id)
    after = ""
    department = reference.department(department_code)
    department_name = department.name if department else ""

    def name(list_name: str, code: str | None) -> str:
        return (reference.name_of(list_name, code) or code) if code else ""

    while True:
        statement: Any = (
            sa_select(
                Registration,
                BasicInfoSection,
                WorkUnitSection,
                ResidenceSection,
                full,
                part,
                QualificationSection,
            )
            .outerjoin(BasicInfoSection, col(BasicInfoSection.registration_id) == rid)
            .outerjoin(WorkUnitSection, col(WorkUnitSection.registration_id) == rid)
            .outerjoin(ResidenceSection, col(ResidenceSection.registration_id) == rid)
            .outerjoin(
                full,
                and_(col(full.registration_id) == rid, col(full.kind) == EducationKind.FULL_TIME),
            )
            .outerjoin(
                part,
                and_(col(part.registration_id) == rid, col(part.kind) == EducationKind.PART_TIME),
            )
            .outerjoin(QualificationSection, col(QualificationSection.registration_id) == rid)
            .where(
                col(Registration.department_code) == department_code,
                col(Registration.submitted_at).is_not(None),
                rid > after,
            )
            .order_by(rid)
            .limit(batch)
        )
        async with db() as session:
            rows = (await session.exec(statement)).all()
        for r, b, w, res, ft, pt, q in rows:
            place = w.office_division_code if w else res.division_code if res else None
            division = reference.division(place) if place else None
            yield [
                r.id,
                STATUS_NAMES.get(r.status, str(r.status)),
                department_name,
                (mask_name(b.name) if masked else b.name) if b else "",
                name("id_document_type", b.id_type) if b else "",
                (mask_id_number(b.id_number) if masked else b.id_number) if b else "",
                (mask_phone(b.phone) if masked else b.phone) if b and b.phone else "",
                GENDER_NAMES.get(b.gender or "", "") if b else "",
                "" if masked or b is None or b.birth_date is None else b.birth_date.isoformat(),
                name("country_region", b.country_or_region) if b else "",
                name("ethnic_group", b.ethnic_group) if b else "",
                name("political_status", b.political_status) if b else "",
                w.unit_name if w else "",
                w.credit_code if w else "",
                name("unit_economic_type", w.economic_type) if w else "",
                division.name if division else "",
                name("education_level", ft.level) if ft else "",
                name("degree", ft.degree) if ft else "",
                name("education_level", pt.level) if pt else "",
                name("degree", pt.degree) if pt else "",
                name("qualification_level", q.level) if q else "",
                name("qualification_type", q.type) if q else "",
                _moment(r.submitted_at),
                _moment(r.decided_at),
            ]
        if len(rows) < batch:
            return
        after = rows[-1][0].id


async def csv_chunks(
    rows: AsyncIterator[list[str]], counter: list[int], header: tuple[str, ...] = HEADER
) -> AsyncIterator[str]:
    """The CSV text (UTF-8 BOM first, for spreadsheets), one chunk per ~200 rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    pending = 0
    async for row in rows:
        writer.writerow([cell(v) for v in row])
        counter[0] += 1
        pending += 1
        if pending >= 200:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


# -- the route --------------------------------------------------------------------------------


def routes(secret: str, db: SessionFactory, reference: ReferenceData) -> list[BaseRoute]:
    """The routes the app mounts: the signed CSV download."""

    async def download(request: Request) -> Response:
        now = utcnow()
        params: dict[str, Any] = dict(request.query_params)
        grant = read_grant(secret, params, now)
        if grant is None:
            return PlainTextResponse("下载链接无效或已过期，请重新导出。", status_code=403)
        async with db() as session:
            staff = await session.get(StaffAccount, grant.staff_id)
        if not still_allowed(staff, grant):
            return PlainTextResponse("没有导出此部门登记信息的权限。", status_code=403)
        counter = [0]
        if grant.masked:  # statistics staff: aggregates, never a row per person
            rows = aggregate_rows(db, reference, grant.department_code)
            header: tuple[str, ...] = AGGREGATE_HEADER
        else:
            rows = export_rows(db, reference, grant.department_code, masked=False)
            header = HEADER

        async def body() -> AsyncIterator[str]:
            async for chunk in csv_chunks(rows, counter, header):
                yield chunk
            log.info(
                "registration_export",
                staff_id=grant.staff_id,
                department=grant.department_code,
                masked=grant.masked,
                rows=counter[0],
            )

        kind = "registration-counts" if grant.masked else "registrations"
        filename = f"{kind}-{grant.department_code}-{now.astimezone(CHINA_TZ):%Y%m%d%H%M}.csv"
        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return [Route(EXPORT_PATH, download, methods=["GET"])]
