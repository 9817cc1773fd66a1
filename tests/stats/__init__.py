"""Helpers for the statistics suites: registrations driven through the real domain operations
(wizard and review), and the expected counters computed straight from the raw tables."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from integrations.unit_directory import remember_unit
from models import review, wizard
from models.accounts import Person, SessionKind, StaffAccount, StaffRole
from models.attachments import Attachment, AttachmentKind
from models.db import SessionFactory, create_engine, session_factory, transaction
from models.id_numbers import resident_id_check_char
from models.reference import ReferenceData, load_reference_data
from models.registration import (
    BasicInfoSection,
    EducationKind,
    EducationSection,
    QualificationSection,
    Registration,
    RegistrationEvent,
    Submission,
    WorkUnitSection,
)
from models.registration_data import load_registration
from models.review import ReturnItemRow, ReviewDecision
from models.sections import (
    BasicInfoAnswer,
    EducationAnswer,
    QualificationAnswer,
    ResidenceAnswer,
    WorkUnitAnswer,
)
from models.stats.tables import StatsCounter, StatsDaily
from models.unit_codes import org_code_check_char, uscc_check_char
from services.principal import Principal
from tests.databases import ensure_migrated

STATS_FIELDS = """
  errors { field code message }
  scope { kind department { code name } city { code name } }
  from to minimumGroupSize total totalDisplay
  byStatus { status count display suppressed }
  byDepartment { department { code name } count display suppressed }
  byCity { city { code name } count display suppressed }
  daily { date submitted decided submittedDisplay decidedDisplay suppressed }
  byEducationLevel { option { code name } count display suppressed }
  byDegree { option { code name } count display suppressed }
  byQualificationLevel { option { code name } count display suppressed }
  byEconomicType { option { code name } count display suppressed }
  byIdType { option { code name } count display suppressed }
  turnaroundHours { median p90 }
  firstPassApprovalRate
  returnsByReason { reason { code name } count display suppressed rate }
  backlogByAge { bucket label count display suppressed }
