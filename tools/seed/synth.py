"""Synthetic registrations made in Python, one at a time (SQLite and other databases): the
person, the coded answers, the timeline (:mod:`tools.seed.timeline`), then the rows of every
table. ID numbers and credit codes get their check characters from :mod:`models`.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from models.clock import CHINA_TZ
from models.id_numbers import resident_id_check_char
from models.reference import ReferenceData
from models.unit_codes import org_code_check_char, uscc_check_char
from tools.seed.population import (
    APPOINTED,
    BIRTH_DAYS,
    BIRTH_FIRST,
    CITY_WEIGHTS,
    ECONOMIC_TYPES,
    EDUCATIONS,
    GIVEN,
    ID_TYPES,
    MAJORS,
    PART_TIME,
    PERMUTE,
    POLITICAL,
    QUALIFICATIONS,
    REASONS,
    SCHOOLS,
    SURNAMES,
    UNIT_WORDS,
    weighted,
)
from tools.seed.snapshot import Answers, Details, snapshot
from tools.seed.tables import Ids, Rows
from tools.seed.timeline import Clock, Timeline, TimelineMaker

# other identity documents: number prefix, digits, country or region
OTHER_DOCUMENTS = {
    "02": ("H", 8, "HKG"),
    "03": ("", 8, "TWN"),
    "04": ("E", 8, "CHN"),
    "05": ("USA", 12, "CHN"),
}
PHONE_PREFIXES = ("38", "39", "58", "59", "88", "87", "36", "35", "50", "86")
UNIT_SUFFIXES = ("有限公司", "股份有限公司", "事务所")


def resident_id(body17: str) -> str:
    """A resident ID number: 17 digits and their check character."""
    return body17 + resident_id_check_char(body17)


def credit_code(department: str, org: str) -> str:
    """A unified social credit code of a company registered with market regulation (91) in
    ``department``, embedding the organization code ``org`` (8 digits) with its check."""
    body = f"91{department}{org}{org_code_check_char(org)}"
    return body + uscc_check_char(body)


@dataclass
class Synth:
    """Makes the rows of one synthetic registration at a time."""

    ref: ReferenceData
    rng: random.Random
    now: datetime
    days: int
    person_secret: bytes
    ids: Ids
    reviewers: dict[str, int]

    def __post_init__(self) -> None:
        reference = self.ref
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
        self.names = {
            name: {o.code: o.name for o in reference.options(name)} for name in reference.code_lists
        }
        self.ethnic_codes = [o.code for o in reference.options("ethnic_group")]
        self.posts = [o.code for o in reference.options("accounting_work_position")]
        self.titles = [o.code for o in reference.options("accounting_admin_post")]
        self.combinations = len(self.counties) * BIRTH_DAYS * 1000
        self.timelines = TimelineMaker(
            Clock(self.rng, self.now), self.reviewers, weighted(REASONS), self.moved
        )

    # -- time and place -----------------------------------------------------------------------

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

    def moved(self, department: str) -> str:
        """Another department after a WRONG_DEPARTMENT return: mostly in the same city."""
        rng = self.rng
        city = department[:4] + "00"
        choices = self.by_city.get(city, self.counties) if rng.random() < 0.7 else self.counties
        return rng.choice([c for c in choices if c != department] or self.counties)

    # -- people -------------------------------------------------------------------------------

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
            prefix, width, country = OTHER_DOCUMENTS[id_type]
            number = f"{prefix}{pid % 10**width:0{width}d}"
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        phone = f"1{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"
        key = hmac.new(
            self.person_secret, f"{id_type}:{number.upper()}".encode(), hashlib.sha256
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

    # -- one registration ---------------------------------------------------------------------

    def registration(self, rows: Rows) -> None:
        pid, who = self.person(rows)
        rid = f"{self.rng.getrandbits(128):032x}"
        started = self.started_at()
        answers = self.answers(who["birth"])
        timeline = self.timelines.make(pid, started, answers.county, answers.work)
        details = self.details(timeline, answers)
        self.write_registration(rows, rid, pid, started, answers, timeline)
        self.write_sections(rows, rid, who, started, answers, details, timeline)
        self.write_history(rows, rid, who, answers, details, timeline)

    def answers(self, birth: date) -> Answers:
        rng, now = self.rng, self.now
        county = self.county_pick(rng)
        work = rng.random() >= 0.06
        return Answers(
            county=county,
            work=work,
            economic=self.economic(rng) if work else None,
            education=self.education(rng),
            part=self.part_time(rng) if rng.random() < 0.2 else None,
            qualification=self.qualification(rng),
            political=self.political(rng),
            ethnic="01" if rng.random() < 0.97 else rng.choice(self.ethnic_codes),
            start_work=date(
                min(birth.year + rng.randint(19, 26), now.year - 1), rng.randint(1, 12), 1
            ),
            graduated=date(min(birth.year + 22, now.year - 1), 6, 30),
        )

    def details(self, timeline: Timeline, answers: Answers) -> Details:
        """What else the sections hold; the work unit lies in the registration's department."""
        rng, now = self.rng, self.now
        division = self.ref.divisions[timeline.department]
        unit_name = f"{division.name}{rng.choice(UNIT_WORDS)}{rng.choice(UNIT_SUFFIXES)}"
        code = credit_code(timeline.department, f"{rng.randint(0, 99_999_999):08d}")
        post, title = rng.choice(self.posts), rng.choice(self.titles)
        address = f"{division.name}人民路{rng.randint(1, 999)}号"
        school, major = rng.choice(SCHOOLS), rng.choice(MAJORS)
        verification = f"{rng.getrandbits(48):012X}"
        acquired = date(min(answers.graduated.year + rng.randint(1, 8), now.year - 1), 9, 20)
        certificate = (
            f"Z{acquired.year}33{rng.randint(0, 9_999_999):07d}"
            if timeline.filled >= 5 and answers.qualification
            else None
        )
        return Details(
            unit_name=unit_name,
            credit_code=code,
            postal=division.postal_code or "310000",
            post=post,
            title=title,
            address=address,
            school=school,
            major=major,
            verification=verification,
            acquired=acquired,
            certificate=certificate,
        )

    def write_registration(
        self,
        rows: Rows,
        rid: str,
        pid: int,
        started: datetime,
        answers: Answers,
        timeline: Timeline,
    ) -> None:
        filled = timeline.filled
        placed = filled >= 3  # the department is known once a work unit or residence is saved
        rule = "OFFICE_DIVISION" if answers.work else "RESIDENCE_DIVISION"
        saved = started + timedelta(minutes=20)
        rows.tables["registration"].append(
            (
                rid,
                pid,
                timeline.status.value,
                timeline.version,
                timeline.department if placed else None,
                rule if placed else None,
                self.ref.divisions[timeline.department].city_code if placed else None,
                saved if filled >= 4 else None,
                saved if filled >= 5 else None,
                timeline.reopened,
                started,
                max(e.at for e in timeline.events),
                timeline.submissions[-1].at if timeline.submissions else None,
                timeline.decided_at,
            )
        )

    def write_sections(
        self,
        rows: Rows,
        rid: str,
        who: dict[str, Any],
        started: datetime,
        answers: Answers,
        details: Details,
        timeline: Timeline,
    ) -> None:
        """The sections as they stand now."""
        t, filled, department = rows.tables, timeline.filled, timeline.department
        saved = started + timedelta(minutes=20)
        t["notice_section"].append((rid, answers.eligibility, started))
        t["basic_info_section"].append(
            (
                rid,
                who["name"],
                who["phone"],
                who["id_type"],
                who["id_number"],
                who["gender"],
                who["birth"],
                who["country"],
                answers.ethnic,
                answers.political,
                None,
                saved if filled >= 2 else None,
            )
        )
        if filled >= 3 and answers.work:
            t["work_unit_section"].append(
                (
                    rid,
                    details.credit_code,
                    details.unit_name,
                    "MANUAL",
                    answers.economic,
                    department,
                    details.postal,
                    answers.start_work,
                    details.post,
                    details.title,
                )
            )
        elif filled >= 3:
            t["residence_section"].append((rid, department, details.address, details.postal))
        if filled >= 4:
            t["education_section"] += education_rows(rid, answers, details, self.now)
        if details.certificate is not None and answers.qualification is not None:
            t["qualification_section"].append(
                (
                    rid,
                    answers.qualification,
                    "01",
                    "01",
                    details.acquired,
                    APPOINTED[answers.qualification],
                    details.acquired,
                    details.certificate,
                )
            )

    def write_history(
        self,
        rows: Rows,
        rid: str,
        who: dict[str, Any],
        answers: Answers,
        details: Details,
        timeline: Timeline,
    ) -> None:
        """Submissions with their snapshots, events, decisions and return items."""
        t = rows.tables
        submission_ids: dict[int, int] = {}
        for seq, at, department, based_on in timeline.submissions:
            sid = self.ids.take("submission")
            submission_ids[seq] = sid
            shown = snapshot(self.ref, self.names, who, answers, details, department)
            t["submission"].append(
                (sid, rid, seq, None, based_on, shown, "同意以上资料填写无误", at)
            )
        event_ids = self.write_events(rows, rid, timeline)
        decision_events = [
            eid
            for eid, event in zip(event_ids, timeline.events, strict=True)
            if event.kind in ("APPROVED", "RETURNED")
        ]
        for (outcome, at, seq, items), eid in zip(timeline.decisions, decision_events, strict=True):
            did = self.ids.take("review_decision")
            department = timeline.submissions[seq - 1].department
            t["review_decision"].append(
                (
                    did,
                    rid,
                    submission_ids[seq],
                    outcome,
                    None,
                    [],
                    self.reviewers[department],
                    department,
                    eid,
                    at,
                )
            )
            t["review_return_item"] += [
                (
                    self.ids.take("review_return_item"),
                    did,
                    position,
                    item["field"],
                    item["reasonCode"],
                    item["note"],
                )
                for position, item in enumerate(items)
            ]

    def write_events(self, rows: Rows, rid: str, timeline: Timeline) -> list[int]:
        """The events, each with the department of the registration at that moment."""
        event_ids: list[int] = []
        department: str | None = None
        submitted_seen = 0
        placed = timeline.filled >= 3
        for event in timeline.events:
            eid = self.ids.take("registration_event")
            event_ids.append(eid)
            if event.is_submission:
                submitted_seen += 1
                department = timeline.submissions[submitted_seen - 1].department
            elif event.kind == "WITHDRAWN" and submitted_seen == 0:
                department = timeline.department if placed else None
            rows.tables["registration_event"].append(
                (
                    eid,
                    rid,
                    event.kind,
                    event.from_status,
                    event.to_status,
                    event.actor_kind,
                    event.actor_id,
                    None,
                    event.items,
                    department,
                    event.at,
                )
            )
        return event_ids


def education_rows(
    rid: str, answers: Answers, details: Details, now: datetime
) -> list[tuple[Any, ...]]:
    level, degree = answers.education
    rows: list[tuple[Any, ...]] = [
        (
            rid,
            "FULL_TIME",
            level,
            degree,
            details.verification,
            details.major,
            details.school,
            answers.graduated,
        )
    ]
    if answers.part:
        part_graduated = date(min(answers.graduated.year + 5, now.year - 1), 1, 15)
        rows.append(
            (
                rid,
                "PART_TIME",
                answers.part[0],
                answers.part[1],
                None,
                "工商管理",
                details.school,
                part_graduated,
            )
        )
    return rows
