"""Done-when cases over HTTP on SQLite and PostgreSQL: an unclearable photo approved with its
finding confirmed; 本科→硕士 with a new diploma; a work unit switched to a residence after a
return; reasons that do not fit their item."""

from __future__ import annotations

from typing import Any

from tests.api import Api
from tests.images import jpeg, portrait
from tests.review import XIHU, approve, codes, return_, reviewer, stored
from tests.uploads import document_bytes, request_upload, upload
from tests.wizard import (
    FULL_TIME,
    MY_REGISTRATION,
    RESIDENCE,
    SAVE_EDUCATION,
    SAVE_WORK,
    SUBMIT,
    attach_directly,
    fill_wizard,
    ok,
    sign_in,
    step,
)

TRAIL = """query($id: ID!) { registration(id: $id) {
  status problems { field code }
  decisions { outcome checkedFields }
  changesSinceLastSubmission { field }
  auditTrail { kind checkedFields items { field } } } }"""


async def _trail(api: Api, rid: str) -> dict[str, Any]:
    return (await api.data(TRAIL, {"id": rid}))["registration"]  # type: ignore[no-any-return]


async def test_an_unclearable_photo_is_approved_with_the_finding_confirmed(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await attach_directly(applicant, await fill_wizard(applicant))
    green = jpeg(portrait((640, 960), background=(40, 160, 60)))  # 绿色背景: advisory
    assert (await upload(applicant, registration["id"], "ID_PHOTO", green))["errors"] == []
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    submitted = await ok(applicant, SUBMIT, mine, agreed=True)
    rid = submitted["id"]
    staff = await reviewer(any_api)

    blocked = await approve(staff, submitted)
    assert codes(blocked) == {("attachments.ID_PHOTO", "UNRESOLVED_PROBLEMS")}
    # a path without a finding cannot be confirmed, and nothing is decided
    wrong = await approve(staff, submitted, checkedFields=["attachments.ID_PHOTO", "workUnit"])
    assert codes(wrong) == {("checkedFields.1", "FINDING_NOT_FOUND")}
    assert (await stored(any_api, rid))["status"] == "SUBMITTED"

    approved = await approve(staff, submitted, checkedFields=["attachments.ID_PHOTO"])
    assert approved["errors"] == []
    assert approved["decision"]["checkedFields"] == ["attachments.ID_PHOTO"]
    trail = await _trail(staff, rid)
    assert trail["status"] == "APPROVED"
    assert trail["decisions"] == [
        {"outcome": "APPROVED", "checkedFields": ["attachments.ID_PHOTO"]}
    ]
    entries = [e for e in trail["auditTrail"] if e["kind"] == "APPROVED"]
    assert entries == [{"kind": "APPROVED", "checkedFields": ["attachments.ID_PHOTO"], "items": []}]


async def test_bachelor_to_master_with_a_new_diploma(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await attach_directly(applicant, await fill_wizard(applicant))
    submitted = await ok(applicant, SUBMIT, registration, agreed=True)
    staff = await reviewer(any_api)

    # a photo reason does not fit the school: REASON_NOT_APPLICABLE, nothing changes
    misfit = await return_(
        staff,
        submitted,
        items=[{"field": "education.fullTime.school", "reasonCode": "PHOTO_BACKGROUND"}],
    )
    assert codes(misfit) == {("items.0.reasonCode", "REASON_NOT_APPLICABLE")}
    reasons = await staff.data(
        'query { returnReasons(field: "education.fullTime") { code } all: returnReasons { code } }'
    )
    assert "PHOTO_BACKGROUND" not in {r["code"] for r in reasons["returnReasons"]}
    assert "INFORMATION_INCORRECT" in {r["code"] for r in reasons["returnReasons"]}
    assert len(reasons["all"]) > len(reasons["returnReasons"])

    returned = await return_(
        staff,
        submitted,
        items=[{"field": "education.fullTime", "reasonCode": "INFORMATION_INCORRECT"}],
    )
    assert returned["errors"] == []
    assert returned["registration"]["reopenedFields"] == [
        "attachments.FULL_TIME_DEGREE",
        "attachments.FULL_TIME_DIPLOMA",
        "education.fullTime",
    ]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    master = {**FULL_TIME, "level": "14", "degree": "3", "graduationDate": "2015-06-30"}
    mine = await ok(applicant, SAVE_EDUCATION, mine, fullTime=master, partTime=None)
    assert mine["education"]["fullTime"]["level"] == {"code": "14"}
    for kind in ("FULL_TIME_DIPLOMA", "FULL_TIME_DEGREE"):
        uploaded = await upload(applicant, mine["id"], kind, document_bytes())
        assert uploaded["errors"] == [], uploaded["errors"]
    # the photo was not returned: still frozen
    frozen = await request_upload(applicant, mine["id"], "ID_PHOTO", 100_000)
    assert [e["code"] for e in frozen["errors"]] == ["FIELD_FROZEN"]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    resubmitted = await ok(applicant, SUBMIT, mine, agreed=True)
    changed = {c["field"] for c in (await _trail(staff, mine["id"]))["changesSinceLastSubmission"]}
    assert {
        "education.fullTime.level",
        "attachments.FULL_TIME_DIPLOMA",
        "attachments.FULL_TIME_DEGREE",
    } <= changed
    assert (await approve(staff, resubmitted))["errors"] == []


async def test_a_work_unit_becomes_a_residence_after_a_return(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await attach_directly(applicant, await fill_wizard(applicant))
    submitted = await ok(applicant, SUBMIT, registration, agreed=True)
    staff = await reviewer(any_api)
    returned = await return_(
        staff, submitted, items=[{"field": "workUnit", "reasonCode": "WRONG_DEPARTMENT"}]
    )
    assert returned["errors"] == []
    assert "residence" in returned["registration"]["reopenedFields"]
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    # the education was not returned: still frozen
    frozen = await step(applicant, SAVE_EDUCATION, mine, fullTime={**FULL_TIME, "major": "金融"})
    assert {e["code"] for e in frozen["errors"]} == {"FIELD_FROZEN"}
    moved = await ok(applicant, SAVE_WORK, mine, residence=RESIDENCE)
    assert moved["workUnit"] is None and moved["residence"]["divisionCode"] == XIHU
    assert moved["accountingDepartment"]["code"] == XIHU
    assert "CREDIT_CODE_CERTIFICATE" not in {a["kind"] for a in moved["requiredAttachments"]}
    resubmitted = await ok(applicant, SUBMIT, moved, agreed=True)
    assert resubmitted["status"] == "SUBMITTED"
    west = await reviewer(any_api, XIHU, "西湖审核员")
    assert (await approve(west, resubmitted))["errors"] == []
