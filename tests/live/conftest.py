"""Live subscriptions end to end: real `hoist serve` processes, WebSocket and SSE clients.

One embedded server serves the module's tests (tests/live/test_embedded.py), with short
heartbeat and re-check intervals so that what they bound is seen in a test's time.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.http_api import Api
from tests.support.live_server import LiveServer, running_server
from tests.support.services import POSTGRES_URL, require
from tests.support.stack import create_scratch_database, drop_scratch_database

# Short, so a test sees a heartbeat and a revoked token's end at once; the defaults are 15 s
# and 30 s (app/settings.py).
LIVE_SETTINGS = {
    "HOIST_LIVE_HEARTBEAT_SECONDS": "0.3",
    "HOIST_LIVE_RECHECK_SECONDS": "0.5",
    "HOIST_LIVE_MAX_SUBSCRIPTIONS": "4",
}


@pytest.fixture
async def pg_url(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """An empty Postgres database of this test's own (the servers migrate it)."""
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_live_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**6}"
    url = await create_scratch_database(POSTGRES_URL, name)
    yield url
    await drop_scratch_database(POSTGRES_URL, name)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default (SQLite, no Redis) with the catalog of tests/support/http_api.py
    (approvals: 1 on prod) and a second application, `other`."""
    with running_server(tmp_path_factory.mktemp("live"), **LIVE_SETTINGS) as server:
        admin = Api(server.url, server.token)
        admin.catalog(approvals=1)
        other_catalog(admin)
        yield server


def other_catalog(admin: Api) -> None:
    """Application `other`, workflow `main` with one CD pipeline (dev), under policy `lane`."""
    data = admin(
        """mutation { createApplication(name: "other") { errors { message } }
        createWorkflow(input: {application: "other", name: "main", ciPipeline: "other-ci",
          cdPipelines: [{environment: "dev"}]}) { errors { message } }
        applyPromotionPolicy(policy: "lane", applicationEnvironments:
          [{appName: "other", envName: "dev"}]) { errors { message } } }"""
    )
    assert data["createWorkflow"]["errors"] == data["applyPromotionPolicy"]["errors"] == [], data


def other_image(api: Api, tag: str) -> str:
    data = api(
        """mutation($i: String!) { registerImage(input: {application: "other",
        workflow: "main", image: $i}) { image { id } errors { message } } }""",
        {"i": f"registry.example.com/other:{tag}"},
    )
    return str(data["registerImage"]["image"]["id"])


def data_dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path
