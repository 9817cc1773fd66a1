"""Per-step mutation latency of the wizard: ``python -m tools.bench.bench_wizard [--applicants N] [--postgres]``.

Each applicant signs in and walks every step (start, notice, basic info, work unit, education,
qualification, submit) through the real app in process (httpx's ASGI transport, no network),
with attachments recorded directly so that only the GraphQL steps are timed. Prints the median
and p99 of each step in milliseconds. Not a test: numbers for the closing notes.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests import wizard as w
from tests.api import Api, fresh_postgres_database, running_api, settings_for


async def _walk(api: Api, n: int, timings: dict[str, list[float]]) -> None:
    identity = {"name": "测试", "idType": "04", "idNumber": f"E{n:08d}", "phone": "13800000000"}
    applicant = await w.sign_in(api, identity)

    async def timed(name: str, coro: Any) -> Any:
        started = time.perf_counter()
        result = await coro
        timings[name].append((time.perf_counter() - started) * 1000)
        return result

    registration = (await timed("startRegistration", applicant.data(w.START)))["startRegistration"][
        "registration"
    ]
    registration = await timed(
        "acknowledgeNotice", w.ok(applicant, w.ACKNOWLEDGE, registration, eligibility=["WORK_UNIT"])
    )
    basic = {**w.BASIC, "gender": "MALE", "birthDate": "1990-03-07"}
    registration = await timed(
        "saveBasicInfo", w.ok(applicant, w.SAVE_BASIC, registration, **basic)
    )
    registration = await timed(
        "saveWorkOrResidence", w.ok(applicant, w.SAVE_WORK, registration, workUnit=w.WORK_UNIT)
    )
    registration = await timed(
        "saveEducation", w.ok(applicant, w.SAVE_EDUCATION, registration, fullTime=w.FULL_TIME)
    )
    registration = await timed(
        "saveQualification",
        w.ok(applicant, w.SAVE_QUALIFICATION, registration, qualification=w.QUALIFICATION),
    )
    registration = await w.attach_directly(applicant, registration)
    await timed("submitRegistration", w.ok(applicant, w.SUBMIT, registration, agreed=True))


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def run(url: str, tmp: Path, applicants: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    async with running_api(settings_for(url, tmp)) as api:
        for n in range(3):  # warm-up: caches, connection pool, first-time imports
            await _walk(api, 10_000_000 + n, defaultdict(list))
        for n in range(applicants):
            await _walk(api, n, timings)
    return timings


def report(label: str, timings: dict[str, list[float]]) -> None:
    print(
        f"\n{label}: per-step mutation latency, {len(next(iter(timings.values())))} applicants (ms)"
    )
    print(f"{'step':24} {'median':>8} {'p99':>8}")
    for name, values in timings.items():
        print(f"{name:24} {statistics.median(values):8.2f} {_p99(values):8.2f}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument(
        "--postgres", action="store_true", help="also run on a fresh PostgreSQL database"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(
            "SQLite (embedded default)",
            await run(f"sqlite+aiosqlite:///{tmp}/bench.db", Path(tmp), args.applicants),
        )
        if args.postgres:
            async with fresh_postgres_database(
                "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
            ) as url:
                report("PostgreSQL", await run(url, Path(tmp), args.applicants))


if __name__ == "__main__":
    asyncio.run(main())
