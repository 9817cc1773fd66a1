"""What happens to one synthetic registration up to now: started, submitted after a few hours,
decided after a log-normal wait (returned about one time in five; a WRONG_DEPARTMENT return
moves it to another department), resubmitted, approved. Whatever would happen after now has
not happened yet; a few are withdrawn.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from models.registration import Status
from models.review_reasons import ReturnReason
from tools.seed.population import REASON_FIELDS

Items = list[dict[str, Any]]


class Event(NamedTuple):
    kind: str
    from_status: Status | None
    to_status: Status
    actor_kind: str
    actor_id: int | None
    items: Items
    at: datetime
    is_submission: bool


class SubmissionPlan(NamedTuple):
    sequence: int
    at: datetime
    department: str
    based_on_version: int


class DecisionPlan(NamedTuple):
    outcome: str
    at: datetime
    sequence: int  # of the submission decided
    items: Items


@dataclass
class Timeline:
    """The history of one registration, and where it stands now."""

    department: str
    events: list[Event]
    submissions: list[SubmissionPlan] = field(default_factory=list)
    decisions: list[DecisionPlan] = field(default_factory=list)
    status: Status = Status.DRAFT
    version: int = 1
    decided_at: datetime | None = None
    reopened: list[str] = field(default_factory=list)
    filled: int = 6  # sections saved: 6 for every submitted registration

    def move(
        self,
        kind: str,
        to_status: Status,
        actor: tuple[str, int | None],
        at: datetime,
        items: Items | None = None,
        *,
        submission: bool = False,
    ) -> None:
        """Append one status change from the current status."""
        actor_kind, actor_id = actor
        self.events.append(
            Event(kind, self.status, to_status, actor_kind, actor_id, items or [], at, submission)
        )
        self.status = to_status


@dataclass
class Clock:
    """Moments of a timeline: log-normal waits, and what is already past."""

    rng: random.Random
    now: datetime

    def later(self, moment: datetime, median_hours: float, sigma: float) -> datetime:
        hours = min(median_hours * math.exp(self.rng.gauss(0, sigma)), 24 * 120)
        return moment + timedelta(seconds=int(hours * 3600) + self.rng.randint(0, 59))


@dataclass
class TimelineMaker:
    """Draws timelines; ``reason`` picks a return reason, ``move`` another department."""

    clock: Clock
    reviewers: dict[str, int]
    reason: Callable[[random.Random], ReturnReason]
    move: Callable[[str], str]

    def make(self, pid: int, started: datetime, county: str, work: bool) -> Timeline:
        rng, now = self.clock.rng, self.clock.now
        applicant = ("APPLICANT", pid)
        timeline = Timeline(
            county, [Event("STARTED", None, Status.DRAFT, *applicant, [], started, False)]
        )
        abandoned = rng.random() < 0.06  # drafts never submitted
        submit_at = self.clock.later(started, 5, 1.2)
        if abandoned:
            timeline.filled = rng.randint(1, 5)
        if not abandoned and submit_at < now:
            timeline.version += 6
            self._rounds(timeline, applicant, submit_at, work)
            return timeline
        if rng.random() < 0.1 and abandoned:
            withdraw_at = self.clock.later(started, 72, 1.0)
            if withdraw_at < now:
                timeline.move("WITHDRAWN", Status.WITHDRAWN, applicant, withdraw_at)
        if not abandoned:
            timeline.filled = rng.randint(1, 5)
        return timeline

    def _rounds(
        self, timeline: Timeline, applicant: tuple[str, int], moment: datetime, work: bool
    ) -> None:
        """Submissions and their decisions, until one is pending, approved or given up."""
        rng, now = self.clock.rng, self.clock.now
        next_at: datetime | None = moment
        while next_at is not None:
            moment = next_at
            seq = len(timeline.submissions) + 1
            timeline.submissions.append(
                SubmissionPlan(seq, moment, timeline.department, timeline.version)
            )
            kind = "SUBMITTED" if seq == 1 else "RESUBMITTED"
            timeline.move(kind, Status.SUBMITTED, applicant, moment, submission=True)
            timeline.version += 1
            decide_at = self.clock.later(moment, 26, 0.9)
            if rng.random() < 0.012:  # withdrawn while waiting
                withdraw_at = moment + (decide_at - moment) * rng.random()
                if withdraw_at < now:
                    timeline.move("WITHDRAWN", Status.WITHDRAWN, applicant, withdraw_at)
                    timeline.version += 1
                    return
            if decide_at >= now:
                return
            next_at = self._decide(timeline, applicant, seq, decide_at, work)

    def _decide(
        self,
        timeline: Timeline,
        applicant: tuple[str, int],
        seq: int,
        decide_at: datetime,
        work: bool,
    ) -> datetime | None:
        """Approve or return submission ``seq``; the moment of the next submission, if any."""
        rng, now = self.clock.rng, self.clock.now
        returned = rng.random() < (0.18 if seq == 1 else 0.06) and seq < 3
        reviewer = ("STAFF", self.reviewers.get(timeline.department))
        if not returned:
            timeline.move("APPROVED", Status.APPROVED, reviewer, decide_at)
            timeline.decisions.append(DecisionPlan("APPROVED", decide_at, seq, []))
            timeline.decided_at, timeline.version = decide_at, timeline.version + 1
            return None
        reasons = {self.reason(rng) for _ in range(rng.choice((1, 1, 2)))}
        items = return_items(reasons, work)
        timeline.move("RETURNED", Status.RETURNED, reviewer, decide_at, items)
        timeline.decisions.append(DecisionPlan("RETURNED", decide_at, seq, items))
        timeline.decided_at, timeline.version = decide_at, timeline.version + 1
        timeline.reopened = [i["field"] for i in items]
        fate = rng.random()
        next_at = self.clock.later(decide_at, 30, 1.0)
        if next_at >= now or fate < 0.08:
            return None  # still being corrected, or abandoned
        if fate < 0.13:
            timeline.move("WITHDRAWN", Status.WITHDRAWN, applicant, next_at)
            timeline.version, timeline.reopened = timeline.version + 1, []
            return None
        if ReturnReason.WRONG_DEPARTMENT in reasons:
            timeline.department = self.move(timeline.department)
        timeline.version += len(items)
        timeline.reopened = []
        return next_at


def return_items(reasons: set[ReturnReason], work: bool) -> Items:
    """The return items citing ``reasons``, in reason order."""
    return [
        {
            "field": REASON_FIELDS[r]
            if work or r is not ReturnReason.WRONG_DEPARTMENT
            else "residence.divisionCode",
            "reasonCode": r.value,
            "note": "请按要求补充说明。" if r is ReturnReason.OTHER else None,
        }
        for r in sorted(reasons)
    ]
