"""The finance bureau's review: the queue, approve or return with reasons, the access log.

Decisions refer to the ``Submission`` (the frozen snapshot) they judged; the items of a return
are rows of their own so that dashboards can count returns by reason. Every status change goes
through ``models.history.record_transition``. Like the wizard, each operation runs inside the
caller's transaction and either completes or raises ``ProblemsFound`` (nothing is written).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol

from sqlalchemy import JSON, Column, UniqueConstraint, and_, func, or_, update
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.accounts import StaffRole
from models.attachments import AttachmentKind
from models.clock import CHINA_TZ
from models.db import enum_type, utcnow
from models.errors import ErrorCode, FieldProblem, ProblemsFound
from models.history import record_transition
from models.reference import ReferenceData
from models.registration import BasicInfoSection, Registration, Status, Submission
from models.registration_data import RegistrationData, load_registration
from models.review_reasons import NOTE_REQUIRED, ReturnReason
from models.wizard import recheck

MAX_COMMENT = 1000
MAX_NOTE = 500
MAX_PAGE = 100
DEFAULT_PAGE = 20


class ReviewOutcome(StrEnum):
    APPROVED = "APPROVED"
    RETURNED = "RETURNED"


# -- tables -----------------------------------------------------------------------------------


class ReviewDecision(SQLModel, table=True):
    """One reviewer's decision on one submission; at most one decision per submission."""

    __tablename__ = "review_decision"

    __table_args__ = (UniqueConstraint("submission_id"),)

    id: int | None = Field(default=None, primary_key=True)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    submission_id: int = Field(foreign_key="submission.id")
    outcome: ReviewOutcome = Field(sa_type=enum_type(ReviewOutcome), index=True)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)
    # approvals: the findings (field paths) the reviewer confirmed having checked
    checked_fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reviewer_id: int = Field(foreign_key="staff_account.id", index=True)
    department_code: str | None = Field(default=None, max_length=6, index=True)
    event_id: int | None = Field(default=None, foreign_key="registration_event.id")
    decided_at: datetime = Field(default_factory=utcnow, index=True)


class ReturnItemRow(SQLModel, table=True):
    """One field or attachment kind a return asks to fix, with its catalogue reason."""

    __tablename__ = "review_return_item"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="review_decision.id", index=True)
    position: int
    field: str = Field(max_length=64)
    reason_code: ReturnReason = Field(sa_type=enum_type(ReturnReason), index=True)
    note: str | None = Field(default=None, max_length=MAX_NOTE)


class StaffReadLog(SQLModel, table=True):
    """Append-only: a staff member read a registration's personal data."""

    __tablename__ = "staff_read_log"

    id: int | None = Field(default=None, primary_key=True)
    registration_id: str = Field(foreign_key="registration.id", index=True, max_length=32)
    staff_id: int = Field(foreign_key="staff_account.id", index=True)
    staff_role: StaffRole = Field(sa_type=enum_type(StaffRole))
    staff_department_code: str | None = Field(default=None, max_length=6)
    read_at: datetime = Field(default_factory=utcnow)


# -- who reviews --------------------------------------------------------------------------------


class Reviewer(Protocol):
    """What the review needs to know about the staff member acting (auth.Principal fits)."""

    @property
    def staff_id(self) -> int | None: ...

    @property
    def department_code(self) -> str | None: ...

    def may_review(self, department_code: str | None) -> bool: ...


# -- what a return may name ---------------------------------------------------------------------

# The sections and fields the wizard edits (identity fields come from the login and are absent).
REVIEWABLE_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "notice": ("eligibility",),
    "basicInfo": (
        "countryOrRegion",
        "ethnicGroup",
        "politicalStatus",
        "remarks",
        "gender",
        "birthDate",
    ),
    "workUnit": (
        "creditCode",
        "unitName",
        "economicType",
        "officeDivisionCode",
        "postalCode",
        "accountingStartDate",
        "accountingPost",
        "administrativeTitle",
    ),
    "residence": ("divisionCode", "address", "postalCode"),
    "education": (),
    "education.fullTime": (
        "level",
        "degree",
        "verificationNumber",
        "major",
        "school",
        "graduationDate",
    ),
    "education.partTime": (
        "level",
        "degree",
        "verificationNumber",
        "major",
        "school",
        "graduationDate",
    ),
    "qualification": (
        "level",
        "type",
        "acquisitionMethod",
        "acquiredOn",
        "appointedPost",
        "appointedOn",
        "certificateNumber",
    ),
}


