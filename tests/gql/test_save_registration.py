"""saveRegistration: the whole form (or any part of it) in one request, all or nothing, and a
version that counts written changes only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import Api
from tests.wizard import (
    BASIC,
    FULL_TIME,
    HK_PERMIT,
    MY_REGISTRATION,
    PAYLOAD,
    QUALIFICATION,
    SAVE_BASIC,
    START,
    WORK_UNIT,
    ok,
    sign_in,
    step,
)

SAVE_ALL = (
    "mutation($input: SaveRegistrationInput!) { saveRegistration(input: $input) " + PAYLOAD + " }"
)
WHOLE_FORM = {
    "notice": {"eligibility": ["WORK_UNIT", "HOUSEHOLD"]},
    "basicInfo": BASIC,
    "workOrResidence": {"workUnit": WORK_UNIT},
    "education": {"fullTime": FULL_TIME, "partTime": None},
    "qualification": {"qualification": QUALIFICATION},
}


def codes(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def started(api: Api) -> dict[str, Any]:
    return (await api.data(START))["startRegistration"]["registration"]  # type: ignore[no-any-return]


async def test_the_whole_form_in_one_request_raises_version_by_one(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await started(applicant)
    saved = await ok(applicant, SAVE_ALL, registration, **WHOLE_FORM)
    assert saved["version"] == registration["version"] + 1
    assert [s["step"] for s in saved["steps"] if not s["complete"]] == ["ATTACHMENTS"]
    assert saved["notice"]["eligibility"] == ["WORK_UNIT", "HOUSEHOLD"]
    assert saved["workUnit"]["creditCode"] == WORK_UNIT["creditCode"]
    assert saved["accountingDepartment"]["name"] == "上城区财政局"
    assert saved["education"]["fullTime"]["graduationDate"] == "2012-06-30"
    assert saved["qualification"]["certificateNumber"] == QUALIFICATION["certificateNumber"]

    # the same form again changes nothing: version stays, so a client never guesses
    again = await ok(applicant, SAVE_ALL, saved, **WHOLE_FORM)
    assert again["version"] == saved["version"]
    # one step saved as it stands: no change either
    same = await ok(applicant, SAVE_BASIC, again, **BASIC)
    assert same["version"] == saved["version"]
    # a real change, through any mutation: exactly one more
    edited = await ok(applicant, SAVE_ALL, same, basicInfo={**BASIC, "remarks": "改了备注"})
    assert edited["version"] == saved["version"] + 1
    assert edited["basicInfo"]["remarks"] == "改了备注"


async def test_every_section_s_errors_at_once_and_nothing_written(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await started(applicant)
    payload = await step(
        applicant,
        SAVE_ALL,
        registration,
        notice={"eligibility": ["WORK_UNIT"]},  # valid on its own: still not written
        basicInfo={**BASIC, "ethnicGroup": "99x"},
        workOrResidence={"workUnit": {**WORK_UNIT, "creditCode": "91330106MA27UW5H9X"}},
        education={"fullTime": {**FULL_TIME, "graduationDate": "2012-02-30"}},
        qualification={"qualification": {**QUALIFICATION, "level": "9"}},
    )
    assert codes(payload) == {
        ("basicInfo.ethnicGroup", "UNKNOWN_CODE"),
        ("workUnit.creditCode", "CREDIT_CODE_CHECKSUM"),
        ("education.fullTime.graduationDate", "INVALID_DATE"),
        ("qualification.level", "UNKNOWN_CODE"),
    }
    assert all(e["message"] for e in payload["errors"])
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["version"] == registration["version"]
    assert mine["notice"] is None and mine["workUnit"] is None and mine["qualification"] is None


async def test_a_subset_a_switch_and_a_stale_version(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await started(applicant)
    first = await ok(applicant, SAVE_ALL, registration, **WHOLE_FORM)
    # a resumed draft: only the screen that changed, switching to a residence
    moved = await ok(
        applicant,
        SAVE_ALL,
        first,
        workOrResidence={
            "residence": {
                "divisionCode": "330106",
                "address": "文三路100号",
                "postalCode": "310012",
            }
        },
        qualification={"qualification": None},
    )
    assert moved["version"] == first["version"] + 1
    assert moved["workUnit"] is None and moved["residence"]["divisionCode"] == "330106"
    assert moved["qualification"] is None and moved["notice"] == first["notice"]
    stale = await step(applicant, SAVE_ALL, first, basicInfo={**BASIC, "remarks": "旧版本"})
    assert codes(stale) == {("expectedVersion", "VERSION_CONFLICT")}
    neither = await step(applicant, SAVE_ALL, moved, workOrResidence={})
    assert codes(neither) == {("workUnit", "WORK_OR_RESIDENCE_EXCLUSIVE")}


async def test_a_birth_date_sent_with_the_other_steps_is_the_one_they_are_checked_against(
    api: Api,
) -> None:
    applicant = await sign_in(api, HK_PERMIT)  # the permit does not encode the birth date
    registration = await started(applicant)
    payload = await step(
        applicant,
        SAVE_ALL,
        registration,
        basicInfo={**BASIC, "countryOrRegion": "HKG", "gender": "MALE", "birthDate": "2000-01-01"},
        education={"fullTime": FULL_TIME},  # graduated 2012: at twelve
    )
    assert codes(payload) == {("education.fullTime.graduationDate", "GRADUATED_TOO_YOUNG")}


US_PASSPORT = {
    "name": "约翰·史密斯",
    "idType": "04",
    "idNumber": "560123456",
    "phone": "13700001234",
}
PASSPORT_BASIC = {
    "countryOrRegion": "USA",
    "ethnicGroup": "01",
    "politicalStatus": "13",
    "gender": "MALE",
    "birthDate": "1985-04-12",
}


async def test_a_us_passport_holder_completes_basic_info(api: Api) -> None:
    options = (await api.data("{ formOptions { countriesOrRegions { code name } } }"))[
        "formOptions"
    ]["countriesOrRegions"]
    assert {"code": "USA", "name": "美国"} in options and options[0]["code"] == "CHN"
    applicant = await sign_in(api, US_PASSPORT)
    registration = await started(applicant)
    saved = await ok(applicant, SAVE_BASIC, registration, **PASSPORT_BASIC)
    basic = saved["basicInfo"]
    assert basic["countryOrRegion"] == {"code": "USA", "name": "美国"}
    assert (basic["gender"], basic["birthDate"]) == ("MALE", "1985-04-12")
    assert "BASIC_INFO" in [s["step"] for s in saved["steps"] if s["complete"]]


@pytest.mark.parametrize(
    ("identity", "country"),
    [
        ({"name": "张三", "idType": "01", "idNumber": "330106199003071236"}, "USA"),
        ({"name": "陈大文", "idType": "02", "idNumber": "H12345678"}, "CHN"),
    ],
)
async def test_a_country_the_id_type_does_not_allow(
    api: Api, identity: dict[str, str], country: str
) -> None:
    applicant = await sign_in(api, {**identity, "phone": "13900002222"})
    registration = await started(applicant)
    answer: dict[str, str | None] = {**PASSPORT_BASIC, "countryOrRegion": country}
    if identity["idType"] == "01":
        answer = {**BASIC, "countryOrRegion": country}
    payload = await step(applicant, SAVE_BASIC, registration, **answer)
    assert codes(payload) == {("basicInfo.countryOrRegion", "COUNTRY_NOT_FOR_ID_TYPE")}
    assert "国家或地区应为" in payload["errors"][0]["message"]
