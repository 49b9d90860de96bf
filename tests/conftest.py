"""Shared fixtures: a migrated database on SQLite and on Postgres, and a GraphQL client.

Tests that take `db` (or anything built on it) run once per backend. Postgres is the
machine's real server (a scratch database per test run, made from the `test` one's
server); it is skipped when down, unless HOIST_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.transactions import in_transaction

from app import db as app_db
from app.accounts.access import SYSTEM, Access
from app.accounts.models import Role, User
from app.accounts.service import create_api_token, create_user, grant_role
from app.asgi import create_app
from tests.support.graphql import GraphQLClient
from tests.support.processes import PrivateRedis, running_redis
from tests.support.services import POSTGRES_URL, require
from tests.support.stack import create_scratch_database, drop_scratch_database

BACKENDS = ["sqlite", "postgres"]
# The URL of each backend's database, for tests that start other processes on it.
DATABASE_URLS: dict[str, str] = {}


@pytest.fixture(scope="session", params=BACKENDS)
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """Migrate an empty database from scratch, then keep Tortoise open on it for the session."""
    scratch = f"hoist_test_{os.getpid()}"
    if request.param == "postgres":
        require("PostgreSQL", "127.0.0.1", 5432)
        url = await create_scratch_database(POSTGRES_URL, scratch)
    else:
        path: Path = tmp_path_factory.mktemp("sqlite") / "hoist.sqlite3"
        url = f"sqlite://{path}"
    await app_db.migrate(url)
    await Tortoise.init(config=app_db.tortoise_config(url))
    DATABASE_URLS[request.param] = url
    yield request.param
    # Tortoise caches each model's SQL by connection *name*, not dialect: forget it so
    # the next backend (same name "default") builds its own.
    EXECUTOR_CACHE.clear()
    await Tortoise._reset_apps()
    await Tortoise.close_connections()
    if request.param == "postgres":
        await drop_scratch_database(POSTGRES_URL, scratch)


# TRUNCATE waits for every lock on the tables. A connection an earlier test left in a
# transaction would stall it until asyncpg's pool drops idle connections (300 s): past
# this, the connections in a transaction are logged and ended (the database is this run's
# own scratch one) and the tables emptied then.
TRUNCATE_LOCK_SECONDS = 20
log = logging.getLogger("tests.conftest")


async def _truncate_postgres(tables: list[str]) -> None:
    truncate = "TRUNCATE {} RESTART IDENTITY CASCADE".format(", ".join(f'"{t}"' for t in tables))
    try:
        async with in_transaction() as tx:
            await tx.execute_script(f"SET LOCAL lock_timeout = '{TRUNCATE_LOCK_SECONDS}s'")
            await tx.execute_script(truncate)
        return
    except Exception as exc:  # asyncpg's LockNotAvailableError, as Tortoise lets it through
        if "lock timeout" not in str(exc):
            raise
    conn = connections.get("default")
    _, holders = await conn.execute_query(
        "SELECT pid, state, application_name, now() - xact_start AS age, left(query, 300) AS q "
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    )
    log.warning("emptying the tables waited %s s; ending %s", TRUNCATE_LOCK_SECONDS, holders)
    for holder in holders:
        await conn.execute_query("SELECT pg_terminate_backend($1)", [holder["pid"]])
    await conn.execute_script(truncate)


async def _truncate(backend: str) -> None:
    conn = connections.get("default")
    tables = [m._meta.db_table for m in Tortoise.apps["hoist"].values()]
    if backend == "postgres":
        await _truncate_postgres(tables)
    else:
        # Foreign keys off: RESTRICT (a CD pipeline's parent) refuses deleting a parent row
        # before its children, whatever order the tables are emptied in.
        script = "".join(f'DELETE FROM "{t}";' for t in tables)
        await conn.execute_script(
            f"PRAGMA foreign_keys = OFF;{script}DELETE FROM sqlite_sequence;"
            "PRAGMA foreign_keys = ON;"
        )


@pytest.fixture
async def db(database: str) -> AsyncIterator[str]:
    """An empty, migrated database for one test; yields the backend's name."""
    await _truncate(database)
    yield database


@pytest.fixture
def db_url(db: str) -> str:
    """The URL of the test's database, for worker and server subprocesses."""
    return DATABASE_URLS[db]


@pytest.fixture
async def gql(db: str) -> AsyncIterator[GraphQLClient]:
    transport = httpx.ASGITransport(app=create_app(manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://hoist.test") as http:
        yield GraphQLClient(http)


class People:
    """Makes users with roles and API tokens, straight through the services."""

    async def user(
        self, email: str, *roles: tuple[Role, str, str], super_admin: bool = False
    ) -> tuple[User, str]:
        user = await create_user(SYSTEM, email, email.split("@")[0], super_admin)
        for role, application, environment in roles:
            await grant_role(SYSTEM, email, role, application, environment)
        _, secret = await create_api_token(Access(user), "test", None, None)
        return user, secret

    async def token(self, email: str, *roles: tuple[Role, str, str]) -> str:
        return (await self.user(email, *roles))[1]

    async def admin(self, email: str = "admin@example.com") -> str:
        return (await self.user(email, super_admin=True))[1]


@pytest.fixture
def people(db: str) -> People:
    return People()


@pytest.fixture
async def admin(people: People) -> str:
    """The API token of a super-admin."""
    return await people.admin()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateRedis]:
    """A redis-server of this test run's own on a free port: never the machine's Redis."""
    with running_redis(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: PrivateRedis) -> str:
    """The URL of the run's private Redis, emptied for this test (it is nobody else's)."""
    redis.Redis(port=redis_server.port).flushdb()
    return redis_server.url


def pipeline(environment: str, parent: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"environment": environment, "parentEnvironment": parent, **extra}
