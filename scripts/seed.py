"""Fill a database with realistic synthetic registrations, for demos and benchmarks.

    .venv/bin/python -m scripts.seed --count N [--database-url URL] [--seed S] [--days D]

Migrates the database first, then adds N registrations (on top of any already there) with
their people, sections, submissions (with snapshots), histories, and the review's decisions
and return items, spread over the divisions of Zhejiang, the statuses, the last D days
(weekdays busier than weekends, office hours) and the code lists. Each registration follows
a timeline: started, submitted after a few hours, decided after a log-normal wait (returned
about one time in five, for one or two catalogue reasons; a WRONG_DEPARTMENT return moves it
to another department), resubmitted, approved; whatever would happen after now has not
happened yet, so the newest registrations are still DRAFT, SUBMITTED or RETURNED and the
backlog has realistic ages. A few are withdrawn. Every ID number is a valid resident ID (or
another document type) and unique. No attachment files are made.

On PostgreSQL rows go in by binary COPY (asyncpg) in chunks; elsewhere by batched INSERTs.
The status-change effects do not run (no outbox, no SMS): the statistics counters are
recomputed from the raw tables at the end by ``models.stats.rebuild_aggregates``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

import migrate
from models.db import create_engine, session_factory, transaction
from models.reference import ReferenceData, load_reference_data
from models.registration import Status
from models.review_reasons import ReturnReason
from models.stats import CHINA, rebuild_aggregates
from models.tables import metadata
from models.unit_codes import org_code_check_char, uscc_check_char
from settings import Settings

CHUNK = 20_000

COLUMNS: dict[str, tuple[str, ...]] = {
    "person": (
        "id",
        "person_key",
        "name",
        "id_type",
        "id_number",
        "phone",
        "created_at",
        "updated_at",
    ),
    "registration": (
        "id",
        "person_id",
        "status",
        "version",
        "department_code",
        "department_rule",
        "city_code",
        "education_saved_at",
        "qualification_saved_at",
        "reopened",
        "created_at",
        "updated_at",
        "submitted_at",
        "decided_at",
    ),
    "notice_section": ("registration_id", "eligibility", "acknowledged_at"),
    "basic_info_section": (
        "registration_id",
        "name",
        "phone",
        "id_type",
        "id_number",
        "gender",
        "birth_date",
        "country_or_region",
        "ethnic_group",
        "political_status",
        "remarks",
        "saved_at",
    ),
    "work_unit_section": (
        "registration_id",
        "credit_code",
        "unit_name",
        "unit_name_source",
        "economic_type",
        "office_division_code",
        "postal_code",
        "accounting_start_date",
        "accounting_post",
        "administrative_title",
    ),
    "residence_section": ("registration_id", "division_code", "address", "postal_code"),
    "education_section": (
        "registration_id",
        "kind",
        "level",
        "degree",
        "verification_number",
        "major",
        "school",
        "graduation_date",
    ),
    "qualification_section": (
        "registration_id",
        "level",
        "type",
        "acquisition_method",
        "acquired_on",
        "appointed_post",
        "appointed_on",
        "certificate_number",
    ),
    "submission": (
        "id",
        "registration_id",
        "sequence",
        "idempotency_key",
        "based_on_version",
        "snapshot",
        "declaration",
        "submitted_at",
    ),
    "registration_event": (
        "id",
        "registration_id",
        "kind",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_id",
        "comment",
        "items",
        "department_code",
        "occurred_at",
    ),
    "review_decision": (
        "id",
        "registration_id",
        "submission_id",
        "outcome",
        "comment",
        "checked_fields",
        "reviewer_id",
        "department_code",
        "event_id",
        "decided_at",
    ),
    "review_return_item": ("id", "decision_id", "position", "field", "reason_code", "note"),
}
ID_TABLES = ("person", "submission", "registration_event", "review_decision", "review_return_item")

# how the synthetic population is spread (weights need not sum to 1)
CITY_WEIGHTS = {
    "330100": 25,
    "330200": 17,
    "330300": 13,
    "330400": 8,
    "330500": 5,
    "330600": 9,
    "330700": 10,
    "330800": 3,
    "330900": 2,
    "331000": 10,
    "331100": 3,
}
ID_TYPES = (("01", 975), ("02", 10), ("03", 5), ("04", 7), ("05", 3))
EDUCATIONS = (
    (("21", "4"), 380),
    (("21", "0"), 40),
    (("31", "0"), 330),
    (("14", "3"), 80),
    (("14", "0"), 10),
    (("11", "2"), 5),
    (("41", "0"), 80),
    (("61", "0"), 50),
    (("70", "0"), 15),
    (("90", "0"), 10),
)
PART_TIME = ((("21", "4"), 50), (("21", "0"), 30), (("14", "3"), 15), (("31", "0"), 5))
QUALIFICATIONS = ((None, 40), ("1", 35), ("2", 19), ("3", 5.5), ("4", 0.5))
APPOINTED = {"1": "02", "2": "03", "3": "04", "4": "05"}
ECONOMIC_TYPES = (
    ("01", 5),
    ("02", 10),
    ("03", 3),
    ("04", 4),
    ("05", 8),
    ("06", 60),
    ("07", 2),
    ("08", 3),
    ("99", 5),
)
POLITICAL = (("13", 70), ("01", 18), ("03", 10), ("12", 2))
REASONS = (
    (ReturnReason.PHOTO_BACKGROUND, 25),
    (ReturnReason.PHOTO_UNCLEAR, 15),
    (ReturnReason.ATTACHMENT_BLURRED, 20),
    (ReturnReason.ATTACHMENT_MISMATCH, 10),
    (ReturnReason.WRONG_DEPARTMENT, 5),
    (ReturnReason.INFORMATION_INCOMPLETE, 10),
    (ReturnReason.INFORMATION_INCORRECT, 12),
    (ReturnReason.OTHER, 3),
)
REASON_FIELDS = {
    ReturnReason.PHOTO_BACKGROUND: "attachments.ID_PHOTO",
    ReturnReason.PHOTO_UNCLEAR: "attachments.ID_PHOTO",
    ReturnReason.ATTACHMENT_BLURRED: "attachments.FULL_TIME_DIPLOMA",
    ReturnReason.ATTACHMENT_MISMATCH: "attachments.CURRENT_EMPLOYER_PROOF",
    ReturnReason.WRONG_DEPARTMENT: "workUnit.officeDivisionCode",
    ReturnReason.INFORMATION_INCOMPLETE: "education.fullTime.verificationNumber",
    ReturnReason.INFORMATION_INCORRECT: "basicInfo.politicalStatus",
    ReturnReason.OTHER: "basicInfo.remarks",
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国文斌欣怡子涵浩然宇轩雨婷佳琪晨"
SCHOOLS = ("浙江财经大学", "浙江工商大学", "浙江大学", "宁波大学", "温州大学", "杭州电子科技大学")
MAJORS = ("会计学", "财务管理", "审计学", "金融学", "工商管理", "经济学")
UNIT_WORDS = ("科技", "贸易", "建设", "制造", "服务", "医药", "电子", "食品", "物流", "文化")
# birth dates between these (inclusive); every (county, birth date, sequence) is one person
BIRTH_FIRST = date(1960, 1, 1)
BIRTH_DAYS = (date(2003, 12, 31) - BIRTH_FIRST).days + 1
PERMUTE = 1_000_003  # prime, coprime with the number of combinations: a bijection of ids


def weighted(pairs: Sequence[tuple[Any, float]]) -> Callable[[random.Random], Any]:
    """A fast weighted choice over (value, weight) pairs."""
    values = [v for v, _ in pairs]
    cumulative: list[float] = []
    total = 0.0
    for _, w in pairs:
        total += w
        cumulative.append(total)

    def pick(rng: random.Random) -> Any:
        x = rng.random() * total
        lo, hi = 0, len(cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if cumulative[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return values[lo]

    return pick


_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RIC_CHECK = "10X98765432"


def resident_id(body17: str) -> str:
    return (
        body17 + _RIC_CHECK[sum(int(c) * w for c, w in zip(body17, _RIC_WEIGHTS, strict=True)) % 11]
    )


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in COLUMNS}
    )

    def count(self) -> int:
        return sum(len(v) for v in self.tables.values())


@dataclass
class Ids:
    person: int
    submission: int
    registration_event: int
    review_decision: int
    review_return_item: int

    def take(self, name: str) -> int:
        value: int = getattr(self, name) + 1
        setattr(self, name, value)
        return value


class Synth:
    """Makes the rows of one synthetic registration at a time."""

    def __init__(
        self,
        reference: ReferenceData,
        rng: random.Random,
        *,
        now: datetime,
        days: int,
        person_secret: bytes,
        ids: Ids,
        reviewers: dict[str, int],
    ) -> None:
        self.ref, self.rng, self.now, self.days = reference, rng, now, days
        self.secret, self.ids, self.reviewers = person_secret, ids, reviewers
        counties = [d for d in reference.divisions.values() if d.level == "county"]
        by_city: dict[str, list[str]] = {}
        for d in counties:
            by_city.setdefault(d.parent_code or "", []).append(d.code)
        self.by_city = by_city
        self.counties = [d.code for d in counties]
        self.county_pick = weighted(
            [
                (c, CITY_WEIGHTS.get(city, 1) / len(codes))
                for city, codes in by_city.items()
                for c in codes
            ]
        )
        self.id_type = weighted(ID_TYPES)
        self.education = weighted(EDUCATIONS)
        self.part_time = weighted(PART_TIME)
        self.qualification = weighted(QUALIFICATIONS)
        self.economic = weighted(ECONOMIC_TYPES)
        self.political = weighted(POLITICAL)
        self.reason = weighted(REASONS)
        self.names = {
            name: {o.code: o.name for o in reference.options(name)} for name in reference.code_lists
        }
        self.ethnic_codes = [o.code for o in reference.options("ethnic_group")]
        self.posts = [o.code for o in reference.options("accounting_work_position")]
        self.titles = [o.code for o in reference.options("accounting_admin_post")]
        self.combinations = len(self.counties) * BIRTH_DAYS * 1000

    # -- time -------------------------------------------------------------------------------

    def started_at(self) -> datetime:
        rng = self.rng
        for _ in range(3):  # weekends: two in three moved to a weekday
            day = (self.now.astimezone(CHINA) - timedelta(days=rng.random() * self.days)).date()
            if day.weekday() < 5 or rng.random() < 0.35:
                break
        minutes = rng.randint(8 * 60, 22 * 60)
        moment = datetime(day.year, day.month, day.day, tzinfo=CHINA) + timedelta(minutes=minutes)
        moment = moment.astimezone(UTC)
        return moment if moment < self.now else self.now - timedelta(minutes=rng.randint(1, 600))

    def later(self, moment: datetime, median_hours: float, sigma: float) -> datetime:
        hours = min(median_hours * math.exp(self.rng.gauss(0, sigma)), 24 * 120)
        return moment + timedelta(seconds=int(hours * 3600) + self.rng.randint(0, 59))

    # -- people -----------------------------------------------------------------------------

    def person(self, rows: Rows) -> tuple[int, dict[str, Any]]:
        rng = self.rng
        pid = self.ids.take("person")
        slot = (pid * PERMUTE) % self.combinations
        seq, rest = slot % 1000, slot // 1000
        birth = BIRTH_FIRST + timedelta(days=rest % BIRTH_DAYS)
        county = self.counties[rest // BIRTH_DAYS]
        id_type = self.id_type(rng)
        gender = "1" if seq % 2 else "2"
        if id_type == "01":
            number = resident_id(f"{county}{birth:%Y%m%d}{seq:03d}")
            country = "CHN"
        else:
            prefix, width, country = {
                "02": ("H", 8, "HKG"),
                "03": ("", 8, "TWN"),
                "04": ("E", 8, "CHN"),
                "05": ("USA", 12, "CHN"),
            }[id_type]
            number = f"{prefix}{pid % 10**width:0{width}d}"
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        phone = f"1{rng.choice(('38', '39', '58', '59', '88', '87', '36', '35', '50', '86'))}{rng.randint(0, 99_999_999):08d}"
        key = hmac.new(
            self.secret, f"{id_type}:{number.upper()}".encode(), hashlib.sha256
        ).hexdigest()
        created = self.now - timedelta(days=self.days + 1)
        rows.tables["person"].append((pid, key, name, id_type, number, phone, created, created))
        return pid, {
            "name": name,
            "phone": phone,
            "id_type": id_type,
            "id_number": number,
            "gender": gender,
            "birth": birth,
            "country": country,
        }

    # -- one registration -------------------------------------------------------------------

    def named(self, list_name: str, code: str | None) -> dict[str, str] | None:
        return None if code is None else {"code": code, "name": self.names[list_name].get(code, "")}

    def registration(self, rows: Rows) -> None:
        rng, now, t = self.rng, self.now, rows.tables
        pid, who = self.person(rows)
        rid = f"{rng.getrandbits(128):032x}"
        started = self.started_at()
        county = self.county_pick(rng)
        work = rng.random() >= 0.06
        economic = self.economic(rng) if work else None
        education = self.education(rng)
        part = self.part_time(rng) if rng.random() < 0.2 else None
        qualification = self.qualification(rng)
        political = self.political(rng)
        ethnic = "01" if rng.random() < 0.97 else rng.choice(self.ethnic_codes)
        birth: date = who["birth"]
        start_work = date(
            min(birth.year + rng.randint(19, 26), now.year - 1), rng.randint(1, 12), 1
        )
        graduated = date(min(birth.year + 22, now.year - 1), 6, 30)

        # the timeline: each stage happens only if its moment is already past
        stage_draft = rng.random() < 0.06  # abandoned drafts
        submit_at = self.later(started, 5, 1.2)
        version = 1
        events: list[
            tuple[str, str | None, str, str, int | None, list[dict[str, Any]], datetime, bool]
        ] = [("STARTED", None, Status.DRAFT, "APPLICANT", pid, [], started, False)]
        submissions: list[tuple[int, datetime, str, int]] = []  # seq, at, department, version
        decisions: list[tuple[str, datetime, int, list[dict[str, Any]]]] = []
        status = Status.DRAFT
        decided_at: datetime | None = None
        reopened: list[str] = []
        department = county
        filled = 6 if not stage_draft else rng.randint(1, 5)
        if stage_draft or submit_at >= now:
            if rng.random() < 0.1 and stage_draft:
                withdraw_at = self.later(started, 72, 1.0)
                if withdraw_at < now:
                    status = Status.WITHDRAWN
                    events.append(
                        (
                            "WITHDRAWN",
                            Status.DRAFT,
                            Status.WITHDRAWN,
                            "APPLICANT",
                            pid,
                            [],
                            withdraw_at,
                            False,
                        )
                    )
            if not stage_draft:
                filled = rng.randint(1, 5)
        else:
            version += 6
            moment = submit_at
            while True:
                seq = len(submissions) + 1
                submissions.append((seq, moment, department, version))
                kind = "SUBMITTED" if seq == 1 else "RESUBMITTED"
                events.append((kind, status, Status.SUBMITTED, "APPLICANT", pid, [], moment, True))
                version += 1
                status = Status.SUBMITTED
                decide_at = self.later(moment, 26, 0.9)
                if rng.random() < 0.012:  # withdrawn while waiting
                    withdraw_at = moment + (decide_at - moment) * rng.random()
                    if withdraw_at < now:
                        events.append(
                            (
                                "WITHDRAWN",
                                status,
                                Status.WITHDRAWN,
                                "APPLICANT",
                                pid,
                                [],
                                withdraw_at,
                                False,
                            )
                        )
                        status, version = Status.WITHDRAWN, version + 1
                        break
                if decide_at >= now:
                    break
                returned = rng.random() < (0.18 if seq == 1 else 0.06) and seq < 3
                reviewer = self.reviewers.get(department)
                if not returned:
                    events.append(
                        (
                            "APPROVED",
                            Status.SUBMITTED,
                            Status.APPROVED,
                            "STAFF",
                            reviewer,
                            [],
                            decide_at,
                            False,
                        )
                    )
                    decisions.append(("APPROVED", decide_at, seq, []))
                    status, decided_at, version = Status.APPROVED, decide_at, version + 1
                    break
                reasons = {self.reason(rng) for _ in range(rng.choice((1, 1, 2)))}
                items = [
                    {
                        "field": REASON_FIELDS[r]
                        if work or r is not ReturnReason.WRONG_DEPARTMENT
                        else "residence.divisionCode",
                        "reasonCode": r.value,
                        "note": "请按要求补充说明。" if r is ReturnReason.OTHER else None,
                    }
                    for r in sorted(reasons)
                ]
                events.append(
                    (
                        "RETURNED",
                        Status.SUBMITTED,
                        Status.RETURNED,
                        "STAFF",
                        reviewer,
                        items,
                        decide_at,
                        False,
                    )
                )
                decisions.append(("RETURNED", decide_at, seq, items))
                status, decided_at, version = Status.RETURNED, decide_at, version + 1
                reopened = [i["field"] for i in items]
                fate = rng.random()
                next_at = self.later(decide_at, 30, 1.0)
                if next_at >= now or fate < 0.08:
                    break  # still being corrected, or abandoned
                if fate < 0.13:
                    events.append(
                        (
                            "WITHDRAWN",
                            Status.RETURNED,
                            Status.WITHDRAWN,
                            "APPLICANT",
                            pid,
                            [],
                            next_at,
                            False,
                        )
                    )
                    status, version, reopened = Status.WITHDRAWN, version + 1, []
                    break
                if ReturnReason.WRONG_DEPARTMENT in reasons:
                    city = department[:4] + "00"
                    choices = (
                        self.by_city.get(city, self.counties)
                        if rng.random() < 0.7
                        else self.counties
                    )
                    department = rng.choice(
                        [c for c in choices if c != department] or self.counties
                    )
                version += len(items)
                reopened = []
                moment = next_at

        # the sections, as they stand now
        division = self.ref.divisions[department]
        has_department = filled >= 3
        saved = started + timedelta(minutes=20)
        t["registration"].append(
            (
                rid,
                pid,
                status.value,
                version,
                department if has_department else None,
                ("OFFICE_DIVISION" if work else "RESIDENCE_DIVISION") if has_department else None,
                division.city_code if has_department else None,
                saved if filled >= 4 else None,
                saved if filled >= 5 else None,
                reopened,
                started,
                max(e[6] for e in events),
                submissions[-1][1] if submissions else None,
                decided_at,
            )
        )
        t["notice_section"].append((rid, ["WORK_UNIT"] if work else ["RESIDENCE"], started))
        t["basic_info_section"].append(
            (
                rid,
                who["name"],
                who["phone"],
                who["id_type"],
                who["id_number"],
                who["gender"],
                birth,
                who["country"],
                ethnic,
                political,
                None,
                saved if filled >= 2 else None,
            )
        )
        unit_name = f"{division.name}{rng.choice(UNIT_WORDS)}{rng.choice(('有限公司', '股份有限公司', '事务所'))}"
        org = f"{rng.randint(0, 99_999_999):08d}"
        body = f"91{department}{org}{org_code_check_char(org)}"
        credit_code = body + uscc_check_char(body)
        postal = division.postal_code or "310000"
        work_row = (
            rid,
            credit_code,
            unit_name,
            "MANUAL",
            economic,
            department,
            postal,
            start_work,
            rng.choice(self.posts),
            rng.choice(self.titles),
        )
        residence_row = (rid, department, f"{division.name}人民路{rng.randint(1, 999)}号", postal)
        if has_department:
            if work:
                t["work_unit_section"].append(work_row)
            else:
                t["residence_section"].append(residence_row)
        school, major = rng.choice(SCHOOLS), rng.choice(MAJORS)
        verification = f"{rng.getrandbits(48):012X}"
        if filled >= 4:
            t["education_section"].append(
                (
                    rid,
                    "FULL_TIME",
                    education[0],
                    education[1],
                    verification,
                    major,
                    school,
                    graduated,
                )
            )
            if part:
                t["education_section"].append(
                    (
                        rid,
                        "PART_TIME",
                        part[0],
                        part[1],
                        None,
                        "工商管理",
                        school,
                        date(min(graduated.year + 5, now.year - 1), 1, 15),
                    )
                )
        acquired = date(min(graduated.year + rng.randint(1, 8), now.year - 1), 9, 20)
        if filled >= 5 and qualification:
            t["qualification_section"].append(
                (
                    rid,
                    qualification,
                    "01",
                    "01",
                    acquired,
                    APPOINTED[qualification],
                    acquired,
                    f"Z{acquired.year}33{rng.randint(0, 9_999_999):07d}",
                )
            )

        # submissions with their snapshots, events, decisions and return items
        submission_ids: dict[int, int] = {}
        for seq, at, dept, based_on in submissions:
            sid = self.ids.take("submission")
            submission_ids[seq] = sid
            snapshot = self.snapshot(
                who,
                work_row if work else None,
                None if work else residence_row,
                education,
                part,
                qualification,
                dept,
                work,
                ethnic,
                political,
                graduated,
                acquired,
                major,
                school,
                verification,
            )
            t["submission"].append(
                (sid, rid, seq, None, based_on, snapshot, "同意以上资料填写无误", at)
            )
        event_ids: list[int] = []
        dept_now: str | None = None
        submitted_seen = 0
        for kind, from_status, to_status, actor_kind, actor_id, items, at, is_submission in events:
            eid = self.ids.take("registration_event")
            event_ids.append(eid)
            if is_submission:
                submitted_seen += 1
                dept_now = submissions[submitted_seen - 1][2]
            elif kind == "WITHDRAWN" and submitted_seen == 0:
                dept_now = department if has_department else None
            t["registration_event"].append(
                (
                    eid,
                    rid,
                    kind,
                    from_status,
                    to_status,
                    actor_kind,
                    actor_id,
                    None,
                    items,
                    dept_now,
                    at,
                )
            )
        decision_events = [
            e for e, ev in zip(event_ids, events, strict=True) if ev[0] in ("APPROVED", "RETURNED")
        ]
        for (outcome, at, seq, items), eid in zip(decisions, decision_events, strict=True):
            did = self.ids.take("review_decision")
            dept = submissions[seq - 1][2]
            t["review_decision"].append(
                (
                    did,
                    rid,
                    submission_ids[seq],
                    outcome,
                    None,
                    [],
                    self.reviewers[dept],
                    dept,
                    eid,
                    at,
                )
            )
            for position, item in enumerate(items):
                t["review_return_item"].append(
                    (
                        self.ids.take("review_return_item"),
                        did,
                        position,
                        item["field"],
                        item["reasonCode"],
                        item["note"],
                    )
                )

    def snapshot(
        self,
        who: dict[str, Any],
        work_row: tuple[Any, ...] | None,
        residence_row: tuple[Any, ...] | None,
        education: tuple[str, str],
        part: tuple[str, str] | None,
        qualification: str | None,
        department: str,
        work: bool,
        ethnic: str,
        political: str,
        graduated: date,
        acquired: date,
        major: str,
        school: str,
        verification: str,
    ) -> dict[str, Any]:
        n = self.named
        bureau = self.ref.divisions[department].department
        return {
            "notice": {"eligibility": ["WORK_UNIT"] if work else ["RESIDENCE"]},
            "basicInfo": {
                "name": who["name"],
                "phone": who["phone"],
                "idType": n("id_document_type", who["id_type"]),
                "idNumber": who["id_number"],
                "gender": n("gender", who["gender"]),
                "birthDate": who["birth"].isoformat(),
                "countryOrRegion": n("country_region", who["country"]),
                "ethnicGroup": n("ethnic_group", ethnic),
                "politicalStatus": n("political_status", political),
                "remarks": None,
            },
            "workUnit": None
            if work_row is None
            else {
                "creditCode": work_row[1],
                "unitName": work_row[2],
                "economicType": n("unit_economic_type", work_row[4]),
                "officeDivisionCode": department,
                "postalCode": work_row[6],
                "accountingStartDate": work_row[7].isoformat(),
                "accountingPost": n("accounting_work_position", work_row[8]),
                "administrativeTitle": n("accounting_admin_post", work_row[9]),
            },
            "residence": None
            if residence_row is None
            else {
                "divisionCode": department,
                "address": residence_row[2],
                "postalCode": residence_row[3],
            },
            "education": {
                "fullTime": {
                    "level": n("education_level", education[0]),
                    "degree": n("degree", education[1]),
                    "verificationNumber": verification,
                    "major": major,
                    "school": school,
                    "graduationDate": graduated.isoformat(),
                },
                "partTime": None
                if part is None
                else {
                    "level": n("education_level", part[0]),
                    "degree": n("degree", part[1]),
                    "verificationNumber": None,
                    "major": "工商管理",
                    "school": school,
                    "graduationDate": None,
                },
            },
            "qualification": None
            if qualification is None
            else {
                "level": n("qualification_level", qualification),
                "type": n("qualification_type", "01"),
                "acquisitionMethod": n("qualification_acquisition_method", "01"),
                "acquiredOn": acquired.isoformat(),
                "appointedPost": n("appointed_technical_position", APPOINTED[qualification]),
                "appointedOn": acquired.isoformat(),
                "certificateNumber": None,
            },
            "accountingDepartment": {
                "code": bureau.code,
                "name": bureau.name,
                "rule": "OFFICE_DIVISION" if work else "RESIDENCE_DIVISION",
            },
            "attachments": {},
        }


# -- writing ------------------------------------------------------------------------------------


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reviewers(url: str, reference: ReferenceData) -> dict[str, int]:
    """One seeded reviewer account per county department (no password: never signs in)."""
    table = metadata.tables["staff_account"]
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            existing = {
                row.department_code: row.id
                for row in await connection.execute(
                    select(table.c.id, table.c.department_code).where(
                        table.c.username.like("seed%")
                    )
                )
            }
            now = datetime.now(UTC)
            missing = [
                {
                    "username": f"seed{code}",
                    "display_name": f"示例审核员{code}",
                    "password_hash": "!seeded-no-login",
                    "role": "REVIEWER",
                    "department_code": code,
                    "failed_attempts": 0,
                    "active": True,
                    "created_at": now,
                }
                for code, d in reference.divisions.items()
                if d.level == "county" and code not in existing
            ]
            if missing:
                await connection.execute(insert(table), missing)
            return {
                row.department_code: row.id
                for row in await connection.execute(
                    select(table.c.id, table.c.department_code).where(
                        table.c.username.like("seed%")
                    )
                )
            }
    finally:
        await engine.dispose()


async def _max_ids(url: str) -> Ids:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            values = {}
            for name in ID_TABLES:
                table = metadata.tables[name]
                values[name] = (
                    await connection.execute(select(func.coalesce(func.max(table.c.id), 0)))
                ).scalar_one()
            return Ids(**values)
    finally:
        await engine.dispose()


PG_GENERATOR_PLACEHOLDER


class SqlAlchemyWriter:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    async def open(self) -> None:
        pass

    async def write(self, rows: Rows) -> None:
        async with self.engine.begin() as connection:
            for table, columns in COLUMNS.items():
                batch = [dict(zip(columns, row, strict=True)) for row in rows.tables[table]]
                if batch:
                    await connection.execute(insert(metadata.tables[table]), batch)

    async def close(self) -> None:
        await self.engine.dispose()


@dataclass(frozen=True, slots=True)
class SeedReport:
    registrations: int
    rows: int
    load_seconds: float
    aggregate_seconds: float


async def seed(
    url: str,
    count: int,
    *,
    rng_seed: int | None = None,
    days: int = 730,
    now: datetime | None = None,
    person_secret: bytes | None = None,
    progress: Callable[[str], None] | None = None,
) -> SeedReport:
    """Add ``count`` synthetic registrations to the database at ``url`` and rebuild the
    statistics counters; returns what was done and how long it took."""
    started = time.perf_counter()
    await migrate.upgrade(url)
    reference = load_reference_data()
    reviewers = await _reviewers(url, reference)
    ids = await _max_ids(url)
    secret = person_secret or Settings().person_key_secret.get_secret_value().encode()
    synth = Synth(
        reference,
        random.Random(rng_seed),  # noqa: S311 - synthetic data, not secrets
        now=now or datetime.now(UTC),
        days=days,
        person_secret=secret,
        ids=ids,
        reviewers=reviewers,
    )
    writer: PostgresWriter | SqlAlchemyWriter = (
        PostgresWriter(url)
        if make_url(url).get_backend_name() == "postgresql"
        else SqlAlchemyWriter(url)
    )
    await writer.open()
    total_rows = 0
    try:
        done = 0
        while done < count:
            rows = Rows()
            for _ in range(min(CHUNK, count - done)):
                synth.registration(rows)
            await writer.write(rows)
            done += min(CHUNK, count - done)
            total_rows += rows.count()
            if progress:
                progress(f"{done:,} registrations ({time.perf_counter() - started:.0f} s)")
    finally:
        await writer.close()
    loaded = time.perf_counter()
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            if make_url(url).get_backend_name() == "postgresql":
                await session.exec(text("SET LOCAL work_mem = '64MB'"))  # type: ignore[call-overload]
            await rebuild_aggregates(session)
    finally:
        await engine.dispose()
    finished = time.perf_counter()
    return SeedReport(count, total_rows, loaded - started, finished - loaded)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.seed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--count", type=int, required=True, help="registrations to add")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument("--days", type=int, default=730, help="spread over the last DAYS days")
    args = parser.parse_args(argv)
    if args.count < 0 or args.days < 1:
        parser.error("--count must be >= 0 and --days >= 1")
    url = args.database_url or Settings().database_url
    report = asyncio.run(seed(url, args.count, rng_seed=args.seed, days=args.days, progress=print))
    print(
        f"seeded {report.registrations:,} registrations ({report.rows:,} rows) in "
        f"{report.load_seconds:.1f} s, statistics rebuilt in {report.aggregate_seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
