"""Migration 0006 on a database with rows of the earlier version: new columns take them,
emails in doubt become UNKNOWN, and stored webhook answers are cut to the status code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from app.db import tortoise_config

IN_DOUBT = ("the worker sending this email stopped before recording the outcome: it may or "
            "may not have been delivered, and it is not sent again so that nobody gets it twice")

async def main(url):
    config = tortoise_config(url)
    await migrate(config=config, target="hoist.0005_builder_identity")
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    db = connections.get("default")
    email = ("INSERT INTO notifications (event, recipient, subject, text_body, html_body, "
             "state, attempts, error, next_attempt_at, created_at) VALUES ('PROMOTED', "
             "'{0}@example.com', 's', 't', 'h', 'FAILED', 1, '{1}', '2026-01-01', '2026-01-01')")
    await db.execute_script(email.format("doubt", IN_DOUBT))
    await db.execute_script(email.format("refused", "550 5.1.1 No such mailbox"))
    await db.execute_script(
        "PRAGMA foreign_keys = OFF; INSERT INTO deployments (application_id, environment_id, "
        "image_id, status, error, created_at, updated_at) VALUES (1, 1, 1, 'FAILED', "
        "'webhook failed: HTTP 500: password=hunter2', '2026-01-01', '2026-01-01')")
    await db.execute_script("INSERT INTO outbox_jobs (task, payload, created_at, handovers) "
                            "VALUES ('x', '{}', '2026-01-01', 0)")
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.close_connections()
    await Tortoise.init(config=config)
    db = connections.get("default")
    out = {
        "emails": await db.execute_query_dict(
            "SELECT recipient, state, unreachable_tries FROM notifications ORDER BY id"),
        "deployments": await db.execute_query_dict("SELECT error FROM deployments"),
        "jobs": await db.execute_query_dict("SELECT attempts, retry_at, dead_at FROM outbox_jobs"),
    }
    await Tortoise.close_connections()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
"""


def test_upgrading_keeps_rows_and_settles_old_data(tmp_path: Path) -> None:
    # A process of its own: the test session's Tortoise context stays untouched.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite://{tmp_path}/old.sqlite3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["emails"] == [
        {"recipient": "doubt@example.com", "state": "UNKNOWN", "unreachable_tries": 0},
        {"recipient": "refused@example.com", "state": "FAILED", "unreachable_tries": 0},
    ]
    assert out["deployments"] == [{"error": "webhook failed: HTTP 500"}]
    assert out["jobs"] == [{"attempts": 0, "retry_at": None, "dead_at": None}]
