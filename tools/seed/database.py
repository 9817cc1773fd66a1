"""Reading and writing the target database: the seeded reviewers, the highest ids already
used, and the batched INSERTs used on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from models.db import create_engine
from models.reference import ReferenceData
from models.tables import metadata
from tools.seed.tables import COLUMNS, ID_TABLES, Ids, Rows


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def seed_reviewers(url: str, reference: ReferenceData) -> dict[str, int]:
    """One seeded reviewer account per county department (no password: never signs in)."""
    table = metadata.tables["staff_account"]
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            existing = {
                row.department_code: row.id
                for row in await connection.execute(
                    select(table.c.id, table.c.department_code).where(
                        table.c.username.like("seed%")
                    )
                )
            }
            now = datetime.now(UTC)
            missing = [
                {
                    "username": f"seed{code}",
                    "display_name": f"示例审核员{code}",
                    "password_hash": "!seeded-no-login",
                    "role": "REVIEWER",
                    "department_code": code,
                    "login_epoch": 0,
                    "active": True,
                    "created_at": now,
                }
                for code, d in reference.divisions.items()
                if d.level == "county" and code not in existing
            ]
            if missing:
                await connection.execute(insert(table), missing)
            return {
                row.department_code: row.id
                for row in await connection.execute(
                    select(table.c.id, table.c.department_code).where(
                        table.c.username.like("seed%")
                    )
                )
            }
    finally:
        await engine.dispose()


async def max_ids(url: str) -> Ids:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            values = {}
            for name in ID_TABLES:
                table = metadata.tables[name]
                values[name] = (
                    await connection.execute(select(func.coalesce(func.max(table.c.id), 0)))
                ).scalar_one()
            return Ids(**values)
    finally:
        await engine.dispose()


class SqlAlchemyWriter:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    async def open(self) -> None:
        pass

    async def write(self, rows: Rows) -> None:
        async with self.engine.begin() as connection:
            for table, columns in COLUMNS.items():
                batch = [dict(zip(columns, row, strict=True)) for row in rows.tables[table]]
                if batch:
                    await connection.execute(insert(metadata.tables[table]), batch)

    async def close(self) -> None:
        await self.engine.dispose()
