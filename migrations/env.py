"""Alembic environment: runs on the connection handed in by ``server/migrate.py`` (async engines)."""

from __future__ import annotations

from alembic import context

from models.tables import metadata

config = context.config


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through python -m server.migrate, not bare alembic")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
