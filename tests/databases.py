"""Test databases migrated once per session (per xdist worker) and cloned for every test.

Migrating takes the better part of a second on PostgreSQL; a test needs a database that is
fresh, not one that was migrated just for it. So each test process migrates one template
per backend the first time one is asked for:

- PostgreSQL: a database ``tpl_<worker>_<pid>_<random>`` on the test server; each test gets
  ``CREATE DATABASE … TEMPLATE`` of it (one template per process: PostgreSQL refuses to
  copy a database that another session is connected to or copying), dropped afterwards.
- SQLite: a migrated file in a temporary folder; each test gets a copy of the file.

The tests of the migrations themselves (tests/test_migrations.py) take an empty database
(``fresh_postgres_database``, an empty SQLite path) and migrate it for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

import server.migrate as migrate

# URLs of databases known to be migrated to head (clones of a template): ``running_api``
# and the other helpers that used to migrate every database skip these.
MIGRATED: set[str] = set()

_postgres_templates: dict[str, str] = {}  # admin DSN -> template database name
_sqlite_template: Path | None = None
_sqlite_folder: Path | None = None


def worker_id() -> str:
    """``gw0``, ``gw1`` … under pytest-xdist, ``main`` without it."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _admin_dsn(base_url: str) -> str:
    return base_url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(base_url: str, name: str) -> str:
    return base_url.rsplit("/", 1)[0] + f"/{name}"


async def _admin(base_url: str, statement: str) -> None:
    admin = await asyncpg.connect(_admin_dsn(base_url))
    try:
        await admin.execute(statement)
    finally:
        await admin.close()


@asynccontextmanager
async def fresh_postgres_database(base_url: str) -> AsyncIterator[str]:
    """A new, empty database on the test server for one test; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(base_url, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base_url, name)
    finally:
        await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _postgres_template(base_url: str) -> str:
    """The name of this process's migrated template on the server at ``base_url``."""
    dsn = _admin_dsn(base_url)
    name = _postgres_templates.get(dsn)
    if name is None:
        name = f"tpl_{worker_id()}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _admin(base_url, f'CREATE DATABASE "{name}"')
        _postgres_templates[dsn] = name
        await migrate.upgrade(_with_database(base_url, name))  # disposes its engine
    return name


@asynccontextmanager
async def migrated_postgres_database(base_url: str) -> AsyncIterator[str]:
    """A new database at the migrations' head (a copy of the template); dropped afterwards."""
    template = await _postgres_template(base_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(base_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = _with_database(base_url, name)
    MIGRATED.add(url)
    try:
        yield url
    finally:
        MIGRATED.discard(url)
        await _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrated_sqlite_url(path: Path) -> str:
    """A SQLite file at ``path`` at the migrations' head (a copy of the template)."""
    global _sqlite_template, _sqlite_folder
    if _sqlite_template is None:
        _sqlite_folder = Path(tempfile.mkdtemp(prefix=f"sqlite-template-{worker_id()}-"))
        template = _sqlite_folder / "template.db"
        await migrate.upgrade(f"sqlite+aiosqlite:///{template}")
        # the engine is disposed: SQLite has folded its write-ahead log into the file
        assert not template.with_name("template.db-wal").exists()
        _sqlite_template = template
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    MIGRATED.add(url)
    return url


async def ensure_migrated(url: str) -> None:
    """Migrate ``url`` unless it is a clone of a migrated template."""
    if url not in MIGRATED:
        await migrate.upgrade(url)


def drop_templates() -> None:
    """At the end of the session: drop this process's templates, remove the SQLite one."""
    global _sqlite_template, _sqlite_folder
    for dsn, name in list(_postgres_templates.items()):
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            asyncio.run(_admin(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        del _postgres_templates[dsn]
    if _sqlite_folder is not None:
        shutil.rmtree(_sqlite_folder, ignore_errors=True)
    _sqlite_template = _sqlite_folder = None
