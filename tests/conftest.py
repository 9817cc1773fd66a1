"""Fixtures shared by the suites: databases (SQLite file, real PostgreSQL) and the API client.

Every database a fixture hands out is already at the migrations' head: a copy of a template
migrated once per test process (see tests/databases.py). ``empty_database_url`` is the one
exception, for the tests of the migrations themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api import Api, running_api, settings_for
from tests.databases import (
    drop_templates,
    fresh_postgres_database,
    migrated_postgres_database,
    migrated_sqlite_url,
)
from tests.services import require_postgres

pytest_plugins = ["tests.xdist_groups"]

# Tests that share one costly session- or module-scoped server run on one xdist worker
# (``--dist loadgroup``) instead of each worker starting its own.
SHARED_SERVERS = {"workers": "uvicorn-cluster", "moto_s3_endpoint": "moto-s3"}
# Fixtures whose "postgres" parameter needs the PostgreSQL server (``-m "not postgres"``).
POSTGRES_PARAMETERS = ("database_url", "empty_database_url")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = getattr(item, "fixturenames", ())
        for fixture, group in SHARED_SERVERS.items():
            if fixture in names:
                item.add_marker(pytest.mark.xdist_group(group))
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if "postgres_url" in names or any(params.get(p) == "postgres" for p in POSTGRES_PARAMETERS):
            item.add_marker(pytest.mark.postgres)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    drop_templates()


@pytest.fixture
async def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file of this test's own."""
    return await migrated_sqlite_url(tmp_path / "registration.db")


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test's own, dropped afterwards."""
    async with migrated_postgres_database(require_postgres()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Each test using this runs on the embedded default and on PostgreSQL (migrated)."""
    if request.param == "sqlite":
        yield await migrated_sqlite_url(tmp_path / "registration.db")
        return
    async with migrated_postgres_database(require_postgres()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (nothing migrated) on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
        return
    async with fresh_postgres_database(require_postgres()) as url:
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