def _reviewable_paths() -> frozenset[str]:
    paths = set(REVIEWABLE_FIELDS)
    for section, names in REVIEWABLE_FIELDS.items():
        paths.update(f"{section}.{name}" for name in names)
    paths.update(f"attachments.{kind.value}" for kind in AttachmentKind)
    return frozenset(paths)


REVIEWABLE_PATHS: Final[frozenset[str]] = _reviewable_paths()


@dataclass(frozen=True, slots=True)
class ReturnItemInput:
    field: str
    reason_code: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class CleanReturnItem:
    field: str
    reason: ReturnReason
    note: str | None

    def as_event_item(self) -> dict[str, Any]:
        return {"field": self.field, "reasonCode": self.reason.value, "note": self.note}


def _clean_text(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(value.split())
    return cleaned or None


def clean_comment(comment: str | None) -> str | None:
    """The reviewer's comment, trimmed; TOO_LONG over ``MAX_COMMENT`` characters."""
    cleaned = _clean_text(comment)
    if cleaned is not None and len(cleaned) > MAX_COMMENT:
        raise ProblemsFound([FieldProblem("comment", ErrorCode.TOO_LONG)])
    if cleaned is not None and not cleaned.isprintable():
        raise ProblemsFound([FieldProblem("comment", ErrorCode.INVALID_FORMAT)])
    return cleaned


def clean_return_items(items: Sequence[ReturnItemInput]) -> list[CleanReturnItem]:
    """Check every item of a return against the declared paths and the reason catalogue."""
    if not items:
        raise ProblemsFound([FieldProblem("items", ErrorCode.RETURN_ITEMS_REQUIRED)])
    problems: list[FieldProblem] = []
    cleaned: list[CleanReturnItem] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(items):
        prefix = f"items.{index}"
        path = item.field.strip()
        reason: ReturnReason | None = None
        if path not in REVIEWABLE_PATHS:
            problems.append(FieldProblem(f"{prefix}.field", ErrorCode.UNKNOWN_FIELD_PATH))
        try:
            reason = ReturnReason(item.reason_code.strip())
        except ValueError:
            problems.append(FieldProblem(f"{prefix}.reasonCode", ErrorCode.UNKNOWN_REASON))
        note = _clean_text(item.note)
        if note is not None and len(note) > MAX_NOTE:
            problems.append(FieldProblem(f"{prefix}.note", ErrorCode.TOO_LONG))
        elif note is not None and not note.isprintable():
            problems.append(FieldProblem(f"{prefix}.note", ErrorCode.INVALID_FORMAT))
        elif note is None and reason in NOTE_REQUIRED:
            problems.append(FieldProblem(f"{prefix}.note", ErrorCode.NOTE_REQUIRED))
        if reason is not None and (path, reason.value) in seen:
            problems.append(
                FieldProblem(
                    f"{prefix}.field", ErrorCode.NOT_ALLOWED, "同一项的同一原因只需指出一次。"
                )
            )
        if reason is not None:
            seen.add((path, reason.value))
            cleaned.append(CleanReturnItem(path, reason, note))
    if problems:
        raise ProblemsFound(problems)
    return cleaned


# -- approve and return -------------------------------------------------------------------------

# findings a reviewer may confirm as checked; any other finding blocks an approval
_ADVISORY = (ErrorCode.NEEDS_CHECK, ErrorCode.POSTAL_CODE_OUTSIDE_ZHEJIANG)
CONFIRMABLE: Final = frozenset({*_ADVISORY, ErrorCode.UNIT_NAME_DIFFERS})


def _problem(path: str, code: ErrorCode) -> ProblemsFound:
    return ProblemsFound([FieldProblem(path, code)])


async def _reviewable(
    session: AsyncSession, reviewer: Reviewer, registration_id: str, expected_version: int
) -> tuple[RegistrationData, Submission]:
    """The registration, when this reviewer may decide on it now; else the first problem.

    Order: unknown or never submitted (a draft is the applicant's alone) → NOT_FOUND; other
    department → WRONG_DEPARTMENT; stale version → VERSION_CONFLICT (the loser of two racing
    reviewers hears of it); not SUBMITTED (already decided) → INVALID_TRANSITION."""
    data = await load_registration(session, registration_id)
    if data is None or data.registration.submitted_at is None:
        raise _problem("registrationId", ErrorCode.NOT_FOUND)
    registration = data.registration
    if reviewer.staff_id is None or not reviewer.may_review(registration.department_code):
        raise _problem("registrationId", ErrorCode.WRONG_DEPARTMENT)
    if registration.version != expected_version:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    if registration.status != Status.SUBMITTED:
        raise _problem("registrationId", ErrorCode.INVALID_TRANSITION)
    submission = await latest_submission(session, registration.id)
    if submission is None:  # a SUBMITTED registration always has one
        raise _problem("registrationId", ErrorCode.INVALID_TRANSITION)
    return data, submission


async def _claim_version(
    session: AsyncSession, registration: Registration, expected_version: int, now: datetime
) -> None:
    """The same conditional UPDATE as the wizard's: of two reviewers, exactly one wins."""
    result = await session.exec(
        update(Registration)
        .where(
            col(Registration.id) == registration.id,
            col(Registration.version) == expected_version,
            col(Registration.status) == Status.SUBMITTED.value,
        )
        .values(version=expected_version + 1, updated_at=now)
    )
    if result.rowcount != 1:
        raise _problem("expectedVersion", ErrorCode.VERSION_CONFLICT)
    registration.version = expected_version + 1
    registration.updated_at = now


def unresolved_problems(
    data: RegistrationData, reference: ReferenceData, today: date, checked: Iterable[str]
) -> tuple[list[FieldProblem], list[str]]:
    """What stands in the way of an approval, and the findings the reviewer confirmed.

    Blocking: anything incomplete or now breaking a rule, any finding that is a rule failure,
    and every warning finding (registration.problems) whose field is not in ``checked``.
    """
    wanted = set(checked)
    blocking = data.incomplete() + recheck(data, reference, today)
    confirmed: list[str] = []
    for finding in data.findings(today):
        if finding.code in CONFIRMABLE and finding.field in wanted:
            confirmed.append(finding.field)
        else:
            blocking.append(finding)
    problems = [
        FieldProblem(p.field, ErrorCode.UNRESOLVED_PROBLEMS, f"{p.message}（{p.code.value}）")
        for p in blocking
    ]
    return problems, sorted(set(confirmed))


# remembers a unit confirmed by an approval: integrations.unit_directory.remember_unit
UnitMemory = Callable[[AsyncSession, str, str, str], Awaitable[None]]


async def approve_registration(
    session: AsyncSession,
    reference: ReferenceData,
    reviewer: Reviewer,
    *,
    registration_id: str,
    expected_version: int,
    comment: str | None,
    checked_fields: Sequence[str] = (),
    remember_unit: UnitMemory,
    now: datetime,
) -> tuple[RegistrationData, DecisionRecord]:
    """审核通过: status APPROVED, the unit remembered in the directory, the decision recorded.

    ``checked_fields`` are the field paths of warning findings the reviewer has checked.
    """
    cleaned_comment = clean_comment(comment)
    data, submission = await _reviewable(session, reviewer, registration_id, expected_version)
    problems, confirmed = unresolved_problems(
        data, reference, now.date(), (c.strip() for c in checked_fields[:100])
    )
    if problems:
        raise ProblemsFound(problems)
    registration = data.registration
    await _claim_version(session, registration, expected_version, now)
    registration.status = Status.APPROVED
    registration.decided_at = now
    registration.reopened = []
    session.add(registration)
    if data.work_unit is not None:
        await remember_unit(
            session, data.work_unit.credit_code, data.work_unit.unit_name, "APPROVED"
        )
    await session.flush()
    event = await record_transition(
        session,
        registration,
        "APPROVED",
        Status.SUBMITTED,
        actor_kind="STAFF",
        actor_id=reviewer.staff_id,
        now=now,
        comment=cleaned_comment,
    )
    decision = ReviewDecision(
        registration_id=registration.id,
        submission_id=_id(submission.id),
        outcome=ReviewOutcome.APPROVED,
        comment=cleaned_comment,
        checked_fields=confirmed,
        reviewer_id=_id(reviewer.staff_id),
        department_code=registration.department_code,
        event_id=event.id,
        decided_at=now,
    )
    session.add(decision)
    await session.flush()
    return data, DecisionRecord(decision, submission.sequence, [])


async def return_registration(
    session: AsyncSession,
    reviewer: Reviewer,
    *,
    registration_id: str,
    expected_version: int,
    items: Sequence[ReturnItemInput],
    comment: str | None,
    now: datetime,
) -> tuple[RegistrationData, DecisionRecord]:
    """退回修改: status RETURNED with only the flagged fields and attachments reopened."""
    problems: list[FieldProblem] = []
    cleaned: list[CleanReturnItem] = []
    cleaned_comment: str | None = None
    try:
        cleaned = clean_return_items(items)
    except ProblemsFound as exc:
        problems += exc.problems
    try:
        cleaned_comment = clean_comment(comment)
    except ProblemsFound as exc:
        problems += exc.problems
    data, submission = await _reviewable(session, reviewer, registration_id, expected_version)
    if problems:
        raise ProblemsFound(problems)
    registration = data.registration
    await _claim_version(session, registration, expected_version, now)
    registration.status = Status.RETURNED
    registration.decided_at = now
    registration.reopened = sorted({item.field for item in cleaned})
    session.add(registration)
    await session.flush()
    event = await record_transition(
        session,
        registration,
        "RETURNED",
        Status.SUBMITTED,
        actor_kind="STAFF",
        actor_id=reviewer.staff_id,
        now=now,
        comment=cleaned_comment,
        items=[item.as_event_item() for item in cleaned],
    )
    decision = ReviewDecision(
        registration_id=registration.id,
        submission_id=_id(submission.id),
        outcome=ReviewOutcome.RETURNED,
        comment=cleaned_comment,
        reviewer_id=_id(reviewer.staff_id),
        department_code=registration.department_code,
        event_id=event.id,
        decided_at=now,
    )
    session.add(decision)
    await session.flush()
    rows = [
        ReturnItemRow(
            decision_id=_id(decision.id),
            position=position,
            field=item.field,
            reason_code=item.reason,
            note=item.note,
        )
        for position, item in enumerate(cleaned)
    ]
    session.add_all(rows)
    await session.flush()
    return data, DecisionRecord(decision, submission.sequence, rows)


def _id(value: int | None) -> int:
    assert value is not None  # assigned by the flush
    return value


# -- the access log -----------------------------------------------------------------------------


async def record_read(
    session: AsyncSession,
    *,
    registration_id: str,
    staff_id: int,
    staff_role: StaffRole,
    staff_department_code: str | None,
    now: datetime,
) -> StaffReadLog:
    """Append one read of a registration's personal data by a staff member."""
    row = StaffReadLog(
        registration_id=registration_id,
        staff_id=staff_id,
        staff_role=staff_role,
        staff_department_code=staff_department_code,
        read_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def staff_reads(session: AsyncSession, registration_id: str) -> list[StaffReadLog]:
    return list(
        (
            await session.exec(
                select(StaffReadLog)
                .where(StaffReadLog.registration_id == registration_id)
                .order_by(col(StaffReadLog.id))
            )
        ).all()
    )


# -- submissions, decisions and what changed ----------------------------------------------------


async def latest_submission(session: AsyncSession, registration_id: str) -> Submission | None:
    return (
        await session.exec(
            select(Submission)
            .where(Submission.registration_id == registration_id)
            .order_by(col(Submission.sequence).desc())
        )
    ).first()


async def submissions_of(session: AsyncSession, registration_id: str) -> list[Submission]:
    return list(
        (
            await session.exec(
                select(Submission)
                .where(Submission.registration_id == registration_id)
                .order_by(col(Submission.sequence))
            )
        ).all()
    )


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    decision: ReviewDecision
    submission_sequence: int
    items: list[ReturnItemRow]


async def decisions_of(session: AsyncSession, registration_id: str) -> list[DecisionRecord]:
    rows = (
        await session.exec(
            select(ReviewDecision, Submission.sequence)
            .join(Submission, col(Submission.id) == col(ReviewDecision.submission_id))
            .where(ReviewDecision.registration_id == registration_id)
            .order_by(col(ReviewDecision.id))
        )
    ).all()
    ids = [d.id for d, _ in rows]
    items = (
        (
            await session.exec(
                select(ReturnItemRow)
                .where(col(ReturnItemRow.decision_id).in_(ids))
                .order_by(col(ReturnItemRow.decision_id), col(ReturnItemRow.position))
            )
        ).all()
        if ids
        else []
    )
    return [
        DecisionRecord(d, sequence, [i for i in items if i.decision_id == d.id])
        for d, sequence in rows
    ]


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    old: Any
    new: Any


def _is_leaf(path: str, value: Any) -> bool:
    if not isinstance(value, dict):
        return True
    if path == "accountingDepartment" or path.startswith("attachments."):
        return True
    return bool(value) and set(value) <= {"code", "name"}


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if path and _is_leaf(path, value):
        out[path] = value
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), out)


