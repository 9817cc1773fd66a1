"""/metrics and the middleware that feeds it: each HTTP request's latency under its GraphQL
operation's name and its SQL statement count; WebSocket connections open now.

/metrics answers only with ``METRICS_TOKEN`` set and sent as a Bearer token (404 when no token
is configured, 401 on a wrong one). ``METRICS_PORT`` serves it on a port of its own instead
(not the public one), started by server.serve in the parent process.
"""

from __future__ import annotations

import hmac
import os
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from config.settings import Settings
from models.statements import count_statements
from services import metrics


class MetricsMiddleware:
    """Pure ASGI, so the statement log set here is the one the request's resolvers see."""

    def __init__(self, app: ASGIApp, names: metrics.OperationNames, path: str = "/graphql"):
        self.app = app
        self.names = names
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            metrics.OPEN_SOCKETS.inc()
            try:
                await self.app(scope, receive, send)
            finally:
                metrics.OPEN_SOCKETS.dec()
            return
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        with count_statements() as log:
            try:
                await self.app(scope, receive, send)
            finally:
                label = self.names.label(log.operation)
                metrics.REQUEST_LATENCY.labels(label).observe(time.perf_counter() - started)
                metrics.SQL_STATEMENTS.observe(log.count)


def root_field_names(schema: Any) -> set[str]:
    """The names an operation may be labelled with: the schema's root fields, as written and
    capitalised (``myRegistration``, ``MyRegistration``)."""
    names: set[str] = set()
    graphql_schema = schema._schema
    for root in (
        graphql_schema.query_type,
        graphql_schema.mutation_type,
        graphql_schema.subscription_type,
    ):
        for name in root.fields if root is not None else ():
            names |= {name, name[:1].upper() + name[1:]}
    return names


def _authorized(request: Request, token: str) -> bool:
    sent = request.headers.get("authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


def metrics_routes(settings: Settings) -> list[BaseRoute]:
    """The /metrics route of the public app: present only when a token is configured."""
    token = settings.metrics_token.get_secret_value()
    if not token:
        return []

    async def scrape(request: Request) -> Response:
        if not _authorized(request, token):
            return Response("unauthorized", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return [Route("/metrics", scrape, methods=["GET"])]


def prepare_multiprocess(settings: Settings) -> None:
    """Before the workers start: with WORKERS>1 prometheus-client needs a shared folder,
    emptied of a previous run's files."""
    folder = settings.prometheus_multiproc_dir
    if settings.workers > 1 and not folder:
        raise SystemExit("WORKERS>1 needs PROMETHEUS_MULTIPROC_DIR for /metrics")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def start_metrics_port(settings: Settings) -> None:
    """Serve /metrics on METRICS_PORT (no token: that port is not public)."""
    if not settings.metrics_port:
        return
    from prometheus_client import CollectorRegistry, multiprocess, start_http_server

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        start_http_server(settings.metrics_port, addr=settings.host, registry=registry)
    else:
        start_http_server(settings.metrics_port, addr=settings.host)
