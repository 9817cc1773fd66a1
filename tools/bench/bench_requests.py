"""Per-request cost of the service against a hand-written endpoint doing the same work:
``python -m tools.bench.bench_requests [--seconds S] [--rounds R]``.

On a fresh PostgreSQL database, 16 applicants sign in and fill the wizard (in process). The
statements the service runs for each request are captured with the statement listener
(models/statements.py), with the bytes it answers. Then two servers start as subprocesses,
one uvicorn worker each: the service, and a hand-written Starlette endpoint that checks the
same bearer token, replays those statements on asyncpg and answers the same bytes. Load comes
from httpx clients in this process (32 concurrent for reads, 16 applicants saving at once),
in interleaved rounds. Prints req/s, the ratio, latency and SQL statements per request.
Not a test: numbers for the closing notes (the machine is shared; quote ratios of one run).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from models.statements import count_statements
from tests import wizard as w
from tests.api import fresh_postgres_database, running_api, settings_for

SECRET = "bench-secret-key-0123456789abcdef0123456789"
PERSON_SECRET = "bench-person-key-0123456789abcdef012345678"
VIEWER = "{ viewer { kind } }"
APPLICANTS = 16
READERS = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _save_body(registration_id: str, version: int) -> dict[str, Any]:
    fields = {**w.BASIC, "gender": "MALE", "birthDate": "1990-03-07"}
    return {
        "query": w.SAVE_BASIC,
        "variables": {
            "input": {"registrationId": registration_id, "expectedVersion": version, **fields}
        },
    }


async def prepare(url: str, tmp: Path) -> dict[str, Any]:
    """Applicants with filled wizards; the SQL and the answer of each request, captured."""
    settings = settings_for(url, tmp, secret_key=SECRET, person_key_secret=PERSON_SECRET)
    applicants: list[dict[str, Any]] = []
    captured: dict[str, Any] = {}
    async with running_api(settings) as api:
        for n in range(APPLICANTS):
            identity = {
                "name": "测试",
                "idType": "04",
                "idNumber": f"E{n:08d}",
                "phone": "13800000000",
            }
            applicant = await w.sign_in(api, identity)
            registration = await w.fill_wizard(
                applicant, basic={**w.BASIC, "gender": "MALE", "birthDate": "1990-03-07"}
            )
            applicants.append(
                {
                    "token": applicant.token,
                    "id": registration["id"],
                    "version": registration["version"],
                }
            )
        first = api.as_user(applicants[0]["token"] or "")
        for name, body in (
            ("viewer", {"query": VIEWER}),
            ("myRegistration", {"query": w.MY_REGISTRATION}),
            ("saveBasicInfo", _save_body(applicants[0]["id"], applicants[0]["version"])),
        ):
            for _ in range(2):  # the second run is the steady state (caches warm)
                if name == "saveBasicInfo":
                    body = _save_body(applicants[0]["id"], applicants[0]["version"])
                with count_statements(keep=True) as log:
                    response = await first.http.post(
                        "/graphql", json=body, headers={"Authorization": f"Bearer {first.token}"}
                    )
                assert response.status_code == 200, response.text
                answer = response.content
                if name == "saveBasicInfo":
                    applicants[0]["version"] += 1
            captured[name] = {
                "statements": [(sql, tuple(params or ())) for sql, params in log.statements],
                "answer": answer,
            }
    return {"applicants": applicants, "captured": captured}


# -- the hand-written side ---------------------------------------------------------------------
def handwritten_app(dump: Path, dsn: str) -> Any:
    import asyncpg
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from services.tokens import TokenInvalid, read_access_token

    captured = pickle.loads(dump.read_bytes())["captured"]
    pool: Any = None

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=10)
        try:
            yield
        finally:
            await pool.close()

    def endpoint(name: str) -> Any:
        statements = captured[name]["statements"]
        answer = captured[name]["answer"]
        writes = any(not sql.lstrip().upper().startswith("SELECT") for sql, _ in statements)

        async def handle(request: Request) -> Response:
            _, _, token = request.headers.get("authorization", "").partition(" ")
            try:
                read_access_token(SECRET, token)
            except TokenInvalid:
                return Response(status_code=401)
            await request.body()
            async with pool.acquire() as connection:
                if writes:
                    async with connection.transaction():
                        for sql, params in statements:
                            await connection.fetch(sql, *params)
                else:
                    for sql, params in statements:
                        await connection.fetch(sql, *params)
            return Response(answer, media_type="application/json")

        return handle

    return Starlette(
        routes=[Route(f"/{name}", endpoint(name), methods=["POST"]) for name in captured],
        lifespan=lifespan,
    )


def _serve_handwritten(dump: str, dsn: str, port: int) -> None:
    import uvicorn

    app = handwritten_app(Path(dump), dsn)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        timeout_keep_alive=60,
    )


# -- driving -------------------------------------------------------------------------------------
async def _drive(
    base: str, path: str, bodies: list[Any], tokens: list[str], seconds: float, save: bool
) -> tuple[int, list[float]]:
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker(i: int) -> None:
            body = bodies[i]
            headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(path, json=body, headers=headers)
                except httpx.TransportError:  # a dropped connection: counted, not fatal
                    errors.append(path)
                    continue
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text[:300]
                if save and path == "/graphql":
                    payload = orjson.loads(response.content)["data"]["saveBasicInfo"]
                    assert payload["errors"] == [], payload["errors"]
                    version = payload["registration"]["version"]
                    body = _save_body(payload["registration"]["id"], version)

        await asyncio.gather(*(worker(i) for i in range(len(bodies))))
    if errors:
        print(f"  {len(errors)} dropped connections on {base}{path}", flush=True)
    return len(latencies), latencies


def _start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def _wait_for(port: int, process: subprocess.Popen[bytes], limit_s: float = 240.0) -> None:
    """Imports alone take tens of seconds on a loaded machine: wait, but not forever."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


