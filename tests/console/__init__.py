"""The staff console in a real browser: the service on uvicorn (embedded default) and
Debian's Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from config.settings import Settings
from server.app import create_app
from server.ws_protocol import LenientWebSocketProtocol
from services.container import Services
from tests.api import Api, settings_for
from tests.realtime import _StartServices, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 60_000  # the machine is shared: waits are generous


def chromium_path() -> str:
    """The system Chromium; CI installs it (.ci/run), elsewhere its absence skips."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed (CI=true: a missing browser is a failure)")
        pytest.skip("chromium is not installed")
    return path


@dataclass
class Console:
    base_url: str
    settings: Settings
    api: Api  # GraphQL over real HTTP, with a test-side handle on the database


@asynccontextmanager
async def console_server(tmp_path: Path) -> AsyncIterator[Console]:
    """The app on the embedded default (SQLite, local storage, in-process broker) on a real
    port whose URL is the public base URL, so the browser can load attachment previews."""
    import server.migrate as migrate

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_for(
        f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}", tmp_path, public_base_url=base_url
    )
    await migrate.upgrade(settings.database_url)
    services = Services.build(settings)
    app = _StartServices(create_app(settings, services), services)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="on",
        ws=LenientWebSocketProtocol,
        ws_per_message_deflate=False,
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"console:{port}", daemon=True)
    thread.start()
    local = Services.build(settings)
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the console's server did not start")
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
            yield Console(base_url, settings, Api(http=http, services=local))
    finally:
        server.should_exit = True
        thread.join(30)
        await local.close()