"""
STATS = (
    "query($filter: RegistrationStatsFilter) { registrationStats(filter: $filter) {"
    + STATS_FIELDS
    + "} }"
)

CHINA_OFFSET = timedelta(hours=8)
EDUCATIONS = [("11", "2"), ("14", "3"), ("21", "4"), ("21", "0"), ("31", "0"), ("41", "0")]
ECONOMIC_TYPES = ["01", "02", "05", "06", "99"]


@asynccontextmanager
async def database(url: str) -> AsyncIterator[SessionFactory]:
    await ensure_migrated(url)  # the fixtures' databases are migrated copies already
    engine = create_engine(url, pool_size=20)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@dataclass
class Reg:
    id: str
    person_id: int
    id_type: str = "01"


@dataclass
class Lab:
    """Drives registrations through the wizard and the review, as the API would."""

    db: SessionFactory
    reference: ReferenceData = field(default_factory=load_reference_data)
    rng: random.Random = field(default_factory=lambda: random.Random(8))
    reviewer: Principal | None = None
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=20))
    step_minutes: int = 600  # the most time that passes between two operations

    @property
    def counties(self) -> list[str]:
        return sorted(c for c, d in self.reference.divisions.items() if d.level == "county")

    def now(self) -> datetime:
        """A moment a little after the previous one, never in the future."""
        self.clock = min(
            self.clock + timedelta(minutes=self.rng.randint(1, self.step_minutes)),
            datetime.now(UTC) - timedelta(seconds=1),
        )
        return self.clock

    async def staff(self) -> Principal:
        if self.reviewer is None:
            async with transaction(self.db) as db:
                account = StaffAccount(
                    username=f"prov{uuid.uuid4().hex[:8]}",
                    password_hash="!",
                    role=StaffRole.PROVINCE,
                )
                db.add(account)
                await db.flush()
                self.reviewer = Principal(
                    kind=SessionKind.STAFF,
                    session_id="test",
                    staff_id=account.id,
                    role=StaffRole.PROVINCE,
                )
        return self.reviewer

    async def version(self, reg: Reg) -> int:
        async with self.db() as db:
            registration = await db.get(Registration, reg.id)
            assert registration is not None
            return registration.version

    async def start(self, id_type: str = "01") -> Reg:
        birth = date(1970, 1, 1) + timedelta(days=self.rng.randint(0, 9000))
        if id_type == "01":
            body = f"330106{birth:%Y%m%d}{self.rng.randint(0, 999):03d}"
            number = body + resident_id_check_char(body)
        else:
            id_type, number = "02", f"H{self.rng.randint(10_000_000, 99_999_999)}"
        async with transaction(self.db) as db:
            person = Person(
                person_key=uuid.uuid4().hex,
                name="测试人员",
                id_type=id_type,
                id_number=number,
                phone="13800000000",
            )
            db.add(person)
            await db.flush()
            assert person.id is not None
            data = await wizard.start_registration(
                db, person_id=person.id, new_id=uuid.uuid4().hex, now=self.now()
            )
            return Reg(data.id, person.id, id_type)

    async def fill(
        self,
        reg: Reg,
        *,
        division: str | None = None,
        work: bool = True,
        economic_type: str | None = None,
        education: tuple[str, str] | None = None,
        part_time: tuple[str, str] | None = None,
        qualification: str | None = "__random__",
    ) -> None:
        rng, ref = self.rng, self.reference
        division = division or rng.choice(self.counties)
        education = education or rng.choice(EDUCATIONS)
        if qualification == "__random__":
            qualification = rng.choice([None, "1", "2", "3"])
        kw: dict[str, Any] = {"person_id": reg.person_id, "registration_id": reg.id}
        async with transaction(self.db) as db:
            now = self.now()
            version = (await db.get(Registration, reg.id)).version  # type: ignore[union-attr]
            await wizard.acknowledge_notice(
                db, **kw, expected_version=version, eligibility=["WORK_UNIT"], now=now
            )
            await wizard.save_basic_info(
                db,
                ref,
                **kw,
                expected_version=version + 1,
                answer=BasicInfoAnswer("CHN", "01", "13", None)
                if reg.id_type == "01"
                else BasicInfoAnswer("HKG", "01", "13", None, "1", date(1990, 3, 7)),
                now=now,
            )
            await wizard.save_work_or_residence(
                db,
                ref,
                **kw,
                expected_version=version + 2,
                work_unit=self.work_unit(division, economic_type) if work else None,
                residence=None if work else ResidenceAnswer(division, "文三路100号", "310012"),
                directory_name=None,
                now=now,
            )

            def answer(pair: tuple[str, str] | None, year: int) -> EducationAnswer | None:
                if pair is None:
                    return None
                return EducationAnswer(
                    pair[0], pair[1], "A1B2C3D4E5F6", "会计学", "浙江财经大学", date(year, 6, 30)
                )

            await wizard.save_education(
                db,
                ref,
                **kw,
                expected_version=version + 3,
                full_time=answer(education, 2012),
                part_time=answer(part_time, 2018),
                now=now,
            )
            await wizard.save_qualification(
                db,
                ref,
                **kw,
                expected_version=version + 4,
                answer=None
                if qualification is None
                else QualificationAnswer(
                    qualification, "01", "01", date(2017, 10, 20), None, None, "Z2017330000123"
                ),
                now=now,
            )
            data = await load_registration(db, reg.id)
            assert data is not None
            for kind in data.required_kinds():
                db.add(
                    Attachment(
                        id=f"{reg.id[:20]}{list(AttachmentKind).index(kind):02d}",
                        registration_id=reg.id,
                        kind=kind,
                        storage_key=f"attachments/{reg.id}/{kind.value}.jpg",
                        width=1200,
                        height=1600,
                        byte_size=300_000,
                        sha256="0" * 64,
                    )
                )

    def credit_code(self, division: str) -> str:
        """A valid unified social credit code of its own (concurrent approvals of one unit
        race in the unit directory, which is not what these tests are about)."""
        org = f"{self.rng.randint(0, 99_999_999):08d}"
        body = f"91{division}{org}{org_code_check_char(org)}"
        return body + uscc_check_char(body)

    def work_unit(self, division: str, economic_type: str | None = None) -> WorkUnitAnswer:
        return WorkUnitAnswer(
            self.credit_code(division),
            "杭州示例科技有限公司",
            economic_type or self.rng.choice(ECONOMIC_TYPES),
            division,
            "310001",
            date(2012, 7, 1),
            "01",
            "04",
        )

    async def submit(self, reg: Reg) -> None:
        async with transaction(self.db) as db:
            await wizard.submit_registration(
                db,
                self.reference,
                person_id=reg.person_id,
                registration_id=reg.id,
                expected_version=(await db.get(Registration, reg.id)).version,  # type: ignore[union-attr]
                agreed=True,
                idempotency_key=None,
                now=self.now(),
            )

    async def approve(self, reg: Reg, version: int | None = None) -> None:
        reviewer = await self.staff()
        async with transaction(self.db) as db:
            await review.approve_registration(
                db,
                self.reference,
                reviewer,
                registration_id=reg.id,
                expected_version=version or (await db.get(Registration, reg.id)).version,  # type: ignore[union-attr]
                comment=None,
                remember_unit=remember_unit,
                now=self.now(),
            )

    async def return_(
        self, reg: Reg, reasons: list[tuple[str, str]] | None = None, version: int | None = None
    ) -> None:
        reviewer = await self.staff()
        items = [
            review.ReturnItemInput(f, r, "请补充" if r == "OTHER" else None)
            for f, r in reasons or [("attachments.ID_PHOTO", "PHOTO_BACKGROUND")]
        ]
        async with transaction(self.db) as db:
            await review.return_registration(
                db,
                reviewer,
                registration_id=reg.id,
                expected_version=version or (await db.get(Registration, reg.id)).version,  # type: ignore[union-attr]
                items=items,
                comment=None,
                now=self.now(),
            )

    async def move(self, reg: Reg, division: str) -> None:
        """After a return naming workUnit.officeDivisionCode: the applicant moves the office."""
        async with transaction(self.db) as db:
            data = await load_registration(db, reg.id)
            assert data is not None and data.work_unit is not None
            w = data.work_unit
            await wizard.save_work_or_residence(
                db,
                self.reference,
                person_id=reg.person_id,
                registration_id=reg.id,
                expected_version=data.registration.version,
                work_unit=WorkUnitAnswer(
                    w.credit_code,
                    w.unit_name,
                    w.economic_type,
                    division,
                    w.postal_code,
                    w.accounting_start_date,
                    w.accounting_post,
                    w.administrative_title,
                ),
                residence=None,
                directory_name=None,
                now=self.now(),
            )

    async def withdraw(self, reg: Reg) -> None:
        async with transaction(self.db) as db:
            await wizard.withdraw_registration(
                db,
                person_id=reg.person_id,
                registration_id=reg.id,
                expected_version=(await db.get(Registration, reg.id)).version,  # type: ignore[union-attr]
                now=self.now(),
            )

    async def status(self, reg: Reg) -> str:
        async with self.db() as db:
            registration = await db.get(Registration, reg.id)
            assert registration is not None
            return str(registration.status)


# -- the expected counters, from the raw tables -------------------------------------------------


def china(moment: datetime) -> date:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment.astimezone(UTC) + CHINA_OFFSET).date()


def _scopes(department: str | None, reference: ReferenceData) -> list[str]:
    if department is None:
        return ["P"]
    division = reference.division(department)
    city = division.city_code if division else None
    return ["P", f"C{city}", f"D{department}"] if city else ["P", f"D{department}"]


def _top(reference: ReferenceData, list_name: str, *codes: str | None) -> str:
    order = [o.code for o in reference.options(list_name)]
    present = [c for c in codes if c]
    return min(present, key=order.index) if present else "NONE"


def _hours_bucket(hours: float) -> int:
    edges = [(0, 24, 1), (24, 72, 2), (72, 168, 6), (168, 336, 12), (336, 720, 24), (720, 2160, 72)]
    if hours <= 0:
        return 0
    for start, end, width in edges:
        if hours < end:
            return start + int((hours - start) // width) * width
    return 2160


async def expected_counters(
    db: SessionFactory, reference: ReferenceData
) -> tuple[Counter[Any], Counter[Any]]:
    """Every counter as the module's docstring defines it, from registrations, sections,
    events, submissions and the review's decision and item rows: plain SQL, then tallies."""
    counters: Counter[Any] = Counter()
    daily: Counter[Any] = Counter()
    async with db() as session:
        await _expected_standing(session, reference, counters, daily)
        await _expected_moves(session, reference, daily)
        await _expected_decisions(session, reference, daily)
    return counters, daily


