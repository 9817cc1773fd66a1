"""Arbitrary strings, dates and codes at every wizard mutation: the answer is always success or
FieldErrors (never a 500 or a GraphQL error), and after an error nothing has changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api import Api
from tests.wizard import (
    ACKNOWLEDGE,
    BASIC,
    MY_REGISTRATION,
    SAVE_BASIC,
    SAVE_EDUCATION,
    SAVE_QUALIFICATION,
    SAVE_WORK,
    SUBMIT,
    WITHDRAW,
    fill_wizard,
    sign_in,
)

# real-looking values mixed with noise, so some inputs pass and exercise the writes too
codes = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(
        ["01", "21", "4", "0", "CHN", "13", "330102", "330106", "330100", "1", "2", "03", "99", ""]
    ),
)
texts = st.one_of(
    st.none(), st.text(max_size=250), st.sampled_from(["浙江大学", "会计学", " ", "单位\x00名"])
)
dates = st.one_of(
    st.none(),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.sampled_from([date(2012, 7, 1), date(2003, 1, 1), date(1990, 3, 7)]),
)
credit_codes = st.one_of(
    texts, st.sampled_from(["91330106MA27UW5H9N", "91330106MA27UW5H9P", "MA27UW5H9"])
)


def iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


education = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "level": codes,
            "degree": codes,
            "verificationNumber": texts,
            "major": texts,
            "school": texts,
            "graduationDate": dates.map(iso),
        }
    ),
)
work_unit = st.fixed_dictionaries(
    {
        "creditCode": credit_codes,
        "unitName": texts,
        "economicType": codes,
        "officeDivisionCode": codes,
        "postalCode": st.one_of(codes, st.sampled_from(["310001", "202450", "999999"])),
        "accountingStartDate": dates.map(iso),
        "accountingPost": codes,
        "administrativeTitle": codes,
    }
)
residence = st.fixed_dictionaries({"divisionCode": codes, "address": texts, "postalCode": codes})
qualification = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "level": codes,
            "type": codes,
            "acquisitionMethod": codes,
            "acquiredOn": dates.map(iso),
            "appointedPost": codes,
            "appointedOn": dates.map(iso),
            "certificateNumber": texts,
        }
    ),
)

operations = st.one_of(
    st.tuples(
        st.just(ACKNOWLEDGE),
        st.fixed_dictionaries(
            {
                "eligibility": st.lists(
                    st.sampled_from(["WORK_UNIT", "HOUSEHOLD", "RESIDENCE", "SCHOOL"]), max_size=5
                )
            }
        ),
    ),
    st.tuples(
        st.just(SAVE_BASIC),
        st.fixed_dictionaries(
            {
                "countryOrRegion": codes,
                "ethnicGroup": codes,
                "politicalStatus": codes,
                "remarks": texts,
                "gender": st.sampled_from([None, "MALE", "FEMALE"]),
                "birthDate": dates.map(iso),
            }
        ),
    ),
    st.tuples(
        st.just(SAVE_WORK),
        st.one_of(
            st.fixed_dictionaries({"workUnit": work_unit}),
            st.fixed_dictionaries({"residence": residence}),
            st.fixed_dictionaries({"workUnit": work_unit, "residence": residence}),
            st.just({}),
        ),
    ),
    st.tuples(
        st.just(SAVE_EDUCATION),
        st.fixed_dictionaries({"fullTime": education, "partTime": education}),
    ),
    st.tuples(st.just(SAVE_QUALIFICATION), st.fixed_dictionaries({"qualification": qualification})),
    st.tuples(
        st.just(SUBMIT),
        st.fixed_dictionaries(
            {"agreed": st.booleans(), "idempotencyKey": st.one_of(st.none(), st.text(max_size=80))}
        ),
    ),
)
versions = st.one_of(st.just("current"), st.integers(min_value=-(2**31), max_value=2**31 - 1))
ids = st.one_of(st.just("current"), st.text(max_size=80))


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operation=operations, version=versions, registration_id=ids)
async def test_every_mutation_answers_with_success_or_field_errors(
    any_api: Api, operation: tuple[str, dict[str, Any]], version: Any, registration_id: str
) -> None:
    applicant = any_api.services.cache.get("fuzz-applicant")
    if applicant is None:
        applicant = await sign_in(any_api)
        await fill_wizard(applicant)
        any_api.services.cache["fuzz-applicant"] = applicant
    before = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    if before["status"] != "DRAFT":  # a lucky submit: start over with a fresh draft
        await applicant.data(
            WITHDRAW,
            {"input": {"registrationId": before["id"], "expectedVersion": before["version"]}},
        )
        await fill_wizard(applicant)
        before = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    mutation, fields = operation
    variables = {
        "input": {
            "registrationId": before["id"] if registration_id == "current" else registration_id,
            "expectedVersion": before["version"] if version == "current" else version,
            **fields,
        }
    }
    body = await applicant.post(mutation, variables)  # asserts HTTP 200
    assert "errors" not in body or body["errors"] is None, body["errors"]
    payload = next(iter(body["data"].values()))
    after = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    if payload["errors"]:
        assert all(e["code"] and e["message"] and e["field"] is not None for e in payload["errors"])
        assert after == before
    else:
        assert after["version"] >= before["version"]


async def test_basic_sanity_of_the_fuzz_inputs(api: Api) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    body = await applicant.post(
        SAVE_BASIC,
        {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **BASIC,
                "remarks": "含有\x00控制字符",
            }
        },
    )
    payload = body["data"]["saveBasicInfo"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("basicInfo.remarks", "INVALID_FORMAT")
    ]
