"""Regenerate the initial migration from the models (pre-release only): ``python -m tools.regen_migration``.

Until the first production release the schema lives in one initial revision; after it, add
revisions with ``alembic revision --autogenerate`` through ``migrate.run_alembic`` instead.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from pathlib import Path

import server.migrate as migrate

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def main() -> None:
    for old in VERSIONS.glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/empty.db"
        asyncio.run(
            migrate.run_alembic(
                url, "revision", "initial schema", True, None, None, None, None, None, "0001"
            )
        )
    subprocess.run([".venv/bin/ruff", "format", "-q", str(VERSIONS)], check=True)  # noqa: S603
    subprocess.run([".venv/bin/ruff", "check", "--fix", "-q", str(VERSIONS)], check=False)  # noqa: S603


if __name__ == "__main__":
    main()
