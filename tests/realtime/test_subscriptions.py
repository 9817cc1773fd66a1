"""Subscriptions on the embedded default (SQLite, in-process broker and dispatcher), through a
real uvicorn socket: replay after a cursor then live events, who may subscribe (4401/4403),
the graphql-transport-ws close codes, many subscriptions on one socket, and cleanup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gql.sockets import NOT_ALLOWED, NOT_SIGNED_IN, TOKEN_INVALID
from tests.api import Api, settings_for
from tests.databases import migrated_sqlite_url
from tests.realtime import (
    HISTORY,
    PROTOCOL,
    QUEUE_EVENTS,
    REGISTRATION_EVENTS,
    LiveServer,
    close_code,
    eventually,
    graphql_ws,
    live_server,
)
from tests.review import PROVINCE, XIHU, approve, return_, reviewer
from tests.wizard import HK_PERMIT, SUBMIT, ok, sign_in, submitted_registration

RETURN_ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT"},
]


@pytest.fixture
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[LiveServer]:
    """The app on a real socket; ``indirect`` parametrization shortens the connection_init
    wait (seconds) so that 4408 is quick to test. Other tests keep a wait that a loaded
    machine cannot overrun between opening a socket and sending connection_init."""
    url = await migrated_sqlite_url(tmp_path / "registration.db")
    wait = timedelta(seconds=getattr(request, "param", 10.0))
    async with live_server(settings_for(url, tmp_path), connection_init_wait_timeout=wait) as live:
        yield live


async def history(api: Api) -> dict[str, Any]:
    return (await api.data(HISTORY))["myRegistration"]  # type: ignore[no-any-return]


async def test_replay_after_cursor_then_live_results(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    submitted = await submitted_registration(applicant)
    rid = submitted["id"]
    events = (await history(applicant))["history"]
    assert [e["kind"] for e in events] == ["STARTED", "SUBMITTED"]
    staff = await reviewer(server.api)

    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": rid, "after": events[0]["cursor"]})
        replayed = (await client.next("1"))["registrationEvents"]
        assert replayed["kind"] == "SUBMITTED" and replayed["cursor"] == events[1]["cursor"]
        assert await client.quiet("1")

        returned = await return_(staff, submitted, items=RETURN_ITEMS, comment="请按要求修改")
        assert returned["errors"] == []
        event = (await client.next("1"))["registrationEvents"]
        assert event["kind"] == "RETURNED" and event["status"] == "RETURNED"
        assert event["fromStatus"] == "SUBMITTED" and event["comment"] == "请按要求修改"
        assert [(i["field"], i["reason"]["code"]) for i in event["items"]] == [
            ("attachments.ID_PHOTO", "PHOTO_BACKGROUND"),
            ("basicInfo.ethnicGroup", "INFORMATION_INCORRECT"),
        ]
        assert event["items"][0]["reason"]["name"].startswith("照片背景")

        current = await history(applicant)
        resubmitted = await ok(applicant, SUBMIT, current, agreed=True)
        assert (await client.next("1"))["registrationEvents"]["kind"] == "RESUBMITTED"
        approved = await approve(staff, resubmitted, comment="审核通过")
        assert approved["errors"] == []
        last = (await client.next("1"))["registrationEvents"]
        assert last["kind"] == "APPROVED" and last["status"] == "APPROVED"
        assert await client.quiet("1")

    # a fresh socket without a cursor gets the whole history, once, in order
    final = (await history(applicant))["history"]
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.subscribe("a", REGISTRATION_EVENTS, {"id": rid, "after": None})
        received = [(await client.next("a"))["registrationEvents"] for _ in final]
        assert [e["cursor"] for e in received] == [e["cursor"] for e in final]
        assert [e["kind"] for e in received] == [
            "STARTED",
            "SUBMITTED",
            "RETURNED",
            "RESUBMITTED",
            "APPROVED",
        ]
        assert await client.quiet("a")
        # reconnecting with the last cursor: nothing is sent twice
        await client.subscribe("b", REGISTRATION_EVENTS, {"id": rid, "after": final[-1]["cursor"]})
        assert await client.quiet("b")


async def test_someone_elses_registration_closes_the_socket_with_4403(server: LiveServer) -> None:
    owner = await sign_in(server.api)
    registration = await submitted_registration(owner)
    stranger = await sign_in(server.api, HK_PERMIT)
    staff = await reviewer(server.api)

    # a bad cursor is the client's mistake in one operation: an error, the socket stays
    async with graphql_ws(server.base_url) as client:
        await client.init(stranger.token)
        await client.subscribe("z", REGISTRATION_EVENTS, {"id": registration["id"], "after": "x1"})
        assert (await client.message("z"))["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
        await client.ping()
        # someone else's registration: signed in, not allowed: 4403, nothing of theirs arrives
        await client.subscribe("x", REGISTRATION_EVENTS, {"id": registration["id"]})
        code, reason = await close_code(client.ws)
        assert (code, reason) == (4403, NOT_ALLOWED)
        assert len(reason.encode()) <= 123
    # an unknown id answers the same (nothing to learn by guessing); a reviewer is not the owner
    for token, rid in ((stranger.token, "no-such-registration"), (staff.token, registration["id"])):
        async with graphql_ws(server.base_url) as client:
            await client.init(token)
            await client.subscribe("y", REGISTRATION_EVENTS, {"id": rid})
            assert (await close_code(client.ws))[0] == 4403
    # a socket without a token is not signed in: 4401 at connection_init
    async with graphql_ws(server.base_url) as client:
        await client.ws.send_json({"type": "connection_init", "payload": {}})
        assert await close_code(client.ws) == (4401, NOT_SIGNED_IN)
    assert (await return_(staff, registration, items=RETURN_ITEMS[:1]))["errors"] == []


@pytest.mark.parametrize("server", [1.0], indirect=True)
async def test_protocol_close_codes(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    # no connection_init within the (shortened) wait
    async with graphql_ws(server.base_url) as client:
        assert (await close_code(client.ws))[0] == 4408
    # subscribe before the ack
    async with graphql_ws(server.base_url) as client:
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": "r"})
        assert await close_code(client.ws) == (4401, "Unauthorized")
    # garbage: not JSON, and JSON without a known type
    async with graphql_ws(server.base_url) as client:
        await client.ws.send_text("{not json")
        assert (await close_code(client.ws))[0] == 4400
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.ws.send_json({"type": "hello"})
        assert (await close_code(client.ws))[0] == 4400
    # A syntax error: Strawberry alone closes with 4400, but with the ParserCache extension
    # the parse error escapes its handler, which then only completes the operation (and
    # logs the error). What a client sees today: ``complete``, the socket stays open.
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.subscribe("1", "subscription {", {})
        assert await client.message("1") == {"id": "1", "type": "complete"}
        await client.ping()
    # a validation error is an ``error`` message for the operation; the socket stays open
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.subscribe("1", "subscription { nothingHere }", {})
        assert (await client.message("1"))["type"] == "error"
        await client.ping()
    # a bad token in connection_init (4401: refresh and reconnect), and a second init
    async with graphql_ws(server.base_url) as client:
        await client.ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": "Bearer nope"}}
        )
        assert await close_code(client.ws) == (4401, TOKEN_INVALID)
    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        await client.ws.send_json({"type": "connection_init", "payload": {}})
        assert (await close_code(client.ws))[0] == 4429
    # a client that offers only protocols we do not speak is refused with 4406
    async with graphql_ws(server.base_url, subprotocols=["wamp"]) as client:
        assert (await close_code(client.ws))[0] == 4406
    assert PROTOCOL == "graphql-transport-ws"


async def test_one_socket_carries_many_subscriptions_and_cleans_up(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    registration = await submitted_registration(applicant)
    channel = f"reg:{registration['id']}"
    broker = server.services.broker
    staff = await reviewer(server.api)

    async with graphql_ws(server.base_url) as client:
        await client.init(applicant.token)
        last = (await history(applicant))["history"][-1]["cursor"]
        for op_id in ("1", "2"):
            await client.subscribe(
                op_id, REGISTRATION_EVENTS, {"id": registration["id"], "after": last}
            )
        await eventually(lambda: broker.local_subscriber_count(channel) == 2)
        await client.complete("1")
        await eventually(lambda: broker.local_subscriber_count(channel) == 1)

        assert (await return_(staff, registration, items=RETURN_ITEMS))["errors"] == []
        assert (await client.next("2"))["registrationEvents"]["kind"] == "RETURNED"
        assert await client.quiet("1", 0.3)  # completed: nothing more for it
        # a completed id may be reused
        await client.subscribe("1", REGISTRATION_EVENTS, {"id": registration["id"], "after": last})
        assert (await client.next("1"))["registrationEvents"]["kind"] == "RETURNED"
        await eventually(lambda: broker.local_subscriber_count(channel) == 2)
    # the client went away without completing: both generators are cleaned up
    await eventually(lambda: broker.local_subscriber_count(channel) == 0)
    assert channel not in broker.channels()


async def test_review_queue_reaches_the_departments_reviewers(server: LiveServer) -> None:
    applicant = await sign_in(server.api)
    shangcheng = await reviewer(server.api)
    xihu = await reviewer(server.api, XIHU, "西湖审核员")
    province = await reviewer(server.api, PROVINCE, "省厅")

    async with (
        graphql_ws(server.base_url) as own,
        graphql_ws(server.base_url) as other,
        graphql_ws(server.base_url) as all_departments,
        graphql_ws(server.base_url) as applicant_socket,
    ):
        for client, token in (
            (own, shangcheng.token),
            (other, xihu.token),
            (all_departments, province.token),
            (applicant_socket, applicant.token),
        ):
            await client.init(token)
            await client.subscribe("q", QUEUE_EVENTS, {})
        # an applicant is signed in but not a reviewer: 4403
        assert await close_code(applicant_socket.ws) == (4403, NOT_ALLOWED)
        await own.ping()  # the subscriptions are in place

        registration = await submitted_registration(applicant)
        for client in (own, all_departments):
            event = (await client.next("q"))["reviewQueueEvents"]
            assert event["registrationId"] == registration["id"]
            assert event["kind"] == "SUBMITTED"
            assert event["department"] == {"code": "330102", "name": "上城区财政局"}
        assert await other.quiet("q", 0.5)

        # reconnecting with a cursor replays what was missed meanwhile
        cursor = event["cursor"]
        assert (await approve(shangcheng, registration))["errors"] == []
        await own.complete("q")
    async with graphql_ws(server.base_url) as again:
        await again.init(shangcheng.token)
        await again.subscribe("q", QUEUE_EVENTS, {"after": cursor})
        replayed = (await again.next("q"))["reviewQueueEvents"]
        assert replayed["kind"] == "APPROVED" and replayed["registrationId"] == registration["id"]
        assert await again.quiet("q")
