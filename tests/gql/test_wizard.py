"""The applicant's wizard through HTTP: each step, its rules, versions, switching, submission."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.api import Api
from tests.wizard import (
    ACKNOWLEDGE,
    BASIC,
    FULL_TIME,
    HK_PERMIT,
    MY_REGISTRATION,
    PART_TIME,
    QUALIFICATION,
    RESIDENCE,
    SAVE_BASIC,
    SAVE_EDUCATION,
    SAVE_QUALIFICATION,
    SAVE_WORK,
    START,
    SUBMIT,
    WITHDRAW,
    WORK_UNIT,
    attach_directly,
    fill_wizard,
    ok,
    sign_in,
    step,
)


def codes(payload: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in payload["errors"]}


async def start(api: Api) -> dict[str, Any]:
    return (await api.data(START))["startRegistration"]["registration"]  # type: ignore[no-any-return]


async def test_whole_wizard_from_dev_login_to_submitted(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await start(applicant)
    assert registration["status"] == "DRAFT" and registration["version"] == 1
    assert registration["basicInfo"]["name"] == "张三"
    assert registration["basicInfo"]["gender"] == "MALE"  # derived from the ID number
    assert registration["basicInfo"]["birthDate"] == "1990-03-07"
    assert [s["step"] for s in registration["steps"] if not s["complete"]] == [
        "NOTICE",
        "BASIC_INFO",
        "WORK_OR_RESIDENCE",
        "EDUCATION",
        "ATTACHMENTS",
    ]

    registration = await fill_wizard(applicant, part_time=True)
    assert registration["accountingDepartment"] == {"code": "330102", "name": "上城区财政局"}
    assert registration["departmentRule"] == "OFFICE_DIVISION"
    assert registration["workUnit"]["economicType"] == {"code": "01", "name": "行政单位"}
    assert [a["kind"] for a in registration["requiredAttachments"]] == [
        "ID_PHOTO",
        "CREDIT_CODE_CERTIFICATE",
        "FIRST_EMPLOYER_PROOF",
        "CURRENT_EMPLOYER_PROOF",
        "FULL_TIME_DIPLOMA",
        "FULL_TIME_DEGREE",
        "PART_TIME_DIPLOMA",
        "PART_TIME_DEGREE",
        "QUALIFICATION_CERTIFICATE",
    ]
    incomplete = [s for s in registration["steps"] if not s["complete"]]
    assert [s["step"] for s in incomplete] == ["ATTACHMENTS"]

    early = await step(applicant, SUBMIT, registration, agreed=True)
    assert ("attachments.ID_PHOTO", "ATTACHMENT_MISSING") in codes(early)
    assert early["registration"]["status"] == "DRAFT"

    registration = await attach_directly(applicant, registration)
    not_agreed = await step(applicant, SUBMIT, registration, agreed=False)
    assert codes(not_agreed) == {("agreed", "NOT_AGREED")}
    submitted = await ok(applicant, SUBMIT, registration, agreed=True, idempotencyKey="tap-1")
    assert submitted["status"] == "SUBMITTED" and submitted["submittedAt"]

    # a repeat with the same key, or a double tap with the same version, changes nothing
    again = await ok(applicant, SUBMIT, registration, agreed=True, idempotencyKey="tap-1")
    tap = await ok(applicant, SUBMIT, registration, agreed=True)
    assert again["version"] == submitted["version"] == tap["version"]

    # a submitted registration is read-only until it is returned
    refused = await step(applicant, SAVE_BASIC, submitted, **BASIC)
    assert codes(refused) == {("registrationId", "NOT_EDITABLE")}


async def test_wizard_for_a_non_resident_id_enters_gender_and_birth_date(any_api: Api) -> None:
    applicant = await sign_in(any_api, HK_PERMIT)
    registration = await start(applicant)
    assert registration["basicInfo"]["gender"] is None
    missing = await step(applicant, SAVE_BASIC, registration, **{**BASIC, "countryOrRegion": "HKG"})
    assert codes(missing) == {("basicInfo.gender", "REQUIRED"), ("basicInfo.birthDate", "REQUIRED")}
    registration = await fill_wizard(
        applicant,
        basic={**BASIC, "countryOrRegion": "HKG", "gender": "FEMALE", "birthDate": "1988-02-29"},
        work=False,
        qualification=False,
    )
    assert registration["basicInfo"]["gender"] == "FEMALE"
    assert registration["basicInfo"]["birthDate"] == "1988-02-29"
    assert registration["basicInfo"]["idType"] == {"code": "02", "name": "港澳居民来往内地通行证"}
    assert registration["accountingDepartment"]["code"] == "330106"
    assert registration["departmentRule"] == "RESIDENCE_DIVISION"
    registration = await attach_directly(applicant, registration)
    submitted = await ok(applicant, SUBMIT, registration, agreed=True)
    assert submitted["status"] == "SUBMITTED"


async def test_resident_id_gender_and_birth_date_cannot_differ(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await start(applicant)
    wrong = await step(
        applicant, SAVE_BASIC, registration, **BASIC, gender="FEMALE", birthDate="1990-03-08"
    )
    assert codes(wrong) == {
        ("basicInfo.gender", "GENDER_MISMATCH"),
        ("basicInfo.birthDate", "BIRTH_DATE_MISMATCH"),
    }
    same = await ok(
        applicant, SAVE_BASIC, registration, **BASIC, gender="MALE", birthDate="1990-03-07"
    )
    assert same["basicInfo"]["gender"] == "MALE"


async def test_identity_fields_cannot_be_sent(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await start(applicant)
    body = await applicant.post(
        SAVE_BASIC,
        {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **BASIC,
                "idNumber": "110101199003074514",
                "name": "李四",
            }
        },
    )
    assert body["errors"] and "idNumber" in body["errors"][0]["message"]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["basicInfo"]["name"] == "张三" and mine["version"] == registration["version"]


# The rules of each step are tested case by case on the domain functions
# (tests/models/test_step_rules.py); one case per step here shows that a problem reaches
# the payload under the API's field path and that nothing is saved. Each case needs the
# birth date or the clock the server supplies, not only the answer.


async def test_a_bad_work_unit_is_a_field_error_and_saves_nothing(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    change = {"accountingStartDate": "2003-01-01"}  # at 12, by the birth date on file
    payload = await step(applicant, SAVE_WORK, registration, workUnit={**WORK_UNIT, **change})
    assert codes(payload) == {("workUnit.accountingStartDate", "ACCOUNTING_STARTED_TOO_YOUNG")}
    assert payload["registration"]["version"] == registration["version"]
    assert payload["registration"]["workUnit"] == registration["workUnit"]


async def test_bad_education_is_a_field_error_and_saves_nothing(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    change = {"graduationDate": "1989-06-30"}  # before the birth date on file
    payload = await step(applicant, SAVE_EDUCATION, registration, fullTime={**FULL_TIME, **change})
    assert ("education.fullTime.graduationDate", "DATE_BEFORE_BIRTH") in codes(payload)
    assert payload["registration"]["version"] == registration["version"]
    assert payload["registration"]["education"] == registration["education"]


async def test_a_bad_qualification_is_a_field_error_and_saves_nothing(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    change = {"acquiredOn": "2099-01-01"}  # after today on the server's clock
    payload = await step(
        applicant, SAVE_QUALIFICATION, registration, qualification={**QUALIFICATION, **change}
    )
    assert ("qualification.acquiredOn", "DATE_IN_FUTURE") in codes(payload)
    assert payload["registration"]["version"] == registration["version"]
    assert payload["registration"]["qualification"] == registration["qualification"]


async def test_notice_needs_at_least_one_basis(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await start(applicant)
    payload = await step(applicant, ACKNOWLEDGE, registration, eligibility=[])
    assert codes(payload) == {("notice.eligibility", "ELIGIBILITY_REQUIRED")}


async def test_work_unit_and_residence_are_exclusive_and_switching_clears(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    both = await step(applicant, SAVE_WORK, registration, workUnit=WORK_UNIT, residence=RESIDENCE)
    neither = await step(applicant, SAVE_WORK, registration)
    assert codes(both) == codes(neither) == {("workUnit", "WORK_OR_RESIDENCE_EXCLUSIVE")}
    registration = await attach_directly(applicant, registration)
    switched = await ok(applicant, SAVE_WORK, registration, residence=RESIDENCE)
    assert switched["workUnit"] is None and switched["residence"]["divisionCode"] == "330106"
    assert switched["accountingDepartment"] == {"code": "330106", "name": "西湖区财政局"}
    kinds = [a["kind"] for a in switched["requiredAttachments"]]
    assert "CREDIT_CODE_CERTIFICATE" not in kinds
    assert {a["kind"] for a in switched["attachments"]} == set(kinds)  # stale proofs retired


async def test_dropping_a_degree_and_the_qualification_updates_the_attachment_list(
    api: Api,
) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant, part_time=True)
    registration = await ok(
        applicant,
        SAVE_EDUCATION,
        registration,
        fullTime={**FULL_TIME, "degree": "0"},
        partTime=None,
    )
    registration = await ok(applicant, SAVE_QUALIFICATION, registration, qualification=None)
    kinds = [a["kind"] for a in registration["requiredAttachments"]]
    assert kinds == [
        "ID_PHOTO",
        "CREDIT_CODE_CERTIFICATE",
        "FIRST_EMPLOYER_PROOF",
        "CURRENT_EMPLOYER_PROOF",
        "FULL_TIME_DIPLOMA",
    ]
    assert registration["qualification"] is None
    assert registration["education"]["partTime"] is None


async def test_stale_version_conflicts_and_writes_nothing(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await fill_wizard(applicant)
    newer = await ok(applicant, SAVE_BASIC, registration, **{**BASIC, "remarks": "第一次"})
    stale = await step(applicant, SAVE_BASIC, registration, **{**BASIC, "remarks": "第二次"})
    assert codes(stale) == {("expectedVersion", "VERSION_CONFLICT")}
    assert stale["registration"]["basicInfo"]["remarks"] == "第一次"
    assert stale["registration"]["version"] == newer["version"]


async def test_concurrent_saves_with_the_same_version_one_wins(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await fill_wizard(applicant)
    first, second = await asyncio.gather(
        step(applicant, SAVE_BASIC, registration, **{**BASIC, "remarks": "甲"}),
        step(applicant, SAVE_BASIC, registration, **{**BASIC, "remarks": "乙"}),
    )
    outcomes = sorted([bool(first["errors"]), bool(second["errors"])])
    assert outcomes == [False, True]
    loser = first if first["errors"] else second
    winner = second if first["errors"] else first
    assert codes(loser) == {("expectedVersion", "VERSION_CONFLICT")}
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["basicInfo"]["remarks"] == winner["registration"]["basicInfo"]["remarks"]
    assert mine["version"] == registration["version"] + 1


async def test_start_is_idempotent_and_withdraw_ends_it(api: Api) -> None:
    applicant = await sign_in(api)
    first = await start(applicant)
    assert (await start(applicant))["id"] == first["id"]
    withdrawn = await ok(applicant, WITHDRAW, first)
    assert withdrawn["status"] == "WITHDRAWN"
    again = await step(applicant, WITHDRAW, withdrawn)
    assert codes(again) == {("registrationId", "INVALID_TRANSITION")}
    fresh = await start(applicant)
    assert fresh["id"] != first["id"] and fresh["status"] == "DRAFT"


async def test_applicants_see_only_their_own_registration(api: Api) -> None:
    owner = await sign_in(api)
    registration = await fill_wizard(owner)
    other = await sign_in(api, {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"})
    body = await other.data(
        "query($id: ID!) { registration(id: $id) { id } }", {"id": registration["id"]}
    )
    assert body["registration"] is None
    payload = await step(other, SAVE_BASIC, registration, **BASIC)
    assert codes(payload) == {("registrationId", "NOT_FOUND")}
    assert payload["registration"] is None
    anonymous = await api.post(MY_REGISTRATION)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_steps_report_what_is_missing(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await start(applicant)
    steps = {s["step"]: s for s in registration["steps"]}
    assert steps["BASIC_INFO"]["missing"] == [
        "basicInfo.countryOrRegion",
        "basicInfo.ethnicGroup",
        "basicInfo.politicalStatus",
    ]
    assert steps["QUALIFICATION"] == {
        "step": "QUALIFICATION",
        "complete": True,
        "optional": True,
        "missing": [],
    }
    submit = await step(applicant, SUBMIT, registration, agreed=True)
    assert ("notice.eligibility", "NOTICE_NOT_ACKNOWLEDGED") in codes(submit)
    assert ("basicInfo.ethnicGroup", "STEP_INCOMPLETE") in codes(submit)


async def test_lookup_unit_from_the_directory(api: Api, tmp_path: Any) -> None:
    import io

    from integrations.unit_directory import import_units_csv

    report = await import_units_csv(
        api.services.db,
        io.StringIO(
            "credit_code,unit_name\n91330106MA27UW5H9N,杭州示例科技有限公司\nBADCODE,坏数据\n"
        ),
    )
    assert (report.imported, len(report.rejected)) == (1, 1)
    applicant = await sign_in(api)
    query = "query($c: String!) { lookupUnit(creditCode: $c) { outcome creditCode unitName errors { field code } } }"
    found = (await applicant.data(query, {"c": "91330106ma27uw5h9n"}))["lookupUnit"]
    assert found == {
        "outcome": "FOUND",
        "creditCode": "91330106MA27UW5H9N",
        "unitName": "杭州示例科技有限公司",
        "errors": [],
    }
    unknown = (await applicant.data(query, {"c": "113301000025006238"}))["lookupUnit"]
    assert unknown["outcome"] == "NOT_FOUND" and unknown["unitName"] is None
    bad = (await applicant.data(query, {"c": "123"}))["lookupUnit"]
    assert bad["errors"] == [{"field": "creditCode", "code": "CREDIT_CODE_FORMAT"}]
    registration = await fill_wizard(applicant)
    assert registration["workUnit"]["unitNameSource"] == "LOOKUP"
    manual = await ok(
        applicant, SAVE_WORK, registration, workUnit={**WORK_UNIT, "unitName": "手工填写的单位"}
    )
    assert manual["workUnit"]["unitNameSource"] == "MANUAL"


async def test_a_slow_registry_counts_as_unavailable() -> None:
    from integrations.unit_directory import FoundUnit, LookupOutcome, lookup_unit

    class Slow:
        name = "slow"

        async def find(self, credit_code: str) -> FoundUnit | None:
            await asyncio.sleep(5)
            return FoundUnit("never", verified=True)

        async def ping(self) -> bool:
            return True

        async def aclose(self) -> None:
            return None

    result = await lookup_unit([Slow()], "91330106MA27UW5H9N", timeout_s=0.05)
    assert result.outcome is LookupOutcome.UNAVAILABLE


async def test_part_time_education_alone_is_allowed(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    only_part = await ok(applicant, SAVE_EDUCATION, registration, fullTime=None, partTime=PART_TIME)
    assert only_part["education"]["fullTime"] is None
    assert "PART_TIME_DIPLOMA" in [a["kind"] for a in only_part["requiredAttachments"]]
