"""The event broker interface and the in-process implementation.

Publishers send opaque ``bytes`` to a named channel (e.g. ``reg:<registration_id>``);
every local subscriber of that channel gets a copy. Delivery is at-most-once and may have
holes, so subscribers must be able to catch up from the database: whenever the broker
knows that messages may have been lost it yields a ``Gap`` marker in the stream:

* ``Gap("connection")``: the broker lost its connection to the backend (or could not
  confirm the subscription in time) and has just re-established it; anything published
  meanwhile is lost;
* ``Gap("overflow")``: this subscriber did not keep up. Each subscription has a bounded
  queue (``max_queue`` messages); when it is full the **oldest** message is dropped, so a
  slow subscriber never blocks the broker or the other subscribers, and then sees the
  ``Gap`` followed by the newest messages.

On a ``Gap`` the GraphQL layer re-reads the current state (the events after its last
cursor) from the database; events carry a version so duplicates can be dropped.

Usage::

    async with broker.subscribe("reg:42") as sub:   # active once the block is entered
        state = await load_from_db()                   # read state only after subscribing
        async for item in sub:
            if isinstance(item, Gap):
                ...  # replay from the database
            else:
                ...  # item is the published bytes

Leaving the ``async with`` (normally, by an exception or by cancellation) removes the
subscriber without awaiting anything, so cleanup cannot be skipped. ``close()`` ends every
subscription's iteration.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, TypeAlias

DEFAULT_MAX_QUEUE = 1000


class BrokerUnavailable(Exception):
    """The broker cannot take the message now (backend down or broker closed).

    The caller keeps the event (in its outbox) and publishes it again later.
    """


@dataclass(frozen=True, slots=True)
class Gap:
    """Messages may have been lost here; re-read the state from the database."""

    reason: Literal["connection", "overflow"]


GAP_CONNECTION = Gap("connection")
GAP_OVERFLOW = Gap("overflow")

Delivery: TypeAlias = bytes | Gap


class Subscription:
    """One local subscriber's bounded mailbox; iterate it for ``bytes`` and ``Gap`` items.

    Created by ``EventBroker.subscribe``; not meant to be built directly.
    """

    def __init__(self, channel: str, max_queue: int) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.channel = channel
        self.max_queue = max_queue
        self.dropped = 0
        """Messages dropped because this subscriber was too slow."""
        self._items: deque[Delivery] = deque()
        self._messages = 0  # items that are not Gaps
        self._closed = False
        self._wakeup = asyncio.Event()
        # Used by brokers with a remote backend (see RedisBroker).
        self._awaiting_live = False
        self._handed_out = False

    @property
    def closed(self) -> bool:
        return self._closed

    def pending(self) -> int:
        """Items waiting to be read (messages and gap markers)."""
        return len(self._items)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Delivery:
        while True:
            if self._items:
                item = self._items.popleft()
                if not isinstance(item, Gap):
                    self._messages -= 1
                return item
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    # -- broker side (synchronous: never blocks the dispatcher) ----------------------------
    def _deliver(self, item: Delivery) -> None:
        if self._closed:
            return
        if isinstance(item, Gap):
            if not (self._items and isinstance(self._items[-1], Gap)):
                self._items.append(item)
        else:
            if self._messages >= self.max_queue:
                self._drop_oldest()
            self._items.append(item)
            self._messages += 1
        self._wakeup.set()

    def _drop_oldest(self) -> None:
        gap: Gap = GAP_OVERFLOW
        while self._items:
            head = self._items[0]
            if not isinstance(head, Gap):
                break
            gap = head  # keep the reason of a gap already in front
            self._items.popleft()
        if self._items:
            self._items.popleft()
            self._messages -= 1
            self.dropped += 1
        self._items.appendleft(gap)

    def _close(self) -> None:
        self._closed = True
        self._wakeup.set()


@dataclass(eq=False)
class _Channel:
    subs: set[Subscription] = field(default_factory=set)
    live: asyncio.Event = field(default_factory=asyncio.Event)


class EventBroker(ABC):
    """Fan-out of ``bytes`` payloads to local subscribers of named channels.

    Lifecycle: ``await start()`` before use, ``await aclose()`` at shutdown (or use the broker
    as an async context manager). ``healthy()`` is a cheap readiness flag; ``ping()`` checks
    the backend for real.
    """

    def __init__(self, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self._max_queue = max_queue
        self._channels: dict[str, _Channel] = {}
        self._started = False
        self._closed = False

    # -- interface -------------------------------------------------------------------------
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def aclose(self) -> None: ...

    @abstractmethod
    async def publish(self, channel: str, payload: bytes) -> None:
        """Send ``payload`` to every subscriber of ``channel`` in every process.

        Raises ``BrokerUnavailable`` when the message cannot be handed to the backend.
        """

    @abstractmethod
    def healthy(self) -> bool: ...

    @abstractmethod
    async def ping(self) -> bool: ...

    def subscribe(
        self, channel: str, *, max_queue: int | None = None
    ) -> AbstractAsyncContextManager[Subscription]:
        """Subscribe for the duration of an ``async with`` block.

        When the block is entered the subscription is active (when the backend is reachable;
        otherwise a ``Gap`` follows once it is), so state read from the database inside the
        block misses nothing. ``max_queue`` overrides the broker's default queue bound.
        """
        return self._subscription(channel, max_queue or self._max_queue)

    def local_subscriber_count(self, channel: str) -> int:
        state = self._channels.get(channel)
        return len(state.subs) if state else 0

    def channels(self) -> frozenset[str]:
        """Channels with at least one local subscriber."""
        return frozenset(self._channels)

    async def __aenter__(self) -> EventBroker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- shared machinery ------------------------------------------------------------------
    def _check_usable(self) -> None:
        if self._closed:
            raise BrokerUnavailable("the event broker is closed")
        if not self._started:
            raise RuntimeError("call start() before using the event broker")

    @staticmethod
    def _check_payload(payload: bytes) -> None:
        if not isinstance(payload, bytes):
            raise TypeError("payload must be bytes")

    @asynccontextmanager
    async def _subscription(self, channel: str, max_queue: int) -> AsyncIterator[Subscription]:
        self._check_usable()
        sub = Subscription(channel, max_queue)
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel()
            self._first_subscriber(channel, state)
        state.subs.add(sub)
        try:
            await self._await_live(state, sub)
            sub._handed_out = True
            yield sub
        finally:
            self._detach(sub)

    def _detach(self, sub: Subscription) -> None:
        sub._close()
        state = self._channels.get(sub.channel)
        if state is None or sub not in state.subs:
            return
        state.subs.discard(sub)
        if not state.subs:
            del self._channels[sub.channel]
            self._last_subscriber_left(sub.channel)

    def _fan_out(self, channel: str, item: Delivery) -> None:
        state = self._channels.get(channel)
        if state is not None:
            for sub in tuple(state.subs):
                sub._deliver(item)

    def _close_all(self) -> None:
        for state in self._channels.values():
            for sub in state.subs:
                sub._close()
        self._channels.clear()

    # hooks
    def _first_subscriber(self, channel: str, state: _Channel) -> None:
        state.live.set()

    def _last_subscriber_left(self, channel: str) -> None:
        return None

    async def _await_live(self, state: _Channel, sub: Subscription) -> None:
        return None


class InProcessBroker(EventBroker):
    """In-memory fan-out within one process (the embedded default; one worker only)."""

    async def start(self) -> None:
        if self._closed:
            raise BrokerUnavailable("the event broker is closed")
        self._started = True

    async def aclose(self) -> None:
        self._closed = True
        self._close_all()

    async def publish(self, channel: str, payload: bytes) -> None:
        self._check_usable()
        self._check_payload(payload)
        self._fan_out(channel, payload)

    def healthy(self) -> bool:
        return self._started and not self._closed

    async def ping(self) -> bool:
        return self.healthy()
