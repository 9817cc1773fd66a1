"""The whole review through HTTP on SQLite and PostgreSQL: submit, return (the photo and one
field), a frozen field refused, fix, resubmit, the diff, approve; snapshots, history, access log."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from models.registration import UnitDirectoryEntry
from tests.api import Api
from tests.images import jpeg, portrait
from tests.review import (
    PROVINCE,
    QUEUE,
    RETURN_REASONS,
    approve,
    codes,
    detail,
    return_,
    reviewer,
    stored,
)
from tests.uploads import upload
from tests.wizard import (
    BASIC,
    MY_REGISTRATION,
    RESIDENT,
    SAVE_BASIC,
    SAVE_WORK,
    SUBMIT,
    WORK_UNIT,
    ok,
    sign_in,
    step,
    submitted_registration,
)


async def reupload_photo(api: Api, registration: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Upload a new ID photo the way the mini-program does; returns the registration and the
    sha256 of the stored (cleaned) file."""
    payload = await upload(
        api, registration["id"], "ID_PHOTO", jpeg(portrait((700, 1000), seed=21))
    )
    assert payload["errors"] == [], payload["errors"]
    stored = await api.http.get(payload["attachment"]["url"])
    assert stored.status_code == 200
    mine = (await api.data(MY_REGISTRATION))["myRegistration"]
    return mine, hashlib.sha256(stored.content).hexdigest()


