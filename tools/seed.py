"""Fill a database with realistic synthetic registrations, for demos and benchmarks.

    .venv/bin/python -m tools.seed --count N [--database-url URL] [--seed S] [--days D]

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

# ruff: noqa: S608 - the SQL below is built only from this module's constants

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import math
import random
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

import server.migrate as migrate
from config.settings import Settings
from models.clock import CHINA_TZ
from models.db import create_engine, session_factory, transaction
from models.reference import ReferenceData, load_reference_data
from models.registration import Status
from models.review_reasons import ReturnReason
from models.stats import rebuild_aggregates
from models.tables import metadata
from models.unit_codes import USCC_CHARSET, org_code_check_char, uscc_check_char

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
            day = (self.now.astimezone(CHINA_TZ) - timedelta(days=rng.random() * self.days)).date()
            if day.weekday() < 5 or rng.random() < 0.35:
                break
        minutes = rng.randint(8 * 60, 22 * 60)
        moment = datetime(day.year, day.month, day.day, tzinfo=CHINA_TZ) + timedelta(
            minutes=minutes
        )
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
                    "login_epoch": 0,
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


# -- PostgreSQL: the same population, generated by the server ---------------------------------


def distribution(pairs: Sequence[tuple[Any, float]]) -> tuple[list[str], list[float]]:
    """Values and the lower bounds of their shares of [0, 1): ``width_bucket(random(), bounds)``
    picks a value with its weight (a binary search: no long array to walk)."""
    total = sum(w for _, w in pairs)
    values: list[str] = []
    bounds: list[float] = []
    seen = 0.0
    for value, weight in pairs:
        values.append(
            "" if value is None else "|".join(value) if isinstance(value, tuple) else str(value)
        )
        bounds.append(seen / total)
        seen += weight
    return values, bounds


def _pick(n: int) -> str:
    """SQL: a weighted pick from the distribution in parameters $n (values) and $n+1 (bounds)."""
    return f"(${n}::text[])[width_bucket(random(), ${n + 1}::float8[])]"


def _uniform(array: str) -> str:
    return f"({array})[1 + floor(random() * cardinality({array}))::int]"


def _hours(median: float, sigma: float) -> str:
    """SQL: a log-normal number of hours (capped at 120 days), as Synth.later draws them."""
    normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    return f"least({median} * exp({sigma} * {normal}), 2880)"


def _after(start: str, hours: str) -> str:
    return f"({start} + make_interval(secs => ({hours}) * 3600))"


def _digits_sum(text_expr: str, weights: Sequence[int], last_may_be_x: bool = False) -> str:
    terms = []
    for i, w in enumerate(weights, start=1):
        char = f"substr({text_expr}, {i}, 1)"
        value = (
            f"(CASE WHEN {char} = 'X' THEN 29 ELSE {char}::int END)"
            if last_may_be_x and i == len(weights)
            else f"{char}::int"
        )
        terms.append(f"{value} * {w}")
    return " + ".join(terms)


_USCC_POWERS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_REASON_FIELD = (
    "CASE {r} WHEN 'PHOTO_BACKGROUND' THEN 'attachments.ID_PHOTO' "
    "WHEN 'PHOTO_UNCLEAR' THEN 'attachments.ID_PHOTO' "
    "WHEN 'ATTACHMENT_BLURRED' THEN 'attachments.FULL_TIME_DIPLOMA' "
    "WHEN 'ATTACHMENT_MISMATCH' THEN CASE WHEN work THEN 'attachments.CURRENT_EMPLOYER_PROOF' "
    "ELSE 'attachments.FULL_TIME_DIPLOMA' END "
    "WHEN 'WRONG_DEPARTMENT' THEN CASE WHEN work THEN 'workUnit.officeDivisionCode' "
    "ELSE 'residence.divisionCode' END "
    "WHEN 'INFORMATION_INCOMPLETE' THEN 'education.fullTime.verificationNumber' "
    "WHEN 'INFORMATION_INCORRECT' THEN 'basicInfo.politicalStatus' "
    "ELSE 'basicInfo.remarks' END"
)


def _item(reason: str) -> str:
    return (
        f"json_build_object('field', {_REASON_FIELD.format(r=reason)}, 'reasonCode', {reason}, "
        f"'note', CASE WHEN {reason} = 'OTHER' THEN '请按要求补充说明。' END)"
    )


def _items(a: str, b: str) -> str:
    first = f'CASE WHEN {a} COLLATE "C" < {b} THEN {a} ELSE {b} END'
    second = f'CASE WHEN {a} COLLATE "C" < {b} THEN {b} ELSE {a} END'
    return (
        f"CASE WHEN {b} IS NULL OR {b} = {a} THEN json_build_array({_item(a)}) "
        f"ELSE json_build_array({_item(first)}, {_item(second)}) END"
    )


# (alias, code list, code): the coded answers a snapshot shows with their names
_SNAPSHOT_NAMES = (
    ("n_idt", "id_document_type", "t.id_type"),
    ("n_gen", "gender", "t.gender"),
    ("n_cty", "country_region", "t.country"),
    ("n_eth", "ethnic_group", "t.ethnic"),
    ("n_pol", "political_status", "t.political"),
    ("n_fl", "education_level", "split_part(t.edu, '|', 1)"),
    ("n_fd", "degree", "split_part(t.edu, '|', 2)"),
    ("n_pl", "education_level", "split_part(t.pt, '|', 1)"),
    ("n_pd", "degree", "split_part(t.pt, '|', 2)"),
    ("n_ql", "qualification_level", "t.qual"),
    ("n_qt", "qualification_type", "'01'"),
    ("n_qm", "qualification_acquisition_method", "'01'"),
    ("n_ap", "appointed_technical_position", "'0' || (t.qual::int + 1)::text"),
    ("n_et", "unit_economic_type", "t.econ"),
    ("n_wp", "accounting_work_position", "t.post"),
    ("n_at", "accounting_admin_post", "t.title"),
)


def _name(alias: str, reference: ReferenceData) -> str:
    """SQL: ``{code, name}`` of a code as JSON, a constant picked by a CASE over the code list
    (null for no code), rather than an object built for every row."""
    list_name, code = next((n, c) for a, n, c in _SNAPSHOT_NAMES if a == alias)

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    whens = " ".join(
        f"WHEN {literal(o.code)} THEN "
        f"{literal(json.dumps({'code': o.code, 'name': o.name}, ensure_ascii=False))}::json"
        for o in reference.options(list_name)
    )
    return f"CASE {code} {whens} END"


# Plan parameters: $1 count, $2 person id base, $3 run tag, $4 now, $5 days, $6 county list,
# then each distribution as (values, bounds) from $7 on, in this order:
PLAN_DISTRIBUTIONS = (
    "id_type",
    "county",
    "econ",
    "edu",
    "pt",
    "qual",
    "political",
    "ethnic",
    "post",
    "title",
    "phone",
    "school",
    "major",
    "word",
    "suffix",
    "reason",
)


def _p(name: str) -> str:
    return _pick(7 + 2 * PLAN_DISTRIBUTIONS.index(name))


def _plan_statements(reference: ReferenceData) -> list[str]:
    """The timeline of every registration, in temporary tables, ending in ``_seed_tl``."""
    year_now = "extract(year FROM $4::timestamptz)::int - 1"
    plan = f"""
        CREATE TEMP TABLE _seed_plan ON COMMIT DROP AS
        SELECT q.*,
               CASE q.id_type
                   WHEN '01' THEN q.body || substr('10X98765432',
                       1 + ({_digits_sum("q.body", _RIC_WEIGHTS)}) % 11, 1)
                   WHEN '02' THEN 'H' || lpad((q.pid % 100000000)::text, 8, '0')
                   WHEN '03' THEN lpad((q.pid % 100000000)::text, 8, '0')
                   WHEN '04' THEN 'E' || lpad((q.pid % 100000000)::text, 8, '0')
                   ELSE 'USA' || lpad((q.pid % 1000000000000)::text, 12, '0')
               END AS id_number,
               CASE q.id_type WHEN '02' THEN 'HKG' WHEN '03' THEN 'TWN' ELSE 'CHN' END
                   AS country,
               make_date(least(extract(year FROM q.birth)::int + 19 + floor(random() * 8)::int,
                               {year_now}), 1 + floor(random() * 12)::int, 1) AS start_work,
               make_date(least(extract(year FROM q.birth)::int + 22, {year_now}), 6, 30)
                   AS graduated,
               make_date(least(extract(year FROM q.birth)::int + 23 + floor(random() * 8)::int,
                               {year_now}), 9, 20) AS acquired,
               CASE WHEN q.started_raw < $4 THEN q.started_raw
                    ELSE $4 - make_interval(mins => 1 + floor(random() * 600)::int)
               END AS started
        FROM (
            SELECT g.n, g.pid, md5($3 || ':' || g.n) AS rid,
                   ($6::text[])[1 + (g.slot / 1000 / {BIRTH_DAYS})::int]
                       || to_char(date '{BIRTH_FIRST.isoformat()}'
                                  + ((g.slot / 1000) % {BIRTH_DAYS})::int, 'YYYYMMDD')
                       || lpad((g.slot % 1000)::text, 3, '0') AS body,
                   date '{BIRTH_FIRST.isoformat()}' + ((g.slot / 1000) % {BIRTH_DAYS})::int
                       AS birth,
                   CASE WHEN g.slot % 2 = 1 THEN '1' ELSE '2' END AS gender,
                   {_p("id_type")} AS id_type, {_p("county")} AS county,
                   random() >= 0.06 AS work, {_p("econ")} AS econ, {_p("edu")} AS edu,
                   CASE WHEN random() < 0.2 THEN {_p("pt")} END AS pt,
                   nullif({_p("qual")}, '') AS qual, {_p("political")} AS political,
                   CASE WHEN random() < 0.97 THEN '01' ELSE {_p("ethnic")} END AS ethnic,
                   {_p("post")} AS post, {_p("title")} AS title,
                   substr('{SURNAMES}', 1 + floor(random() * {len(SURNAMES)})::int, 1)
                       || substr('{GIVEN}', 1 + floor(random() * {len(GIVEN)})::int, 1)
                       || CASE WHEN random() < 0.67
                               THEN substr('{GIVEN}', 1 + floor(random() * {len(GIVEN)})::int, 1)
                               ELSE '' END AS name,
                   '1' || {_p("phone")} || lpad(floor(random() * 100000000)::text, 8, '0')
                       AS phone,
                   {_p("school")} AS school, {_p("major")} AS major, {_p("word")} AS word,
                   {_p("suffix")} AS suffix,
                   upper(substr(md5(random()::text), 1, 12)) AS verification,
                   lpad(floor(random() * 100000000)::text, 8, '0') AS org,
                   floor(random() * 999)::int + 1 AS house,
                   random() < 0.06 AS abandoned, random() AS dw_u, {_hours(72, 1.0)} AS h_dw,
                   1 + floor(random() * 5)::int AS partial,
                   (($4::timestamptz AT TIME ZONE 'UTC') + interval '8 hours')::date
                       - floor(random() * $5)::int AS day0,
                   random() AS u_weekend, 480 + floor(random() * 841)::int AS day_minute,
                   {_hours(5, 1.2)} AS h_s1, {_hours(26, 0.9)} AS h_d1, {_hours(30, 1.0)} AS h_n1,
                   {_hours(26, 0.9)} AS h_d2, {_hours(30, 1.0)} AS h_n2, {_hours(26, 0.9)} AS h_d3,
                   random() AS ret_u1, random() AS ret_u2, random() AS f1, random() AS f2,
                   random() AS w_u1, random() AS w_u2, random() AS w_u3,
                   random() AS wf1, random() AS wf2, random() AS wf3,
                   {_p("reason")} AS ra1,
                   CASE WHEN random() < 0.3333 THEN {_p("reason")} END AS rb1,
                   {_p("reason")} AS ra2,
                   CASE WHEN random() < 0.3333 THEN {_p("reason")} END AS rb2,
                   random() AS mv_u1, random() AS mv_p1, random() AS mv_u2, random() AS mv_p2
            FROM (
                SELECT n, $2::bigint + n AS pid,
                       (($2::bigint + n) * {PERMUTE}) % (cardinality($6::text[])::bigint
                           * {BIRTH_DAYS} * 1000) AS slot
                FROM generate_series(1, $1::int) AS n
                OFFSET 0
            ) g
            OFFSET 0
        ) q0
        CROSS JOIN LATERAL (
            SELECT q0.*,
                   (CASE WHEN extract(isodow FROM q0.day0) >= 6 AND q0.u_weekend < 0.65
                         THEN q0.day0 - (extract(isodow FROM q0.day0)::int - 5)
                         ELSE q0.day0 END + make_interval(mins => q0.day_minute)
                    - interval '8 hours') AT TIME ZONE 'UTC' AS started_raw
            OFFSET 0
        ) q"""
    move = (
        "CASE WHEN {u} < 0.7 THEN c.codes[1 + floor({p} * cardinality(c.codes))::int] "
        "ELSE ($6::text[])[1 + floor({p} * cardinality($6::text[]))::int] END"
    )
    times = f"""
        CREATE TEMP TABLE _seed_times ON COMMIT DROP AS
        SELECT p.*,
               {_after("p.started", "p.h_s1")} AS s1,
               {_after("p.started", "p.h_s1 + p.h_d1")} AS d1,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1")} AS s2,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2")} AS d2,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2")} AS s3,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2 + p.h_d3")} AS d3,
               {_after("p.started", "p.h_s1 + p.h_d1 * p.wf1")} AS w1,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 * p.wf2")} AS w2,
               {_after("p.started", "p.h_s1 + p.h_d1 + p.h_n1 + p.h_d2 + p.h_n2 + p.h_d3 * p.wf3")} AS w3,
               {_after("p.started", "p.h_dw")} AS dw_at,
               p.ret_u1 < 0.18 AS ret1, p.ret_u2 < 0.06 AS ret2,
               p.w_u1 < 0.012 AS wq1, p.w_u2 < 0.012 AS wq2, p.w_u3 < 0.012 AS wq3,
               p.county AS dep1,
               CASE WHEN 'WRONG_DEPARTMENT' IN (p.ra1, coalesce(p.rb1, ''))
                    THEN {move.format(u="p.mv_u1", p="p.mv_p1")} ELSE p.county END AS dep2
        FROM _seed_plan p JOIN _seed_city c ON c.city = substr(p.county, 1, 4) || '00'"""
    rounds = f"""
        CREATE TEMP TABLE _seed_rounds ON COMMIT DROP AS
        SELECT t.*,
               CASE WHEN 'WRONG_DEPARTMENT' IN (t.ra2, coalesce(t.rb2, ''))
                    THEN {move.format(u="t.mv_u2", p="t.mv_p2")} ELSE t.dep2 END AS dep3,
               CASE WHEN t.abandoned OR t.s1 >= $4 THEN 0
                    WHEN (t.wq1 AND t.w1 < $4) OR t.d1 >= $4 OR NOT t.ret1 OR t.s2 >= $4
                         OR t.f1 < 0.13 THEN 1
                    WHEN (t.wq2 AND t.w2 < $4) OR t.d2 >= $4 OR NOT t.ret2 OR t.s3 >= $4
                         OR t.f2 < 0.13 THEN 2
                    ELSE 3 END AS k
        FROM _seed_times t JOIN _seed_city c ON c.city = substr(t.dep2, 1, 4) || '00'"""
    org_check = f"11 - ({_digits_sum('f.org', _ORG_WEIGHTS)}) % 11"
    uscc_check = f"31 - ({_digits_sum('v.uscc_body', _USCC_POWERS, last_may_be_x=True)}) % 31"
    final = f"""
        CREATE TEMP TABLE _seed_tl ON COMMIT DROP AS
        SELECT f.*,
               CASE WHEN f.k = 0 THEN
                        CASE WHEN f.abandoned AND f.dw_u < 0.1 AND f.dw_at < $4 THEN 'WITHDRAWN'
                             ELSE 'DRAFT' END
                    WHEN f.waited_out THEN 'WITHDRAWN'
                    WHEN NOT f.decided THEN 'SUBMITTED'
                    WHEN NOT f.returned THEN 'APPROVED'
                    WHEN f.gave_up THEN 'WITHDRAWN'
                    ELSE 'RETURNED' END AS status,
               CASE WHEN f.k >= 1 THEN 6 ELSE f.partial END AS filled,
               {_items("f.ra1", "f.rb1")} AS items1,
               {_items("f.ra2", "f.rb2")} AS items2,
               c.name AS place, c.bureau, coalesce(c.postal, '310000') AS postal,
               v.uscc_body || substr('{USCC_CHARSET}', 1 + ({uscc_check}) % 31, 1) AS credit_code,
               c.name || f.word || f.suffix AS unit_name,
               c.name || '人民路' || f.house || '号' AS address
        FROM (
            SELECT r.*,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AS decided,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AND r.ret_k AS returned,
                   r.k >= 1 AND NOT r.waited_out AND r.d_k < $4 AND r.ret_k AND r.next_k < $4
                       AND r.f_k >= 0.08 AND r.f_k < 0.13 AS gave_up,
                   CASE WHEN r.k >= 1 THEN r.dep_k ELSE r.county END AS dep_now
            FROM (
                SELECT r0.*,
                       CASE r0.k WHEN 1 THEN r0.s1 WHEN 2 THEN r0.s2 WHEN 3 THEN r0.s3 END AS s_k,
                       CASE r0.k WHEN 1 THEN r0.d1 WHEN 2 THEN r0.d2 WHEN 3 THEN r0.d3 END AS d_k,
                       CASE r0.k WHEN 1 THEN r0.s2 WHEN 2 THEN r0.s3 END AS next_k,
                       CASE r0.k WHEN 1 THEN r0.f1 WHEN 2 THEN r0.f2 ELSE 1 END AS f_k,
                       CASE r0.k WHEN 1 THEN r0.ret1 WHEN 2 THEN r0.ret2 ELSE false END AS ret_k,
                       CASE r0.k WHEN 1 THEN r0.w1 WHEN 2 THEN r0.w2 WHEN 3 THEN r0.w3 END AS w_k,
                       CASE r0.k WHEN 1 THEN r0.dep1 WHEN 2 THEN r0.dep2 WHEN 3 THEN r0.dep3 END
                           AS dep_k,
                       CASE r0.k WHEN 1 THEN r0.wq1 AND r0.w1 < $4 WHEN 2 THEN r0.wq2 AND r0.w2 < $4
                                 WHEN 3 THEN r0.wq3 AND r0.w3 < $4 ELSE false END AS waited_out
                FROM _seed_rounds r0
                OFFSET 0
            ) r
            OFFSET 0
        ) f
        JOIN _seed_county c ON c.code = f.dep_now
        CROSS JOIN LATERAL (
            SELECT '91' || f.dep_now || f.org || CASE {org_check}
                WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE ({org_check})::text END AS uscc_body
            OFFSET 0
        ) v"""

    # one statement: each stage a fenced subquery (OFFSET 0: computed once per row)
    def inner(statement: str) -> str:
        return statement.split(" AS\n", 1)[1] + " OFFSET 0"

    timeline = (
        final.replace("FROM _seed_rounds r0", f"FROM ({inner(rounds)}) r0")
        .replace("FROM _seed_times t JOIN", f"FROM ({inner(times)}) t JOIN")
        .replace("FROM _seed_plan p JOIN", f"FROM ({inner(plan)}) p JOIN")
    )
    return [timeline]


def _row_statements(reference: ReferenceData) -> list[tuple[str, tuple[int, ...]]]:
    """Rows for every table from the timeline, each in primary-key order. Parameters:
    $1 now, $2 people's created_at, $3..$6 the id bases (submission, event, decision, item),
    $7 and $8 the HMAC inner and outer keys of the person key."""

    def name(alias: str) -> str:
        return _name(alias, reference)

    saved = "t.started + interval '20 minutes'"
    status_at = (
        "greatest(t.started, t.s_k, CASE WHEN t.decided THEN t.d_k END, "
        "CASE WHEN t.waited_out THEN t.w_k END, CASE WHEN t.gave_up THEN t.next_k END, "
        "CASE WHEN t.k = 0 AND t.status = 'WITHDRAWN' THEN t.dw_at END)"
    )
    decided_at = "CASE WHEN t.decided THEN t.d_k WHEN t.k = 2 THEN t.d1 WHEN t.k = 3 THEN t.d2 END"
    reopened = (
        "CASE WHEN t.status = 'RETURNED' THEN (SELECT json_agg(i ->> 'field') FROM "
        "json_array_elements(CASE t.k WHEN 1 THEN t.items1 ELSE t.items2 END) AS i) "
        "ELSE '[]'::json END"
    )
    version = (
        "CASE WHEN t.k = 0 THEN 1 + t.filled + (t.status = 'WITHDRAWN')::int "
        "ELSE 7 + 3 * t.k + t.decided::int + (t.waited_out OR t.gave_up)::int END"
    )
    rule = "CASE WHEN t.work THEN 'OFFICE_DIVISION' ELSE 'RESIDENCE_DIVISION' END"
    statements: list[tuple[str, tuple[int, ...]]] = [
        (
            """INSERT INTO person (id, person_key, name, id_type, id_number, phone, created_at,
                   updated_at)
               SELECT t.pid,
                      encode(sha256($8::bytea || sha256($7::bytea
                          || convert_to(t.id_type || ':' || upper(t.id_number), 'UTF8'))), 'hex'),
                      t.name, t.id_type, t.id_number, t.phone, $2, $2
               FROM _seed_tl t ORDER BY t.pid""",
            (2, 7, 8),
        ),
        (
            f"""INSERT INTO registration (id, person_id, status, version, department_code,
                   department_rule, city_code, education_saved_at, qualification_saved_at,
                   reopened, created_at, updated_at, submitted_at, decided_at)
               SELECT t.rid, t.pid, t.status, {version},
                      CASE WHEN t.filled >= 3 THEN t.dep_now END,
                      CASE WHEN t.filled >= 3 THEN {rule} END,
                      CASE WHEN t.filled >= 3 THEN substr(t.dep_now, 1, 4) || '00' END,
                      CASE WHEN t.filled >= 4 THEN {saved} END,
                      CASE WHEN t.filled >= 5 THEN {saved} END,
                      {reopened}, t.started, {status_at}, t.s_k, {decided_at}
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO notice_section (registration_id, eligibility, acknowledged_at)
               SELECT t.rid,
                      json_build_array(CASE WHEN t.work THEN 'WORK_UNIT' ELSE 'RESIDENCE' END),
                      t.started
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            f"""INSERT INTO basic_info_section (registration_id, name, phone, id_type, id_number,
                   gender, birth_date, country_or_region, ethnic_group, political_status,
                   remarks, saved_at)
               SELECT t.rid, t.name, t.phone, t.id_type, t.id_number, t.gender, t.birth,
                      t.country, t.ethnic, t.political, NULL,
                      CASE WHEN t.filled >= 2 THEN {saved} END
               FROM _seed_tl t ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO work_unit_section (registration_id, credit_code, unit_name,
                   unit_name_source, economic_type, office_division_code, postal_code,
                   accounting_start_date, accounting_post, administrative_title)
               SELECT t.rid, t.credit_code, t.unit_name, 'MANUAL', t.econ, t.dep_now, t.postal,
                      t.start_work, t.post, t.title
               FROM _seed_tl t WHERE t.filled >= 3 AND t.work ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO residence_section (registration_id, division_code, address,
                   postal_code)
               SELECT t.rid, t.dep_now, t.address, t.postal
               FROM _seed_tl t WHERE t.filled >= 3 AND NOT t.work ORDER BY t.rid""",
            (),
        ),
        (
            """INSERT INTO education_section (registration_id, kind, level, degree,
                   verification_number, major, school, graduation_date)
               SELECT * FROM (
                   SELECT t.rid, 'FULL_TIME', split_part(t.edu, '|', 1),
                          split_part(t.edu, '|', 2), t.verification, t.major, t.school,
                          t.graduated
                   FROM _seed_tl t WHERE t.filled >= 4
                   UNION ALL
                   SELECT t.rid, 'PART_TIME', split_part(t.pt, '|', 1), split_part(t.pt, '|', 2),
                          NULL, '工商管理', t.school,
                          make_date(least(extract(year FROM t.graduated)::int + 5,
                                          extract(year FROM $1::timestamptz)::int - 1), 1, 15)
                   FROM _seed_tl t WHERE t.filled >= 4 AND t.pt IS NOT NULL
               ) e ORDER BY 1, 2""",
            (1,),
        ),
        (
            """INSERT INTO qualification_section (registration_id, level, type,
                   acquisition_method, acquired_on, appointed_post, appointed_on,
                   certificate_number)
               SELECT t.rid, t.qual, '01', '01', t.acquired, '0' || (t.qual::int + 1)::text,
                      t.acquired,
                      'Z' || extract(year FROM t.acquired) || '33' || lpad(t.house::text, 7, '0')
               FROM _seed_tl t WHERE t.filled >= 5 AND t.qual IS NOT NULL ORDER BY t.rid""",
            (),
        ),
        # submissions: one per round that happened, numbered in time order
        (
            """CREATE TEMP TABLE _seed_sub ON COMMIT DROP AS
               SELECT $3::bigint + row_number() OVER (ORDER BY x.at, x.rid) AS id, x.*
               FROM (
                   SELECT t.rid, j.j,
                          CASE j.j WHEN 1 THEN t.s1 WHEN 2 THEN t.s2 ELSE t.s3 END AS at,
                          CASE j.j WHEN 1 THEN t.dep1 WHEN 2 THEN t.dep2 ELSE t.dep3 END AS dep
                   FROM _seed_tl t CROSS JOIN LATERAL generate_series(1, t.k) AS j(j)
               ) x""",
            (3,),
        ),
        (
            f"""INSERT INTO submission (id, registration_id, sequence, idempotency_key,
                   based_on_version, snapshot, declaration, submitted_at)
               SELECT s.id, s.rid, s.j, NULL, 7 + 3 * (s.j - 1), json_build_object(
                   'notice', json_build_object('eligibility', json_build_array(
                       CASE WHEN t.work THEN 'WORK_UNIT' ELSE 'RESIDENCE' END)),
                   'basicInfo', json_build_object(
                       'name', t.name, 'phone', t.phone, 'idType', {name("n_idt")},
                       'idNumber', t.id_number, 'gender', {name("n_gen")},
                       'birthDate', t.birth, 'countryOrRegion', {name("n_cty")},
                       'ethnicGroup', {name("n_eth")}, 'politicalStatus', {name("n_pol")},
                       'remarks', NULL),
                   'workUnit', CASE WHEN t.work THEN json_build_object(
                       'creditCode', t.credit_code, 'unitName', t.unit_name,
                       'economicType', {name("n_et")}, 'officeDivisionCode', s.dep,
                       'postalCode', t.postal, 'accountingStartDate', t.start_work,
                       'accountingPost', {name("n_wp")},
                       'administrativeTitle', {name("n_at")}) END,
                   'residence', CASE WHEN NOT t.work THEN json_build_object(
                       'divisionCode', s.dep, 'address', t.address, 'postalCode', t.postal) END,
                   'education', json_build_object(
                       'fullTime', json_build_object(
                           'level', {name("n_fl")}, 'degree', {name("n_fd")},
                           'verificationNumber', t.verification, 'major', t.major,
                           'school', t.school, 'graduationDate', t.graduated),
                       'partTime', CASE WHEN t.pt IS NOT NULL THEN json_build_object(
                           'level', {name("n_pl")}, 'degree', {name("n_pd")},
                           'verificationNumber', NULL, 'major', '工商管理', 'school', t.school,
                           'graduationDate', NULL) END),
                   'qualification', CASE WHEN t.qual IS NOT NULL THEN json_build_object(
                       'level', {name("n_ql")}, 'type', {name("n_qt")},
                       'acquisitionMethod', {name("n_qm")}, 'acquiredOn', t.acquired,
                       'appointedPost', {name("n_ap")}, 'appointedOn', t.acquired,
                       'certificateNumber', NULL) END,
                   'accountingDepartment', json_build_object('code', s.dep, 'name', c.bureau,
                       'rule', CASE WHEN t.work THEN 'OFFICE_DIVISION'
                                    ELSE 'RESIDENCE_DIVISION' END),
                   'attachments', json_build_object()),
                   '同意以上资料填写无误', s.at
               FROM _seed_sub s
               JOIN _seed_tl t ON t.rid = s.rid
               JOIN _seed_county c ON c.code = s.dep""",
            (),
        ),
    ]
    withdrawn_draft = "t.k = 0 AND t.status = 'WITHDRAWN'"

    def decision(j: int) -> tuple[str, ...]:
        returned = f"t.k > {j} OR t.returned"
        kind = f"CASE WHEN {returned} THEN 'RETURNED' ELSE 'APPROVED' END"
        return (
            str(4 * j),
            str(j),
            kind,
            "'SUBMITTED'",
            kind,
            "'STAFF'",
            "NULL",
            f"CASE WHEN {returned} THEN t.items{j} END",
            f"t.dep{j}",
            f"t.d{j}",
            f"t.k > {j} OR (t.k = {j} AND t.decided)",
        )

    # (order, round, kind, from, to, actor kind, actor id, items, department, at, happened)
    rows: list[tuple[str, ...]] = [
        (
            "0",
            "0",
            "'STARTED'",
            "NULL::text",
            "'DRAFT'",
            "'APPLICANT'",
            "t.pid",
            "NULL::json",
            "NULL::text",
            "t.started",
            "true",
        ),
        (
            "1",
            "0",
            "'WITHDRAWN'",
            "'DRAFT'",
            "'WITHDRAWN'",
            "'APPLICANT'",
            "t.pid",
            "NULL",
            "CASE WHEN t.filled >= 3 THEN t.dep_now END",
            "t.dw_at",
            withdrawn_draft,
        ),
    ]
    for j in (1, 2, 3):
        first, before = ("'SUBMITTED'", "'DRAFT'") if j == 1 else ("'RESUBMITTED'", "'RETURNED'")
        rows += [
            (
                str(4 * j - 2),
                str(j),
                first,
                before,
                "'SUBMITTED'",
                "'APPLICANT'",
                "t.pid",
                "NULL",
                f"t.dep{j}",
                f"t.s{j}",
                f"t.k >= {j}",
            ),
            (
                str(4 * j - 1),
                str(j),
                "'WITHDRAWN'",
                "'SUBMITTED'",
                "'WITHDRAWN'",
                "'APPLICANT'",
                "t.pid",
                "NULL",
                f"t.dep{j}",
                f"t.w{j}",
                f"t.k = {j} AND t.waited_out",
            ),
        ]
        if j < 3:
            rows += [
                decision(j),
                (
                    str(4 * j + 1),
                    str(j),
                    "'WITHDRAWN'",
                    "'RETURNED'",
                    "'WITHDRAWN'",
                    "'APPLICANT'",
                    "t.pid",
                    "NULL",
                    f"t.dep{j}",
                    f"t.s{j + 1}",
                    f"t.k = {j} AND t.gave_up",
                ),
            ]
    rows.append(
        (
            "12",
            "3",
            "'APPROVED'",
            "'SUBMITTED'",
            "'APPROVED'",
            "'STAFF'",
            "NULL",
            "NULL",
            "t.dep3",
            "t.d3",
            "t.k = 3 AND t.decided",
        )
    )
    columns = (
        "ord",
        "j",
        "kind",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_id",
        "items",
        "dep",
        "at",
    )
    union = " UNION ALL ".join(
        "SELECT t.rid, t.work, "
        + ", ".join(f"{value} AS {name}" for value, name in zip(row[:-1], columns, strict=True))
        + f" FROM _seed_tl t WHERE {row[-1]}"
        for row in rows
    )
    events = f"""
        CREATE TEMP TABLE _seed_ev ON COMMIT DROP AS
        SELECT $4::bigint + row_number() OVER (ORDER BY v.at, v.rid, v.ord) AS id, v.*
        FROM ({union}) v"""
    statements += [
        (events, (4,)),
        (
            """INSERT INTO registration_event (id, registration_id, kind, from_status, to_status,
                   actor_kind, actor_id, comment, items, department_code, occurred_at)
               SELECT e.id, e.rid, e.kind, e.from_status, e.to_status, e.actor_kind,
                      CASE WHEN e.actor_kind = 'STAFF' THEN rv.id ELSE e.actor_id END, NULL,
                      coalesce(e.items, '[]'::json), e.dep, e.at
               FROM _seed_ev e LEFT JOIN _seed_reviewer rv ON rv.department = e.dep
               ORDER BY e.id""",
            (),
        ),
        (
            """CREATE TEMP TABLE _seed_dec ON COMMIT DROP AS
               SELECT $5::bigint + row_number() OVER (ORDER BY e.id) AS id, e.id AS event_id,
                      e.rid, s.id AS submission_id, e.to_status, rv.id AS reviewer_id, e.dep,
                      e.at, e.items
               FROM _seed_ev e
               JOIN _seed_sub s ON s.rid = e.rid AND s.j = e.j
               JOIN _seed_reviewer rv ON rv.department = e.dep
               WHERE e.to_status IN ('APPROVED', 'RETURNED')""",
            (5,),
        ),
        (
            """INSERT INTO review_decision (id, registration_id, submission_id, outcome, comment,
                   checked_fields, reviewer_id, department_code, event_id, decided_at)
               SELECT d.id, d.rid, d.submission_id, d.to_status, NULL, '[]'::json,
                      d.reviewer_id, d.dep, d.event_id, d.at
               FROM _seed_dec d ORDER BY d.id""",
            (),
        ),
        (
            """INSERT INTO review_return_item (id, decision_id, position, field, reason_code, note)
               SELECT $6::bigint + row_number() OVER (ORDER BY d.id, x.ord), d.id, x.ord - 1,
                      x.item ->> 'field', x.item ->> 'reasonCode', x.item ->> 'note'
               FROM _seed_dec d
               CROSS JOIN LATERAL json_array_elements(d.items) WITH ORDINALITY AS x(item, ord)
               WHERE d.to_status = 'RETURNED'
               ORDER BY 1""",
            (6,),
        ),
    ]
    return statements


