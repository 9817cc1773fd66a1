"""Who may review what, and bad review input: clear errors, nothing written.

Another department's reviewer: the queue does not list the registration, ``registration(id)``
is null, and approve/return answer the FieldError WRONG_DEPARTMENT. Applicants and DASHBOARD
staff get the GraphQL error FORBIDDEN from the queue and the review mutations.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from models import review
from models.registration_data import RegistrationData
from tests.api import Api, running_api, settings_for
from tests.review import (
    APPROVE,
    PROVINCE,
    QUEUE,
    RETURN,
    RETURN_REASONS,
    XIHU,
    approve,
    codes,
    dashboard,
    detail,
    return_,
    review_input,
    reviewer,
    stored,
)
from tests.wizard import MY_REGISTRATION, SUBMIT, fill_wizard, ok, sign_in, submitted_registration

PHOTO = {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"}


async def _unchanged(api: Api, registration: dict[str, Any]) -> None:
    record = await stored(api, registration["id"])
    assert record["status"] == registration["status"]
    assert record["version"] == registration["version"]
    assert record["decisions"] == [] and record["items"] == []
    assert record["events"][-1] in ("SUBMITTED", "STARTED")


def _forbidden(body: dict[str, Any]) -> bool:
    return [e["extensions"]["code"] for e in body.get("errors", [])] == ["FORBIDDEN"]


async def test_another_departments_reviewer_sees_and_decides_nothing(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    other = await reviewer(any_api, XIHU, "西湖审核员")

    queue = (await other.data(QUEUE, {}))["registrations"]
    assert queue["totalCount"] == 0 and queue["edges"] == []
    assert (await detail(other, registration["id"])) is None
    approved = await approve(other, registration)
    assert codes(approved) == {("registrationId", "WRONG_DEPARTMENT")}
    assert approved["registration"] is None and approved["decision"] is None
    returned = await return_(other, registration, items=[PHOTO])
    assert codes(returned) == {("registrationId", "WRONG_DEPARTMENT")}
    assert returned["registration"] is None
    await _unchanged(any_api, registration)
    assert (await stored(any_api, registration["id"]))["reads"] == 0

    province = await reviewer(any_api, PROVINCE, "省厅")
    assert (await province.data(QUEUE, {}))["registrations"]["totalCount"] == 1


async def test_applicants_and_dashboards_are_forbidden(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    board = await dashboard(any_api)
    for user in (applicant, board):
        assert _forbidden(await user.post(QUEUE, {}))
        assert _forbidden(await user.post(APPROVE, review_input(registration)))
        assert _forbidden(await user.post(RETURN, review_input(registration, items=[PHOTO])))
    assert (await detail(board, registration["id"])) is None
    assert _forbidden(await any_api.post(QUEUE, {})) is False  # anonymous: UNAUTHENTICATED
    await _unchanged(any_api, registration)
    # the applicant reads the reason catalogue, but no staff-only field of their own registration
    assert len((await applicant.data(RETURN_REASONS))["returnReasons"]) == 8
    own = await detail(applicant, registration["id"])
    assert own is not None and own["submissions"] is None and own["auditTrail"] is None


async def test_a_draft_cannot_be_reviewed_or_read_by_staff(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    draft = await fill_wizard(applicant)
    staff = await reviewer(any_api)
    assert codes(await approve(staff, draft)) == {("registrationId", "NOT_FOUND")}
    assert codes(await return_(staff, draft, items=[PHOTO])) == {("registrationId", "NOT_FOUND")}
    for who in (staff, await reviewer(any_api, PROVINCE, "省厅")):
        assert await detail(who, draft["id"]) is None  # nor its changes or history
    assert (await detail(applicant, draft["id"])) is not None
    assert (await staff.data(QUEUE, {"filter": {"status": ["DRAFT"]}}))["registrations"][
        "totalCount"
    ] == 0
    await _unchanged(any_api, draft)


async def test_unknown_registration_and_decided_registration(any_api: Api) -> None:
    staff = await reviewer(any_api)
    missing = await approve(staff, {"id": "nope", "version": 1})
    assert codes(missing) == {("registrationId", "NOT_FOUND")}
    too_long = await approve(staff, {"id": "x" * 100, "version": 1})
    assert codes(too_long) == {("registrationId", "NOT_FOUND")}

    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    done = await approve(staff, registration)
    assert done["errors"] == []
    again = await approve(staff, done["registration"])  # current version, but decided
    assert codes(again) == {("registrationId", "INVALID_TRANSITION")}


async def test_bad_review_input_writes_nothing(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    staff = await reviewer(any_api)
    stale = {**registration, "version": registration["version"] - 1}

    cases: list[tuple[dict[str, Any], dict[str, Any], set[tuple[str, str]]]] = [
        (stale, {"items": [PHOTO]}, {("expectedVersion", "VERSION_CONFLICT")}),
        (registration, {"items": []}, {("items", "RETURN_ITEMS_REQUIRED")}),
        (
            registration,
            {"items": [{"field": "basicInfo.ethnicGroup", "reasonCode": "NO_SUCH_REASON"}]},
            {("items.0.reasonCode", "UNKNOWN_REASON")},
        ),
        (
            registration,
            {"items": [PHOTO, {"field": "basicInfo.idNumber", "reasonCode": "OTHER", "note": "x"}]},
            {("items.1.field", "UNKNOWN_FIELD_PATH")},
        ),
        (
            registration,
            {"items": [{"field": "attachments.SELFIE", "reasonCode": "PHOTO_UNCLEAR"}]},
            {("items.0.field", "UNKNOWN_FIELD_PATH")},
        ),
        (
            registration,
            {"items": [{"field": "workUnit.unitName", "reasonCode": "OTHER"}]},
            {("items.0.note", "NOTE_REQUIRED")},
        ),
        (
            registration,
            {"items": [PHOTO], "comment": "长" * 1001},
            {("comment", "TOO_LONG")},
        ),
    ]
    for target, fields, expected in cases:
        payload = await return_(staff, target, **fields)
        assert codes(payload) == expected, fields
        assert payload["decision"] is None
        # the reviewer still sees the registration as it stands
        assert payload["registration"]["version"] == registration["version"]
        assert all(e["message"] for e in payload["errors"])
    assert codes(await approve(staff, stale)) == {("expectedVersion", "VERSION_CONFLICT")}
    await _unchanged(any_api, registration)


async def test_queue_reports_bad_filters_and_cursors(any_api: Api) -> None:
    staff = await reviewer(any_api)
    bad = (
        await staff.data(
            QUEUE,
            {"filter": {"submittedFrom": "2025-03-02", "submittedTo": "2025-03-01"}},
        )
    )["registrations"]
    assert bad["errors"] == [{"field": "filter.submittedFrom", "code": "DATE_RANGE_BACKWARDS"}]
    cursor = (await staff.data(QUEUE, {"after": "garbage"}))["registrations"]
    assert cursor["errors"] == [{"field": "after", "code": "INVALID_FORMAT"}]
    clamped = (await staff.data(QUEUE, {"first": 5000}))["registrations"]
    assert clamped["errors"] == [] and clamped["pageInfo"]["hasNextPage"] is False


async def test_two_reviewers_racing_exactly_one_wins(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load = review.load_registration  # type: ignore[attr-defined]  # patched below

    async def slow_load(session: AsyncSession, registration_id: str) -> RegistrationData | None:
        data = await load(session, registration_id)
        await asyncio.sleep(0.05)  # both reviewers have read the registration before either writes
        return data

    monkeypatch.setattr(review, "load_registration", slow_load)
    async with running_api(settings_for(postgres_url, tmp_path)) as api:
        applicant = await sign_in(api)
        registration = await submitted_registration(applicant)
        first = await reviewer(api)
        second = await reviewer(api, PROVINCE, "省厅")
        for _ in range(3):  # and again on a fresh submission each round
            results = await asyncio.gather(
                approve(first, registration, comment="通过"),
                return_(second, registration, items=[PHOTO]),
            )
            winners = [r for r in results if r["errors"] == []]
            losers = [r for r in results if r["errors"] != []]
            assert len(winners) == 1 and len(losers) == 1
            assert codes(losers[0]) == {("expectedVersion", "VERSION_CONFLICT")}
            record = await stored(api, registration["id"])
            assert record["version"] == registration["version"] + 1
            assert record["events"][-1] in ("APPROVED", "RETURNED")
            assert record["events"][-2] in ("SUBMITTED", "RESUBMITTED")
            if record["status"] == "APPROVED":
                break
            # returned: the applicant resubmits unchanged and the reviewers race again
            mine = (await applicant.data(MY_REGISTRATION))["myRegistration"]
            registration = await ok(applicant, SUBMIT, mine, agreed=True)
        decisions = (await stored(api, registration["id"]))["decisions"]
        assert len({d.submission_id for d in decisions}) == len(decisions)


@pytest.mark.parametrize(
    "field", ["workUnit", "education.partTime", "attachments.PART_TIME_DEGREE"]
)
async def test_whole_sections_and_any_attachment_kind_may_be_named(api: Api, field: str) -> None:
    applicant = await sign_in(api)
    registration = await submitted_registration(applicant)
    staff = await reviewer(api)
    payload = await return_(
        staff, registration, items=[{"field": field, "reasonCode": "INFORMATION_INCOMPLETE"}]
    )
    assert payload["errors"] == []
    assert payload["registration"]["reopenedFields"] == [field]