async def fresh_versions(base: str, applicants: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        for a in applicants:
            response = await client.post(
                "/graphql",
                json={"query": "{ myRegistration { version } }"},
                headers={"Authorization": f"Bearer {a['token']}"},
            )
            a["version"] = response.json()["data"]["myRegistration"]["version"]


async def bench(url: str, seconds: float, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    state = await prepare(url, tmp)
    dump = tmp / "captured.pickle"
    dump.write_bytes(pickle.dumps(state))
    applicants = state["applicants"]
    tokens = [a["token"] for a in applicants]
    env = {
        **os.environ,
        "APP_ENV": "dev",
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "PERSON_KEY_SECRET": PERSON_SECRET,
        "REDIS_URL": "",
        "STORAGE_LOCAL_ROOT": str(tmp / "uploads"),
        "LOG_LEVEL": "WARNING",
    }
    service_port, hand_port = _free_port(), _free_port()
    service = _start(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "server.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(service_port),
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--timeout-keep-alive",
            "60",
            "--log-level",
            "warning",
        ],
        env,
    )
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    hand = _start(
        [
            sys.executable,
            "-m",
            "tools.bench.bench_requests",
            "--serve-handwritten",
            str(dump),
            "--dsn",
            dsn,
            "--port",
            str(hand_port),
        ],
        env,
    )
    results: dict[tuple[str, str], list[tuple[int, list[float]]]] = {}
    try:
        _wait_for(service_port, service)
        _wait_for(hand_port, hand)
        service_base = f"http://127.0.0.1:{service_port}"
        hand_base = f"http://127.0.0.1:{hand_port}"
        reads = {"viewer": {"query": VIEWER}, "myRegistration": {"query": w.MY_REGISTRATION}}
        for _ in range(rounds):
            for name in ("viewer", "myRegistration", "saveBasicInfo"):
                save = name == "saveBasicInfo"
                if save:
                    await fresh_versions(service_base, applicants)
                    bodies = [_save_body(a["id"], a["version"]) for a in applicants]
                else:
                    bodies = [reads[name]] * READERS
                for side, base, path in (
                    ("service", service_base, "/graphql"),
                    ("hand-written", hand_base, f"/{name}"),
                ):
                    results.setdefault((name, side), []).append(
                        await _drive(base, path, bodies, tokens, seconds, save)
                    )
    finally:
        for process in (service, hand):
            process.terminate()
            process.wait(timeout=10)
    report(state, results, seconds)


def report(state: dict[str, Any], results: dict[Any, Any], seconds: float) -> None:
    print(
        f"\none uvicorn worker each, PostgreSQL, httpx load ({READERS} readers, "
        f"{APPLICANTS} applicants saving), {len(next(iter(results.values())))} interleaved "
        f"rounds of {seconds:g} s; the machine is shared: quote ratios"
    )
    print(
        f"{'request':16} {'SQL':>4} {'service req/s':>14} {'hand req/s':>11} {'ratio':>6} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'bytes':>6}"
    )
    for name in ("viewer", "myRegistration", "saveBasicInfo"):
        rates = {}
        for side in ("service", "hand-written"):
            runs = results[(name, side)]
            rates[side] = statistics.median(count / seconds for count, _ in runs)
        latencies = sorted(x for _, lat in results[(name, "service")] for x in lat)
        p50 = latencies[len(latencies) // 2] * 1000
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000
        captured = state["captured"][name]
        print(
            f"{name:16} {len(captured['statements']):4d} {rates['service']:14.0f} "
            f"{rates['hand-written']:11.0f} {rates['service'] / rates['hand-written']:6.3f} "
            f"{p50:7.1f} {p99:7.1f} {len(captured['answer']):6d}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve-handwritten", metavar="DUMP", help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_handwritten:
        _serve_handwritten(args.serve_handwritten, args.dsn, args.port)
        return
    from tests.services import require_postgres

    async def run() -> None:
        async with fresh_postgres_database(require_postgres()) as url:
            await bench(url, args.seconds, args.rounds)

    asyncio.run(run())


if __name__ == "__main__":
    main()
