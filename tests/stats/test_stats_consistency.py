"""The counters always equal a plain count over the raw tables: after random changes, after a
rebuild, and after concurrent submissions and reviews on PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any

import pytest

from models.db import transaction
from models.errors import ErrorCode, ProblemsFound
from models.stats.rebuild import rebuild_aggregates
from tests.stats import Lab, Reg, database, diff, expected_counters, stored_counters

REASONS = [
    ("attachments.ID_PHOTO", "PHOTO_BACKGROUND"),
    ("attachments.ID_PHOTO", "PHOTO_UNCLEAR"),
    ("workUnit.officeDivisionCode", "WRONG_DEPARTMENT"),
    ("basicInfo.politicalStatus", "INFORMATION_INCORRECT"),
    ("basicInfo.remarks", "OTHER"),
]


async def assert_counters_match(lab: Lab) -> tuple[Counter[Any], Counter[Any]]:
    expected = await expected_counters(lab.db, lab.reference)
    stored = await stored_counters(lab.db)
    assert diff(expected[0], stored[0]) == {}
    assert diff(expected[1], stored[1]) == {}
    assert sum(n for (scope, dim, _), n in stored[0].items() if scope == "P" and dim == "status")
    return stored


async def random_step(lab: Lab, regs: list[Reg], rng: random.Random) -> None:
    """One applicant or reviewer action on a random registration, whatever its state."""
    reg = rng.choice(regs)
    status = await lab.status(reg)
    if status == "DRAFT":
        if rng.random() < 0.1:
            await lab.withdraw(reg)
            return
        await lab.fill(
            reg,
            work=rng.random() < 0.85,
            part_time=rng.choice([None, ("21", "4"), ("14", "3")]),
        )
        await lab.submit(reg)
    elif status == "SUBMITTED":
        roll = rng.random()
        if roll < 0.5:
            await lab.approve(reg)
        elif roll < 0.9:
            await lab.return_(reg, rng.sample(REASONS, rng.randint(1, 2)))
        else:
            await lab.withdraw(reg)
    elif status == "RETURNED":
        if rng.random() < 0.15:
            await lab.withdraw(reg)
            return
        async with lab.db() as db:
            from models.registration import Registration

            registration = await db.get(Registration, reg.id)
            assert registration is not None
            moved = "workUnit.officeDivisionCode" in registration.reopened
        if moved and registration.department_rule == "OFFICE_DIVISION":
            await lab.move(reg, rng.choice(lab.counties))
        await lab.submit(reg)


async def test_random_changes_keep_the_counters_equal_to_raw_counts(database_url: str) -> None:
    async with database(database_url) as db:
        lab = Lab(db, rng=random.Random(2026))
        rng = random.Random(7)
        regs = [await lab.start(id_type="01" if i % 6 else "02") for i in range(24)]
        for _ in range(70):
            await random_step(lab, regs, rng)
        statuses = Counter([await lab.status(r) for r in regs])
        assert len(statuses) >= 4, statuses  # the walk reached most statuses
        incremental = await assert_counters_match(lab)

        # recomputing from the raw tables gives the same counters
        async with transaction(db) as session:
            report = await rebuild_aggregates(session)
        assert report.registrations == 24
        assert await stored_counters(db) == incremental
        if "postgresql" in database_url:  # and the streaming path agrees with the SQL one
            async with transaction(db) as session:
                await rebuild_aggregates(session, portable=True)
            assert await stored_counters(db) == incremental

        # and changes after a rebuild still land on the right counters
        for _ in range(15):
            await random_step(lab, regs, rng)
        await assert_counters_match(lab)


@pytest.mark.postgres
@pytest.mark.slow
async def test_concurrent_submissions_and_reviews_never_lose_a_count(postgres_url: str) -> None:
    """Applicants submit and reviewers decide at the same time, in many transactions at once
    (two reviewers racing for some registrations): the counters stay exact."""
    async with database(postgres_url) as db:
        lab = Lab(db, rng=random.Random(11))
        regs = [await lab.start() for _ in range(24)]
        for reg in regs:
            # a handful of departments: concurrent transactions share counter rows
            await lab.fill(reg, division=lab.rng.choice(["330102", "330106", "330212"]))
        await lab.staff()

        async def attempt(action: Any, *args: Any, **kwargs: Any) -> str:
            try:
                await action(*args, **kwargs)
            except ProblemsFound as exc:
                return exc.problems[0].code.value
            return "OK"

        first = await asyncio.gather(*(attempt(lab.submit, r) for r in regs))
        assert first == ["OK"] * len(regs)
        versions = {r.id: await lab.version(r) for r in regs}
        decisions = []
        for i, reg in enumerate(regs):
            if i % 3 == 0:
                decisions.append(attempt(lab.return_, reg, [REASONS[i % 5]], versions[reg.id]))
            else:
                decisions.append(attempt(lab.approve, reg, versions[reg.id]))
            if i % 4 == 0:  # a second reviewer decides the same registration at once
                decisions.append(attempt(lab.approve, reg, versions[reg.id]))
        outcomes = Counter(await asyncio.gather(*decisions))
        assert outcomes["OK"] == len(regs)
        assert set(outcomes) <= {"OK", ErrorCode.VERSION_CONFLICT.value}
        await assert_counters_match(lab)

        returned = [r for r in regs if await lab.status(r) == "RETURNED"]
        approved = [r for r in regs if await lab.status(r) == "APPROVED"]
        again = await asyncio.gather(
            *(attempt(lab.submit, r) for r in returned[::2]),
            *(attempt(lab.withdraw, r) for r in returned[1::2]),
            *(attempt(lab.start) for _ in approved[:6]),
        )
        assert set(again) == {"OK"}
        await assert_counters_match(lab)