def changes_between(previous: dict[str, Any], current: dict[str, Any]) -> list[Change]:
    """Field by field (and attachment by attachment), what differs between two snapshots.

    A coded value compares as ``{code, name}``, an attachment as its file facts (a re-upload has
    a new id and hash); a field missing on one side is ``None`` there.
    """
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    _flatten(previous, "", before)
    _flatten(current, "", after)
    paths = list(after) + [p for p in before if p not in after]
    return [
        Change(path, before.get(path), after.get(path))
        for path in paths
        if before.get(path) != after.get(path)
    ]


async def changes_since_last_submission(
    session: AsyncSession, registration_id: str
) -> list[Change] | None:
    """What the latest submission changed against the one before; None for a first submission."""
    latest_two = (
        await session.exec(
            select(Submission)
            .where(Submission.registration_id == registration_id)
            .order_by(col(Submission.sequence).desc())
            .limit(2)
        )
    ).all()
    if len(latest_two) < 2:
        return None
    current, previous = latest_two
    return changes_between(previous.snapshot, current.snapshot)


# -- the reviewer's queue -----------------------------------------------------------------------


class QueueOrder(StrEnum):
    OLDEST_FIRST = "OLDEST_FIRST"
    NEWEST_FIRST = "NEWEST_FIRST"


