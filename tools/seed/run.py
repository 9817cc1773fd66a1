"""One seeding run: migrate, add the registrations (generated in Python, or by the server on
PostgreSQL), rebuild the statistics counters.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import make_url

import server.migrate as migrate
from config.settings import Settings
from models.db import create_engine, session_factory, transaction
from models.reference import load_reference_data
from models.stats import rebuild_aggregates
from tools.seed.database import SqlAlchemyWriter, max_ids, seed_reviewers
from tools.seed.postgres import PostgresGenerator
from tools.seed.synth import Synth
from tools.seed.tables import Rows

CHUNK = 20_000  # registrations made and written at a time (Python path)


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
    reviewers = await seed_reviewers(url, reference)
    ids = await max_ids(url)
    secret = person_secret or Settings().person_key_secret.get_secret_value().encode()
    moment = now or datetime.now(UTC)
    if make_url(url).get_backend_name() == "postgresql":
        total_rows = await PostgresGenerator(url, reference).run(
            count,
            ids=ids,
            reviewers=reviewers,
            now=moment,
            days=days,
            person_secret=secret,
            rng_seed=rng_seed,
            progress=progress,
        )
    else:
        synth = Synth(
            reference,
            random.Random(rng_seed),  # noqa: S311 - synthetic data, not secrets
            now=moment,
            days=days,
            person_secret=secret,
            ids=ids,
            reviewers=reviewers,
        )
        total_rows = await _load(url, synth, count, progress, started)
    loaded = time.perf_counter()
    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as session:
            await rebuild_aggregates(session)
    finally:
        await engine.dispose()
    finished = time.perf_counter()
    return SeedReport(count, total_rows, loaded - started, finished - loaded)


async def _load(
    url: str,
    synth: Synth,
    count: int,
    progress: Callable[[str], None] | None,
    started: float,
) -> int:
    """Registrations made in Python, written ``CHUNK`` at a time; returns the rows written."""
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
    return total_rows
