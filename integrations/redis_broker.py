"""Redis pub/sub fan-out between worker processes.

One broker instance (one per worker process) holds exactly **one** Redis pub/sub
connection, whatever the number of local subscribers. A channel is ``SUBSCRIBE``d when its
first local subscriber arrives and ``UNSUBSCRIBE``d when the last one leaves; incoming
messages are copied into each local subscriber's bounded queue (drop-oldest plus a
``Gap("overflow")`` marker for a slow subscriber, see ``integrations.broker``).

Connection loss (Redis restart, ``CLIENT KILL``, network) is detected by a failed read or
by an unanswered ``PING`` after ``health_check_interval`` seconds of silence. The broker
then reconnects with exponential backoff (with jitter), re-subscribes every channel that
still has local subscribers and, once Redis has confirmed a channel, yields
``Gap("connection")`` to that channel's subscribers: messages published meanwhile are lost
(Redis pub/sub is fire-and-forget) and must be replayed from the database.

Publishing goes through a separate small connection pool; when Redis cannot be reached
``publish`` raises ``BrokerUnavailable`` and the caller's outbox retries later.

Commands on the pub/sub connection are sent by one writer task in the order they were
requested, and Redis answers them in that order; the broker counts outstanding
(un)subscribe confirmations per channel, so a channel is "live" exactly when Redis has
confirmed the last subscription request for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from typing import Any

import structlog
from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from integrations.broker import (
    DEFAULT_MAX_QUEUE,
    GAP_CONNECTION,
    BrokerUnavailable,
    EventBroker,
    Subscription,
    _Channel,
)

_log = structlog.get_logger("events.redis")

_Command = tuple[str, ...]
_STOP: _Command = ()


class RedisBroker(EventBroker):
    """``EventBroker`` over Redis pub/sub (for several workers).

    ``url`` is a redis-py URL (``redis://[user:pass@]host:port/db``, ``rediss://``,
    ``unix://``). The pub/sub connection is named ``client_name`` in ``CLIENT LIST`` and the
    publishing connections ``client_name + "-pub"``.
    """

    def __init__(
        self,
        url: str,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        client_name: str = "events-broker",
        health_check_interval: float = 15.0,
        socket_timeout: float = 5.0,
        subscribe_timeout: float = 5.0,
        backoff_min: float = 0.1,
        backoff_max: float = 10.0,
        start_timeout: float = 5.0,
    ) -> None:
        super().__init__(max_queue=max_queue)
        self._health_check_interval = health_check_interval
        self._subscribe_timeout = subscribe_timeout
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._start_timeout = start_timeout
        self._socket_timeout = socket_timeout
        # The pub/sub connection: made by hand from this pool's settings, never pooled, and
        # without redis-py's own retries (reconnecting is this class's job). No socket
        # timeout: reads pass their own, and redis-py would otherwise wrap each write in
        # asyncio.wait_for, which on Python 3.11 can swallow a cancellation.
        self._pool: ConnectionPool = ConnectionPool.from_url(
            url,
            client_name=client_name,
            socket_timeout=None,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 0),
            protocol=2,
        )
        self._publisher = Redis.from_url(
            url,
            client_name=f"{client_name}-pub",
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            retry=Retry(NoBackoff(), 1),
            max_connections=16,
        )
        self._runner: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()
        self._connected = False
        self._commands: asyncio.Queue[_Command] | None = None
        self._connections_made = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the pub/sub connection; waits up to ``start_timeout`` for the first attempt.

        Does not fail when Redis is down: the broker keeps trying in the background and
        ``healthy()`` stays false until it is connected.
        """
        if self._closed:
            raise BrokerUnavailable("the event broker is closed")
        if self._started:
            return
        self._started = True
        self._runner = asyncio.create_task(self._run(), name="redis-broker")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._start_timeout):
                await self._first_attempt.wait()

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            # the loop also checks _closed, so it ends even if a library ate the cancellation
            await asyncio.wait({self._runner}, timeout=self._socket_timeout)
        self._close_all()
        await self._publisher.aclose()
        await self._pool.disconnect()

    # -- publishing and health -------------------------------------------------------------
    async def publish(self, channel: str, payload: bytes) -> None:
        self._check_usable()
        self._check_payload(payload)
        try:
            await self._publisher.publish(channel, payload)
        except (RedisError, OSError) as exc:
            raise BrokerUnavailable(f"cannot publish to Redis: {type(exc).__name__}") from exc

    def healthy(self) -> bool:
        """True while the pub/sub connection is up."""
        return self._started and not self._closed and self._connected

    async def ping(self) -> bool:
        """``healthy()`` and Redis answers ``PING`` on the publishing side."""
        if not self.healthy():
            return False
        try:
            return bool(await self._publisher.ping())
        except (RedisError, OSError):
            return False

    @property
    def connections_made(self) -> int:
        """How many times the pub/sub connection was (re)established."""
        return self._connections_made

    # -- subscriber hooks (synchronous; called from subscribe / its cleanup) ---------------
    def _first_subscriber(self, channel: str, state: _Channel) -> None:
        self._enqueue(("SUBSCRIBE", channel))

    def _last_subscriber_left(self, channel: str) -> None:
        if not self._closed:
            self._enqueue(("UNSUBSCRIBE", channel))

    async def _await_live(self, state: _Channel, sub: Subscription) -> None:
        if state.live.is_set():
            return
        sub._awaiting_live = True
        if self._connected:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._subscribe_timeout):
                    await state.live.wait()
        # Not confirmed in time: the subscriber gets Gap("connection") once it is.

    def _enqueue(self, command: _Command) -> None:
        # While disconnected there is no queue: the next connection subscribes to whatever
        # channels exist at that moment.
        if self._commands is not None:
            self._commands.put_nowait(command)

    # -- the connection loop ---------------------------------------------------------------
    async def _run(self) -> None:
        delay = self._backoff_min
        failures = 0
        loop = asyncio.get_running_loop()
        while not self._closed:
            conn: AbstractConnection = self._pool.make_connection()  # type: ignore[no-untyped-call]
            began = loop.time()
            try:
                async with asyncio.timeout(self._socket_timeout):  # connect + handshake
                    await conn.connect()  # type: ignore[no-untyped-call]
                failures = 0
                await self._serve(conn)
            except Exception as exc:  # whatever went wrong, the answer is to reconnect
                failures += 1
                if self._connected or failures == 1:
                    _log.warning(
                        "events.redis.connection_lost"
                        if self._connected
                        else "events.redis.connect_failed",
                        error=type(exc).__name__,
                        detail=str(exc)[:200],
                        channels=len(self._channels),
                    )
            finally:
                self._disconnected()
                self._first_attempt.set()
                with contextlib.suppress(Exception):
                    await conn.disconnect(nowait=True)
            if loop.time() - began > max(1.0, self._backoff_max):
                delay = self._backoff_min  # it was up for a while: start over
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # noqa: S311
            delay = min(delay * 2, self._backoff_max)

    async def _serve(self, conn: AbstractConnection) -> None:
        # Synchronous up to the first await: the channel snapshot and the fresh command
        # queue are taken together, so every later (un)subscribe goes through the queue.
        commands: asyncio.Queue[_Command] = asyncio.Queue()
        outstanding: dict[str, int] = {}
        channels = list(self._channels)
        for channel in channels:
            outstanding[channel] = 1
        self._commands = commands
        self._connected = True
        self._connections_made += 1
        _log.info(
            "events.redis.connected",
            reconnect=self._connections_made > 1,
            channels=len(channels),
        )
        self._first_attempt.set()
        if channels:
            await conn.send_command("SUBSCRIBE", *channels, check_health=False)
        writer = asyncio.create_task(self._write(conn, commands, outstanding))
        try:
            await self._read(conn, commands, outstanding, writer)
        finally:
            writer.cancel()
            commands.put_nowait(_STOP)  # in case the cancellation is lost inside redis-py
            # asyncio.wait never raises, so a cancellation of this task is not swallowed
            await asyncio.wait({writer}, timeout=self._socket_timeout)
            if writer.done() and not writer.cancelled():
                writer.exception()  # retrieved; the reader's error is the one reported

    async def _write(
        self,
        conn: AbstractConnection,
        commands: asyncio.Queue[_Command],
        outstanding: dict[str, int],
    ) -> None:
        while True:
            command = await commands.get()
            if command == _STOP:
                return
            if command[0] in ("SUBSCRIBE", "UNSUBSCRIBE"):
                for channel in command[1:]:
                    outstanding[channel] = outstanding.get(channel, 0) + 1
            await conn.send_command(*command, check_health=False)

    async def _read(
        self,
        conn: AbstractConnection,
        commands: asyncio.Queue[_Command],
        outstanding: dict[str, int],
        writer: asyncio.Task[None],
    ) -> None:
        awaiting_pong = False
        while not self._closed:
            if writer.done():
                writer.result()  # re-raise the writer's connection error
                raise ConnectionError("the pub/sub writer stopped")
            response = await conn.read_response(timeout=self._health_check_interval)
            if response is None:  # silence: is the connection still there?
                if awaiting_pong:
                    raise ConnectionError("Redis did not answer PING on the pub/sub connection")
                awaiting_pong = True
                commands.put_nowait(("PING",))
                continue
            awaiting_pong = False
            self._dispatch(response, outstanding)

    def _dispatch(self, response: Any, outstanding: dict[str, int]) -> None:
        if not isinstance(response, list) or len(response) < 2:
            return  # PONG outside subscribed mode
        kind = response[0]
        if kind == b"message" and len(response) == 3:
            self._fan_out(_text(response[1]), bytes(response[2]))
        elif kind in (b"subscribe", b"unsubscribe"):
            channel = _text(response[1])
            left = outstanding.get(channel, 0) - 1
            if left > 0:
                outstanding[channel] = left
                return
            outstanding.pop(channel, None)
            state = self._channels.get(channel)
            if kind == b"subscribe" and state is not None:
                self._mark_live(state)

    def _mark_live(self, state: _Channel) -> None:
        state.live.set()
        for sub in tuple(state.subs):
            if sub._awaiting_live:
                sub._awaiting_live = False
                if sub._handed_out:
                    sub._deliver(GAP_CONNECTION)

    def _disconnected(self) -> None:
        self._connected = False
        self._commands = None
        for state in self._channels.values():
            state.live.clear()
            for sub in state.subs:
                sub._awaiting_live = True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
