"""The GraphQL HTTP and WebSocket endpoint: authentication, fast JSON, and safe bad-input answers.

HTTP follows the GraphQL over HTTP specification: a client that accepts
``application/graphql-response+json`` gets that media type, and HTTP 400 (without a ``data``
entry) when the request fails before execution (parse, validation, variable coercion); one
that accepts ``application/json`` (or anything else) gets ``application/json`` and HTTP 200 for
those, as before. WebSockets: see ``gql.sockets`` (protocols, close codes, expiry, revocation).
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from gql.context import Context
from gql.sockets import (
    NOT_SIGNED_IN,
    SESSION_REVOKED,
    TOKEN_INVALID,
    UNAUTHORIZED,
    LegacyWSHandler,
    SocketRefused,
    TransportWSHandler,
)
from models.db import utcnow
from services.container import Services
from services.sessions import resolve_principal
from services.tokens import TokenInvalid, read_access_claims

GRAPHQL_RESPONSE = "application/graphql-response+json"
_PRE_EXECUTION = "graphql_pre_execution_failure"

log = structlog.get_logger(__name__)


def wants_graphql_response(accept: str | None) -> bool:
    """True when the Accept header prefers application/graphql-response+json (ties go to it,
    as the specification recommends); missing, ``*/*`` or only ``application/json``: False."""
    if not accept:
        return False
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media.lower()] = max(q, quality.get(media.lower(), 0.0))
    ours = quality.get(GRAPHQL_RESPONSE, 0.0)
    return ours > 0 and ours >= quality.get("application/json", 0.0)


def bearer_token(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        spec_media = wants_graphql_response(request.headers.get("accept"))
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
        if spec_media and response.media_type == "application/json":
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if scope.get("state", {}).get(_PRE_EXECUTION) and response.status_code == 200:
                response.status_code = 400
        await response(scope, receive, send)

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        """Remember a failure before execution (no ``data``): a spec client gets 400."""
        processed = await super().process_result(request, result)
        if (
            result.data is None
            and result.errors
            and all(error.path is None for error in result.errors)
            and wants_graphql_response(request.headers.get("accept"))
        ):
            request.scope.setdefault("state", {})[_PRE_EXECUTION] = True
            processed.pop("data", None)
        return processed

    async def pick_websocket_subprotocol(self, request: WebSocket) -> str | None:
        # a client that offers no sub-protocol (some mini-program builds) gets
        # graphql-transport-ws; one that offers only others gets 4406 from Strawberry
        if not request.scope.get("subprotocols"):
            return GRAPHQL_TRANSPORT_WS_PROTOCOL
        return await super().pick_websocket_subprotocol(request)

    async def create_websocket_response(
        self, request: WebSocket, subprotocol: str | None
    ) -> WebSocket:
        offered = request.scope.get("subprotocols") or []
        await request.accept(subprotocol=subprotocol if subprotocol in offered else None)
        return request

    def encode_json(self, data: object) -> str:
        # str, not bytes: WebSocket clients of graphql-transport-ws reject binary frames
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def parse_http_body(self, request: Any) -> Any:
        try:
            data = await super().parse_http_body(request)
        except orjson.JSONDecodeError as exc:
            raise HTTPException(400, "请求体不是有效的JSON。") from exc
        except (AttributeError, TypeError) as exc:  # e.g. a JSON array of numbers, a bare string
            raise HTTPException(400, "请求体应为GraphQL请求对象。") from exc
        return data

    async def _authenticate(self, context: Context, token: str | None) -> None:
        if token is None:
            return
        try:
            claims = read_access_claims(self.services.session_config.secret, token)
        except TokenInvalid as exc:
            context.auth_failure = str(exc)
            return
        async with self.services.db() as db:
            context.principal = await resolve_principal(db, claims.session_id, now=utcnow())
        if context.principal is None:
            context.auth_failure = "revoked"
        else:
            context.token_expires_at = claims.expires_at

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(services=self.services, request=request, response=response)
        if isinstance(request, Request):
            await self._authenticate(context, bearer_token(request.headers.get("authorization")))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """The token from ``connection_init`` (``{"Authorization": "Bearer …"}``), else from
        the upgrade request's Authorization header; none or a bad one closes with 4401."""
        params = context.connection_params or {}
        raw = params.get("Authorization", params.get("authorization"))
        if raw is None:
            raw = context.request.headers.get("authorization")
        if raw is None:
            raise SocketRefused(UNAUTHORIZED, NOT_SIGNED_IN)
        await self._authenticate(context, bearer_token(raw))
        if context.principal is None:
            reason = SESSION_REVOKED if context.auth_failure == "revoked" else TOKEN_INVALID
            raise SocketRefused(UNAUTHORIZED, reason)
        return await super().on_ws_connect(context)
