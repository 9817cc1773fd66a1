"""The GraphQL HTTP and WebSocket endpoint: authentication, fast JSON, and safe bad-input answers."""

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
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from gql.context import Context
from gql.trusted_documents import (
    DocumentRefused,
    TrustedDocuments,
    TrustedGraphQLWSHandler,
    TrustedTransportWSHandler,
)
from models.db import utcnow
from services.container import Services
from services.sessions import resolve_principal
from services.tokens import TokenInvalid, read_access_token

log = structlog.get_logger(__name__)


def bearer_token(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


NO_STORE = {"cache-control": "no-store"}  # answers carry ID numbers: never cached anywhere


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TrustedTransportWSHandler
    graphql_ws_handler_class = TrustedGraphQLWSHandler

    def __init__(
        self, services: Services, trusted: TrustedDocuments | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.trusted = trusted or TrustedDocuments({}, enforce=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except DocumentRefused as refused:
            response = JSONResponse(refused.body())
        except HTTPException as exc:
            response = JSONResponse(
                {"errors": [{"message": exc.reason, "extensions": {"code": "BAD_REQUEST"}}]},
                status_code=exc.status_code,
            )
        response.headers.update(NO_STORE)
        await response(scope, receive, send)

    def encode_json(self, data: object) -> str:
        # str, not bytes: WebSocket clients of graphql-transport-ws reject binary frames
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        # documentId / persistedQuery resolved, and in production unknown texts refused,
        # before anything is parsed as GraphQL
        return self.trusted.admit(super().parse_json(data))

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
            session_id = read_access_token(self.services.session_config.secret, token)
        except TokenInvalid as exc:
            context.auth_failure = str(exc)
            return
        async with self.services.db() as db:
            context.principal = await resolve_principal(db, session_id, now=utcnow())
        if context.principal is None:
            context.auth_failure = "revoked"

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(services=self.services, request=request, response=response)
        if isinstance(request, Request):
            await self._authenticate(context, bearer_token(request.headers.get("authorization")))
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        raw = params.get("Authorization", params.get("authorization"))
        if raw is not None:
            token = bearer_token(raw)
            await self._authenticate(context, token)
            if context.principal is None:
                raise ConnectionRejectionError({"reason": "invalid token"})
        return await super().on_ws_connect(context)
