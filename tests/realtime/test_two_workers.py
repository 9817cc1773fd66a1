"""Two real uvicorn workers sharing PostgreSQL and a private Redis: a subscriber on one worker
receives the review done through the other, each worker holds one Redis pub/sub connection
whatever its number of subscribers, and each decision sends exactly one SMS although both
workers run a dispatcher."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
import redis.asyncio as redis_asyncio

from tests.realtime import (
    HISTORY,
    REGISTRATION_EVENTS,
    Cluster,
    GraphQLWs,
    all_sent,
    eventually,
    graphql_ws,
)
from tests.review import approve, return_, reviewer
from tests.wizard import SUBMIT, ok, sign_in, submitted_registration
from tools.sample_answers import resident_id

ZHOU = {"name": "周八", "idType": "01", "idNumber": resident_id(208), "phone": "13600006666"}

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ITEMS = [
    {"field": "attachments.ID_PHOTO", "reasonCode": "PHOTO_BACKGROUND"},
    {"field": "basicInfo.ethnicGroup", "reasonCode": "INFORMATION_INCORRECT"},
]


async def pubsub_connections(url: str) -> list[dict[str, str]]:
    admin = redis_asyncio.Redis.from_url(url)
    try:
        clients = await admin.client_list(_type="pubsub")
    finally:
        await admin.aclose()
    return [c for c in clients if c.get("name") == "events-broker"]


async def numsub(url: str, channel: str) -> int:
    admin = redis_asyncio.Redis.from_url(url)
    try:
        [(_, count)] = await admin.pubsub_numsub(channel)
    finally:
        await admin.aclose()
    return int(count)


async def test_a_review_on_one_worker_reaches_the_subscriber_on_the_other(
    workers: Cluster,
) -> None:
    first, second = workers.workers
    # a person of its own: the cluster (and its database) is shared with other suites
    applicant = await sign_in(workers.api(0), ZHOU)
    registration = await submitted_registration(applicant)
    rid = registration["id"]
    staff = await reviewer(workers.api(1))
    last = (await applicant.data(HISTORY))["myRegistration"]["history"][-1]["cursor"]

    async with AsyncExitStack() as stack:
        # the applicant's phone on worker 0; more subscribers on both workers
        phone = await stack.enter_async_context(graphql_ws(first.base_url))
        others: list[GraphQLWs] = []
        for worker in (first, first, second, second):
            others.append(await stack.enter_async_context(graphql_ws(worker.base_url)))
        for n, client in enumerate([phone, *others]):
            await client.init(applicant.token)
            await client.subscribe(f"s{n}", REGISTRATION_EVENTS, {"id": rid, "after": last})
            await client.ping()  # subscribed

        # one pub/sub connection per worker, not one per socket, and the channel is
        # subscribed once per worker although five sockets listen to it
        connections = await pubsub_connections(workers.redis.url)
        assert len(connections) == 2, connections

        async def once_per_worker() -> bool:
            return await numsub(workers.redis.url, f"reg:{rid}") == 2

        await eventually(once_per_worker, within=10)

        returned = await return_(staff, registration, items=ITEMS, comment="请修改")
        assert returned["errors"] == []
        event = (await phone.next("s0", within=15))["registrationEvents"]
        assert event["kind"] == "RETURNED" and len(event["items"]) == 2
        for n, client in enumerate(others, start=1):
            assert (await client.next(f"s{n}", within=15))["registrationEvents"]["cursor"] == event[
                "cursor"
            ]

        current = (await applicant.data(HISTORY))["myRegistration"]
        resubmitted = await ok(applicant, SUBMIT, current, agreed=True)
        assert (await phone.next("s0", within=15))["registrationEvents"]["kind"] == "RESUBMITTED"
        assert (await approve(staff, resubmitted))["errors"] == []
        approved = (await phone.next("s0", within=15))["registrationEvents"]
        assert approved["kind"] == "APPROVED" and approved["status"] == "APPROVED"
        assert await phone.quiet("s0", 0.5)  # nothing twice

    # the sockets went away: each worker left the channel (no leaked Redis subscriptions)
    async def unsubscribed() -> bool:
        return await numsub(workers.redis.url, f"reg:{rid}") == 0

    await eventually(unsubscribed, within=10)

    # both workers' dispatchers ran; each decision was sent once, to the applicant's phone
    await eventually(lambda: all_sent(workers.local), within=15)
    mine = [m for m in workers.gateway.messages if (m.out_id or "").startswith(f"{rid}:")]
    sent = [(m.phone, m.template_code, m.params) for m in mine]
    assert sorted(sent) == [
        (ZHOU["phone"], "SMS_900001", {}),
        (ZHOU["phone"], "SMS_900002", {"count": "2"}),
    ]
    assert len({m.out_id for m in mine}) == 2
    # the workers wrote no phone number to their logs
    for worker in workers.workers:
        assert ZHOU["phone"] not in worker.output()
