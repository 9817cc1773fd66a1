"""/metrics over real HTTP (uvicorn on a free port): behind a Bearer token, 404 without one,
and the request histograms move with the requests made."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

import server.migrate as migrate
from config.settings import Settings
from server.app import create_app
from tests.api import settings_for

TOKEN = "scrape-me-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await migrate.upgrade(settings.database_url)
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started:
            break
        await asyncio.sleep(0.02)
    assert server.started
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def _scrape(client: httpx.AsyncClient) -> dict[Any, float]:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_metrics_count_requests_by_operation(sqlite_url: str, tmp_path: Path) -> None:
    settings = settings_for(sqlite_url, tmp_path, metrics_token=TOKEN)
    async with serving(settings) as client:
        before = await _scrape(client)
        for _ in range(3):
            response = await client.post(
                "/graphql", json={"query": "query Reference { __typename }"}
            )
            assert response.status_code == 200
        for _ in range(2):
            response = await client.post(
                "/graphql",
                json={"query": "query MadeUpName { viewer { kind } }"},
                headers={"Authorization": "Bearer not-a-token"},
            )
            assert response.status_code == 200
        response = await client.post("/graphql", json={"query": "{ viewer { kind } }"})
        assert response.status_code == 200
        after = await _scrape(client)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    # unknown operation names are one label, "other"; anonymous ones take their root field
    assert moved("graphql_request_seconds_count", operation="other") == 5
    assert moved("graphql_request_seconds_count", operation="viewer") == 1
    assert moved("sql_statements_per_request_count") == 6
    assert ("websocket_open_sockets", ()) in after
    assert ("outbox_dispatcher_retries_total", ()) in after


async def test_metrics_need_the_token(sqlite_url: str, tmp_path: Path) -> None:
    async with serving(settings_for(sqlite_url, tmp_path, metrics_token=TOKEN)) as client:
        assert (await client.get("/metrics")).status_code == 401
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    async with serving(settings_for(sqlite_url, tmp_path)) as client:
        assert (await client.get("/metrics")).status_code == 404
        refused = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert refused.status_code == 404
