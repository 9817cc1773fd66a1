"""Benchmark: the full ``registrationStats`` query at 10,000 and at 1,000,000 registrations.

    .venv/bin/python -m tools.bench.bench_stats [--small 10000] [--large 1000000] [--runs 50]
        [--server postgresql+asyncpg://postgres@127.0.0.1:5432/test] [--keep]

Creates a throwaway database on the PostgreSQL server, seeds ``--small`` registrations with
``tools.seed`` (two years of history), and measures the query through the real app: the
Starlette/Strawberry GraphQL HTTP endpoint in process (httpx's ASGI transport: token check,
parsing, validation, resolvers, JSON), signed in as a DASHBOARD user. Then it grows the same
database to ``--large`` registrations and measures again, and prints both medians, the ratio
and whether the budget held (ratio < 2, large median < 100 ms). It is not a test; at a million
registrations the seeding takes several minutes.

The query asks for every figure, province-wide, with the activity of the last 365 days (a
year of daily points, the turnaround histogram of a year). A department-level query is timed
too, for information.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

import server.migrate as migrate
from config.settings import Settings
from models.db import utcnow
from models.stats import china_day
from server.app import create_app
from services.container import Services
from tests.stats import STATS
from tools.seed import seed

QUERY = STATS  # the full query, as the dashboards send it (shared with the tests)
LOGIN = """mutation { devLogin(input: {name: "看板", staffRole: DASHBOARD}) {
  accessToken errors { code } } }"""


class Harness:
    """The app in process, signed in as a dashboard."""

    def __init__(self, url: str, folder: Path) -> None:
        self.settings = Settings(
            app_env="dev",
            database_url=url,
            storage_local_root=folder / "uploads",
            redis_url="",
            public_base_url="http://bench",
            secret_key="bench-secret-key-" + "b" * 24,
            person_key_secret="bench-person-key-" + "b" * 24,
        )
        self.services = Services.build(self.settings)
        self.app = create_app(self.settings, self.services)
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://bench"
        )
        self.token = ""

    async def __aenter__(self) -> Harness:
        await self.services.start()
        login = await self.post(LOGIN, {})
        self.token = login["data"]["devLogin"]["accessToken"]
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.http.aclose()
        await self.services.close()

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"{response.status_code}: {body}")
        return body

    async def median_ms(self, variables: dict[str, Any], runs: int) -> tuple[float, dict[str, Any]]:
        body: dict[str, Any] = {}
        for _ in range(5):  # warm up: caches, connections, plans
            body = await self.post(QUERY, variables)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            body = await self.post(QUERY, variables)
            times.append((time.perf_counter() - started) * 1000)
        answer = body["data"]["registrationStats"]
        if answer["errors"]:
            raise RuntimeError(answer["errors"])
        return statistics.median(times), answer


async def measure(url: str, runs: int, label: str) -> float:
    today = china_day(utcnow())
    province = {"filter": {"from": (today - timedelta(days=364)).isoformat(), "to": str(today)}}
    department = {"filter": {**province["filter"], "departmentCode": "330106"}}
    with tempfile.TemporaryDirectory() as folder:
        async with Harness(url, Path(folder)) as harness:
            median, answer = await harness.median_ms(province, runs)
            local, _ = await harness.median_ms(department, runs)
    print(
        f"{label}: total {answer['total']:,}, median {median:.1f} ms "
        f"(department 330106: {local:.1f} ms) over {runs} runs; "
        f"turnaround median {answer['turnaroundHours']['median']} h, "
        f"first-pass approval {answer['firstPassApprovalRate']}"
    )
    return median


async def main(server: str, small: int, large: int, runs: int, keep: bool) -> int:
    name = f"bench_stats_{uuid.uuid4().hex[:8]}"
    admin_dsn = make_url(server).set(drivername="postgresql").render_as_string(False)
    url = make_url(server).set(database=name).render_as_string(False)
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    print(f"database {name}")
    try:
        await migrate.upgrade(url)
        report = await seed(url, small, rng_seed=1)
        print(
            f"seeded {small:,}: {report.load_seconds:.1f} s load + "
            f"{report.aggregate_seconds:.1f} s aggregates"
        )
        first = await measure(url, runs, f"{small:,} registrations")
        report = await seed(url, large - small, rng_seed=2)
        print(
            f"seeded {large - small:,} more: {report.load_seconds:.1f} s load + "
            f"{report.aggregate_seconds:.1f} s aggregates "
            f"({report.load_seconds + report.aggregate_seconds:.0f} s)"
        )
        second = await measure(url, runs, f"{large:,} registrations")
    finally:
        if not keep:
            admin = await asyncpg.connect(admin_dsn)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()
    ratio = second / first
    ok = ratio < 2 and second < 100
    print(
        f"median {first:.1f} ms at {small:,}, {second:.1f} ms at {large:,}: ratio {ratio:.2f} "
        f"({'within' if ok else 'OVER'} budget: ratio < 2 and < 100 ms)"
    )
    return 0 if ok else 1


def cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    return asyncio.run(main(args.server, args.small, args.large, args.runs, args.keep))


if __name__ == "__main__":
    raise SystemExit(cli())
