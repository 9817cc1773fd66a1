"""Migration 0002_record_life from the previous schema on seeded data: people who hold several
APPROVED registrations keep the newest; the older ones become SUPERSEDED; the index then holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

import server.migrate as migrate
from models.db import create_engine

PEOPLE = [(1, "a" * 64, "甲"), (2, "b" * 64, "乙")]
# id, person, status, decided (day of November 2026)
REGISTRATIONS = [
    ("a1".ljust(32, "0"), 1, "APPROVED", 1),
    ("a2".ljust(32, "0"), 1, "APPROVED", 5),  # the newest approval of person 1
    ("a3".ljust(32, "0"), 1, "APPROVED", 3),
    ("a4".ljust(32, "0"), 1, "WITHDRAWN", None),
    ("b1".ljust(32, "0"), 2, "APPROVED", 2),
]


def _day(day: int | None) -> datetime | None:
    return datetime(2026, 11, day, 8, tzinfo=UTC) if day else None


async def test_duplicate_approvals_are_resolved_newest_first(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url, "0001")
    engine = create_engine(empty_database_url)
    created = datetime(2026, 10, 1, tzinfo=UTC)
    try:
        async with engine.begin() as connection:
            for pid, key, name in PEOPLE:
                await connection.execute(
                    text(
                        "INSERT INTO person (id, person_key, name, id_type, id_number,"
                        " created_at, updated_at) VALUES (:id, :key, :name, '01', :number, :t, :t)"
                    ),
                    {"id": pid, "key": key, "name": name, "number": f"x{pid}", "t": created},
                )
            for rid, pid, status, day in REGISTRATIONS:
                await connection.execute(
                    text(
                        "INSERT INTO registration (id, person_id, status, version, reopened,"
                        " created_at, updated_at, decided_at)"
                        " VALUES (:id, :pid, :status, 3, '[]', :t, :t, :decided)"
                    ),
                    {"id": rid, "pid": pid, "status": status, "t": created, "decided": _day(day)},
                )
        await migrate.upgrade(empty_database_url)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(text("SELECT id, status, kind FROM registration"))
            ).all()
        statuses = {rid[:2]: (status, kind) for rid, status, kind in rows}
        assert statuses == {
            "a1": ("SUPERSEDED", "INITIAL"),
            "a2": ("APPROVED", "INITIAL"),
            "a3": ("SUPERSEDED", "INITIAL"),
            "a4": ("WITHDRAWN", "INITIAL"),
            "b1": ("APPROVED", "INITIAL"),
        }
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text("UPDATE registration SET status = 'APPROVED' WHERE id = :id"),
                    {"id": REGISTRATIONS[0][0]},
                )
        # and back down to the previous schema
        await migrate.run_alembic(empty_database_url, "downgrade", "0001")
    finally:
        await engine.dispose()
