"""Event brokers: the in-process one and RedisBroker against the real Redis (no fakes).

Channel and client names are unique per test, so parallel runs on the same Redis do not
see each other; connections are killed by id, never by type.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import redis.asyncio as redis_asyncio

from integrations.broker import (
    GAP_CONNECTION,
    GAP_OVERFLOW,
    BrokerUnavailable,
    Delivery,
    EventBroker,
    Gap,
    InProcessBroker,
    Subscription,
)
from integrations.redis_broker import RedisBroker
from tests.services import require_redis

B = TypeVar("B", bound=EventBroker)


def redis_broker(url: str, client_name: str, **options: Any) -> RedisBroker:
    """A RedisBroker with test-friendly (fast) reconnects."""
    settings: dict[str, Any] = {"backoff_min": 0.05, "backoff_max": 0.2, "subscribe_timeout": 2.0}
    return RedisBroker(url, client_name=client_name, **(settings | options))


def unique(prefix: str) -> str:
    return f"test:{prefix}:{uuid.uuid4().hex[:10]}"


async def next_item(sub: Subscription, within: float = 3.0) -> Delivery:
    async with asyncio.timeout(within):
        return await anext(sub)


async def nothing_arrives(sub: Subscription, wait: float = 0.2) -> bool:
    try:
        async with asyncio.timeout(wait):
            await anext(sub)
    except TimeoutError:
        return True
    return False


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    for _ in range(int(within / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def numsub(admin: redis_asyncio.Redis, channel: str) -> int:
    [(_, count)] = await admin.pubsub_numsub(channel)
    return int(count)


async def pubsub_clients(admin: redis_asyncio.Redis, name: str) -> list[dict[str, Any]]:
    """Connections named ``name`` that are in subscribed mode."""
    clients = await admin.client_list(_type="pubsub")
    return [c for c in clients if c.get("name") == name]


async def named_clients(admin: redis_asyncio.Redis, name: str) -> list[dict[str, Any]]:
    """Connections named ``name`` of any type (idle pub/sub connections count as normal)."""
    clients = await admin.client_list()
    return [c for c in clients if c.get("name") == name]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def admin() -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(require_redis())
    try:
        yield client
    finally:
        await client.aclose()


@contextlib.asynccontextmanager
async def started(broker: B) -> AsyncIterator[B]:
    await broker.start()
    try:
        yield broker
    finally:
        await broker.aclose()


@pytest.fixture(params=["inprocess", "redis"])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventBroker, EventBroker]]:
    """(publisher, subscriber): two workers for Redis, the same broker in-process."""
    if request.param == "inprocess":
        async with started(InProcessBroker()) as broker:
            yield broker, broker
        return
    url = require_redis()
    async with (
        started(redis_broker(url, unique("pub"))) as publisher,
        started(redis_broker(url, unique("sub"))) as subscriber,
    ):
        yield publisher, subscriber


# -- common behaviour -------------------------------------------------------------------


async def test_subscriber_receives_what_is_published(pair: tuple[EventBroker, EventBroker]) -> None:
    publisher, subscriber = pair
    channel, other = unique("ch"), unique("other")
    async with subscriber.subscribe(channel) as sub, subscriber.subscribe(other) as bystander:
        for i in range(3):
            await publisher.publish(channel, f"event {i}".encode())
        assert [await next_item(sub) for _ in range(3)] == [b"event 0", b"event 1", b"event 2"]
        assert await nothing_arrives(bystander)


async def test_many_local_subscribers_all_get_a_copy(
    pair: tuple[EventBroker, EventBroker],
) -> None:
    publisher, subscriber = pair
    channel = unique("fan")
    async with contextlib.AsyncExitStack() as stack:
        subs = [await stack.enter_async_context(subscriber.subscribe(channel)) for _ in range(25)]
        assert subscriber.local_subscriber_count(channel) == 25
        await publisher.publish(channel, b"\x00binary\xff")
        for sub in subs:
            assert await next_item(sub) == b"\x00binary\xff"


async def test_leaving_removes_the_subscriber(pair: tuple[EventBroker, EventBroker]) -> None:
    publisher, subscriber = pair
    channel = unique("leave")
    async with subscriber.subscribe(channel) as first:
        async with subscriber.subscribe(channel) as second:
            assert subscriber.local_subscriber_count(channel) == 2
        assert second.closed
        assert subscriber.local_subscriber_count(channel) == 1
        await publisher.publish(channel, b"x")
        assert await next_item(first) == b"x"
    assert subscriber.local_subscriber_count(channel) == 0
    assert channel not in subscriber.channels()


async def test_cleanup_runs_when_the_consumer_is_cancelled(
    pair: tuple[EventBroker, EventBroker],
) -> None:
    _, subscriber = pair
    channel = unique("cancel")
    entered = asyncio.Event()

    async def consume() -> None:
        async with subscriber.subscribe(channel) as sub:
            entered.set()
            async for _ in sub:
                pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(entered.wait(), 3)
    assert subscriber.local_subscriber_count(channel) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert subscriber.local_subscriber_count(channel) == 0


async def test_slow_subscriber_does_not_stall_a_fast_one(
    pair: tuple[EventBroker, EventBroker],
) -> None:
    publisher, subscriber = pair
    channel = unique("slow")
    total, bound = 100, 8
    async with (
        subscriber.subscribe(channel, max_queue=bound) as slow,
        subscriber.subscribe(channel) as fast,
    ):

        async def read_fast() -> list[Delivery]:
            return [await next_item(fast) for _ in range(total)]

        reader = asyncio.create_task(read_fast())
        for i in range(total):
            await publisher.publish(channel, str(i).encode())
        got = await asyncio.wait_for(reader, 5)
        assert got == [str(i).encode() for i in range(total)]

        # the slow one never read: it keeps the newest `bound`, after an overflow gap
        assert slow.dropped == total - bound
        assert await next_item(slow) == GAP_OVERFLOW
        rest = [await next_item(slow) for _ in range(bound)]
        assert rest == [str(i).encode() for i in range(total - bound, total)]
        assert await nothing_arrives(slow, 0.05)


async def test_close_ends_iteration_and_rejects_publish() -> None:
    broker = InProcessBroker()
    await broker.start()
    channel = unique("close")
    async with broker.subscribe(channel) as sub:
        await broker.publish(channel, b"last")
        await broker.aclose()
        assert [item async for item in sub] == [b"last"]
    with pytest.raises(BrokerUnavailable):
        await broker.publish(channel, b"late")
    assert not broker.healthy()


async def test_close_ends_iteration_redis(admin: redis_asyncio.Redis) -> None:
    broker = redis_broker(require_redis(), unique("close"))
    await broker.start()
    assert broker.healthy()
    assert await broker.ping()
    channel = unique("close")
    async with broker.subscribe(channel) as sub:
        consumer = asyncio.create_task(anext(sub, None))
        await asyncio.sleep(0.05)
        await broker.aclose()
        assert await asyncio.wait_for(consumer, 2) is None
    assert not broker.healthy()
    assert not await broker.ping()
    with pytest.raises(BrokerUnavailable):
        await broker.publish(channel, b"late")
    await eventually(lambda: _numsub_is(admin, channel, 0))


async def test_misuse_is_reported(pair: tuple[EventBroker, EventBroker]) -> None:
    publisher, _ = pair
    with pytest.raises(TypeError):
        await publisher.publish(unique("x"), "not bytes")  # type: ignore[arg-type]
    fresh = InProcessBroker()
    with pytest.raises(RuntimeError):
        async with fresh.subscribe("x"):
            pass


# -- Redis specifics --------------------------------------------------------------------


async def _numsub_is(admin: redis_asyncio.Redis, channel: str, expected: int) -> bool:
    return await numsub(admin, channel) == expected


async def test_one_pubsub_connection_however_many_subscribers(
    admin: redis_asyncio.Redis,
) -> None:
    name = unique("one-conn")
    channels = [unique("c") for _ in range(5)]
    async with started(redis_broker(require_redis(), name)) as broker:
        assert len(await named_clients(admin, name)) == 1
        async with contextlib.AsyncExitStack() as stack:
            for channel in channels:
                for _ in range(10):
                    await stack.enter_async_context(broker.subscribe(channel))
            clients = await pubsub_clients(admin, name)
            assert len(clients) == 1, clients
            assert int(clients[0]["sub"]) == len(channels)
            for channel in channels:
                assert await numsub(admin, channel) == 1  # not 10
        # all left: every channel is unsubscribed, still one (now idle) connection
        for channel in channels:
            await eventually(lambda ch=channel: _numsub_is(admin, ch, 0))  # type: ignore[misc]
        assert await pubsub_clients(admin, name) == []
        clients = await named_clients(admin, name)
        assert len(clients) == 1 and int(clients[0]["sub"]) == 0
    await eventually(lambda: _empty(named_clients(admin, name)))


async def test_rapid_subscribe_unsubscribe_stays_consistent(admin: redis_asyncio.Redis) -> None:
    url = require_redis()
    channel = unique("flap")
    async with (
        started(redis_broker(url, unique("flap"))) as broker,
        started(redis_broker(url, unique("flap-pub"))) as publisher,
    ):
        for _ in range(20):
            async with broker.subscribe(channel):
                pass
        async with broker.subscribe(channel) as sub:
            assert await numsub(admin, channel) == 1
            await publisher.publish(channel, b"still here")
            assert await next_item(sub) == b"still here"
        await eventually(lambda: _numsub_is(admin, channel, 0))


async def test_reconnects_after_client_kill_and_signals_a_gap(
    admin: redis_asyncio.Redis,
) -> None:
    url = require_redis()
    name = unique("killed")
    channel = unique("kill")
    async with (
        started(redis_broker(url, name)) as broker,
        started(redis_broker(url, unique("kill-pub"))) as publisher,
        broker.subscribe(channel) as sub,
        broker.subscribe(channel) as sub2,
    ):
        await publisher.publish(channel, b"before")
        assert await next_item(sub) == b"before"
        [client] = await pubsub_clients(admin, name)
        await admin.client_kill_filter(_id=client["id"])

        assert await next_item(sub) == GAP_CONNECTION
        assert await next_item(sub2) == b"before"
        assert await next_item(sub2) == GAP_CONNECTION
        assert broker.connections_made == 2
        assert broker.healthy()
        [again] = await pubsub_clients(admin, name)
        assert again["id"] != client["id"]
        assert await numsub(admin, channel) == 1
        await publisher.publish(channel, b"after")
        assert await next_item(sub) == b"after"
        assert await next_item(sub2) == b"after"


class TcpProxy:
    """A TCP proxy in front of Redis that can be taken down, brought back, or frozen."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._frozen: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Like a Redis restart: refuse new connections and drop the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._writers.clear()
        self._frozen.clear()

    def freeze(self) -> None:
        """Like a dead network: open connections silently stop carrying data."""
        self._frozen |= self._writers

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pump(src, dst, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, client: asyncio.StreamWriter
    ) -> None:
        try:
            while data := await src.read(65536):
                if client in self._frozen:
                    continue
                dst.write(data)
                await dst.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if client not in self._frozen:
                dst.close()


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    require_redis()
    p = TcpProxy(6379)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def test_survives_a_redis_outage(proxy: TcpProxy, admin: redis_asyncio.Redis) -> None:
    channel = unique("outage")
    async with (
        started(redis_broker(proxy.url, unique("outage"))) as broker,
        started(redis_broker(require_redis(), unique("direct"))) as other,
        broker.subscribe(channel) as sub,
    ):
        await broker.publish(channel, b"one")
        assert await next_item(sub) == b"one"

        await proxy.stop()
        await eventually(lambda: _false(broker.healthy()))
        with pytest.raises(BrokerUnavailable):
            await broker.publish(channel, b"lost")
        assert not await broker.ping()
        await other.publish(channel, b"missed while down")  # nobody hears this one
        async with broker.subscribe(channel) as late:  # joins during the outage
            await proxy.start()
            assert await next_item(sub) == GAP_CONNECTION
            assert await next_item(late) == GAP_CONNECTION
            await eventually(lambda: _true(broker.healthy()))
            assert await broker.ping()
            await other.publish(channel, b"two")
            assert await next_item(sub) == b"two"
            assert await next_item(late) == b"two"
            await broker.publish(channel, b"three")
            assert await next_item(sub) == b"three"
        assert await numsub(admin, channel) == 1


