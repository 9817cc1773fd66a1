"""What real mini-program clients need from the socket, over real uvicorn sockets: a socket
with no (or an empty) sub-protocol, the legacy ``graphql-ws`` protocol, 4401 when the access
token expires, and the polling fallback ``history(after:)`` returning what the subscription
sends. (Revocation across workers: test_revocation.py.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from gql.sockets import NOT_ALLOWED, TOKEN_EXPIRED, TOKEN_INVALID
from models.clock import utcnow
from services.tokens import issue_access_token, read_access_claims
from tests.api import settings_for
from tests.realtime import (
    REGISTRATION_EVENTS,
    LiveServer,
    close_code,
    graphql_ws,
    live_server,
)
from tests.wizard import HK_PERMIT, sign_in, submitted_registration

POLL = """query($after: String) { myRegistration { history(after: $after) {
  cursor kind status fromStatus occurredAt comment items { field reason { code name } note } } } }"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    async with live_server(settings_for(url, tmp_path)) as live:
        yield live


def handshake(base_url: str, extra_headers: str) -> str:
    """The status line of a raw WebSocket upgrade with ``extra_headers``."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None and parts.port is not None
    request = (
        f"GET /graphql HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(4096).decode(errors="replace").split("\r\n")[0]


async def test_a_socket_without_sub_protocol_is_served_graphql_transport_ws(
    server: LiveServer,
) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    async with graphql_ws(server.base_url, subprotocols=[]) as client:
        assert client.ws.subprotocol is None  # none offered, none answered
        await client.init(applicant.token)
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": registration["id"]})
        kinds = [(await client.next("1"))["registrationEvents"]["kind"] for _ in range(2)]
        assert kinds == ["STARTED", "SUBMITTED"]
    # an empty Sec-WebSocket-Protocol header (websockets-sansio alone answers it with 400),
    # empty items, and a page on another origin: all upgraded
    for headers in (
        "Sec-WebSocket-Protocol: \r\n",
        "Sec-WebSocket-Protocol: graphql-transport-ws, \r\n",
        "Origin: https://servicewechat.com\r\n",
    ):
        status = await asyncio.to_thread(handshake, server.base_url, headers)
        assert status == "HTTP/1.1 101 Switching Protocols", (headers, status)


async def test_the_legacy_graphql_ws_protocol(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    stranger = await sign_in(server.api, HK_PERMIT)
    start = {"query": REGISTRATION_EVENTS, "variables": {"id": registration["id"]}}

    async with graphql_ws(server.base_url, subprotocols=["graphql-ws"]) as client:
        assert client.ws.subprotocol == "graphql-ws"
        await client.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {applicant.token}"}}
        )
        assert (await client.message(None))["type"] == "connection_ack"
        await client.ws.send_json({"id": "1", "type": "start", "payload": start})
        first = await client.message("1")
        assert first["type"] == "data"
        assert first["payload"]["data"]["registrationEvents"]["kind"] == "STARTED"
        assert (await client.message("1"))["payload"]["data"]["registrationEvents"]["kind"] == (
            "SUBMITTED"
        )
        await client.ws.send_json({"id": "1", "type": "stop"})
        assert (await client.message("1"))["type"] == "complete"

    # the same close codes as graphql-transport-ws: 4401 for a bad token, 4403 not allowed
    async with graphql_ws(server.base_url, subprotocols=["graphql-ws"]) as client:
        await client.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": "Bearer expired.or.forged"}}
        )
        error = await client.message(None)
        assert error["type"] == "connection_error" and error["payload"]["code"] == 4401
        assert await close_code(client.ws) == (4401, TOKEN_INVALID)
    async with graphql_ws(server.base_url, subprotocols=["graphql-ws"]) as client:
        await client.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {stranger.token}"}}
        )
        assert (await client.message(None))["type"] == "connection_ack"
        await client.ws.send_json({"id": "1", "type": "start", "payload": start})
        assert await close_code(client.ws) == (4403, NOT_ALLOWED)


async def test_the_socket_closes_with_4401_when_its_access_token_expires(
    server: LiveServer,
) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    assert applicant.token is not None
    secret = server.services.session_config.secret
    session_id = read_access_claims(secret, applicant.token).session_id
    # the same session, an access token that lives two seconds (ACCESS_TOKEN_MINUTES is whole
    # minutes; the server only reads the token's own expiry)
    short = issue_access_token(secret, session_id, utcnow(), timedelta(seconds=2))
    async with graphql_ws(server.base_url) as client:
        await client.init(short)
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": registration["id"]})
        assert (await client.next("1"))["registrationEvents"]["kind"] == "STARTED"
        code, reason = await close_code(client.ws, within=6)
        assert (code, reason) == (4401, TOKEN_EXPIRED)
        assert len(reason.encode()) <= 123
    # an already expired token is refused at connection_init with 4401
    stale = issue_access_token(secret, session_id, utcnow(), timedelta(seconds=-1))
    async with graphql_ws(server.base_url) as client:
        await client.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {stale}"}}
        )
        assert await close_code(client.ws) == (4401, TOKEN_INVALID)


async def test_polling_history_after_a_cursor_returns_what_the_subscription_sends(
    server: LiveServer,
) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    everything = (await applicant.data(POLL))["myRegistration"]["history"]
    assert [e["kind"] for e in everything] == ["STARTED", "SUBMITTED"]
    first = everything[0]["cursor"]

    polled = (await applicant.data(POLL, {"after": first}))["myRegistration"]["history"]
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": registration["id"], "after": first})
        pushed: list[dict[str, Any]] = [(await client.next("1"))["registrationEvents"]]
        assert await client.quiet("1")
    assert polled == pushed and [e["kind"] for e in polled] == ["SUBMITTED"]
    # after the last cursor: nothing; no cursor: everything; a malformed one: BAD_REQUEST
    last = everything[-1]["cursor"]
    assert (await applicant.data(POLL, {"after": last}))["myRegistration"]["history"] == []
    assert (await applicant.data(POLL, {"after": None}))["myRegistration"]["history"] == everything
    body = await applicant.post(POLL, {"after": "x1"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
