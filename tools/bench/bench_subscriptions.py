"""Subscription latency and memory on one worker (not a test).

    .venv/bin/python -m tools.bench.bench_subscriptions                  # 1,000 and 5,000 sockets
    .venv/bin/python -m tools.bench.bench_subscriptions --sockets 200 --rounds 2

Set-up, as in production: one uvicorn worker (uvloop, httptools, websockets without
permessage-deflate: websockets-sansio, like ``serve.py``) on a fresh PostgreSQL database (TEST_POSTGRES_URL,
default postgresql+asyncpg://postgres@127.0.0.1:5432/test) and a private ``redis-server``
(RedisBroker, in-process dispatcher). The clients run in this process.

For each socket count N: one applicant submits a registration; N WebSockets (the same
applicant's token, one ``registrationEvents`` subscription each, all on the same
registration: the worst case, one event fans out to N sockets) connect and subscribe. The
server's RSS is read before the sockets connect and once they are idle: the difference
divided by N is the memory per idle connection (socket, Strawberry handler, subscription
generator, broker mailbox). Then a reviewer decides ``--rounds`` times (returnRegistration,
the applicant resubmits, ... and approveRegistration last); for each decision the latency of
a socket is the time from the mutation's HTTP response arriving here to that socket
receiving the event. Median and p99 are over all sockets and decisions.

The client side shares the machine's cores with the server: its own parsing adds to the
tail. ``ulimit -n`` is raised to the hard limit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

from tools.sample_answers import BASIC, FULL_TIME, WORK_UNIT, resident_id

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
PROTOCOL = "graphql-transport-ws"
EVENTS = """subscription($id: ID!, $after: String) {
  registrationEvents(registrationId: $id, after: $after) {
    cursor kind status occurredAt comment items { field reason { code name } note } } }"""
REGISTRATION = "id status version requiredAttachments { kind required satisfied }"
PAYLOAD = "{ registration { " + REGISTRATION + " } errors { field code } }"
HISTORY = "{ myRegistration { id version status history { cursor kind } } }"
DEV_LOGIN = """mutation($input: DevLoginInput!) { devLogin(input: $input) {
  accessToken errors { field code } } }"""
DECISION = "{ registration { id version status } errors { field code message } }"
ITEMS = [{"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"}]
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("acknowledgeNotice", "AcknowledgeNoticeInput", {"eligibility": ["WORK_UNIT"]}),
    ("saveBasicInfo", "SaveBasicInfoInput", BASIC),
    ("saveWorkOrResidence", "SaveWorkOrResidenceInput", {"workUnit": WORK_UNIT}),
    ("saveEducation", "SaveEducationInput", {"fullTime": FULL_TIME, "partTime": None}),
    ("saveQualification", "SaveQualificationInput", {"qualification": None}),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# -- the server -------------------------------------------------------------------------------


@dataclass
class Server:
    database_url: str
    redis_port: int
    port: int
    log: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker(self) -> subprocess.Popen[bytes]:
        return self.processes[-1]

    def start(self) -> None:
        redis = shutil.which("redis-server")
        if redis is None:
            raise SystemExit("redis-server is needed")
        self.processes.append(
            subprocess.Popen(
                [redis, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_for_port(self.redis_port, self.processes[0])
        env = dict(os.environ)
        env.update(
            {
                "APP_ENV": "dev",
                "DATABASE_URL": self.database_url,
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "PORT": str(self.port),
                "LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "json",
                "DATABASE_POOL_SIZE": "20",
            }
        )
        args = [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory"]
        args += ["--host", "127.0.0.1", "--port", str(self.port), "--loop", "uvloop"]
        args += [
            "--http",
            "httptools",
            "--ws",
            "websockets-sansio",
            "--ws-per-message-deflate",
            "False",
        ]
        args += ["--no-access-log", "--log-level", "warning", "--backlog", "4096"]
        handle = self.log.open("ab")
        self.processes.append(
            subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        )
        handle.close()
        wait_for_port(self.port, self.worker)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)


# -- the clients -------------------------------------------------------------------------------


class Api:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    async def sign_in(self, identity: dict[str, str]) -> Api:
        result = (await self.data(DEV_LOGIN, {"input": identity}))["devLogin"]
        if result["errors"]:
            raise RuntimeError(result["errors"])
        return Api(self.http, result["accessToken"])

    async def step(
        self, name: str, type_name: str, registration: dict[str, Any], **fields: Any
    ) -> Any:
        query = f"mutation($input: {type_name}!) {{ {name}(input: $input) {PAYLOAD} }}"
        variables = {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **fields,
            }
        }
        payload = (await self.data(query, variables))[name]
        if payload["errors"]:
            raise RuntimeError(f"{name}: {payload['errors']}")
        return payload["registration"]

    async def decide(self, name: str, registration: dict[str, Any], **fields: Any) -> Any:
        type_name = (
            "ApproveRegistrationInput"
            if name == "approveRegistration"
            else "ReturnRegistrationInput"
        )
        query = f"mutation($input: {type_name}!) {{ {name}(input: $input) {DECISION} }}"
        variables = {
            "input": {
                "registrationId": registration["id"],
                "expectedVersion": registration["version"],
                **fields,
            }
        }
        payload = (await self.data(query, variables))[name]
        if payload["errors"]:
            raise RuntimeError(f"{name}: {payload['errors']}")
        return payload["registration"]


async def attach_everything(database_url: str, registration: dict[str, Any]) -> None:
    """Record the required attachments directly (the upload flow is not what is measured)."""
    from models.attachments import Attachment, AttachmentKind
    from models.db import create_engine, session_factory, transaction

    engine = create_engine(database_url)
    try:
        async with transaction(session_factory(engine)) as db:
            for n, item in enumerate(registration["requiredAttachments"]):
                db.add(
                    Attachment(
                        id=uuid.uuid4().hex,
                        registration_id=registration["id"],
                        kind=AttachmentKind(item["kind"]),
                        storage_key=f"attachments/{registration['id']}/{n}.jpg",
                        width=1200,
                        height=1600,
                        byte_size=300_000,
                        sha256="0" * 64,
                    )
                )
    finally:
        await engine.dispose()


@dataclass
class Socket:
    ws: ClientConnection
    received: dict[str, float] = field(default_factory=dict)  # cursor → arrival time
    kinds: dict[str, str] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") == "next":
                event = message["payload"]["data"]["registrationEvents"]
                self.received[event["cursor"]] = now
                self.kinds[event["cursor"]] = event["kind"]
                self.arrived.set()


async def open_socket(url: str, token: str, registration_id: str, after: str) -> Socket:
    ws = await connect(
        url,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        compression=None,
        ping_interval=None,
        open_timeout=60,
        close_timeout=2,
    )
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
    assert ack["type"] == "connection_ack", ack
    variables = {"id": registration_id, "after": after}
    await ws.send(
        json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": variables}}
        )
    )
    sock = Socket(ws)
    sock.reader = asyncio.create_task(sock.read())
    return sock


async def wait_all(sockets: list[Socket], cursor_kind: str, within: float) -> None:
    """Until every socket has received an event of ``cursor_kind``."""
    deadline = time.monotonic() + within
    while True:
        missing = sum(1 for s in sockets if cursor_kind not in s.kinds.values())
        if missing == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{missing} sockets never received {cursor_kind}")
        await asyncio.sleep(0.01)


async def run_size(
    server: Server, http: httpx.AsyncClient, size: int, rounds: int, serial: int
) -> dict[str, Any]:
    api = Api(http)
    applicant = await api.sign_in(
        {"name": "张三", "idType": "01", "idNumber": resident_id(serial), "phone": "13812345678"}
    )
    staff = await api.sign_in({"name": "审核员", "reviewerDepartmentCode": "330102"})
    registration = (await applicant.data(f"mutation {{ startRegistration {PAYLOAD} }}"))[
        "startRegistration"
    ]["registration"]
    for name, type_name, answers in STEPS:
        registration = await applicant.step(name, type_name, registration, **answers)
    await attach_everything(server.database_url, registration)
    current = (await applicant.data(HISTORY))["myRegistration"]
    registration = await applicant.step(
        "submitRegistration", "SubmitRegistrationInput", current, agreed=True
    )
    history = (await applicant.data(HISTORY))["myRegistration"]["history"]
    before_submit = history[-2]["cursor"]  # each socket first gets SUBMITTED replayed

    await asyncio.sleep(1.0)
    rss_before = rss_kib(server.worker.pid)
    ws_url = server.url.replace("http", "ws") + "/graphql"
    sockets: list[Socket] = []
    gate = asyncio.Semaphore(100)

    async def one() -> None:
        async with gate:
            sockets.append(
                await open_socket(ws_url, applicant.token or "", registration["id"], before_submit)
            )

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(size)))
    await wait_all(sockets, "SUBMITTED", 300)  # every subscription is live
    connect_s = time.monotonic() - started
    await asyncio.sleep(3.0)  # idle
    rss_idle = rss_kib(server.worker.pid)

    latencies: list[float] = []
    per_round: list[tuple[str, float, float, float, float]] = []
    for round_no in range(rounds):
        last = round_no == rounds - 1
        for sock in sockets:
            sock.kinds.clear()
            sock.received.clear()
        name = "approveRegistration" if last else "returnRegistration"
        fields: dict[str, Any] = {} if last else {"items": ITEMS}
        current = (await applicant.data(HISTORY))["myRegistration"]
        requested = time.perf_counter()
        decided = await staff.decide(name, current, **fields)
        answered = time.perf_counter()
        kind = "APPROVED" if last else "RETURNED"
        await wait_all(sockets, kind, 300)
        sample = [
            (sock.received[c] - answered) * 1000
            for sock in sockets
            for c, k in sock.kinds.items()
            if k == kind
        ]
        latencies += sample
        per_round.append(
            (
                kind,
                round((answered - requested) * 1000, 1),
                round(min(sample), 1),
                round(statistics.median(sample), 1),
                round(percentile(sample, 99), 1),
            )
        )
        if not last:
            await asyncio.sleep(0.5)
            await applicant.step(
                "submitRegistration", "SubmitRegistrationInput", decided, agreed=True
            )
            await wait_all(sockets, "RESUBMITTED", 300)

    for sock in sockets:
        if sock.reader is not None:
            sock.reader.cancel()
    await asyncio.gather(*(s.ws.close() for s in sockets), return_exceptions=True)
    await asyncio.gather(*(s.reader for s in sockets if s.reader), return_exceptions=True)
    return {
        "sockets": size,
        "connect_s": round(connect_s, 1),
        "median_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
        "rounds (kind, mutation ms, first, median, p99)": per_round,
        "kib_per_idle_connection": round((rss_idle - rss_before) / size, 1),
        "rss_before_mib": round(rss_before / 1024, 1),
        "rss_idle_mib": round(rss_idle / 1024, 1),
    }


async def main_async(sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    import server.migrate as migrate

    name = f"bench_{uuid.uuid4().hex[:10]}"
    dsn = POSTGRES.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    database_url = POSTGRES.rsplit("/", 1)[0] + f"/{name}"
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}.log"
    server = Server(database_url, free_port(), free_port(), log)
    results = []
    try:
        await migrate.upgrade(database_url)
        server.start()
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            for n, size in enumerate(sizes):
                result = await run_size(server, http, size, rounds, n + 1)
                results.append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
    finally:
        server.stop()
        admin = await asyncpg.connect(dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.bench_subscriptions")
    parser.add_argument(
        "--sockets", type=int, action="append", help="socket counts (default 1000, 5000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="decisions per socket count")
    args = parser.parse_args()
    sizes = args.sockets or [1000, 5000]
    limit = raise_fd_limit()
    if limit < max(sizes) + 200:
        raise SystemExit(f"ulimit -n is {limit}: too low for {max(sizes)} sockets")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results = asyncio.run(main_async(sizes, args.rounds))
    print()
    print("sockets | median ms | p99 ms | max ms | KiB per idle connection | connect s")
    for r in results:
        print(
            f"{r['sockets']:>7} | {r['median_ms']:>9} | {r['p99_ms']:>6} | {r['max_ms']:>6} | "
            f"{r['kib_per_idle_connection']:>23} | {r['connect_s']:>9}"
        )
    print("(all sockets subscribe to one registration; latency: decision's HTTP answer → socket)")


if __name__ == "__main__":
    main()
