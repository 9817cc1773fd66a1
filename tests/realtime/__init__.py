"""Helpers for the realtime suites: a graphql-transport-ws client over httpx-ws, the app on a
real uvicorn socket (in a thread, or as worker processes), a private redis-server.

Everything binds 127.0.0.1 and is stopped by the context manager that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from starlette.types import ASGIApp, Receive, Scope, Send

from config.settings import Settings
from server.app import create_app
from server.ws_protocol import LenientWebSocketProtocol
from services.container import Services
from tests.api import Api
from tests.databases import ensure_migrated, migrated_postgres_database
from tests.fakes.dysmsapi import FakeDysmsapi, serve_fake_dysmsapi
from tests.fakes.server import run_asgi_server
from tests.services import require_postgres

PROTOCOL = "graphql-transport-ws"
ROOT = Path(__file__).resolve().parents[2]

REGISTRATION_EVENTS = """subscription($id: ID!, $after: String) {
  registrationEvents(registrationId: $id, after: $after) {
    cursor kind status fromStatus occurredAt comment items { field reason { code name } note } } }"""
QUEUE_EVENTS = """subscription($after: String) {
  reviewQueueEvents(after: $after) {
    cursor registrationId kind status department { code name } occurredAt } }"""
HISTORY = "{ myRegistration { id version status history { cursor kind status } } }"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a graphql-transport-ws client --------------------------------------------------------


@dataclass
class GraphQLWs:
    """One socket; messages are sorted by operation id as they arrive."""

    ws: AsyncWebSocketSession
    inbox: dict[str | None, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    async def init(self, token: str | None = None) -> dict[str, Any]:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await self.ws.send_json({"type": "connection_init", "payload": payload})
        ack = await self.ws.receive_json(timeout=5)
        assert ack["type"] == "connection_ack", ack
        return ack  # type: ignore[no-any-return]

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.ws.send_json(
            {"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def complete(self, op_id: str) -> None:
        await self.ws.send_json({"id": op_id, "type": "complete"})

    async def _pump(self, within: float) -> None:
        message = await self.ws.receive_json(timeout=within)
        self.inbox[message.get("id")].append(message)

    async def message(self, op_id: str | None, within: float = 5.0) -> dict[str, Any]:
        """The next message for ``op_id`` (any type)."""
        deadline = time.monotonic() + within
        while not self.inbox[op_id]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no message for {op_id!r} within {within}s")
            await self._pump(left)
        return self.inbox[op_id].pop(0)

    async def next(self, op_id: str, within: float = 5.0) -> dict[str, Any]:
        """The data of the next ``next`` message for ``op_id``."""
        message = await self.message(op_id, within)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]  # type: ignore[no-any-return]

    async def quiet(self, op_id: str, wait: float = 0.3) -> bool:
        """True when nothing arrives for ``op_id`` within ``wait`` seconds."""
        try:
            await self.message(op_id, wait)
        except TimeoutError:
            return True
        return False

    async def ping(self) -> None:
        await self.ws.send_json({"type": "ping", "payload": {"t": 1}})
        assert (await self.message(None))["type"] == "pong"


@asynccontextmanager
async def graphql_ws(
    base_url: str, *, subprotocols: list[str] | None = None
) -> AsyncIterator[GraphQLWs]:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with (
        httpx.AsyncClient() as client,
        aconnect_ws(  # type: ignore[var-annotated]
            url,
            client,
            subprotocols=[PROTOCOL] if subprotocols is None else subprotocols,
            keepalive_ping_interval_seconds=None,
        ) as ws,
    ):
        yield GraphQLWs(ws)


async def close_code(ws: AsyncWebSocketSession, within: float = 5.0) -> tuple[int, str]:
    """Wait for the server to close the socket; its code and reason."""
    deadline = time.monotonic() + within
    while True:
        try:
            await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        except WebSocketDisconnect as exc:
            return exc.code, exc.reason


async def eventually(check: Callable[[], Any], within: float = 5.0, step: float = 0.05) -> None:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


async def all_sent(services: Services) -> bool:
    """Every outbox row is SENT (nothing pending, in flight or dead)."""
    from services.dispatcher import outbox_counts

    counts = await outbox_counts(services.db)
    return counts["SENT"] > 0 and sum(counts.values()) == counts["SENT"]


# -- the app on a real socket, in this process ----------------------------------------------


class _StartServices:
    """Run ``services.start()``/``close()`` as the ASGI lifespan, on the server's own loop
    (the app's lifespan would also reconfigure this test process's logging)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        await receive()
        await self.services.start()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        await self.services.close()
        await send({"type": "lifespan.shutdown.complete"})


@dataclass
class LiveServer:
    base_url: str
    services: Services  # the server's own (runs on the server thread's loop)
    api: Api  # GraphQL over real HTTP; ``api.services`` is a second, test-side handle


@asynccontextmanager
async def live_server(settings: Settings, **tweaks: Any) -> AsyncIterator[LiveServer]:
    """The app (migrated) on uvicorn in a thread; ``tweaks`` are set on the GraphQL view."""
    await ensure_migrated(settings.database_url)
    services = Services.build(settings)
    app = create_app(settings, services)
    for route in app.routes:
        endpoint = getattr(route, "app", None)
        if route.__class__.__name__ == "WebSocketRoute" and endpoint is not None:
            for name, value in tweaks.items():
                setattr(endpoint, name, value)
    local = Services.build(settings)  # test-side database access, never started
    try:
        with run_asgi_server(
            _StartServices(app, services),
            lifespan="on",
            ws=LenientWebSocketProtocol,
            ws_per_message_deflate=False,
        ) as base_url:
            async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
                yield LiveServer(base_url, services, Api(http=http, services=local))
    finally:
        await local.close()


