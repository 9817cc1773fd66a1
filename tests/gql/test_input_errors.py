"""Every input mistake reaches the applicant in Chinese: dates through the rules (FieldError
INVALID_DATE with its path), everything GraphQL itself refuses as BAD_USER_INPUT."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api import Api
from tests.review import reviewer
from tests.wizard import (
    BASIC,
    FULL_TIME,
    HK_PERMIT,
    QUALIFICATION,
    SAVE_BASIC,
    SAVE_EDUCATION,
    SAVE_QUALIFICATION,
    SAVE_WORK,
    START,
    SUBMIT,
    WORK_UNIT,
    sign_in,
    step,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORDS = re.compile(r"\b(cannot|Expected|Variable|invalid|required|value)\b")


def codes(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def started(api: Api) -> dict[str, Any]:
    return (await api.data(START))["startRegistration"]["registration"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("written", ["2012-02-30", "2012/06/30", "30.06.2012", "2012-6-30", ""])
async def test_a_date_that_is_not_a_day_is_invalid_date_with_its_path(
    api: Api, written: str
) -> None:
    applicant = await sign_in(api)
    registration = await started(applicant)
    payload = await step(
        applicant, SAVE_EDUCATION, registration, fullTime={**FULL_TIME, "graduationDate": written}
    )
    assert codes(payload) == {("education.fullTime.graduationDate", "INVALID_DATE")}
    assert CJK.search(payload["errors"][0]["message"])


async def test_dates_of_every_step_and_a_number_for_a_date(api: Api) -> None:
    applicant = await sign_in(api, HK_PERMIT)
    registration = await started(applicant)
    basic = await step(
        applicant,
        SAVE_BASIC,
        registration,
        **{**BASIC, "countryOrRegion": "HKG", "gender": "FEMALE", "birthDate": "1988-02-30"},
    )
    assert codes(basic) == {("basicInfo.birthDate", "INVALID_DATE")}
    work = await step(
        applicant, SAVE_WORK, registration, workUnit={**WORK_UNIT, "accountingStartDate": 20120701}
    )
    assert codes(work) == {("workUnit.accountingStartDate", "INVALID_DATE")}
    qualification = await step(
        applicant,
        SAVE_QUALIFICATION,
        registration,
        qualification={**QUALIFICATION, "acquiredOn": "2017-13-01", "appointedOn": "2017/10/21"},
    )
    assert codes(qualification) == {
        ("qualification.acquiredOn", "INVALID_DATE"),
        ("qualification.appointedOn", "INVALID_DATE"),
    }


async def test_genders_offered_are_exactly_what_the_input_takes(api: Api) -> None:
    options = (await api.data("{ formOptions { genders { code name } } }"))["formOptions"]
    assert options["genders"] == [{"code": "MALE", "name": "男"}, {"code": "FEMALE", "name": "女"}]
    applicant = await sign_in(api, HK_PERMIT)
    registration = await started(applicant)
    for option in options["genders"]:
        payload = await step(
            applicant,
            SAVE_BASIC,
            registration,
            **{
                **BASIC,
                "countryOrRegion": "HKG",
                "gender": option["code"],
                "birthDate": "1988-02-29",
            },
        )
        assert payload["errors"] == []
        registration = payload["registration"]
        assert registration["basicInfo"]["gender"] == option["code"]


def assert_bad_user_input(body: dict[str, Any], field: str) -> str:
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert CJK.search(error["message"]) and not ENGLISH_WORDS.search(error["message"]), error
    return str(error["message"])


async def test_what_graphql_itself_refuses_is_answered_in_chinese(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await started(applicant)
    ids = {"registrationId": registration["id"], "expectedVersion": registration["version"]}

    wrong_enum = await applicant.post(SAVE_BASIC, {"input": {**ids, **BASIC, "gender": "1"}})
    message = assert_bad_user_input(wrong_enum, "input.gender")
    assert "MALE" in message and "FEMALE" in message

    not_int = await applicant.post(SAVE_BASIC, {"input": {**ids, "expectedVersion": "3"}})
    assert_bad_user_input(not_int, "input.expectedVersion")

    not_bool = await applicant.post(SUBMIT, {"input": {**ids, "agreed": "yes"}})
    assert_bad_user_input(not_bool, "input.agreed")

    missing = await applicant.post(SAVE_BASIC, {"input": {"registrationId": registration["id"]}})
    assert_bad_user_input(missing, "input.expectedVersion")

    unknown = await applicant.post(SAVE_BASIC, {"input": {**ids, **BASIC, "nickname": "小张"}})
    assert_bad_user_input(unknown, "input.nickname")

    nested = await applicant.post(
        SAVE_EDUCATION, {"input": {**ids, "fullTime": {**FULL_TIME, "level": 21}}}
    )
    assert_bad_user_input(nested, "input.fullTime.level")

    no_input = await applicant.post(SAVE_BASIC, {})
    assert_bad_user_input(no_input, "input")

    inline = await applicant.post(
        'mutation { saveBasicInfo(input: {registrationId: "x", expectedVersion: 1, gender: "1"})'
        " { errors { code } } }"
    )
    assert_bad_user_input(inline, "input.gender")


async def test_query_filters_with_a_date_that_is_not_a_day(api: Api) -> None:
    staff = await reviewer(api)
    queue = await staff.data(
        '{ registrations(filter: {submittedFrom: "2026-02-30"}) { totalCount errors { field code } } }'
    )
    assert queue["registrations"]["errors"] == [
        {"field": "filter.submittedFrom", "code": "INVALID_DATE"}
    ]
    stats = await staff.data(
        '{ registrationStats(filter: {to: "2026/01/31"}) { errors { field code } } }'
    )
    assert stats["registrationStats"]["errors"] == [{"field": "filter.to", "code": "INVALID_DATE"}]
