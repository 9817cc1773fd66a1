"""The Starlette application: /graphql (HTTP, graphql-transport-ws and graphql-ws), health probes, uploads."""

from __future__ import annotations

import gc
import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from config.logs import configure_logging
from config.settings import Settings
from gql.schema import build_schema
from gql.trusted_documents import TrustedDocuments
from gql.view import GraphQLView
from server.body_limit import BodyLimitMiddleware
from server.console import console_routes
from server.metrics_routes import MetricsMiddleware, metrics_routes, root_field_names
from services.container import Services
from services.csv_export import routes as export_routes
from services.metrics import OperationNames
from services.signed_links import template_routes
from storage.local import LocalDiskStorage
from storage.local_routes import local_storage_routes


def service_routes(services: Services) -> list[BaseRoute]:
    """What the services serve over plain HTTP: proof templates, CSV exports, local uploads."""
    routes: list[BaseRoute] = [
        *template_routes(services.template_secret, services.db, services.reference),
        *export_routes(
            services.settings.secret_key.get_secret_value(), services.db, services.reference
        ),
    ]
    if isinstance(services.storage, LocalDiskStorage):
        routes += local_storage_routes(services.storage)
    return routes


def is_loopback(request: Request) -> bool:
    """The peer of the connection (not a forwarded header) is this machine."""
    client = request.client
    if client is None:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:
        return False


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    settings = settings or Settings()
    services = services or Services.build(settings)
    trusted = TrustedDocuments.load(enforce=not settings.is_dev)
    schema = build_schema(
        production=not settings.is_dev,
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_query_aliases,
        max_fields=settings.max_query_fields,
        max_cost=settings.max_query_cost,
        trusted=trusted,
    )
    view = GraphQLView(
        services,
        trusted=trusted,
        schema=schema,
        graphql_ide="graphiql" if settings.is_dev else None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        # sockets carry their token in connection_init (or an Authorization header a page
        # cannot set): no ambient credentials, so any origin (mini-program shells send one)
        allowed_origins=("*",),
        connection_init_wait_timeout=timedelta(seconds=10),
        max_subscriptions_per_connection=20,
    )

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        checks = await services.readiness()
        ready = all(checks.values())
        body: dict[str, object] = {"status": "ready" if ready else "unavailable"}
        if is_loopback(request):  # which component is down: only for the machine itself
            body["checks"] = checks
        return JSONResponse(body, status_code=200 if ready else 503)

    routes: list[BaseRoute] = [
        Route("/graphql", view, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        *service_routes(services),
        *metrics_routes(settings),
        *console_routes(settings),
    ]

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        configure_logging(settings.effective_log_format, settings.log_level)
        await services.start()
        gc.collect()
        gc.freeze()  # start-up objects never need collecting again: shorter pauses later
        try:
            yield
        finally:
            await services.close()

    middleware = [
        Middleware(MetricsMiddleware, names=OperationNames(root_field_names(schema))),
        Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=origins,
                allow_methods=["GET", "POST"],
                allow_headers=["authorization", "content-type"],
            )
        )
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.services = services
    return app