# -- worker processes and a private Redis -------------------------------------------------


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A private ``redis-server`` on a free port (no persistence); stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        import pytest

        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is not installed (CI=true: a missing service is a failure)")
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class RedisServer:
    binary: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--protected-mode", "yes"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, 10.0, self.process)

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)
            self.process = None


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


def _terminate(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


SMS_KEY_ID, SMS_SECRET, SMS_SIGN = "LTAI-realtime", "realtime-secret", "浙江会计登记"
SMS_TEMPLATES = {"SMS_900001": set(), "SMS_900002": {"count"}}


def fake_gateway() -> FakeDysmsapi:
    return FakeDysmsapi(
        access_keys={SMS_KEY_ID: SMS_SECRET}, sign_names={SMS_SIGN}, templates=SMS_TEMPLATES
    )


def service_env(
    database_url: str, redis_url: str, tmp_path: Path, gateway_url: str, **settings: str
) -> dict[str, str]:
    """The environment of a worker or dispatcher process: our settings, nothing inherited
    that could point it elsewhere."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "SMS_", "OUTBOX_", "DISPATCHER_", "S3_"))
    }
    env.update(
        {
            "APP_ENV": "dev",
            "LOG_FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "STORAGE_LOCAL_ROOT": str(tmp_path / "uploads"),
            "SMS_BACKEND": "aliyun",
            "SMS_ENDPOINT_URL": gateway_url,
            "SMS_ACCESS_KEY_ID": SMS_KEY_ID,
            "SMS_ACCESS_KEY_SECRET": SMS_SECRET,
            "SMS_SIGN_NAME": SMS_SIGN,
            "SMS_TEMPLATE_APPROVED": "SMS_900001",
            "SMS_TEMPLATE_RETURNED": "SMS_900002",
            "OUTBOX_BACKOFF_SECONDS": "0.2",
            "OUTBOX_POLL_SECONDS": "0.5",
        }
    )
    env.update({name.upper(): value for name, value in settings.items()})
    return env


@dataclass
class Process:
    """A child process (uvicorn worker or dispatcher) with its output in a log file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None

    def launch(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()

    def ready(self, timeout: float = 180.0) -> None:
        """Wait until the process listens (a worker) or has started (a dispatcher)."""
        assert self.process is not None
        if self.port is not None:
            _wait_for_port(self.port, timeout, self.process)

    def start(self) -> None:
        self.launch()
        self.ready()

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, like a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        if self.process is not None:
            _terminate(self.process)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def uvicorn_worker(env: dict[str, str], log_dir: Path, name: str) -> Process:
    """A worker started the way production starts it: ``python -m server.serve``."""
    port = free_port()
    args = [sys.executable, "-m", "server.serve"]
    settings = {"HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1"}
    return Process(
        name, args, {"LOG_LEVEL": "WARNING"} | env | settings, log_dir / f"{name}.log", port
    )


def dispatch_worker(env: dict[str, str], log_dir: Path, name: str = "dispatcher") -> Process:
    args = [sys.executable, "-m", "server.dispatch_worker"]
    return Process(name, args, env, log_dir / f"{name}.log")


@contextmanager
def processes(*items: Process) -> Iterator[tuple[Process, ...]]:
    """Start ``items`` together (imports are slow: in parallel), stop them on exit."""
    started: list[Process] = []
    try:
        for item in items:
            item.launch()
            started.append(item)
        for item in items:
            item.ready()
        yield items
    finally:
        for item in reversed(started):
            item.stop()


@dataclass
class Cluster:
    """Uvicorn worker processes sharing a fresh PostgreSQL database and a private Redis."""

    database_url: str
    redis: RedisServer
    gateway: FakeDysmsapi
    gateway_url: str
    tmp_path: Path
    workers: list[Process]
    local: Services  # test-side database access
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def api(self, worker: int = 0) -> Api:
        client = httpx.AsyncClient(base_url=self.workers[worker].base_url, timeout=20)
        self.clients.append(client)
        return Api(http=client, services=self.local)

    def env(self, **settings: str) -> dict[str, str]:
        return service_env(
            self.database_url, self.redis.url, self.tmp_path, self.gateway_url, **settings
        )


@asynccontextmanager
async def cluster(tmp_path: Path, workers: int = 2, **settings: str) -> AsyncIterator[Cluster]:
    """``workers`` uvicorn processes (``settings`` go to their environment)."""
    base = require_postgres()
    gateway = fake_gateway()
    with redis_server() as redis, serve_fake_dysmsapi(gateway) as gateway_url:
        async with migrated_postgres_database(base) as database_url:
            local = Services.build(
                Settings(
                    database_url=database_url,
                    redis_url="",
                    storage_local_root=tmp_path / "uploads",
                )
            )
            group = Cluster(database_url, redis, gateway, gateway_url, tmp_path, [], local)
            group.workers = [
                uvicorn_worker(group.env(**settings), tmp_path, f"worker{n}")
                for n in range(workers)
            ]
            try:
                with processes(*group.workers):
                    yield group
            finally:
                for client in group.clients:
                    await client.aclose()
                await local.close()
