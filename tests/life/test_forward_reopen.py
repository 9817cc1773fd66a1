"""Forward 上城区 → 西湖区 over HTTP on SQLite and PostgreSQL (queue events on both sides, the
department held after a return), bad forwards, and reopening an approval made by mistake."""

from __future__ import annotations

from typing import Any

from tests.api import Api
from tests.review import PROVINCE, SHANGCHENG, XIHU, approve, codes, return_, reviewer, stored
from tests.wizard import (
    BASIC,
    MY_REGISTRATION,
    SAVE_BASIC,
    SAVE_WORK,
    SUBMIT,
    WORK_UNIT,
    ok,
    sign_in,
    submitted_registration,
)

FORWARD = """mutation($input: ForwardRegistrationInput!) { forwardRegistration(input: $input) {
  registration { id status version departmentRule accountingDepartment { code } }
  errors { field code } } }"""
REOPEN = """mutation($input: ReopenRegistrationInput!) { reopenRegistration(input: $input) {
  registration { id status version } errors { field code } } }"""
HISTORY = """query($id: ID!) { registration(id: $id) {
  history { kind status comment } auditTrail { kind actor { username } comment } } }"""


def _input(registration: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "registrationId": registration["id"],
            "expectedVersion": registration["version"],
            **fields,
        }
    }


async def _forward(api: Api, registration: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return (await api.data(FORWARD, _input(registration, **fields)))["forwardRegistration"]  # type: ignore[no-any-return]


async def test_forward_from_shangcheng_to_xihu(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    submitted = await submitted_registration(applicant)
    east = await reviewer(any_api, SHANGCHENG)
    west = await reviewer(any_api, XIHU, "西湖审核员")

    assert codes(await _forward(east, submitted, departmentCode=SHANGCHENG)) == {
        ("departmentCode", "FORWARD_SAME_DEPARTMENT")
    }
    assert codes(await _forward(east, submitted, departmentCode="339999")) == {
        ("departmentCode", "UNKNOWN_DEPARTMENT")
    }
    # 西湖区 cannot forward what is not its own
    assert codes(await _forward(west, submitted, departmentCode=XIHU)) == {
        ("registrationId", "WRONG_DEPARTMENT")
    }
    assert codes(await _forward(east, {**submitted, "version": 1}, departmentCode=XIHU)) == {
        ("expectedVersion", "VERSION_CONFLICT")
    }
    assert (await stored(any_api, submitted["id"]))["version"] == submitted["version"]

    moved = await _forward(east, submitted, departmentCode=XIHU, comment="办公地点在西湖区")
    assert moved["errors"] == []
    forwarded = moved["registration"]
    assert forwarded["status"] == "SUBMITTED" and forwarded["departmentRule"] == "FORWARDED"
    assert forwarded["accountingDepartment"] == {"code": XIHU}
    # the sending queue no longer holds it; the receiving one does
    queue = "{ registrations { totalCount edges { node { id } } } }"
    assert (await east.data(queue))["registrations"]["totalCount"] == 0
    assert (await west.data(queue))["registrations"]["edges"] == [{"node": {"id": submitted["id"]}}]
    # the applicant is told (history = the subscription's events)
    mine = (await applicant.data(HISTORY, {"id": submitted["id"]}))["registration"]
    assert mine["history"][-1] == {
        "kind": "FORWARDED",
        "status": "SUBMITTED",
        "comment": "办公地点在西湖区",
    }

    # returned by 西湖区 and resubmitted unchanged: it stays with 西湖区
    returned = await return_(
        west,
        forwarded,
        items=[{"field": "basicInfo.remarks", "reasonCode": "INFORMATION_INCOMPLETE"}],
    )
    assert returned["errors"] == []
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    mine = await ok(applicant, SAVE_BASIC, mine, **{**BASIC, "remarks": "补充说明"})
    again = await ok(applicant, SUBMIT, mine, agreed=True)
    assert again["accountingDepartment"]["code"] == XIHU and again["departmentRule"] == "FORWARDED"
    assert (await approve(west, again))["errors"] == []


async def test_the_forward_holds_until_the_district_changes(api: Api) -> None:
    applicant = await sign_in(api)
    submitted = await submitted_registration(applicant)
    east = await reviewer(api, SHANGCHENG)
    forwarded = (await _forward(east, submitted, departmentCode=XIHU))["registration"]
    west = await reviewer(api, XIHU, "西湖审核员")
    returned = await return_(
        west, forwarded, items=[{"field": "workUnit", "reasonCode": "WRONG_DEPARTMENT"}]
    )
    assert returned["errors"] == []
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    same = await ok(applicant, SAVE_WORK, mine, workUnit={**WORK_UNIT, "postalCode": "310002"})
    assert same["accountingDepartment"]["code"] == XIHU  # same district: still forwarded
    moved = await ok(
        applicant, SAVE_WORK, same, workUnit={**WORK_UNIT, "officeDivisionCode": "330105"}
    )
    assert moved["accountingDepartment"]["code"] == "330105"
    assert moved["departmentRule"] == "OFFICE_DIVISION"


async def test_the_province_forwards_any_and_reopens_an_approval(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    submitted = await submitted_registration(applicant)
    province = await reviewer(any_api, PROVINCE, "省厅")
    forwarded = (await _forward(province, submitted, departmentCode=XIHU))["registration"]
    west = await reviewer(any_api, XIHU, "西湖审核员")
    approved = (await approve(west, forwarded))["registration"]

    east = await reviewer(any_api, SHANGCHENG)
    refused = (await east.data(REOPEN, _input(approved, reason="误操作")))["reopenRegistration"]
    assert codes(refused) == {("registrationId", "WRONG_DEPARTMENT")}
    empty = (await west.data(REOPEN, _input(approved, reason="  ")))["reopenRegistration"]
    assert codes(empty) == {("reason", "REQUIRED")}

    reopened = (await west.data(REOPEN, _input(approved, reason="误点了通过")))[
        "reopenRegistration"
    ]
    assert reopened["errors"] == []
    assert reopened["registration"]["status"] == "SUBMITTED"
    trail = (await west.data(HISTORY, {"id": approved["id"]}))["registration"]
    assert {"kind": "REOPENED", "status": "SUBMITTED", "comment": "误点了通过"} in trail["history"]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["status"] == "SUBMITTED"
    # the province may reopen too, once approved again
    again = (await approve(west, reopened["registration"]))["registration"]
    by_province = (await province.data(REOPEN, _input(again, reason="复核")))["reopenRegistration"]
    assert by_province["errors"] == []