@dataclass(frozen=True, slots=True)
class QueueFilter:
    statuses: tuple[Status, ...] = (Status.SUBMITTED,)
    submitted_from: date | None = None  # inclusive, Beijing time
    submitted_to: date | None = None  # inclusive, Beijing time
    city_code: str | None = None
    district_code: str | None = None  # a county's 会计管理部门 has the county's code
    name: str | None = None  # part of the applicant's name
    order: QueueOrder = QueueOrder.OLDEST_FIRST


@dataclass(frozen=True, slots=True)
class QueueItem:
    registration: Registration
    basic: BasicInfoSection
    submission_count: int
    cursor: str


@dataclass
class QueuePage:
    items: list[QueueItem] = field(default_factory=list)
    total: int = 0
    has_next_page: bool = False
    has_previous_page: bool = False


def encode_cursor(submitted_at: datetime, registration_id: str) -> str:
    raw = json.dumps([submitted_at.astimezone(UTC).isoformat(), registration_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor stands for; INVALID_FORMAT (field ``after``) when it is not ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, rid = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        moment = datetime.fromisoformat(at)
        if not isinstance(rid, str) or len(rid) > 32 or moment.utcoffset() is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise _problem("after", ErrorCode.INVALID_FORMAT) from exc
    return moment, rid


def clean_queue_filter(queue_filter: QueueFilter) -> QueueFilter:
    problems: list[FieldProblem] = []
    start, end = queue_filter.submitted_from, queue_filter.submitted_to
    if start is not None and end is not None and start > end:
        problems.append(FieldProblem("filter.submittedFrom", ErrorCode.DATE_RANGE_BACKWARDS))
    name = _clean_text(queue_filter.name)
    if name is not None and len(name) > 50:
        problems.append(FieldProblem("filter.name", ErrorCode.TOO_LONG))
    elif name is not None and not name.isprintable():
        problems.append(FieldProblem("filter.name", ErrorCode.INVALID_FORMAT))
    for path, code in (
        ("filter.cityCode", queue_filter.city_code),
        ("filter.districtCode", queue_filter.district_code),
    ):
        if code is not None and not (len(code) == 6 and code.isdigit()):
            problems.append(FieldProblem(path, ErrorCode.DIVISION_UNKNOWN))
    if problems:
        raise ProblemsFound(problems)
    statuses = queue_filter.statuses or (Status.SUBMITTED,)
    return QueueFilter(
        statuses=tuple(dict.fromkeys(statuses)),
        submitted_from=start,
        submitted_to=end,
        city_code=queue_filter.city_code,
        district_code=queue_filter.district_code,
        name=name,
        order=queue_filter.order,
    )


async def review_queue(
    session: AsyncSession,
    *,
    department_code: str | None,
    queue_filter: QueueFilter,
    first: int = DEFAULT_PAGE,
    after: str | None = None,
) -> QueuePage:
    """Registrations submitted at least once, of one department (None: the whole province),
    filtered, ordered by submission time (oldest first by default), one keyset page.

    ``first`` is clamped to 0..MAX_PAGE. Bad filters or cursors raise ProblemsFound.
    """
    wanted = clean_queue_filter(queue_filter)
    position = decode_cursor(after) if after else None
    limit = max(0, min(first, MAX_PAGE))
    submitted_at = col(Registration.submitted_at)
    conditions: list[Any] = [
        submitted_at.is_not(None),
        col(Registration.status).in_([s.value for s in wanted.statuses]),
    ]
    if department_code is not None:
        conditions.append(col(Registration.department_code) == department_code)
    if wanted.city_code is not None:
        conditions.append(col(Registration.city_code) == wanted.city_code)
    if wanted.district_code is not None:
        conditions.append(col(Registration.department_code) == wanted.district_code)
    if wanted.name is not None:
        conditions.append(col(BasicInfoSection.name).contains(wanted.name, autoescape=True))
    if wanted.submitted_from is not None:
        conditions.append(submitted_at >= datetime.combine(wanted.submitted_from, time(), CHINA_TZ))
    if wanted.submitted_to is not None:
        end = datetime.combine(wanted.submitted_to + timedelta(days=1), time(), CHINA_TZ)
        conditions.append(submitted_at < end)
    base = (
        select(Registration, BasicInfoSection)
        .join(BasicInfoSection, col(BasicInfoSection.registration_id) == col(Registration.id))
        .where(*conditions)
    )
    total = (
        await session.exec(
            select(func.count())
            .select_from(Registration)
            .join(BasicInfoSection, col(BasicInfoSection.registration_id) == col(Registration.id))
            .where(*conditions)
        )
    ).one()
    newest = wanted.order is QueueOrder.NEWEST_FIRST
    page = base
    if position is not None:
        at, rid = position
        if newest:
            page = page.where(
                or_(submitted_at < at, and_(submitted_at == at, col(Registration.id) < rid))
            )
        else:
            page = page.where(
                or_(submitted_at > at, and_(submitted_at == at, col(Registration.id) > rid))
            )
    order = (
        (submitted_at.desc(), col(Registration.id).desc())
        if newest
        else (submitted_at.asc(), col(Registration.id).asc())
    )
    rows = (await session.exec(page.order_by(*order).limit(limit + 1))).all()
    has_next = len(rows) > limit
    rows = rows[:limit]
    counts = await _submission_counts(session, [r.id for r, _ in rows])
    items = [
        QueueItem(
            registration=r,
            basic=b,
            submission_count=counts.get(r.id, 0),
            cursor=encode_cursor(_aware(r.submitted_at), r.id),
        )
        for r, b in rows
    ]
    return QueuePage(
        items=items, total=int(total), has_next_page=has_next, has_previous_page=after is not None
    )


def _aware(moment: datetime | None) -> datetime:
    assert moment is not None  # the queue holds submitted registrations only
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=UTC)


async def _submission_counts(session: AsyncSession, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(Submission.registration_id, func.count())
            .where(col(Submission.registration_id).in_(ids))
            .group_by(col(Submission.registration_id))
        )
    ).all()
    return {rid: int(count) for rid, count in rows}
