"""One two-worker cluster (uvicorn processes, fresh PostgreSQL database, private Redis, fake
dysmsapi) shared by the suites that need it: starting workers is the slow part."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.realtime import Cluster, cluster


@pytest.fixture(scope="session")
async def workers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    async with cluster(tmp_path_factory.mktemp("two-workers"), workers=2) as group:
        yield group
