"""One person, one record: approve, change, approve again; withdrawing a change; concurrent
starts on PostgreSQL; a change whose base was replaced meanwhile."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from models.attachments import Attachment, keys_in_use
from models.db import transaction
from models.registration import Registration, Status
from tests.api import Api, running_api, settings_for
from tests.review import SHANGCHENG, XIHU, approve, codes, reviewer, stored
from tests.wizard import (
    BASIC,
    MY_REGISTRATION,
    SAVE_BASIC,
    SAVE_WORK,
    START,
    SUBMIT,
    WITHDRAW,
    WORK_UNIT,
    ok,
    sign_in,
    submitted_registration,
)

MINE = """{ myRegistration { id status kind version amends { id status } }
  myApprovedRegistration { id status kind } }"""
HISTORY = """query($id: ID!) { registration(id: $id) { status history { kind } } }"""
CHANGES = """query($id: ID!) { registration(id: $id) {
  kind amends { id } changesSinceLastSubmission { field old new } } }"""


async def _statuses(api: Api, person_of: str) -> list[tuple[str, str, str | None]]:
    async with api.services.db() as db:
        me = await db.get(Registration, person_of)
        assert me is not None
        rows = (
            await db.exec(
                select(Registration)
                .where(Registration.person_id == me.person_id)
                .order_by(col(Registration.created_at))
            )
        ).all()
    return [(r.status.value, r.kind.value, r.amends_id) for r in rows]


async def _approved(api: Api) -> tuple[Api, dict[str, Any]]:
    applicant = await sign_in(api)
    submitted = await submitted_registration(applicant)
    staff = await reviewer(api)
    assert (await approve(staff, submitted))["errors"] == []
    return applicant, submitted


async def test_approve_change_approve_again(any_api: Api) -> None:
    applicant, first = await _approved(any_api)
    staff = await reviewer(any_api)

    # after the approval, startRegistration opens a change request pre-filled from it
    change = (await applicant.data(START))["startRegistration"]
    assert change["errors"] == []
    draft = change["registration"]
    assert draft["id"] != first["id"] and draft["status"] == "DRAFT"
    assert draft["workUnit"] == first["workUnit"] and draft["education"] == first["education"]
    assert {a["kind"] for a in draft["attachments"]} == {a["kind"] for a in first["attachments"]}
    assert all(s["complete"] for s in draft["steps"] if not s["optional"])
    mine = await applicant.data(MINE)
    assert mine["myRegistration"]["kind"] == "CHANGE"
    assert mine["myRegistration"]["amends"] == {"id": first["id"], "status": "APPROVED"}
    assert mine["myApprovedRegistration"]["id"] == first["id"]
    # starting again answers the open change
    again = (await applicant.data(START))["startRegistration"]["registration"]
    assert again["id"] == draft["id"]

    # withdrawing the change leaves the approval untouched
    await ok(applicant, WITHDRAW, draft)
    mine = await applicant.data(MINE)
    assert mine["myRegistration"]["id"] == first["id"]
    assert mine["myRegistration"]["status"] == "APPROVED"

    draft = (await applicant.data(START))["startRegistration"]["registration"]
    edited = await ok(applicant, SAVE_BASIC, draft, **{**BASIC, "remarks": "调入新单位"})
    submitted = await ok(applicant, SUBMIT, edited, agreed=True)
    seen = (await staff.data(CHANGES, {"id": submitted["id"]}))["registration"]
    assert seen["kind"] == "CHANGE" and seen["amends"] == {"id": first["id"]}
    # against the approved record: only what the applicant changed (the files are shared)
    assert [c["field"] for c in seen["changesSinceLastSubmission"]] == ["basicInfo.remarks"]

    assert (await approve(staff, submitted))["errors"] == []
    statuses = await _statuses(any_api, first["id"])
    assert sorted(s for s, _, _ in statuses) == ["APPROVED", "SUPERSEDED", "WITHDRAWN"]
    assert statuses[0] == ("SUPERSEDED", "INITIAL", None)
    assert statuses[-1] == ("APPROVED", "CHANGE", first["id"])
    mine = await applicant.data(MINE)
    assert mine["myApprovedRegistration"]["id"] == submitted["id"]
    assert mine["myRegistration"]["id"] == submitted["id"]
    history = await stored(any_api, first["id"])
    assert history["events"][-1] == "SUPERSEDED"

    # the database itself refuses a second approved record
    async with any_api.services.db() as db:
        old = await db.get(Registration, first["id"])
        assert old is not None
        old.status = Status.APPROVED
        db.add(old)
        with pytest.raises(IntegrityError):
            await db.commit()


async def test_shared_files_are_never_deleted_while_in_use(any_api: Api) -> None:
    applicant, _first = await _approved(any_api)
    draft = (await applicant.data(START))["startRegistration"]["registration"]
    async with any_api.services.db() as db:
        rows = (
            await db.exec(select(Attachment).where(Attachment.registration_id == draft["id"]))
        ).all()
        keys = [a.storage_key for a in rows]
        assert keys and await keys_in_use(db, keys) == set(keys)
    storage = any_api.services.storage
    assert storage is not None
    await storage.put(keys[0], b"shared file", "image/jpeg")
    await ok(applicant, WITHDRAW, draft)
    # whatever asks to delete it, the approved record still names the file: it stays
    await any_api.services.discard_files([keys[0], "attachments/nobody/none.jpg"])
    assert await storage.read(keys[0]) == b"shared file"


async def test_a_change_whose_base_changed_meanwhile_is_base_superseded(any_api: Api) -> None:
    applicant, first = await _approved(any_api)
    draft = (await applicant.data(START))["startRegistration"]["registration"]
    submitted = await ok(applicant, SUBMIT, draft, agreed=True)
    async with transaction(any_api.services.db) as db:
        base = await db.get(Registration, first["id"])
        assert base is not None
        base.status = Status.SUPERSEDED  # replaced by some other path meanwhile
        db.add(base)
    staff = await reviewer(any_api)
    refused = await approve(staff, submitted)
    assert codes(refused) == {("registrationId", "BASE_SUPERSEDED")}
    assert (await stored(any_api, submitted["id"]))["status"] == "SUBMITTED"


async def test_concurrent_starts_answer_the_same_draft(postgres_url: str, tmp_path: Path) -> None:
    async with running_api(settings_for(postgres_url, tmp_path)) as api:
        applicant = await sign_in(api)
        bodies = await asyncio.gather(*(applicant.post(START) for _ in range(8)))
        assert all("errors" not in body for body in bodies), bodies
        payloads = [body["data"]["startRegistration"] for body in bodies]
        assert all(p["errors"] == [] for p in payloads)
        assert len({p["registration"]["id"] for p in payloads}) == 1
        mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
        assert mine["id"] == payloads[0]["registration"]["id"]
        # and after an approval, concurrent starts of a change likewise
        registration = await submitted_registration_from(applicant, mine)
        staff = await reviewer(api)
        assert (await approve(staff, registration))["errors"] == []
        bodies = await asyncio.gather(*(applicant.post(START) for _ in range(8)))
        assert all("errors" not in body for body in bodies), bodies
        ids = {b["data"]["startRegistration"]["registration"]["id"] for b in bodies}
        assert len(ids) == 1 and registration["id"] not in ids


async def submitted_registration_from(api: Api, _draft: dict[str, Any]) -> dict[str, Any]:
    # fill_wizard starts (answering the open draft) and walks every step
    return await submitted_registration(api)


async def test_a_change_that_moves_is_reviewed_by_the_new_department(api: Api) -> None:
    applicant, first = await _approved(api)
    draft = (await applicant.data(START))["startRegistration"]["registration"]
    assert draft["accountingDepartment"]["code"] == SHANGCHENG  # as approved
    moved = await ok(
        applicant, SAVE_WORK, draft, workUnit={**WORK_UNIT, "officeDivisionCode": XIHU}
    )
    submitted = await ok(applicant, SUBMIT, moved, agreed=True)
    east = await reviewer(api)
    west = await reviewer(api, XIHU, "西湖审核员")
    assert codes(await approve(east, submitted)) == {("registrationId", "WRONG_DEPARTMENT")}
    changes = (await west.data(CHANGES, {"id": submitted["id"]}))["registration"]
    assert {c["field"] for c in changes["changesSinceLastSubmission"]} >= {
        "workUnit.officeDivisionCode",
        "accountingDepartment",
    }
    assert (await approve(west, submitted))["errors"] == []
    # the old department sees its record superseded, in its history
    old = (await east.data(HISTORY, {"id": first["id"]}))["registration"]
    assert old["status"] == "SUPERSEDED" and old["history"][-1]["kind"] == "SUPERSEDED"