async def _statistical_departments(session: AsyncSession) -> dict[str, str | None]:
    """Each submitted registration's department: that of its newest event."""
    events = (
        await session.exec(
            select(
                col(RegistrationEvent.registration_id),
                col(RegistrationEvent.to_status),
                col(RegistrationEvent.department_code),
            ).order_by(col(RegistrationEvent.id))
        )
    ).all()
    last_department: dict[str, str | None] = {}
    submitted: set[str] = set()
    for rid, to_status, department in events:
        last_department[rid] = department
        if to_status == "SUBMITTED":
            submitted.add(rid)
    return {rid: last_department[rid] for rid in submitted}


async def _expected_standing(
    session: AsyncSession,
    reference: ReferenceData,
    counters: Counter[Any],
    daily: Counter[Any],
) -> None:
    """Current state: status, department, city, the distributions and the backlog."""
    departments = await _statistical_departments(session)
    full, part = EducationSection.__table__.alias(), EducationSection.__table__.alias()  # type: ignore[attr-defined]
    connection = await session.connection()
    profiles: Any = (
        sa_select(
            col(Registration.id),
            col(Registration.status),
            col(Registration.submitted_at),
            col(BasicInfoSection.id_type),
            full.c.level,
            full.c.degree,
            part.c.level,
            part.c.degree,
            col(QualificationSection.level),
            col(WorkUnitSection.economic_type),
        )
        .select_from(Registration)
        .outerjoin(BasicInfoSection, col(BasicInfoSection.registration_id) == col(Registration.id))
        .outerjoin(
            full,
            (full.c.registration_id == col(Registration.id))
            & (full.c.kind == EducationKind.FULL_TIME.value),
        )
        .outerjoin(
            part,
            (part.c.registration_id == col(Registration.id))
            & (part.c.kind == EducationKind.PART_TIME.value),
        )
        .outerjoin(
            QualificationSection,
            col(QualificationSection.registration_id) == col(Registration.id),
        )
        .outerjoin(WorkUnitSection, col(WorkUnitSection.registration_id) == col(Registration.id))
    )
    for rid, status_value, submitted_at, id_type, fl, fd, pl, pd, ql, et in (
        await connection.execute(profiles)
    ).all():
        status = str(status_value)
        department = departments.get(rid)
        codes = {
            "id_type": id_type or "NONE",
            "education_level": _top(reference, "education_level", fl, pl),
            "degree": _top(reference, "degree", fd, pd),
            "qualification_level": ql or "NONE",
            "economic_type": et or "NONE",
        }
        for scope in _scopes(department, reference):
            counters.update(_standing_keys(scope, status, department, reference))
            if status in ("SUBMITTED", "APPROVED"):
                counters.update((scope, dimension, code) for dimension, code in codes.items())
            if status == "SUBMITTED":
                daily[(scope, "waiting", china(submitted_at), "")] += 1


