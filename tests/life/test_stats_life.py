"""The statistics stay equal to a plain count over the raw tables through forwards, reopened
approvals and change requests (superseded records, first-pass rate of INITIAL only), after a
rebuild too, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import uuid

from models import review_moves, wizard
from models.db import SessionFactory, transaction
from models.registration import Registration
from models.stats.rebuild import rebuild_aggregates
from tests.stats import Lab, Reg, database, stored_counters
from tests.stats.test_stats_consistency import assert_counters_match


async def version_of(db: SessionFactory, registration_id: str) -> int:
    async with db() as session:
        row = await session.get(Registration, registration_id)
        assert row is not None
        return row.version


async def test_forwards_reopens_and_changes_keep_counters_exact(database_url: str) -> None:
    async with database(database_url) as db:
        lab = Lab(db, rng=random.Random(12))
        regs = [await lab.start() for _ in range(6)]
        for reg in regs:
            await lab.fill(reg, work=True, part_time=None)
            await lab.submit(reg)
        staff = await lab.staff()
        # two forwards: SUBMITTED → SUBMITTED in another department, no new submission
        for reg, target in ((regs[0], "330106"), (regs[1], "330100")):
            async with transaction(db) as session:
                await review_moves.forward_registration(
                    session,
                    lab.reference,
                    staff,
                    registration_id=reg.id,
                    expected_version=await version_of(db, reg.id),
                    department_code=target,
                    comment=None,
                    now=lab.now(),
                )
        for reg in regs:
            await lab.approve(reg)
        # a reopened approval, approved again
        async with transaction(db) as session:
            await review_moves.reopen_registration(
                session,
                staff,
                registration_id=regs[2].id,
                expected_version=await version_of(db, regs[2].id),
                reason="误操作",
                now=lab.now(),
            )
        await lab.approve(regs[2])
        # change requests: approved (the old record superseded), and one withdrawn
        changes = []
        for reg in regs[3:6]:
            async with transaction(db) as session:
                data = await wizard.start_registration(
                    session, person_id=reg.person_id, new_id=uuid.uuid4().hex, now=lab.now()
                )
            changes.append(Reg(data.id, reg.person_id))
        for change in changes[:2]:
            await lab.submit(change)
            await lab.approve(change)
        await lab.withdraw(changes[2])
        incremental = await assert_counters_match(lab)
        counters = incremental[0]
        assert counters[("P", "status", "SUPERSEDED")] == 2
        assert counters[("P", "status", "APPROVED")] == 6
        first_pass = sum(
            n for (s, m, _, _), n in incremental[1].items() if s == "P" and m == "first_pass"
        )
        assert first_pass == 6  # the INITIAL ones; the approved changes are not first passes
        submitted = sum(
            n for (s, m, _, _), n in incremental[1].items() if s == "P" and m == "submitted"
        )
        assert submitted == 6 + 1 + 2  # six, the reopened one again, two changes; no forward

        async with transaction(db) as session:
            await rebuild_aggregates(session)
        assert await stored_counters(db) == incremental
        if "postgresql" in database_url:  # the streaming rebuild agrees with the SQL one
            async with transaction(db) as session:
                await rebuild_aggregates(session, portable=True)
            assert await stored_counters(db) == incremental
