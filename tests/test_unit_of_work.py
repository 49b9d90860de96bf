"""A mutation's unit of work runs again when SQLite refused it the write lock, and leaves
nothing behind when its task is cancelled."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError

from app import db as db_module
from app.catalog.models import Application


async def test_a_unit_of_work_refused_the_write_lock_runs_again(db: str) -> None:
    tries = 0

    async def create() -> str:
        nonlocal tries
        tries += 1
        await Application.create(name=f"try-{tries}")
        if tries < 3:  # what SQLite answers when another process wrote since we read
            raise OperationalError("database is locked")
        return "done"

    assert await db_module.in_unit_of_work(create) == "done"
    assert tries == 3
    # The refused tries were rolled back: only the third one's row is there.
    assert [a.name for a in await Application.all()] == ["try-3"]


async def test_it_gives_up_after_a_few_tries_and_never_retries_other_errors(db: str) -> None:
    tries = 0

    async def always_locked() -> None:
        nonlocal tries
        tries += 1
        raise OperationalError("database is locked")

    with pytest.raises(OperationalError):
        await db_module.in_unit_of_work(always_locked)
    assert tries == db_module.LOCKED_TRIES

    tries = 0

    async def broken() -> None:
        nonlocal tries
        tries += 1
        raise OperationalError("no such table: nothing")

    with pytest.raises(OperationalError):
        await db_module.in_unit_of_work(broken)
    assert tries == 1


async def test_a_task_cancelled_while_its_transaction_begins_leaves_nothing_behind(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A unit of work cancelled during BEGIN (a client gone, a timeout, a shutdown) gives its
    connection back: on SQLite the process's transaction lock is free again (Tortoise alone
    keeps it for ever, and every later transaction waits); on Postgres no connection is left
    idle in a transaction."""
    context = connections.get("default")._in_transaction()
    wrapper = type(getattr(context, "client", None) or context.connection)
    begun = asyncio.Event()
    original = wrapper.begin

    async def slow_begin(self: Any) -> None:  # fault: BEGIN's answer is late
        await original(self)
        begun.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(wrapper, "begin", slow_begin)

    async def write(name: str) -> None:
        async with db_module.unit_of_work():
            await Application.create(name=name)

    cancelled = asyncio.create_task(write("never"))
    await begun.wait()
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    monkeypatch.setattr(wrapper, "begin", original)
    # A bound for the failure (it hangs), not a timing: this takes milliseconds.
    await asyncio.wait_for(write("after"), timeout=30)
    assert [a.name for a in await Application.all()] == ["after"]
    if db == "postgres":
        _, rows = await connections.get("default").execute_query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%'"
        )
        assert rows[0]["n"] == 0
