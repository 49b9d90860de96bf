"""End-to-end fixtures: real servers and workers on a scratch Postgres database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.processes import PrivateRedis
from tests.support.services import POSTGRES_URL, require
from tests.support.stack import create_scratch_database, drop_scratch_database


@pytest.fixture
async def pg_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """An empty Postgres database of this test's own (the server migrates it)."""
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_e2e_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}"
    url = await create_scratch_database(POSTGRES_URL, name)
    yield url
    await drop_scratch_database(POSTGRES_URL, name)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A redis-server of this test's own, which the test may stop and start."""
    redis = PrivateRedis(tmp_path)
    redis.start()
    yield redis
    redis.stop()
