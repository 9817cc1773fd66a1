"""graphql-http's ``serverAudits`` and the reference ``graphql-ws`` client (npm packages, run
with node) against the service on a real uvicorn socket."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api import settings_for
from tests.realtime import LiveServer, live_server
from tests.wizard import HK_PERMIT, sign_in, submitted_registration

HERE = Path(__file__).resolve().parent


def node_packages() -> str:
    """The node binary, with tests/audit/node_modules installed from the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the GraphQL over HTTP audit")
    if not (HERE / "node_modules" / "graphql-http").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)],
            check=True,
            capture_output=True,
        )
    return node


async def run_node(*args: str) -> tuple[int, Any]:
    node = node_packages()
    process = await asyncio.create_subprocess_exec(
        node, *args, cwd=HERE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert out.strip(), err.decode()
    return process.returncode or 0, json.loads(out.decode().strip().splitlines()[-1])


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    async with live_server(settings_for(url, tmp_path)) as live:
        yield live


async def test_graphql_over_http_audits_pass_every_must_and_should(server: LiveServer) -> None:
    _, results = await run_node("audit.mjs", f"{server.base_url}/graphql")
    assert len(results) > 40
    required = [r for r in results if r["name"].startswith(("MUST", "SHOULD"))]
    failing = [(r["id"], r["name"], r["reason"]) for r in required if r["status"] != "ok"]
    assert failing == []
    # MAY audits: GET is not served (a mini-program only POSTs); the others pass
    optional = {r["id"]: r["status"] for r in results if r["name"].startswith("MAY")}
    assert optional.get("8764") == "ok" and optional.get("3E3A") == "ok"


async def test_the_reference_graphql_ws_client_completes_a_subscription(
    server: LiveServer,
) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    ws_url = server.base_url.replace("http://", "ws://") + "/graphql"
    code, outcome = await run_node(
        "subscribe.mjs", ws_url, str(applicant.token), registration["id"], "2"
    )
    assert code == 0, outcome
    assert outcome["kinds"] == ["STARTED", "SUBMITTED"] and outcome["failure"] is None

    # someone else's registration: 4403, and the client, told so, does not retry
    stranger = await sign_in(server.api, HK_PERMIT)
    code, outcome = await run_node(
        "subscribe.mjs", ws_url, str(stranger.token), registration["id"], "1"
    )
    assert code == 1 and outcome["failure"]["code"] == 4403
    assert [c["code"] for c in outcome["closes"]] == [4403]
    # a bad token: 4401, no retry either (the app refreshes and reconnects itself)
    code, outcome = await run_node("subscribe.mjs", ws_url, "not-a-token", registration["id"], "1")
    assert code == 1 and [c["code"] for c in outcome["closes"]] == [4401]
