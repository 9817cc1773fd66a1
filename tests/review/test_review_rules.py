"""The review's domain functions called directly: return items, the diff, cursors, the queue,
approval blockers, and the operations on a submitted registration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from models import review, wizard
from models.accounts import SessionKind, StaffAccount, StaffRole
from models.attachments import Attachment
from models.db import transaction, utcnow
from models.errors import ErrorCode, ProblemsFound
from models.registration import Registration, Status, Submission, WorkUnitSection
from models.review import QueueFilter, QueueOrder, ReturnItemInput
from services.principal import Principal
from tests.api import Api
from tests.review import PROVINCE, SHANGCHENG, XIHU, reviewer, stored
from tests.wizard import WORK_UNIT, fill_wizard, sign_in, submitted_registration


def problems_of(exc: pytest.ExceptionInfo[ProblemsFound]) -> set[tuple[str, ErrorCode]]:
    return {(p.field, p.code) for p in exc.value.problems}


# -- return items -------------------------------------------------------------------------------


def test_valid_items_are_cleaned() -> None:
    items = review.clean_return_items(
        [
            ReturnItemInput("attachments.ID_PHOTO", "PHOTO_BACKGROUND"),
            ReturnItemInput(" workUnit ", "WRONG_DEPARTMENT", "  请核对  办公场所 "),
            ReturnItemInput("education.fullTime.school", "OTHER", "学校名称应为全称"),
            ReturnItemInput("qualification", "INFORMATION_INCOMPLETE"),
        ]
    )
    assert [(i.field, i.reason.value, i.note) for i in items] == [
        ("attachments.ID_PHOTO", "PHOTO_BACKGROUND", None),
        ("workUnit", "WRONG_DEPARTMENT", "请核对 办公场所"),
        ("education.fullTime.school", "OTHER", "学校名称应为全称"),
        ("qualification", "INFORMATION_INCOMPLETE", None),
    ]


def test_a_return_needs_items() -> None:
    with pytest.raises(ProblemsFound) as exc:
        review.clean_return_items([])
    assert problems_of(exc) == {("items", ErrorCode.RETURN_ITEMS_REQUIRED)}


@pytest.mark.parametrize(
    "path",
    [
        "basicInfo.idNumber",  # identity comes from the login: never reopened
        "basicInfo.name",
        "attachments.SELFIE",
        "attachments",
        "workUnit.unknown",
        "education.fullTime.school.name",
        "",
        "BASICINFO.ETHNICGROUP",
    ],
)
def test_unknown_field_paths(path: str) -> None:
    with pytest.raises(ProblemsFound) as exc:
        review.clean_return_items([ReturnItemInput(path, "INFORMATION_INCORRECT")])
    assert problems_of(exc) == {("items.0.field", ErrorCode.UNKNOWN_FIELD_PATH)}


def test_unknown_reason_and_missing_note_are_reported_per_item() -> None:
    with pytest.raises(ProblemsFound) as exc:
        review.clean_return_items(
            [
                ReturnItemInput("basicInfo.ethnicGroup", "INFORMATION_INCORRECT"),
                ReturnItemInput("basicInfo.remarks", "BAD_VIBES"),
                ReturnItemInput("workUnit.unitName", "OTHER", "   "),
                ReturnItemInput("workUnit.postalCode", "OTHER", "x" * 501),
                ReturnItemInput("basicInfo.ethnicGroup", "INFORMATION_INCORRECT", "again"),
            ]
        )
    assert problems_of(exc) == {
        ("items.1.reasonCode", ErrorCode.UNKNOWN_REASON),
        ("items.2.note", ErrorCode.NOTE_REQUIRED),
        ("items.3.note", ErrorCode.TOO_LONG),
        ("items.4.field", ErrorCode.NOT_ALLOWED),
    }


def test_every_path_the_wizard_freezes_can_be_reopened() -> None:
    sections: dict[str, dict[str, str]] = {
        "basicInfo": wizard._BASIC,
        "workUnit": wizard._WORK,
        "residence": wizard._RESIDENCE,
        "education.fullTime": wizard._EDUCATION,
        "education.partTime": wizard._EDUCATION,
        "qualification": wizard._QUALIFICATION,
    }
    for prefix, names in sections.items():
        assert prefix in review.REVIEWABLE_PATHS
        for name in names:
            assert f"{prefix}.{name}" in review.REVIEWABLE_PATHS
    assert "notice.eligibility" in review.REVIEWABLE_PATHS
    assert "attachments.ID_PHOTO" in review.REVIEWABLE_PATHS


def test_a_long_comment_is_refused() -> None:
    assert review.clean_comment("  请  补充 ") == "请 补充"
    assert review.clean_comment("   ") is None
    with pytest.raises(ProblemsFound) as exc:
        review.clean_comment("字" * 1001)
    assert problems_of(exc) == {("comment", ErrorCode.TOO_LONG)}


# -- the diff -----------------------------------------------------------------------------------

SNAPSHOT: dict[str, Any] = {
    "notice": {"eligibility": ["WORK_UNIT"]},
    "basicInfo": {"name": "张三", "ethnicGroup": {"code": "01", "name": "汉族"}, "remarks": None},
    "workUnit": {"unitName": "甲公司", "postalCode": "310001"},
    "residence": None,
    "education": {"fullTime": {"school": "浙江财经大学"}, "partTime": None},
    "accountingDepartment": {"code": "330102", "name": "上城区财政局", "rule": "OFFICE_DIVISION"},
    "attachments": {"ID_PHOTO": {"id": "a1", "sha256": "0" * 64}},
}


def test_identical_snapshots_have_no_changes() -> None:
    assert review.changes_between(SNAPSHOT, SNAPSHOT) == []


def test_changes_name_fields_and_attachments_with_old_and_new_values() -> None:
    current = {
        **SNAPSHOT,
        "notice": {"eligibility": ["WORK_UNIT", "HOUSEHOLD"]},
        "basicInfo": {**SNAPSHOT["basicInfo"], "ethnicGroup": {"code": "02", "name": "蒙古族"}},
        "workUnit": None,
        "residence": {"divisionCode": "330106", "address": "文三路100号", "postalCode": "310012"},
        "education": {"fullTime": {"school": "浙江大学"}, "partTime": None},
        "accountingDepartment": {
            "code": "330106",
            "name": "西湖区财政局",
            "rule": "RESIDENCE_DIVISION",
        },
        "attachments": {
            "ID_PHOTO": {"id": "a2", "sha256": "1" * 64},
            "FULL_TIME_DEGREE": {"id": "a3", "sha256": "2" * 64},
        },
    }
    changes = {c.field: (c.old, c.new) for c in review.changes_between(SNAPSHOT, current)}
    assert changes == {
        "notice.eligibility": (["WORK_UNIT"], ["WORK_UNIT", "HOUSEHOLD"]),
        "basicInfo.ethnicGroup": ({"code": "01", "name": "汉族"}, {"code": "02", "name": "蒙古族"}),
        "residence.divisionCode": (None, "330106"),
        "residence.address": (None, "文三路100号"),
        "residence.postalCode": (None, "310012"),
        "education.fullTime.school": ("浙江财经大学", "浙江大学"),
        "accountingDepartment": (SNAPSHOT["accountingDepartment"], current["accountingDepartment"]),
        "attachments.ID_PHOTO": (
            {"id": "a1", "sha256": "0" * 64},
            {"id": "a2", "sha256": "1" * 64},
        ),
        "attachments.FULL_TIME_DEGREE": (None, {"id": "a3", "sha256": "2" * 64}),
        "workUnit.unitName": ("甲公司", None),
        "workUnit.postalCode": ("310001", None),
    }


# -- cursors and filters ------------------------------------------------------------------------


def test_cursors_round_trip_and_garbage_is_refused() -> None:
    moment = datetime(2025, 3, 1, 8, 30, 15, 123456, tzinfo=UTC)
    assert review.decode_cursor(review.encode_cursor(moment, "abc")) == (moment, "abc")
    for bad in ("not-a-cursor", "W10", "WyJ4IiwgMV0", "!!!"):
        with pytest.raises(ProblemsFound) as exc:
            review.decode_cursor(bad)
        assert problems_of(exc) == {("after", ErrorCode.INVALID_FORMAT)}


def test_filter_rules() -> None:
    with pytest.raises(ProblemsFound) as exc:
        review.clean_queue_filter(
            QueueFilter(
                submitted_from=date(2025, 3, 2),
                submitted_to=date(2025, 3, 1),
                city_code="hz",
                name="名" * 51,
            )
        )
    assert problems_of(exc) == {
        ("filter.submittedFrom", ErrorCode.DATE_RANGE_BACKWARDS),
        ("filter.cityCode", ErrorCode.DIVISION_UNKNOWN),
        ("filter.name", ErrorCode.TOO_LONG),
    }
    cleaned = review.clean_queue_filter(QueueFilter(statuses=(), name="  张 "))
    assert cleaned.statuses == (Status.SUBMITTED,) and cleaned.name == "张"


# -- on a database ------------------------------------------------------------------------------

APPLICANTS = [
    {"name": "张三", "idType": "01", "idNumber": "330106199003071236", "phone": "13812345678"},
    {"name": "李四", "idType": "01", "idNumber": "330102198503120022", "phone": "13900002222"},
    {"name": "王张五", "idType": "01", "idNumber": "330106199205200032", "phone": "13700003333"},
]


async def _principal(api: Api, department: str) -> Principal:
    await reviewer(api, department)  # creates the dev staff account
    role = StaffRole.PROVINCE if department == PROVINCE else StaffRole.REVIEWER
    async with api.services.db() as db:
        staff = (await db.exec(select(StaffAccount).where(StaffAccount.role == role))).first()
    assert staff is not None and staff.id is not None
    return Principal(
        kind=SessionKind.STAFF,
        session_id="test",
        staff_id=staff.id,
        role=role,
        department_code=staff.department_code,
    )


async def _set_submitted_at(api: Api, registration_id: str, moment: datetime) -> None:
    async with transaction(api.services.db) as db:
        row = await db.get(Registration, registration_id)
        assert row is not None
        row.submitted_at = moment
        db.add(row)


remembered: list[tuple[str, str, str]] = []


async def _remember(session: Any, code: str, name: str, source: str) -> None:
    remembered.append((code, name, source))


async def test_the_queue_scopes_filters_orders_and_pages(any_api: Api) -> None:
    ids = []
    base = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
    for index, identity in enumerate(APPLICANTS):
        applicant = await sign_in(any_api, identity)
        work = index != 2  # the third lives in 西湖区 with no work unit
        registration = await submitted_registration(applicant, work=work)
        ids.append(registration["id"])
        await _set_submitted_at(any_api, registration["id"], base + timedelta(days=index))
    # a draft never shows
    drafter = await sign_in(
        any_api, {"name": "赵六", "idType": "01", "idNumber": "330203198808080043"}
    )
    await fill_wizard(drafter)

    async def queue(department: str | None, **kwargs: Any) -> review.QueuePage:
        first = kwargs.pop("first", 20)
        after = kwargs.pop("after", None)
        async with any_api.services.db() as db:
            return await review.review_queue(
                db,
                department_code=department,
                queue_filter=QueueFilter(**kwargs),
                first=first,
                after=after,
            )

    def names(page: review.QueuePage) -> list[str]:
        return [item.basic.name for item in page.items]

    everything = await queue(None)
    assert names(everything) == ["张三", "李四", "王张五"] and everything.total == 3
    assert names(await queue(None, order=QueueOrder.NEWEST_FIRST)) == ["王张五", "李四", "张三"]
    shangcheng = await queue(SHANGCHENG)
    assert names(shangcheng) == ["张三", "李四"] and shangcheng.total == 2
    assert names(await queue(XIHU)) == ["王张五"]
    assert names(await queue(None, district_code=XIHU)) == ["王张五"]
    assert names(await queue(SHANGCHENG, district_code=XIHU)) == []
    assert names(await queue(None, city_code="330100")) == ["张三", "李四", "王张五"]
    assert names(await queue(None, city_code="330200")) == []
    assert names(await queue(None, name="张")) == ["张三", "王张五"]
    assert names(await queue(None, name="%")) == []  # a wildcard is just a character
    assert names(await queue(None, submitted_from=date(2025, 3, 2))) == ["李四", "王张五"]
    assert names(await queue(None, submitted_to=date(2025, 3, 2))) == ["张三", "李四"]
    on_day = await queue(None, submitted_from=date(2025, 3, 2), submitted_to=date(2025, 3, 2))
    assert names(on_day) == ["李四"]
    assert names(await queue(None, statuses=(Status.RETURNED,))) == []
    assert everything.items[0].submission_count == 1

    # keyset pages: each page continues where the last ended, total stays the count of all
    page = await queue(None, first=2)
    assert names(page) == ["张三", "李四"] and page.has_next_page and page.total == 3
    page = await queue(None, first=2, after=page.items[-1].cursor)
    assert names(page) == ["王张五"] and not page.has_next_page and page.has_previous_page
    newest = await queue(None, first=1, order=QueueOrder.NEWEST_FIRST)
    older = await queue(None, first=1, after=newest.items[0].cursor, order=QueueOrder.NEWEST_FIRST)
    assert names(older) == ["李四"]
    assert names(await queue(None, first=1000)) == ["张三", "李四", "王张五"]  # clamped to 100
    assert names(await queue(None, first=-3)) == [] and (await queue(None, first=0)).total == 3


async def test_approval_blockers_and_confirmed_findings(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    principal = await _principal(any_api, SHANGCHENG)
    rid, version = registration["id"], registration["version"]

    # a required attachment gone missing blocks, whatever the reviewer confirms
    async with transaction(any_api.services.db) as db:
        diploma = (
            await db.exec(
                select(Attachment).where(
                    Attachment.registration_id == rid, Attachment.kind == "FULL_TIME_DIPLOMA"
                )
            )
        ).one()
        diploma.replaced_at = utcnow()
        db.add(diploma)
    remembered.clear()
    with pytest.raises(ProblemsFound) as exc:
        async with transaction(any_api.services.db) as db:
            await review.approve_registration(
                db,
                any_api.services.reference,
                principal,
                registration_id=rid,
                expected_version=version,
                comment=None,
                checked_fields=["attachments.FULL_TIME_DIPLOMA"],
                remember_unit=_remember,
                now=utcnow(),
            )
    assert problems_of(exc) == {
        ("attachments.FULL_TIME_DIPLOMA", ErrorCode.UNRESOLVED_PROBLEMS),
        ("checkedFields.0", ErrorCode.FINDING_NOT_FOUND),  # nothing to confirm there
    }
    assert remembered == []
    async with transaction(any_api.services.db) as db:
        diploma.replaced_at = None
        db.add(diploma)

    # a warning finding blocks until the reviewer confirms having checked it
    async with transaction(any_api.services.db) as db:
        unit = await db.get(WorkUnitSection, rid)
        assert unit is not None
        unit.postal_code = "100001"  # Beijing's range: a finding, not a rule failure
        db.add(unit)

    async def approve(checked: list[str]) -> review.DecisionRecord:
        async with transaction(any_api.services.db) as db:
            _, record = await review.approve_registration(
                db,
                any_api.services.reference,
                principal,
                registration_id=rid,
                expected_version=version,
                comment="  核对无误 ",
                checked_fields=checked,
                remember_unit=_remember,
                now=utcnow(),
            )
        return record

    with pytest.raises(ProblemsFound) as exc:
        await approve(["basicInfo.ethnicGroup"])
    assert problems_of(exc) == {
        ("workUnit.postalCode", ErrorCode.UNRESOLVED_PROBLEMS),
        ("checkedFields.0", ErrorCode.FINDING_NOT_FOUND),
    }
    assert (await stored(any_api, rid))["status"] == "SUBMITTED"
    with pytest.raises(ProblemsFound) as exc:
        await approve(["workUnit.postalCode", "basicInfo.ethnicGroup"])
    assert problems_of(exc) == {("checkedFields.1", ErrorCode.FINDING_NOT_FOUND)}

    record = await approve(["workUnit.postalCode"])
    assert record.decision.outcome is review.ReviewOutcome.APPROVED
    assert record.decision.checked_fields == ["workUnit.postalCode"]
    assert record.decision.comment == "核对无误"
    assert record.submission_sequence == 1
    assert remembered == [(WORK_UNIT["creditCode"], WORK_UNIT["unitName"], "APPROVED")]
    async with any_api.services.db() as db:
        submission = (
            await db.exec(select(Submission).where(Submission.registration_id == rid))
        ).one()
    assert record.decision.submission_id == submission.id
    assert record.decision.reviewer_id == principal.staff_id


async def test_return_reopens_only_the_flagged_paths(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant, work=False)
    principal = await _principal(any_api, XIHU)
    rid = registration["id"]
    now = utcnow()
    async with transaction(any_api.services.db) as db:
        data, record = await review.return_registration(
            db,
            principal,
            registration_id=rid,
            expected_version=registration["version"],
            items=[
                ReturnItemInput("residence", "WRONG_DEPARTMENT"),
                ReturnItemInput("attachments.ID_PHOTO", "PHOTO_UNCLEAR"),
                ReturnItemInput("residence", "INFORMATION_INCORRECT", "地址不完整"),
            ],
            comment=None,
            now=now,
        )
    assert data.registration.status is Status.RETURNED
    # residence reopens the choice of a work unit instead, with the unit's proofs
    reopened = [
        "attachments.CREDIT_CODE_CERTIFICATE",
        "attachments.CURRENT_EMPLOYER_PROOF",
        "attachments.FIRST_EMPLOYER_PROOF",
        "attachments.ID_PHOTO",
        "residence",
        "workUnit",
    ]
    assert data.registration.reopened == reopened
    assert data.registration.decided_at == now
    assert [(i.position, i.field, i.reason_code.value) for i in record.items] == [
        (0, "residence", "WRONG_DEPARTMENT"),
        (1, "attachments.ID_PHOTO", "PHOTO_UNCLEAR"),
        (2, "residence", "INFORMATION_INCORRECT"),
    ]
    saved = await stored(any_api, rid)
    assert saved["reopened"] == reopened
    assert saved["events"][-1] == "RETURNED"
    assert len(saved["items"]) == 3


async def test_the_access_log_records_staff_reads(any_api: Api) -> None:
    applicant = await sign_in(any_api)
    registration = await submitted_registration(applicant)
    principal = await _principal(any_api, SHANGCHENG)
    async with transaction(any_api.services.db) as db:
        await review.record_read(
            db,
            registration_id=registration["id"],
            staff_id=principal.staff_id or 0,
            staff_role=StaffRole.REVIEWER,
            staff_department_code=SHANGCHENG,
            now=utcnow(),
        )
    async with any_api.services.db() as db:
        reads = await review.staff_reads(db, registration["id"])
    assert [(r.staff_id, r.staff_role, r.staff_department_code) for r in reads] == [
        (principal.staff_id, StaffRole.REVIEWER, SHANGCHENG)
    ]