def _renumber(statement: str, used: tuple[int, ...]) -> str:
    """Number a statement's parameters $1.. in the order listed (asyncpg wants them dense)."""
    for new, old in sorted(enumerate(used, start=1), key=lambda pair: -pair[1]):
        statement = re.sub(rf"\${old}(?!\d)", f"$~{new}", statement)
    return statement.replace("$~", "$")


SECONDARY_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
    WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""


class PostgresGenerator:
    """Makes the synthetic rows inside PostgreSQL (INSERT … SELECT over generate_series), in
    one transaction: the tables' secondary indexes are dropped and rebuilt around the load,
    and foreign-key triggers are off when the role may do so (the rows are consistent)."""

    def __init__(self, url: str, reference: ReferenceData) -> None:
        self.url, self.reference = url, reference

    async def run(
        self,
        count: int,
        *,
        ids: Ids,
        reviewers: dict[str, int],
        now: datetime,
        days: int,
        person_secret: bytes,
        rng_seed: int | None,
        progress: Callable[[str], None] | None,
    ) -> int:
        """Generate ``count`` registrations; returns the rows added."""
        connection = await asyncpg.connect(_dsn(self.url))
        # the plan lives in temporary tables: keep them in memory (before their first use)
        await connection.execute("SET temp_buffers = '2GB'")
        started = time.perf_counter()

        def report(step: str) -> None:
            if progress:
                progress(f"{step} ({time.perf_counter() - started:.0f} s)")

        try:
            before = await self._rows(connection)
            async with connection.transaction():
                await self._prepare(connection, reviewers, rng_seed)
                report("prepared")
                counties = [c for c, d in self.reference.divisions.items() if d.level == "county"]
                plan_args: list[Any] = [
                    count,
                    ids.person,
                    secrets.token_hex(8),
                    now,
                    days,
                    counties,
                ]
                for options, bounds in self._distributions():
                    plan_args += [options, bounds]
                for statement in _plan_statements(self.reference):
                    used = tuple(sorted({int(n) for n in re.findall(r"\$(\d+)", statement)}))
                    await connection.execute(
                        _renumber(statement, used), *[plan_args[i - 1] for i in used]
                    )
                    report(statement.split()[3])
                indexes = await connection.fetch(SECONDARY_INDEXES, list(COLUMNS))
                for index_name, _ in indexes:
                    await connection.execute(f"DROP INDEX {index_name}")
                key = person_secret
                if len(key) > 64:
                    key = hashlib.sha256(key).digest()
                key = key.ljust(64, b"\0")
                values: dict[int, Any] = {
                    1: now,
                    2: now - timedelta(days=days + 1),
                    3: ids.submission,
                    4: ids.registration_event,
                    5: ids.review_decision,
                    6: ids.review_return_item,
                    7: bytes(b ^ 0x36 for b in key),
                    8: bytes(b ^ 0x5C for b in key),
                }
                for statement, used in _row_statements(self.reference):
                    await connection.execute(_renumber(statement, used), *[values[i] for i in used])
                    words = statement.split()
                    report(" ".join(words[:4] if words[0] == "CREATE" else words[:3]))
                for _, definition in indexes:
                    await connection.execute(definition)
                report(f"{len(indexes)} indexes rebuilt")
            for name in ID_TABLES:
                await connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {name}))"
                )
            for name in COLUMNS:
                await connection.execute(f"ANALYZE {name}")
            report("analyzed")
            return await self._rows(connection) - before
        finally:
            await connection.close()

    async def _rows(self, connection: Any) -> int:
        total = 0
        for name in COLUMNS:
            total += await connection.fetchval(f"SELECT count(*) FROM {name}")
        return total

    def _distributions(self) -> list[tuple[list[str], list[float]]]:
        """The plan's distributions, in ``PLAN_DISTRIBUTIONS`` order."""
        ref = self.reference
        by_city: dict[str, list[str]] = {}
        for d in ref.divisions.values():
            if d.level == "county":
                by_city.setdefault(d.parent_code or "", []).append(d.code)
        counties = [
            (code, CITY_WEIGHTS.get(city, 1) / len(codes))
            for city, codes in by_city.items()
            for code in codes
        ]

        def uniform(values: Sequence[str]) -> list[tuple[Any, float]]:
            return [(v, 1.0) for v in values]

        by_name: dict[str, Sequence[tuple[Any, float]]] = {
            "id_type": ID_TYPES,
            "county": counties,
            "econ": ECONOMIC_TYPES,
            "edu": EDUCATIONS,
            "pt": PART_TIME,
            "qual": QUALIFICATIONS,
            "political": POLITICAL,
            "ethnic": uniform([o.code for o in ref.options("ethnic_group")]),
            "post": uniform([o.code for o in ref.options("accounting_work_position")]),
            "title": uniform([o.code for o in ref.options("accounting_admin_post")]),
            "phone": uniform(["38", "39", "58", "59", "88", "87", "36", "35", "50", "86"]),
            "school": uniform(SCHOOLS),
            "major": uniform(MAJORS),
            "word": uniform(UNIT_WORDS),
            "suffix": uniform(["有限公司", "股份有限公司", "事务所"]),
            "reason": [(r.value, w) for r, w in REASONS],
        }
        return [distribution(by_name[name]) for name in PLAN_DISTRIBUTIONS]

    async def _prepare(
        self, connection: Any, reviewers: dict[str, int], rng_seed: int | None
    ) -> None:
        ref = self.reference
        for setting in (
            "synchronous_commit = off",
            "work_mem = '256MB'",
            "maintenance_work_mem = '512MB'",
            "jit = off",
        ):
            await connection.execute(f"SET LOCAL {setting}")
        try:
            async with connection.transaction():  # a savepoint: refused without superuser
                await connection.execute("SET LOCAL session_replication_role = replica")
        except asyncpg.exceptions.InsufficientPrivilegeError:
            pass  # foreign keys stay checked: slower, same result
        if rng_seed is not None:
            await connection.execute("SELECT setseed($1)", (rng_seed % 2001) / 1000 - 1)
        for statement in (
            "CREATE TEMP TABLE _seed_county (code text PRIMARY KEY, city text, name text, "
            "bureau text, postal text) ON COMMIT DROP",
            "CREATE TEMP TABLE _seed_city (city text PRIMARY KEY, codes text[]) ON COMMIT DROP",
            "CREATE TEMP TABLE _seed_reviewer (department text PRIMARY KEY, id int) ON COMMIT DROP",
        ):
            await connection.execute(statement)
        await connection.copy_records_to_table(
            "_seed_county",
            records=[
                (d.code, d.city_code, d.name, d.department.name, d.postal_code)
                for d in ref.divisions.values()
            ],
        )
        by_city: dict[str, list[str]] = {}
        for d in ref.divisions.values():
            if d.level == "county":
                by_city.setdefault(d.parent_code or "", []).append(d.code)
        await connection.copy_records_to_table("_seed_city", records=list(by_city.items()))
        await connection.copy_records_to_table("_seed_reviewer", records=list(reviewers.items()))
        for name in ("_seed_county", "_seed_city", "_seed_reviewer"):
            await connection.execute(f"ANALYZE {name}")


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
    if make_url(url).get_backend_name() == "postgresql":
        total_rows = await PostgresGenerator(url, reference).run(
            count,
            ids=ids,
            reviewers=reviewers,
            now=synth.now,
            days=days,
            person_secret=secret,
            rng_seed=rng_seed,
            progress=progress,
        )
    else:
        writer = SqlAlchemyWriter(url)
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
            await rebuild_aggregates(session)
    finally:
        await engine.dispose()
    finished = time.perf_counter()
    return SeedReport(count, total_rows, loaded - started, finished - loaded)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.seed", description=__doc__.split("\n")[0]
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
