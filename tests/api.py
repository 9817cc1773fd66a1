"""A GraphQL client for the tests: the real app, in process, over httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from config.settings import Settings
from server.app import create_app
from services.container import Services
from tests.databases import ensure_migrated, fresh_postgres_database

__all__ = ["Api", "GraphQLFailure", "fresh_postgres_database", "running_api", "settings_for"]


class GraphQLFailure(AssertionError):
    pass


@dataclass
class Api:
    http: httpx.AsyncClient
    services: Services
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    app: Any = None  # the ASGI app, to reach it from another client address

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The whole GraphQL response (data and errors)."""
        headers = dict(self.headers)
        bearer = token if token is not None else self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a response that must have no GraphQL errors."""
        body = await self.post(query, variables, token)
        if body.get("errors"):
            raise GraphQLFailure(str(body["errors"]))
        return body["data"]

    def as_user(self, token: str) -> Api:
        return Api(
            http=self.http,
            services=self.services,
            token=token,
            headers=self.headers,
            app=self.app,
        )


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "dev",
        "database_url": database_url,
        "storage_local_root": tmp_path / "uploads",
        "redis_url": "",
        "public_base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[Api]:
    await ensure_migrated(settings.database_url)  # a no-op on the fixtures' databases
    services = Services.build(settings)
    app = create_app(settings, services)
    await services.start()
    try:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Api(http=http, services=services, app=app)
    finally:
        await services.close()
