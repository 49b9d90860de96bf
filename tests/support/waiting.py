"""Waiting for another process to do something: poll a condition until a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0,
                     what: str = "condition") -> None:
    """Return once `check()` is true; fail after `timeout` seconds. Not a sleep-as-sync:
    the other process's progress is observed, and the deadline only bounds a failure."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        await asyncio.sleep(0.05)
