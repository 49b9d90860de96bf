"""Counting the SQL statements a piece of code sends (Tortoise logs each at DEBUG)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "connection pool" not in message:
            self.statements.append(message)


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Yields the list that fills with the statements sent inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    counter, level = _Counter(), logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter.statements
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


async def statements_at_sizes(
    sizes: Sequence[int],
    read: Callable[[int], Awaitable[int]],
    grow: Callable[[int], Awaitable[None]] | None = None,
) -> list[int]:
    """The statements `read(size)` sends at each size (smallest first). `grow(size)`, when
    given, first brings the data to that size (outside the count); `read` returns how many
    items it got, which must be `size`, so a count is never taken over a short page."""
    counts = []
    for size in sizes:
        if grow is not None:
            await grow(size)
        with count_queries() as statements:
            got = await read(size)
        assert got == size, f"asked for {size} items, got {got}"
        counts.append(len(statements))
    return counts


async def assert_flat(
    read: Callable[[int], Awaitable[int]],
    grow: Callable[[int], Awaitable[None]] | None = None,
    sizes: Sequence[int] = (1, 100),
) -> None:
    """The statement count of `read` is the same at every size: no query per item."""
    counts = await statements_at_sizes(sizes, read, grow)
    assert len(set(counts)) == 1, dict(zip(sizes, counts, strict=True))