async def test_detects_a_silent_connection_by_ping(proxy: TcpProxy) -> None:
    channel = unique("silent")
    async with (
        started(redis_broker(proxy.url, unique("silent"), health_check_interval=0.2)) as broker,
        started(redis_broker(require_redis(), unique("silent-pub"))) as pub,
        broker.subscribe(channel) as sub,
    ):
        proxy.freeze()  # no FIN, no RST: only the heartbeat can notice
        assert await next_item(sub, within=5) == GAP_CONNECTION
        assert broker.connections_made == 2
        await pub.publish(channel, b"after")
        assert await next_item(sub) == b"after"


async def test_start_with_redis_down_then_publish_fails() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # needs no Redis at all
    broker = redis_broker(dead, unique("down"), start_timeout=1.0)
    await broker.start()
    try:
        assert not broker.healthy()
        assert not await broker.ping()
        with pytest.raises(BrokerUnavailable):
            await broker.publish(unique("down"), b"x")
        async with asyncio.timeout(1.0):  # does not wait for a connection that is not there
            async with broker.subscribe(unique("down")) as sub:
                assert await nothing_arrives(sub, 0.05)
    finally:
        await broker.aclose()


async def _empty(clients: Awaitable[list[dict[str, Any]]]) -> bool:
    return not await clients


async def _true(value: bool) -> bool:
    return value


async def _false(value: bool) -> bool:
    return not value


def test_gap_markers_are_distinguishable() -> None:
    assert isinstance(GAP_CONNECTION, Gap) and isinstance(GAP_OVERFLOW, Gap)
    assert GAP_CONNECTION != GAP_OVERFLOW
    assert Gap("connection") == GAP_CONNECTION
