"""WebSocket sessions a client can act on: which protocol, who is connected, when it ends.

Protocols: ``graphql-transport-ws``, also when the client offers no sub-protocol at all (some
mini-program builds send none), and the legacy ``graphql-ws`` (subscriptions-transport-ws).

Close codes, the same on both protocols (reasons are short Chinese, at most 123 bytes):

* 4401: not signed in, the token is invalid or expired, the access token expired while the
  socket was open, or the session was revoked (logout, staff deactivation) on any worker.
  The client refreshes its tokens and reconnects, passing the last cursor as ``after``.
* 4403: signed in, but not allowed (someone else's registration, an applicant asking for the
  review queue). Retrying cannot help.

A socket is watched from ``connection_ack`` on: a timer fires at the access token's expiry,
and ``services.revocations`` tells it when its session is revoked on any worker.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gql.context import Context
from models.clock import utcnow
from services.sessions import resolve_principal

if TYPE_CHECKING:
    from graphql import OperationType

UNAUTHORIZED = 4401
FORBIDDEN = 4403

NOT_SIGNED_IN = "未登录，请登录后重新连接。"
TOKEN_INVALID = "登录已过期或无效，请刷新登录后重新连接。"
TOKEN_EXPIRED = "登录已过期，请刷新登录后重新连接。"
SESSION_REVOKED = "登录已失效，请重新登录。"
NOT_ALLOWED = "没有权限订阅此内容，请勿重试。"


class SocketRefused(Exception):
    """Raised by ``on_ws_connect``: close the socket with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def refuse_subscription(context: Context, operation: OperationType | None, code: int) -> None:
    """Close the socket a refused subscription arrived on (no-op over HTTP or for queries)."""
    from graphql import OperationType

    if operation is OperationType.SUBSCRIPTION and context.close_socket is not None:
        context.close_socket(code, NOT_ALLOWED if code == FORBIDDEN else NOT_SIGNED_IN)


class _SocketGuard:
    """Closes the socket at the token's expiry and when its session is revoked."""

    def __init__(self, context: Context, close: Callable[[int, str], None]) -> None:
        self.context = context
        self.close = close
        self._timer: asyncio.TimerHandle | None = None
        self._unwatch: Callable[[], None] | None = None
        self._checks: set[asyncio.Task[None]] = set()

    def start(self, session_id: str, expires_at: datetime | None) -> None:
        if expires_at is not None:
            delay = max(0.0, (expires_at - utcnow()).total_seconds())
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(delay, self.close, UNAUTHORIZED, TOKEN_EXPIRED)
        self._unwatch = self.context.services.revocations.watch(session_id, self)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        for task in self._checks:
            task.cancel()

    # services.revocations.Watcher
    def revoked(self) -> None:
        self.close(UNAUTHORIZED, SESSION_REVOKED)

    def recheck(self) -> None:
        task = asyncio.create_task(self._check())
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check(self) -> None:
        principal = self.context.principal
        if principal is None:
            return
        async with self.context.services.db() as db:
            alive = await resolve_principal(db, principal.session_id, now=utcnow())
        if alive is None:
            self.close(UNAUTHORIZED, SESSION_REVOKED)


class _Closing:
    """What both protocol handlers share: close on request, silence afterwards, the guard."""

    context: Context
    websocket: Any
    _closing: bool = False
    _closer: asyncio.Task[None] | None = None
    _guard: _SocketGuard | None = None

    def request_close(self, code: int, reason: str) -> None:
        """Close the socket soon (synchronous: callable from timers and resolvers)."""
        if self._closing:
            return
        self._closing = True
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        self._stop_guard()
        await self._cancel_operations()
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.websocket.close(code=code, reason=reason)

    async def _cancel_operations(self) -> None:
        """Stop the socket's running operations: each protocol's handler below says how."""

    def _start_guard(self) -> None:
        principal = self.context.principal
        if principal is None:
            return
        self._guard = _SocketGuard(self.context, self.request_close)
        self._guard.start(principal.session_id, self.context.token_expires_at)

    def _stop_guard(self) -> None:
        if self._guard is not None:
            self._guard.stop()
            self._guard = None


class TransportWSHandler(_Closing, BaseGraphQLTransportWSHandler[Context, None]):
    async def handle(self) -> None:
        self.context.close_socket = self.request_close
        try:
            await super().handle()
        finally:
            self._stop_guard()

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as exc:
            await self.websocket.close(code=exc.code, reason=exc.reason)
            return
        if self.connection_acknowledged and self._guard is None:
            self._start_guard()

    async def send_message(self, message: Any) -> None:
        if not self._closing:
            await super().send_message(message)

    async def _cancel_operations(self) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)


class LegacyWSHandler(_Closing, BaseGraphQLWSHandler[Context, None]):
    """The ``graphql-ws`` protocol of subscriptions-transport-ws, with the same close codes."""

    async def handle(self) -> None:
        self.context.close_socket = self.request_close
        try:
            await super().handle()
        finally:
            self._stop_guard()

    async def handle_connection_init(self, message: Any) -> None:
        try:
            await super().handle_connection_init(message)
        except SocketRefused as exc:
            await self.send_message(
                {"type": "connection_error", "payload": {"message": exc.reason, "code": exc.code}}
            )
            await self.websocket.close(code=exc.code, reason=exc.reason)
            return
        if self.connection_acknowledged and self._guard is None:
            self._start_guard()

    async def send_message(self, message: Any) -> None:
        if not self._closing:
            await super().send_message(message)

    async def _cancel_operations(self) -> None:
        current = asyncio.current_task()
        for operation_id, task in list(self.tasks.items()):
            if task is not current:
                await self.cleanup_operation(operation_id)
