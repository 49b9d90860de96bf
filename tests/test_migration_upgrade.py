"""An installation made before issue 16 upgrades with its rows intact (migration 0007).

0007 swaps the notifications' unique key (request, recipient, event) for one with the
email's occurrence number; on SQLite that rebuilds the table (app/migrations/_operations.py
RemoveUnique). The database is migrated to 0006 by a separate process, given a row the
old way, then upgraded by `hoist migrate` as an operator would.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.live_server import HOIST, server_env
from tests.support.services import POSTGRES_URL, require
from tests.support.stack import create_scratch_database, drop_scratch_database

BEFORE = "hoist.0006_outbox_dead_letters"
MIGRATE_TO = """
import asyncio, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from app.db import tortoise_config

async def main():
    try:
        await migrate(config=tortoise_config(sys.argv[1]), target=sys.argv[2])
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""
INSERT = (
    "INSERT INTO notifications (event, recipient, subject, text_body, html_body, state, "
    "attempts, next_attempt_at, created_at, unreachable_tries) "
    "VALUES ('APPROVAL_REQUESTED', 'a@example.com', 'Old email', 't', 'h', 'SENT', 1, "
    "{now}, {now}, 0)"
)


class Database:
    """A fresh database of one backend, read and written with its own driver."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def execute(self, sql: str) -> list[dict[str, Any]]:
        if self.url.startswith("sqlite://"):
            with sqlite3.connect(self.url.removeprefix("sqlite://")) as conn:
                conn.row_factory = sqlite3.Row
                return [dict(row) for row in conn.execute(sql).fetchall()]
        conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        try:
            return [dict(row) for row in await conn.fetch(sql)]
        finally:
            await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        yield Database(f"sqlite://{tmp_path / 'old.sqlite3'}")
        return
    require("PostgreSQL", "127.0.0.1", 5432)
    name = f"hoist_upgrade_{os.getpid()}"
    url = await create_scratch_database(POSTGRES_URL, name)
    try:
        yield Database(url)
    finally:
        await drop_scratch_database(POSTGRES_URL, name)


def _run(*args: str, url: str, cwd: Path) -> None:
    env = {**server_env(cwd), "HOIST_DATABASE_URL": url}
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_notifications_survive_the_upgrade_and_get_their_new_key(
    fresh: Database, tmp_path: Path
) -> None:
    _run(sys.executable, "-c", MIGRATE_TO, fresh.url, BEFORE, url=fresh.url, cwd=tmp_path)
    now = f"'{datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S')}'"
    await fresh.execute(INSERT.format(now=now))

    _run(str(HOIST), "migrate", url=fresh.url, cwd=tmp_path)

    rows = await fresh.execute("SELECT subject, state, occurrence FROM notifications")
    assert rows == [{"subject": "Old email", "state": "SENT", "occurrence": 0}]
    assert await _unique_keys(fresh) == [["request_id", "recipient", "event", "occurrence"]]
    if fresh.url.startswith("sqlite://"):  # the rebuilt table kept its other index
        assert 'CREATE INDEX "idx_notificatio_state_90bfdc" ON "notifications" ' + (
            '("state", "next_attempt_at")'
        ) in await _definitions(fresh)


async def _definitions(db: Database) -> str:
    """SQLite: the notifications table's and its indexes' stored definitions."""
    rows = await db.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'notifications' AND sql IS NOT NULL"
    )
    return "\n".join(row["sql"] for row in rows)


async def _unique_keys(db: Database) -> list[list[str]]:
    """The columns of each unique constraint of the notifications table."""
    if db.url.startswith("sqlite://"):
        # A table clause `UNIQUE (...)` (0001's key) or a unique index (0007's).
        return [
            [column.strip().strip('"') for column in key.split(",")]
            for key in re.findall(
                r"UNIQUE (?:INDEX \S+ ON \S+ )?\(([^)]*)\)", await _definitions(db)
            )
        ]
    rows = await db.execute(
        "SELECT array_agg(a.attname ORDER BY k.n) AS columns FROM pg_constraint c "
        "CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, n) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum "
        "WHERE c.conrelid = 'notifications'::regclass AND c.contype = 'u' GROUP BY c.oid"
    )
    return [list(row["columns"]) for row in rows]
