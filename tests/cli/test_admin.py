"""`hoist admin bootstrap` and `hoist migrate`, run as a user runs them: as subprocesses."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from tests.support.live_server import LiveServer, hoist
from tests.support.services import POSTGRES_URL, require

TOKEN = re.compile(r"hoist_[A-Za-z0-9_-]{40,}")


def bootstrap(data_dir: Path, email: str, *extra: str) -> str:
    result = hoist("admin", "bootstrap", "--email", email, *extra, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert TOKEN.fullmatch(last), result.stdout
    return last


def me(server: LiveServer, token: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { email name superAdmin } }"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_bootstrap_makes_the_embedded_database_and_prints_a_token(tmp_path: Path) -> None:
    first = bootstrap(tmp_path, "root@example.com", "--name", "Root")
    assert (tmp_path / "hoist.sqlite3").is_file()  # no HOIST_DATABASE_URL: SQLite here
    second = bootstrap(tmp_path, "Root@Example.com")
    assert second != first


def test_bootstrap_refuses_a_bad_email_without_a_traceback(tmp_path: Path) -> None:
    result = hoist("admin", "bootstrap", "--email", "not-an-email", data_dir=tmp_path)
    assert result.returncode == 1
    assert "email" in result.stderr and "Traceback" not in result.stderr
    assert not TOKEN.search(result.stdout)


def test_each_bootstrap_token_works_over_http(live_server: LiveServer) -> None:
    first = bootstrap(live_server.data_dir, "ops@example.com", "--name", "Ops Lead")
    second = bootstrap(live_server.data_dir, "ops@example.com")
    assert first != second
    for token in (first, second):
        response = me(live_server, token)
        assert response.status_code == 200
        assert response.json() == {
            "data": {"me": {"email": "ops@example.com", "name": "Ops Lead", "superAdmin": True}}
        }
    refused = me(live_server, first + "x").json()
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
async def empty_postgres() -> AsyncIterator[str]:
    """A database of its own, named so that parallel test runs never share it."""
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_migrate_{os.getpid()}_{uuid4().hex[:8]}"
    server = POSTGRES_URL.replace("postgres://", "postgresql://", 1).rsplit("/", 1)[0]
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"{server}/{name}".replace("postgresql://", "postgres://", 1)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_migrate_builds_an_empty_postgres_database(
    empty_postgres: str, tmp_path: Path
) -> None:
    for _ in range(2):  # the second run finds nothing left to do
        result = hoist("migrate", data_dir=tmp_path, HOIST_DATABASE_URL=empty_postgres)
        assert result.returncode == 0, result.stderr
        assert "migrations applied" in result.stdout
    conn = await asyncpg.connect(empty_postgres.replace("postgres://", "postgresql://", 1))
    try:
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    finally:
        await conn.close()
    assert {
        "users",
        "api_tokens",
        "role_bindings",
        "applications",
        "environments",
        "workflows",
        "cd_pipelines",
        "images",
        "stage_runs",
        "audit_events",
    } <= tables
    assert not (tmp_path / "hoist.sqlite3").exists()  # the URL was used, not the default
