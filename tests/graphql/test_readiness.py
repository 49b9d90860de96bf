"""Readiness (issue 12 item 10): /readyz follows the database, /healthz only the process.

The real server on a Postgres database of the test's own, which the test drops under it
and creates again.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from tests.support.live_server import running_server
from tests.support.services import POSTGRES_URL, require
from tests.support.stack import create_scratch_database, drop_scratch_database
from tests.support.waiting import eventually

WITHIN_SECONDS = 15.0


def test_readyz_is_503_while_the_database_is_gone_and_200_when_back(tmp_path: Path) -> None:
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_ready_{os.getpid()}"
    url = asyncio.run(create_scratch_database(POSTGRES_URL, name))
    try:
        with (
            running_server(tmp_path, HOIST_DATABASE_URL=url) as server,
            httpx.Client(base_url=server.url, timeout=WITHIN_SECONDS) as http,
        ):
            ready = http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ok"

            asyncio.run(drop_scratch_database(POSTGRES_URL, name))
            eventually(
                lambda: http.get("/readyz").status_code == 503,
                "readyz going 503",
                WITHIN_SECONDS,
                interval=0.1,
            )
            down = http.get("/readyz")
            assert down.headers["content-type"] == "application/json"
            assert down.json() == {"status": "unavailable", "database": "unreachable"}
            # Liveness is not readiness: restarting the process would not help.
            assert http.get("/healthz").status_code == 200

            asyncio.run(create_scratch_database(POSTGRES_URL, name))
            eventually(
                lambda: http.get("/readyz").status_code == 200,
                "readyz back to 200",
                WITHIN_SECONDS,
                interval=0.1,
            )
    finally:
        asyncio.run(drop_scratch_database(POSTGRES_URL, name))
