"""Writes that are undone: one hypothesis example's rows, on either database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise.transactions import in_transaction


class _Undo(Exception):
    """Raised at the end of the block so the transaction rolls back."""


@asynccontextmanager
async def rolled_back() -> AsyncIterator[None]:
    """A transaction for the block whose writes are rolled back when it ends (a failing
    assertion inside propagates, and rolls back too). Cheaper than emptying every table
    between examples, and explicit row ids may repeat from one example to the next."""
    try:
        async with in_transaction():
            yield
            raise _Undo
    except _Undo:
        pass
