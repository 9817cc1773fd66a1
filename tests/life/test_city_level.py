"""City bureaus (市本级) over HTTP on SQLite and PostgreSQL, and the first-employer proof that
names the current unit only when the applicant says it is where their accounting work began."""

from __future__ import annotations

from services.proof_templates import proof_unit_name
from tests.api import Api
from tests.review import SHANGCHENG, approve, codes, reviewer
from tests.wizard import (
    MY_REGISTRATION,
    RESIDENCE,
    SAVE_WORK,
    SUBMIT,
    WORK_UNIT,
    attach_directly,
    fill_wizard,
    ok,
    sign_in,
    step,
)

HANGZHOU = "330100"
DIVISIONS = """query($p: String) { divisions(parentCode: $p) {
  code name level parentCode postalCode department { code name } } }"""
QUEUE = "{ registrations { totalCount edges { node { id accountingDepartment { code } } } } }"


async def test_a_city_level_unit_is_reviewed_by_the_city_bureau(any_api: Api) -> None:
    listed = (await any_api.data(DIVISIONS, {"p": HANGZHOU}))["divisions"]
    assert listed[0] == {
        "code": HANGZHOU,
        "name": "市本级",
        "level": "CITY",
        "parentCode": HANGZHOU,
        "postalCode": None,  # the sources disagree for 杭州市 (see postal_code_evidence.csv)
        "department": {"code": HANGZHOU, "name": "杭州市财政局"},
    }
    assert {d["level"] for d in listed[1:]} == {"COUNTY"}
    ningbo = (await any_api.data(DIVISIONS, {"p": "330200"}))["divisions"][0]
    assert ningbo["name"] == "市本级" and ningbo["postalCode"] == "315000"
    assert all(d["name"] != "市本级" for d in (await any_api.data(DIVISIONS))["divisions"])

    applicant = await sign_in(any_api)
    draft = await fill_wizard(applicant)
    # a residence always names a county
    refused = await step(
        applicant, SAVE_WORK, draft, residence={**RESIDENCE, "divisionCode": HANGZHOU}
    )
    assert codes(refused) == {("residence.divisionCode", "DIVISION_NOT_COUNTY")}
    city_unit = {**WORK_UNIT, "officeDivisionCode": HANGZHOU, "isFirstEmployer": True}
    draft = await ok(applicant, SAVE_WORK, draft, workUnit=city_unit)
    assert draft["accountingDepartment"] == {"code": HANGZHOU, "name": "杭州市财政局"}
    draft = await attach_directly(applicant, draft)
    submitted = await ok(applicant, SUBMIT, draft, agreed=True)

    # 上城区 does not see it; 杭州市财政局 does, and decides
    district = await reviewer(any_api, SHANGCHENG)
    assert (await district.data(QUEUE))["registrations"]["totalCount"] == 0
    city = await reviewer(any_api, HANGZHOU, "杭州市审核员")
    queue = (await city.data(QUEUE))["registrations"]
    assert queue["edges"] == [
        {"node": {"id": submitted["id"], "accountingDepartment": {"code": HANGZHOU}}}
    ]
    assert codes(await approve(district, submitted)) == {("registrationId", "WRONG_DEPARTMENT")}
    assert (await approve(city, submitted))["errors"] == []
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["status"] == "APPROVED"


def test_the_first_employer_proof_names_the_unit_only_when_it_was_the_first() -> None:
    unit = "杭州示例科技有限公司"
    assert proof_unit_name("FIRST_EMPLOYER_PROOF", unit, None) is None
    assert proof_unit_name("FIRST_EMPLOYER_PROOF", unit, False) is None
    assert proof_unit_name("FIRST_EMPLOYER_PROOF", unit, True) == unit
    assert proof_unit_name("CURRENT_EMPLOYER_PROOF", unit, None) == unit
