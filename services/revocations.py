"""Revoked sessions, known on every worker within a second: the event broker carries them.

A revocation (``logout``, staff deactivation, and any later reason) is committed to the
database first and then ``announce``d on the broker channel ``sessions:revoked`` (Redis
pub/sub between workers, in process on the embedded default). Every worker runs one
listener (``start``) that remembers recently revoked session ids (``is_revoked``: a cache
the request path may consult) and tells this worker's watchers of that session: an open
WebSocket closes with 4401.

The broker delivers at most once. When it reports a ``Gap`` (Redis reconnected) an
announcement may have been lost, so every watcher is asked to ``recheck`` its session in the
database. Whatever still slips through is bounded by the access token's lifetime: a socket
also closes when its token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

from integrations.broker import BrokerUnavailable, EventBroker, Gap

CHANNEL = "sessions:revoked"
_REMEMBER = 10_000  # revoked ids kept for is_revoked (the newest)
_REMEMBER_SECONDS = 24 * 3600.0  # longer than any access token lives

_log = structlog.get_logger("services.revocations")


class Watcher(Protocol):
    def revoked(self) -> None:
        """The session was revoked: act now (synchronously; start a task if needed)."""

    def recheck(self) -> None:
        """A revocation may have been missed: look the session up again."""


class Revocations:
    def __init__(self, broker: EventBroker) -> None:
        self._broker = broker
        self._watchers: dict[str, set[Watcher]] = {}
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    # -- lifecycle (the broker is started first and closed last) ----------------------------
    async def start(self) -> None:
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="session-revocations")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(5):
                    await self._listening.wait()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait({self._listener}, timeout=5)
            self._listener = None

    # -- announcing and asking ---------------------------------------------------------------
    async def announce(self, session_ids: Iterable[str]) -> None:
        """Tell every worker (this one at once) that these sessions were revoked.

        Call after the revocation is committed. A broker that is down is logged, not raised:
        the database already refuses the session, and sockets close at token expiry.
        """
        ids = [s for s in session_ids if s]
        if not ids:
            return
        self._revoked(ids)
        try:
            await self._broker.publish(CHANNEL, "\n".join(ids).encode())
        except (BrokerUnavailable, RuntimeError):  # down, closed, or never started (a CLI)
            _log.warning("revocations.publish_failed", sessions=len(ids))

    def is_revoked(self, session_id: str) -> bool:
        """True when this worker heard of the session's revocation (recently)."""
        at = self._recent.get(session_id)
        return at is not None and time.monotonic() - at < _REMEMBER_SECONDS

    def watch(self, session_id: str, watcher: Watcher) -> Callable[[], None]:
        """Tell ``watcher`` when ``session_id`` is revoked; returns the function to stop."""
        self._watchers.setdefault(session_id, set()).add(watcher)
        if self.is_revoked(session_id):
            watcher.revoked()

        def unwatch() -> None:
            watchers = self._watchers.get(session_id)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[session_id]

        return unwatch

    def watched(self) -> int:
        """Sessions with at least one watcher on this worker."""
        return len(self._watchers)

    # -- the listener --------------------------------------------------------------------------
    async def _listen(self) -> None:
        while True:
            try:
                async with self._broker.subscribe(CHANNEL) as sub:
                    self._listening.set()
                    async for item in sub:
                        if isinstance(item, Gap):
                            self._recheck_all()
                        else:
                            self._revoked(item.decode(errors="replace").split("\n"))
                return  # the broker closed
            except BrokerUnavailable:
                return
            except Exception:  # keep listening whatever a message did
                _log.exception("revocations.listener_failed")
                await asyncio.sleep(1)

    def _revoked(self, session_ids: list[str]) -> None:
        now = time.monotonic()
        for session_id in session_ids:
            self._recent[session_id] = now
            self._recent.move_to_end(session_id)
            for watcher in tuple(self._watchers.get(session_id, ())):
                watcher.revoked()
        while len(self._recent) > _REMEMBER:
            self._recent.popitem(last=False)

    def _recheck_all(self) -> None:
        for watchers in tuple(self._watchers.values()):
            for watcher in tuple(watchers):
                watcher.recheck()