async def test_submit_return_fix_resubmit_approve(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    submitted = await submitted_registration(applicant)
    assert submitted["status"] == "SUBMITTED"
    rid = submitted["id"]
    staff = await reviewer(any_api)

    # the queue: masked identity and phone, nothing more
    body = await staff.post(QUEUE, {})
    assert "errors" not in body
    queue = body["data"]["registrations"]
    assert queue["totalCount"] == 1 and queue["errors"] == []
    node = queue["edges"][0]["node"]
    assert node["id"] == rid and node["name"] == "张三"
    assert node["maskedIdNumber"] == "330106********1236"
    assert node["maskedPhone"] == "138****5678"
    assert node["accountingDepartment"] == {"code": "330102", "name": "上城区财政局"}
    assert node["submissionCount"] == 1
    assert RESIDENT["idNumber"] not in json.dumps(body) and RESIDENT["phone"] not in json.dumps(
        body
    )

    # the detail: everything, and the read is logged
    full = await detail(staff, rid)
    assert full is not None
    assert full["basicInfo"]["idNumber"] == RESIDENT["idNumber"]
    assert len(full["attachments"]) == len(submitted["requiredAttachments"])
    assert full["problems"] == []
    assert [s["sequence"] for s in full["submissions"]] == [1]
    assert full["submissions"][0]["declaration"] == "同意以上资料填写无误"
    assert full["changesSinceLastSubmission"] is None
    assert (await stored(any_api, rid))["reads"] == 1

    reasons = (await staff.data(RETURN_REASONS))["returnReasons"]
    assert {"code": "PHOTO_BACKGROUND", "name": reasons[0]["name"]} in reasons

    # return: the photo and the ethnic group
    returned = await return_(
        staff,
        full,
        items=[
            {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
            {
                "field": "basicInfo.ethnicGroup",
                "reasonCode": "INFORMATION_INCORRECT",
                "note": "请核对民族",
            },
        ],
        comment="请按要求修改后重新提交",
    )
    assert returned["errors"] == []
    assert returned["registration"]["status"] == "RETURNED"
    assert returned["registration"]["reopenedFields"] == [
        "attachments.ID_PHOTO",
        "basicInfo.ethnicGroup",
    ]
    assert returned["registration"]["version"] == full["version"] + 1
    assert returned["decision"]["outcome"] == "RETURNED"
    assert returned["decision"]["submissionSequence"] == 1
    assert returned["decision"]["reviewer"]["username"] == "devrevi330102"
    assert [
        (i["field"], i["reason"]["code"], i["note"]) for i in returned["decision"]["items"]
    ] == [
        ("attachments.ID_PHOTO", "PHOTO_BACKGROUND", None),
        ("basicInfo.ethnicGroup", "INFORMATION_INCORRECT", "请核对民族"),
    ]

    # the applicant sees what to fix; a frozen field is refused and nothing changes
    mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert mine["status"] == "RETURNED"
    assert mine["reopenedFields"] == ["attachments.ID_PHOTO", "basicInfo.ethnicGroup"]
    frozen = await step(applicant, SAVE_BASIC, mine, **{**BASIC, "politicalStatus": "01"})
    assert codes(frozen) == {("basicInfo.politicalStatus", "FIELD_FROZEN")}
    frozen_unit = await step(
        applicant, SAVE_WORK, mine, workUnit={**WORK_UNIT, "unitName": "另一家公司"}
    )
    assert codes(frozen_unit) == {("workUnit.unitName", "FIELD_FROZEN")}
    again = (await applicant.data(MY_REGISTRATION))["myRegistration"]
    assert again["version"] == mine["version"]
    assert again["basicInfo"]["politicalStatus"]["code"] == BASIC["politicalStatus"]
    assert again["workUnit"]["unitName"] == WORK_UNIT["unitName"]

    # fix the flagged field and the photo, resubmit
    fixed = await ok(applicant, SAVE_BASIC, mine, **{**BASIC, "ethnicGroup": "02"})
    assert fixed["basicInfo"]["ethnicGroup"]["code"] == "02"
    fixed, new_photo_sha = await reupload_photo(applicant, fixed)
    resubmitted = await ok(applicant, SUBMIT, fixed, agreed=True)
    assert resubmitted["status"] == "SUBMITTED" and resubmitted["reopenedFields"] == []

    # the reviewer sees the resubmission and what changed
    queue = (await staff.data(QUEUE, {}))["registrations"]
    assert queue["edges"][0]["node"]["submissionCount"] == 2
    full = await detail(staff, rid)
    assert full is not None
    changes = {c["field"]: c for c in full["changesSinceLastSubmission"]}
    assert set(changes) == {"basicInfo.ethnicGroup", "attachments.ID_PHOTO"}
    assert changes["basicInfo.ethnicGroup"]["old"] == {"code": "01", "name": "汉族"}
    assert changes["basicInfo.ethnicGroup"]["new"] == {"code": "02", "name": "蒙古族"}
    assert changes["attachments.ID_PHOTO"]["old"]["sha256"] == "0" * 64
    assert changes["attachments.ID_PHOTO"]["new"]["sha256"] == new_photo_sha
    first, second = full["submissions"]
    assert (first["sequence"], second["sequence"]) == (1, 2)
    assert first["snapshot"]["basicInfo"]["ethnicGroup"]["code"] == "01"  # unchanged
    assert first["snapshot"]["attachments"]["ID_PHOTO"]["sha256"] == "0" * 64
    assert second["snapshot"]["basicInfo"]["ethnicGroup"]["code"] == "02"
    assert second["basedOnVersion"] == fixed["version"]

    # a stale version is a conflict; then approval
    stale = await approve(staff, {**full, "version": full["version"] - 1})
    assert codes(stale) == {("expectedVersion", "VERSION_CONFLICT")}
    approved = await approve(staff, full, comment="资料齐全，审核通过")
    assert approved["errors"] == []
    assert approved["registration"]["status"] == "APPROVED"
    assert approved["registration"]["decidedAt"] is not None
    assert approved["decision"]["submissionSequence"] == 2

    # the record: decisions on the snapshots they judged, items as rows, history, reads
    record = await stored(any_api, rid)
    assert record["status"] == "APPROVED" and record["reopened"] == []
    assert [d.outcome.value for d in record["decisions"]] == ["RETURNED", "APPROVED"]
    assert record["decisions"][0].submission_id != record["decisions"][1].submission_id
    assert [(i.field, i.reason_code.value) for i in record["items"]] == [
        ("attachments.ID_PHOTO", "PHOTO_BACKGROUND"),
        ("basicInfo.ethnicGroup", "INFORMATION_INCORRECT"),
    ]
    assert record["events"] == ["STARTED", "SUBMITTED", "RETURNED", "RESUBMITTED", "APPROVED"]
    assert record["reads"] == 2
    async with any_api.services.db() as db:
        unit = await db.get(UnitDirectoryEntry, WORK_UNIT["creditCode"])
    assert unit is not None and unit.source == "APPROVED"
    assert unit.unit_name == WORK_UNIT["unitName"]

    # the applicant's timeline, without actors; no staff-only fields
    own = await detail(applicant, rid)
    assert own is not None
    history = own["history"]
    assert [h["kind"] for h in history] == [
        "STARTED",
        "SUBMITTED",
        "RETURNED",
        "RESUBMITTED",
        "APPROVED",
    ]
    returned_event = history[2]
    assert (returned_event["fromStatus"], returned_event["status"]) == ("SUBMITTED", "RETURNED")
    assert returned_event["comment"] == "请按要求修改后重新提交"
    assert [(i["field"], i["reason"]["code"]) for i in returned_event["items"]] == [
        ("attachments.ID_PHOTO", "PHOTO_BACKGROUND"),
        ("basicInfo.ethnicGroup", "INFORMATION_INCORRECT"),
    ]
    for staff_only in ("submissions", "changesSinceLastSubmission", "decisions", "auditTrail"):
        assert own[staff_only] is None
    assert (await stored(any_api, rid))["reads"] == 2  # the applicant's read is no staff read

    # staff see the full record: who did what, and every read
    full = await detail(staff, rid)
    assert full is not None
    trail = [
        (e["kind"], e["actorKind"], (e["actor"] or {}).get("username")) for e in full["auditTrail"]
    ]
    assert trail == [
        ("STARTED", "APPLICANT", None),
        ("SUBMITTED", "APPLICANT", None),
        ("READ", "STAFF", "devrevi330102"),
        ("RETURNED", "STAFF", "devrevi330102"),
        ("RESUBMITTED", "APPLICANT", None),
        ("READ", "STAFF", "devrevi330102"),
        ("APPROVED", "STAFF", "devrevi330102"),
        ("READ", "STAFF", "devrevi330102"),
    ]
    assert [d["outcome"] for d in full["decisions"]] == ["RETURNED", "APPROVED"]
    assert full["decisions"][0]["items"][1]["note"] == "请核对民族"

    # the province sees it too; its read is logged as well
    province = await reviewer(any_api, PROVINCE, "省厅")
    assert (await detail(province, rid)) is not None
    assert (await stored(any_api, rid))["reads"] == 4
