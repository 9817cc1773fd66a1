"""The database engine and sessions: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production."""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from models.clock import utcnow
from models.statements import watch_engine

__all__ = [
    "SessionFactory",
    "create_engine",
    "enum_type",
    "read_with_retry",
    "session_factory",
    "utcnow",
]

SessionFactory = async_sessionmaker[AsyncSession]
T = TypeVar("T")

RECYCLE_SECONDS = 1800


def enum_type(enum_cls: type[enum.Enum]) -> sa.Enum:
    """A string column holding an enum's values: no native PostgreSQL type to migrate."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """An async engine for ``url``; creates the SQLite file's folder when needed."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        watch_engine(engine)
        return engine
    # No pre-ping: it costs a round trip per checkout. Connections are recycled before a
    # server or proxy drops them idle, and a read that still finds a dead one is retried
    # (read_with_retry); the first disconnect invalidates every older pooled connection.
    engine = create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,
        pool_recycle=RECYCLE_SECONDS,
    )
    watch_engine(engine)
    return engine


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def transaction(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed on success and rolled back on any exception."""
    async with factory() as session, session.begin():
        yield session


async def read_with_retry(
    factory: SessionFactory, read: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run a read-only ``read`` in its own session; if its connection turns out dead (the
    database restarted, an idle connection was cut), run it once more on a fresh one. Only for
    reads: running a write twice is not safe."""
    try:
        async with factory() as session:
            return await read(session)
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
    async with factory() as session:
        return await read(session)
