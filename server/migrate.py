"""Apply the Alembic migrations to a database: ``python -m server.migrate [revision]``.

Migrations run on an async engine's connection, so the same code serves SQLite (aiosqlite)
and PostgreSQL (asyncpg), from the command line and from the tests.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

from models.db import create_engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    return Config(str(ROOT / "alembic.ini"))


async def run_alembic(url: str, action: str, *args: Any) -> None:
    """Run an alembic command (``upgrade``, ``downgrade``, ``revision`` …) against ``url``."""
    engine = create_engine(url)
    config = alembic_config()

    def _run(connection: Any) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, *args)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    await run_alembic(url, "upgrade", revision)


def main() -> None:
    from config.settings import Settings

    revision = sys.argv[1] if len(sys.argv) > 1 else "head"
    asyncio.run(upgrade(Settings().database_url, revision))


if __name__ == "__main__":
    main()
