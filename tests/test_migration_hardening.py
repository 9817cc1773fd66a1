"""Migration 0002_hardening upgrades a database of revision 0001 that already holds rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

import server.migrate as migrate
from models.db import create_engine


async def _run(url: str, statement: str, params: dict[str, Any] | None = None) -> list[Any]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(sa.text(statement), params or {})
            return list(result.all()) if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_upgrade_from_0001_keeps_accounts_and_sessions(empty_database_url: str) -> None:
    await migrate.upgrade(empty_database_url, "0001")
    now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    await _run(
        empty_database_url,
        "INSERT INTO staff_account (username, display_name, password_hash, role, "
        "department_code, failed_attempts, locked_until, active, created_at) VALUES "
        "('reviewer1', '甲', '$argon2id$x', 'REVIEWER', '330102', 3, :now, true, :now)",
        {"now": now},
    )
    await _run(
        empty_database_url,
        "INSERT INTO auth_session (id, kind, staff_account_id, refresh_token_hash, created_at, "
        "refreshed_at, expires_at) SELECT :sid, 'STAFF', id, :h, :now, :now, :now "
        "FROM staff_account",
        {"sid": "a" * 32, "h": "b" * 64, "now": now},
    )
    await _run(
        empty_database_url,
        "INSERT INTO unit_directory_entry (credit_code, unit_name, source, updated_at) VALUES "
        "('91330106MA27UW5H9N', '导入单位', 'IMPORT', :now), "
        "('91330100MA2KXXXX0X', '审核得来', 'APPROVED', :now)",
        {"now": now},
    )
    await migrate.upgrade(empty_database_url)
    units = await _run(
        empty_database_url,
        "SELECT unit_name, verified FROM unit_directory_entry ORDER BY unit_name",
    )
    assert sorted(tuple(row) for row in units) == sorted([("导入单位", True), ("审核得来", False)])
    accounts = await _run(
        empty_database_url,
        "SELECT username, login_epoch, active, department_code FROM staff_account",
    )
    assert [tuple(row) for row in accounts] == [("reviewer1", 0, True, "330102")]
    sessions = await _run(empty_database_url, "SELECT id, refresh_token_hash FROM auth_session")
    assert [tuple(row) for row in sessions] == [("a" * 32, "b" * 64)]
    assert await _run(empty_database_url, "SELECT count(*) FROM rotated_refresh_token") == [(0,)]