def _standing_keys(
    scope: str, status: str, department: str | None, reference: ReferenceData
) -> list[tuple[str, str, str]]:
    keys = [(scope, "status", status)]
    if department is not None:
        keys.append((scope, "department", department))
        division = reference.division(department)
        if division is not None and division.city_code:
            keys.append((scope, "city", division.city_code))
    return keys


async def _expected_moves(
    session: AsyncSession, reference: ReferenceData, daily: Counter[Any]
) -> None:
    """Submissions, and withdrawals after a submission, by day."""
    moves = (
        await session.exec(
            select(
                col(RegistrationEvent.to_status),
                col(RegistrationEvent.from_status),
                col(RegistrationEvent.department_code),
                col(RegistrationEvent.occurred_at),
            )
        )
    ).all()
    for to_value, from_value, department, occurred_at in moves:
        to_name = str(to_value)
        from_name = str(from_value) if from_value else None
        metric = (
            "submitted"
            if to_name == "SUBMITTED"
            else "withdrawn"
            if to_name == "WITHDRAWN" and from_name not in (None, "DRAFT")
            else None
        )
        if metric:
            for scope in _scopes(department, reference):
                daily[(scope, metric, china(occurred_at), "")] += 1


async def _expected_decisions(
    session: AsyncSession, reference: ReferenceData, daily: Counter[Any]
) -> None:
    """Decisions: the review's own rows, each with the submission it judged."""
    decisions = (
        await session.exec(
            select(ReviewDecision, Submission).join(
                Submission, col(Submission.id) == col(ReviewDecision.submission_id)
            )
        )
    ).all()
    items = (await session.exec(select(ReturnItemRow))).all()
    reasons_of: dict[int, set[str]] = {}
    for item in items:
        reasons_of.setdefault(item.decision_id, set()).add(str(item.reason_code))
    for decision, submission in decisions:
        outcome = str(decision.outcome)
        day = china(decision.decided_at)
        hours = (decision.decided_at - submission.submitted_at).total_seconds() / 3600
        metrics = ["decided", "approved" if outcome == "APPROVED" else "returned"]
        if submission.sequence == 1:
            metrics.append("first_decided")
            if outcome == "APPROVED":
                metrics.append("first_pass")
        codes = [(metric, "") for metric in metrics]
        codes.append(("turnaround", str(_hours_bucket(hours))))
        codes += [("return_reason", r) for r in reasons_of.get(decision.id or 0, set())]
        for scope in _scopes(decision.department_code, reference):
            daily.update((scope, metric, day, code) for metric, code in codes)


