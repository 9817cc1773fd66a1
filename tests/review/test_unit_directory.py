"""The unit directory keeps its names: approvals never overwrite one, learned names are
unverified, a typed name that differs is an advisory finding, hidden characters are refused."""

from __future__ import annotations

import io
from typing import Any

import pytest

from integrations.unit_directory import import_units_csv
from tests.api import Api
from tests.review import approve, reviewer
from tests.wizard import (
    SAVE_WORK,
    SUBMIT,
    WORK_UNIT,
    attach_directly,
    fill_wizard,
    ok,
    sign_in,
    step,
    submitted_registration,
)

LOOKUP = """query($c: String!) { lookupUnit(creditCode: $c) { outcome unitName verified } }"""
CODE = WORK_UNIT["creditCode"]
OTHER = {"name": "李四", "idType": "01", "idNumber": "11010519491231002X"}


async def _import(api: Api, name: str) -> None:
    report = await import_units_csv(
        api.services.db, io.StringIO(f"credit_code,unit_name\n{CODE},{name}\n")
    )
    assert report.rejected == []


async def _lookup(api: Api) -> dict[str, Any]:
    return (await api.data(LOOKUP, {"c": CODE}))["lookupUnit"]  # type: ignore[no-any-return]


async def test_a_differing_name_is_a_finding_the_reviewer_confirms_and_the_directory_keeps(
    api: Api,
) -> None:
    await _import(api, "杭州示例科技有限公司")
    applicant = await sign_in(api)
    typed = {**WORK_UNIT, "unitName": '=HYPERLINK("http://x","杭州示例")'}
    registration = await submitted_registration(applicant)
    assert not any(p["code"] == "UNIT_NAME_DIFFERS" for p in registration["problems"])

    other = await sign_in(api, OTHER)
    theirs = await fill_wizard(other)
    saved = (await step(other, SAVE_WORK, theirs, workUnit=typed))["registration"]
    finding = [p for p in saved["problems"] if p["code"] == "UNIT_NAME_DIFFERS"]
    assert [p["field"] for p in finding] == ["workUnit.unitName"]
    assert "杭州示例科技有限公司" in finding[0]["message"]

    submitted = await ok(other, SUBMIT, await attach_directly(other, saved), agreed=True)
    staff = await reviewer(api)
    refused = await approve(staff, submitted)
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [
        ("workUnit.unitName", "UNRESOLVED_PROBLEMS")
    ]
    approved = await approve(staff, submitted, checkedFields=["workUnit.unitName"])
    assert approved["errors"] == [] and approved["decision"]["checkedFields"] == [
        "workUnit.unitName"
    ]
    assert await _lookup(applicant) == {
        "outcome": "FOUND",
        "unitName": "杭州示例科技有限公司",
        "verified": True,
    }


async def test_names_learned_from_approvals_are_unverified_and_never_replaced(api: Api) -> None:
    first = await sign_in(api)
    registration = await submitted_registration(first)
    staff = await reviewer(api)
    assert (await approve(staff, registration))["errors"] == []
    learned = await _lookup(first)
    assert learned == {"outcome": "FOUND", "unitName": WORK_UNIT["unitName"], "verified": False}

    second = await sign_in(api, OTHER)
    theirs = await fill_wizard(second)
    saved = await step(second, SAVE_WORK, theirs, workUnit={**WORK_UNIT, "unitName": "别的名字"})
    submitted = await ok(
        second, SUBMIT, await attach_directly(second, saved["registration"]), agreed=True
    )
    approved = await approve(staff, submitted, checkedFields=["workUnit.unitName"])
    assert approved["errors"] == []
    assert (await _lookup(first))["unitName"] == WORK_UNIT["unitName"]  # not overwritten
    await _import(api, "权威名单中的名称")  # an authoritative import does replace it
    assert await _lookup(first) == {
        "outcome": "FOUND",
        "unitName": "权威名单中的名称",
        "verified": True,
    }


@pytest.mark.parametrize(
    "hidden",
    ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u200b", "\u200d", "\ufeff"],
)
async def test_free_text_refuses_bidi_controls_and_zero_width_characters(
    api: Api, hidden: str
) -> None:
    applicant = await sign_in(api)
    registration = await fill_wizard(applicant)
    payload = await step(
        applicant, SAVE_WORK, registration, workUnit={**WORK_UNIT, "unitName": f"杭州{hidden}公司"}
    )
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("workUnit.unitName", "INVALID_FORMAT")
    ]
    report = await import_units_csv(
        api.services.db, io.StringIO(f"credit_code,unit_name\n{CODE},杭州{hidden}公司\n")
    )
    assert report.imported == 0 and len(report.rejected) == 1
