"""A mutation's unit of work runs again when SQLite refused it the write lock."""

from __future__ import annotations

import pytest
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
