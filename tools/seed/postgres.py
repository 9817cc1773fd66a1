"""The synthetic rows made inside PostgreSQL (INSERT … SELECT over generate_series)."""

# ruff: noqa: S608 - the SQL below is built only from this package's constants

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from models.reference import ReferenceData
from tools.seed.database import dsn
from tools.seed.population import (
    CITY_WEIGHTS,
    ECONOMIC_TYPES,
    EDUCATIONS,
    ID_TYPES,
    MAJORS,
    PART_TIME,
    POLITICAL,
    QUALIFICATIONS,
    REASONS,
    SCHOOLS,
    UNIT_WORDS,
)
from tools.seed.sql_parts import PLAN_DISTRIBUTIONS, distribution, renumber
from tools.seed.sql_plan import plan_statements
from tools.seed.sql_rows import row_statements
from tools.seed.tables import COLUMNS, ID_TABLES, Ids

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
        connection = await asyncpg.connect(dsn(self.url))
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
                for statement in plan_statements(self.reference):
                    used = tuple(sorted({int(n) for n in re.findall(r"\$(\d+)", statement)}))
                    await connection.execute(
                        renumber(statement, used), *[plan_args[i - 1] for i in used]
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
                for statement, used in row_statements(self.reference):
                    await connection.execute(renumber(statement, used), *[values[i] for i in used])
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