async def stored_counters(
    db: SessionFactory,
) -> tuple[Counter[Any], Counter[Any]]:
    """What the aggregate tables hold (zero rows left out)."""
    async with db() as session:
        counters = Counter(
            {
                (r.scope, r.dimension, r.code): r.n
                for r in (await session.exec(select(StatsCounter))).all()
                if r.n
            }
        )
        daily = Counter(
            {
                (r.scope, r.metric, r.day, r.code): r.n
                for r in (await session.exec(select(StatsDaily))).all()
                if r.n
            }
        )
    return counters, daily


def diff(expected: Counter[Any], actual: Counter[Any]) -> dict[Any, tuple[int, int]]:
    keys = set(expected) | set(actual)
    return {k: (expected[k], actual[k]) for k in sorted(keys, key=str) if expected[k] != actual[k]}


# -- signing in through the API ------------------------------------------------------------------


async def staff(api: Any, **identity: str) -> Any:
    """A staff member signed in through devLogin: reviewerDepartmentCode or staffRole."""
    from tests.wizard import sign_in

    return await sign_in(api, {"name": "统计人员", **identity})


async def stats(api: Any, **filter_: Any) -> dict[str, Any]:
    data = await api.data(STATS, {"filter": filter_ or None})
    return data["registrationStats"]  # type: ignore[no-any-return]
