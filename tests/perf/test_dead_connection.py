"""Without a pre-ping, a pooled connection the server has cut is found dead by the first
statement: a read is then run again on a fresh connection, transparently."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import create_engine, read_with_retry, session_factory


async def _cut_connections(url: str) -> None:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    database = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(dsn.rsplit("/", 1)[0] + "/postgres")
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()


async def _answer(session: AsyncSession) -> int:
    return int((await session.exec(sa.select(sa.literal(42)))).one()[0])  # type: ignore[call-overload]


async def test_a_read_survives_a_cut_connection(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=1)
    factory = session_factory(engine)
    try:
        assert await read_with_retry(factory, _answer) == 42  # a connection now in the pool
        await _cut_connections(postgres_url)
        assert await read_with_retry(factory, _answer) == 42
        await _cut_connections(postgres_url)
        with pytest.raises(DBAPIError):  # what a request without the retry would have seen
            async with factory() as session:
                await _answer(session)
    finally:
        await engine.dispose()
