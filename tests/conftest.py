"""Fixtures shared by the suites: databases (SQLite file, real PostgreSQL) and the API client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api import Api, fresh_postgres_database, running_api, settings_for
from tests.services import require_postgres


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    base = require_postgres()
    async with fresh_postgres_database(base) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using this runs on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
        return
    base = require_postgres()
    async with fresh_postgres_database(base) as url:
        yield url


@pytest.fixture
async def api(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on the embedded default (SQLite file, local storage, in-process broker)."""
    async with running_api(settings_for(sqlite_url, tmp_path)) as client:
        yield client


@pytest.fixture
async def any_api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """The app on SQLite and on PostgreSQL (parametrized)."""
    async with running_api(settings_for(database_url, tmp_path)) as client:
        yield client
