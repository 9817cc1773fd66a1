"""The CSV export: a short-lived signed link, masked identity for dashboards, signed params."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest
from sqlmodel import select

from models.accounts import StaffAccount
from models.db import transaction, utcnow
from models.registration import WorkUnitSection
from services import csv_export
from services.csv_export import EXPORT_PATH, read_grant
from tests.api import Api
from tests.stats import staff
from tests.wizard import RESIDENT, sign_in, submitted_registration

EXPORT = """query($code: String) { registrationExport(departmentCode: $code) {
  url expiresAt maskedIdentity department { code name } errors { field code message } } }"""


@pytest.fixture
async def app_api(api: Api) -> Api:
    """The app as it runs: the export route is one of its routes."""
    return api


async def link(api: Api, code: str | None = None) -> dict[str, Any]:
    return (await api.data(EXPORT, {"code": code}))["registrationExport"]  # type: ignore[no-any-return]


async def download(api: Api, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return await api.http.get(f"{parts.path}?{parts.query}")


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


async def test_a_reviewer_downloads_their_department_with_identity(app_api: Api) -> None:
    await submitted_registration(await sign_in(app_api, RESIDENT))
    reviewer = await staff(app_api, reviewerDepartmentCode="330102")
    issued = await link(reviewer)
    assert issued["errors"] == [] and issued["maskedIdentity"] is False
    assert issued["department"] == {"code": "330102", "name": "上城区财政局"}
    url = str(issued["url"])
    assert url.startswith("http://testserver/exports/registrations.csv?")
    table = rows(await download(app_api, url))
    assert len(table) == 1
    row = table[0]
    assert row["姓名"] == RESIDENT["name"] and row["证件号码"] == RESIDENT["idNumber"]
    assert row["手机号码"] == RESIDENT["phone"] and row["出生日期"] == "1990-03-07"
    assert row["状态"] == "待审核" and row["会计管理部门"] == "上城区财政局"
    assert row["全日制学历"] == "本科" and row["工作单位名称"] == "杭州示例科技有限公司"
    # the link needs no token: the signature is the credential
    assert (await download(app_api, url)).status_code == 200


async def test_a_dashboard_gets_counts_only_never_a_row_per_person(app_api: Api) -> None:
    await submitted_registration(await sign_in(app_api, RESIDENT))
    dashboard = await staff(app_api, staffRole="DASHBOARD")
    assert [(e["field"], e["code"]) for e in (await link(dashboard))["errors"]] == [
        ("departmentCode", "REQUIRED")
    ]
    issued = await link(dashboard, "330102")
    assert issued["maskedIdentity"] is True
    response = await download(app_api, str(issued["url"]))
    table = rows(response)
    assert set(table[0]) == {"统计项", "分类", "人数"}
    assert table[0] == {"统计项": "合计", "分类": "", "人数": "<5"}
    assert {r["统计项"] for r in table} == {
        "合计",
        "状态",
        "性别",
        "全日制学历",
        "专业技术资格级别",
        "单位经济类型",
    }
    assert all(r["人数"] in ("<5", "*") or r["人数"].isdigit() for r in table)
    body = response.text
    for personal in (RESIDENT["idNumber"], RESIDENT["phone"], RESIDENT["name"], "张*", "1236"):
        assert personal not in body
    assert "registration-counts-330102" in response.headers["content-disposition"]
    # asking for the per-person file by editing the link breaks the signature
    params = dict(parse_qsl(urlsplit(str(issued["url"])).query))
    params["masked"] = "0"
    tampered = await app_api.http.get(f"{EXPORT_PATH}?{urlencode(params)}")
    assert tampered.status_code == 403


async def test_reviewers_stay_in_their_department(app_api: Api) -> None:
    reviewer = await staff(app_api, reviewerDepartmentCode="330102")
    other = await link(reviewer, "330106")
    assert [(e["field"], e["code"]) for e in other["errors"]] == [
        ("departmentCode", "WRONG_DEPARTMENT")
    ]
    assert other["url"] is None
    unknown = await link(reviewer, "999999")
    assert [e["code"] for e in unknown["errors"]] == ["UNKNOWN_DEPARTMENT"]
    province = await staff(app_api, reviewerDepartmentCode="330000")
    assert (await link(province, "330106"))["maskedIdentity"] is False
    applicant = await sign_in(app_api, RESIDENT)
    refused = await applicant.post(EXPORT, {"code": "330102"})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_links_expire_and_die_with_the_account(app_api: Api) -> None:
    reviewer = await staff(app_api, reviewerDepartmentCode="330102")
    url = str((await link(reviewer))["url"])
    params = dict(parse_qsl(urlsplit(url).query))
    secret = app_api.services.settings.secret_key.get_secret_value()
    now = utcnow()
    assert read_grant(secret, params, now) is not None
    assert read_grant(secret, params, now + timedelta(minutes=6)) is None
    assert read_grant("another-secret-of-enough-length-0123456789", params, now) is None
    for broken in (
        {**params, "department": "330106"},
        {**params, "staff": str(int(params["staff"]) + 1)},
        {},
    ):
        assert (await app_api.http.get(f"{EXPORT_PATH}?{urlencode(broken)}")).status_code == 403
    async with transaction(app_api.services.db) as db:
        account = (
            await db.exec(select(StaffAccount).where(StaffAccount.department_code == "330102"))
        ).one()
        account.active = False
        db.add(account)
    assert (await download(app_api, url)).status_code == 403


async def test_cells_that_a_spreadsheet_would_run_are_neutralised(app_api: Api) -> None:
    registration = await submitted_registration(await sign_in(app_api, RESIDENT))
    async with transaction(app_api.services.db) as db:
        unit = await db.get(WorkUnitSection, registration["id"])
        assert unit is not None
        unit.unit_name = '=HYPERLINK("http://evil")'
        db.add(unit)
    reviewer = await staff(app_api, reviewerDepartmentCode="330102")
    row = rows(await download(app_api, str((await link(reviewer))["url"])))[0]
    assert row["工作单位名称"] == '\'=HYPERLINK("http://evil")'


def test_masking_and_cells() -> None:
    assert csv_export.mask_name("欧阳娜娜") == "欧***"
    assert csv_export.mask_name("李") == "*"
    assert csv_export.cell(None) == "" and csv_export.cell("-1") == "'-1"
    assert csv_export.cell("上城区") == "上城区"
