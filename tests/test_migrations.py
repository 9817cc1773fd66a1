"""Migrating an empty database gives exactly the models' tables, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import server.migrate as migrate
from models.db import create_engine
from models.tables import metadata


async def _schema_diff(url: str) -> tuple[list[Any], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def diff(sync_connection: Any) -> tuple[list[Any], set[str]]:
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                tables = set(inspect(sync_connection).get_table_names()) - {"alembic_version"}
                return compare_metadata(context, metadata), tables

            return await connection.run_sync(diff)
    finally:
        await engine.dispose()


async def test_migrations_build_exactly_the_models_tables(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url)
    differences, tables = await _schema_diff(empty_database_url)
    assert tables == set(metadata.tables)
    assert differences == []


async def test_migrations_downgrade_to_empty_and_up_again(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url)
    await migrate.run_alembic(empty_database_url, "downgrade", "base")
    _, tables = await _schema_diff(empty_database_url)
    assert tables == set()
    await migrate.upgrade(empty_database_url)
    differences, tables = await _schema_diff(empty_database_url)
    assert tables == set(metadata.tables) and differences == []
