"""The seed (``python -m tools.seed``): what it writes agrees with the statistics, and its ID
numbers and credit codes pass the product's own validators."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from models.accounts import Person
from models.db import SessionFactory, create_engine, session_factory, utcnow
from models.id_numbers import check_id_number
from models.reference import load_reference_data
from models.registration import Registration, RegistrationEvent, Status, WorkUnitSection
from models.stats import (
    COMPLEMENT,
    MIN_GROUP,
    SMALL,
    StatsRequest,
    StatsScope,
    registration_stats,
)
from models.stats.rules import china_day
from models.unit_codes import check_unit_code
from tests.stats import diff, expected_counters, stored_counters
from tools.seed import seed
from tools.seed.__main__ import main

COUNT = 200
NOW = utcnow()
TODAY = china_day(NOW)


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[SessionFactory]:
    report = await seed(database_url, COUNT, rng_seed=11, days=60, now=NOW, person_secret=b"k")
    assert report.registrations == COUNT
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def test_the_statistics_count_what_the_seed_wrote(seeded: SessionFactory) -> None:
    reference = load_reference_data()
    async with seeded() as session:
        by_status = dict(
            (
                await session.exec(
                    select(col(Registration.status), func.count()).group_by(
                        col(Registration.status)
                    )
                )
            ).all()
        )
        submitted_at = (
            await session.exec(
                select(col(RegistrationEvent.occurred_at)).where(
                    col(RegistrationEvent.to_status) == Status.SUBMITTED
                )
            )
        ).all()
        request = StatsRequest(StatsScope("province"), TODAY - timedelta(days=31), TODAY)
        answer = await registration_stats(session, reference, request, today=TODAY)

    assert sum(by_status.values()) == COUNT
    assert answer.total.count == COUNT
    shown = {c.code: c.cell for c in answer.by_status}
    for status in Status:
        n, cell = by_status.get(status, 0), shown[status.value]
        assert cell.count == (None if cell.suppressed else n), status
        assert cell.suppressed == (cell.display in (SMALL, COMPLEMENT)), status
        assert (0 < n < MIN_GROUP) == (cell.display == SMALL), status
    # every status the seed makes is there, in realistic shares
    assert by_status[Status.APPROVED] > by_status.get(Status.SUBMITTED, 0) > 0
    assert by_status.get(Status.DRAFT, 0) > 0
    # the daily series: the submissions of each day (first and repeated)
    per_day = Counter(china_day(at) for at in submitted_at)
    assert len(answer.daily) == 32
    for day in answer.daily:
        n, cell = per_day[day.day], day.submitted
        assert cell.count == (None if cell.suppressed else n), day.day
        assert (0 < n < MIN_GROUP) == cell.suppressed, day.day

    # and every counter, by the definitions (tests.stats), from the rows written
    expected, expected_daily = await expected_counters(seeded, reference)
    stored, stored_daily = await stored_counters(seeded)
    assert {s: stored[("P", "status", s.value)] for s in by_status} == by_status
    assert diff(expected, stored) == {}
    assert diff(expected_daily, stored_daily) == {}


async def test_id_numbers_and_credit_codes_pass_the_validators(seeded: SessionFactory) -> None:
    async with seeded() as session:
        people = (await session.exec(select(Person.id_type, Person.id_number))).all()
        codes = (await session.exec(select(WorkUnitSection.credit_code))).all()
    assert len(people) == COUNT
    assert len({number for _, number in people}) == COUNT
    assert {id_type for id_type, _ in people} >= {"01"}
    for id_type, number in people:
        facts = check_id_number(id_type, number, today=TODAY)
        assert facts.number == number
    assert len(codes) > COUNT // 2
    for code in codes:
        assert code is not None
        assert check_unit_code(code).warnings == ()


def test_the_command_line_seeds_a_database(sqlite_url: str) -> None:
    assert main(["--count", "3", "--database-url", sqlite_url, "--seed", "1"]) == 0

    async def count() -> int:
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                return (await session.exec(select(func.count()).select_from(Registration))).one()
        finally:
            await engine.dispose()

    assert asyncio.run(count()) == 3
