"""registrationStats through HTTP: who may ask, the filter, bad input, small groups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.db import utcnow
from models.id_numbers import resident_id_check_char
from models.stats.rules import china_day
from tests.api import Api
from tests.stats import STATS, Lab, staff, stats
from tests.wizard import RESIDENT, sign_in, submitted_registration


def _china_midnight() -> datetime:
    from models.clock import CHINA_TZ

    local = utcnow().astimezone(CHINA_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    out = {}
    for item in items:
        value = item[key]
        out[value["code"] if isinstance(value, dict) else value] = item
    return out


async def test_only_dashboards_the_province_and_reviewers_may_ask(api: Api) -> None:
    anonymous = await api.post(STATS)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    applicant = await sign_in(api, RESIDENT)
    forbidden = await applicant.post(STATS)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert forbidden["data"] is None
    for who in (
        {"staffRole": "DASHBOARD"},
        {"reviewerDepartmentCode": "330000"},
        {"reviewerDepartmentCode": "330102"},
    ):
        answer = await stats(await staff(api, **who))
        assert answer["errors"] == [], who


async def test_the_answer_has_every_figure_of_the_contract(api: Api) -> None:
    dashboard = await staff(api, staffRole="DASHBOARD")
    answer = await stats(dashboard)
    today = china_day(utcnow())
    assert answer["scope"]["kind"] == "PROVINCE"
    assert answer["to"] == today.isoformat()
    assert answer["from"] == (today - timedelta(days=29)).isoformat()
    assert answer["minimumGroupSize"] == 5
    assert (answer["total"], answer["totalDisplay"]) == (0, "0")
    assert [s["status"] for s in answer["byStatus"]] == [
        "DRAFT",
        "SUBMITTED",
        "RETURNED",
        "APPROVED",
        "WITHDRAWN",
    ]
    assert len(answer["byDepartment"]) == 90 and len(answer["byCity"]) == 11
    assert len(answer["daily"]) == 30
    assert [b["bucket"] for b in answer["backlogByAge"]] == [
        "DAYS_0_1",
        "DAYS_2_3",
        "DAYS_4_7",
        "OVER_7_DAYS",
    ]
    assert [o["option"]["code"] for o in answer["byIdType"]][:2] == ["01", "02"]
    assert by(answer["byQualificationLevel"], "option")["NONE"]["count"] == 0
    assert answer["turnaroundHours"] == {"median": None, "p90": None}
    assert answer["firstPassApprovalRate"] is None
    assert len(answer["returnsByReason"]) == 8


async def test_counts_follow_registrations_through_submission_and_review(api: Api) -> None:
    # everything within the last few hours (China time may have just turned a day: keep
    # the clock past today's midnight there)
    start = max(utcnow() - timedelta(hours=3), _china_midnight())
    lab = Lab(api.services.db, clock=start, step_minutes=1)
    regs = [await lab.start() for _ in range(8)]
    for reg in regs[:7]:
        await lab.fill(reg, division="330102", economic_type="06", education=("21", "4"))
        await lab.submit(reg)
    for reg in regs[:5]:
        await lab.approve(reg)
    await lab.return_(regs[5], [("attachments.ID_PHOTO", "PHOTO_BACKGROUND")])

    province = await stats(await staff(api, staffRole="DASHBOARD"))
    assert province["total"] == 8
    statuses = by(province["byStatus"], "status")
    # 1 draft, 1 submitted, 1 returned: each under five, and they cannot be worked out
    for status in ("DRAFT", "SUBMITTED", "RETURNED"):
        assert statuses[status]["count"] is None and statuses[status]["display"] == "<5"
    assert statuses["APPROVED"]["display"] == "*"  # hidden so the small ones stay hidden
    departments = by(province["byDepartment"], "department")
    assert departments["330102"]["count"] == 7
    assert departments["330106"]["count"] == 0
    assert by(province["byCity"], "city")["330100"]["count"] == 7
    # distributions: the 5 approved and the 1 waiting; the returned one is being corrected
    assert by(province["byEconomicType"], "option")["06"]["count"] == 6
    assert by(province["byEducationLevel"], "option")["21"]["count"] == 6
    assert province["daily"][-1]["submitted"] == 7
    assert province["daily"][-1]["decided"] == 6
    assert province["turnaroundHours"]["median"] is not None
    assert province["firstPassApprovalRate"] == round(5 / 6, 4)
    photo = by(province["returnsByReason"], "reason")["PHOTO_BACKGROUND"]
    assert photo["count"] is None and photo["display"] == "<5" and photo["rate"] is None

    reviewer = await stats(await staff(api, reviewerDepartmentCode="330102"))
    assert reviewer["scope"]["kind"] == "DEPARTMENT"
    assert reviewer["scope"]["department"]["code"] == "330102"
    assert reviewer["total"] == 7  # the draft has no department yet
    assert [d["department"]["code"] for d in reviewer["byDepartment"]] == ["330102"]
    backlog = by(reviewer["backlogByAge"], "bucket")
    assert sum(1 for b in backlog.values() if b["suppressed"]) >= 1

    elsewhere = await stats(await staff(api, staffRole="DASHBOARD"), departmentCode="330106")
    assert elsewhere["total"] == 0 and elsewhere["byStatus"][3]["count"] == 0
    city = await stats(await staff(api, staffRole="DASHBOARD"), cityCode="330100")
    assert city["scope"]["kind"] == "CITY" and city["total"] == 7
    assert len(city["byDepartment"]) == len([d for d in city["byDepartment"]]) > 1
    other_city = await stats(await staff(api, staffRole="DASHBOARD"), cityCode="330200")
    assert other_city["total"] == 0


async def test_a_small_department_shows_no_exact_count(api: Api) -> None:
    for n in range(3):
        body = f"33010219800101{n:03d}"
        applicant = await sign_in(
            api, {**RESIDENT, "idNumber": body + resident_id_check_char(body)}
        )
        await submitted_registration(applicant)
    answer = await stats(await staff(api, staffRole="DASHBOARD"), departmentCode="330102")
    assert answer["total"] is None and answer["totalDisplay"] == "<5"
    submitted = by(answer["byStatus"], "status")["SUBMITTED"]
    assert submitted == {"status": "SUBMITTED", "count": None, "display": "<5", "suppressed": True}
    assert all(d["count"] in (0, None) for d in answer["byIdType"])
    today = next(d for d in answer["daily"] if d["date"] == china_day(utcnow()).isoformat())
    assert today["submitted"] is None and today["submittedDisplay"] == "<5" and today["suppressed"]


async def test_bad_filters_are_field_errors_not_graphql_errors(api: Api) -> None:
    dashboard = await staff(api, staffRole="DASHBOARD")

    async def errors(**filter_: Any) -> list[tuple[str, str]]:
        body = await dashboard.post(STATS, {"filter": filter_})
        assert "errors" not in body, body
        answer = body["data"]["registrationStats"]
        assert answer["byStatus"] == [] and answer["total"] is None
        return [(e["field"], e["code"]) for e in answer["errors"]]

    assert await errors(**{"from": "2026-03-02", "to": "2026-03-01"}) == [
        ("filter.from", "DATE_RANGE_BACKWARDS")
    ]
    assert await errors(**{"from": "2019-01-01", "to": "2024-01-01"}) == [
        ("filter.to", "DATE_RANGE_TOO_LONG")
    ]
    assert await errors(departmentCode="999999") == [
        ("filter.departmentCode", "UNKNOWN_DEPARTMENT")
    ]
    assert await errors(cityCode="330102") == [("filter.cityCode", "DIVISION_UNKNOWN")]
    reviewer = await staff(api, reviewerDepartmentCode="330102")
    other = (await reviewer.data(STATS, {"filter": {"departmentCode": "330106"}}))[
        "registrationStats"
    ]
    assert [(e["field"], e["code"]) for e in other["errors"]] == [
        ("filter.departmentCode", "WRONG_DEPARTMENT")
    ]
    assert other["errors"][0]["message"]


async def test_a_department_outside_the_city_is_an_empty_answer(api: Api) -> None:
    dashboard = await staff(api, staffRole="DASHBOARD")
    answer = await stats(dashboard, departmentCode="330102", cityCode="330200")
    assert answer["errors"] == [] and answer["scope"]["kind"] == "EMPTY"
    assert answer["total"] == 0


async def test_a_date_range_selects_the_activity(api: Api) -> None:
    dashboard = await staff(api, staffRole="DASHBOARD")
    answer = await stats(dashboard, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert answer["errors"] == [] and len(answer["daily"]) == 366
    assert answer["daily"][0]["date"] == "2024-01-01"
