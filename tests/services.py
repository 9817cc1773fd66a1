"""Access to the real services this machine runs (PostgreSQL, Redis) for the tests.

With ``CI=true`` an unreachable service is a failure; elsewhere the test is skipped with
the reason shown, so a laptop without PostgreSQL still runs the rest of the suite.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _require(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    reason = f"{name} is not reachable at {host}:{port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)")
    pytest.skip(reason)


def require_postgres() -> str:
    """The SQLAlchemy URL of the test database; fails in CI and skips elsewhere if down."""
    _require("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_URL


def require_redis() -> str:
    """The URL of the test Redis; fails in CI and skips elsewhere if down."""
    _require("Redis", "127.0.0.1", 6379)
    return REDIS_URL
