"""Waiting for another process to do something: poll a condition until a deadline.

The one polling helper of the tests and the benchmarks (bench/ imports it too). A check
may be a plain function (called from synchronous tests) or return an awaitable (then
`eventually` returns a coroutine to await); either way the other process's progress is
observed, and the deadline only bounds a failure. Not a sleep-as-synchronisation.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, overload

DEFAULT_TIMEOUT = 30.0
DEFAULT_INTERVAL = 0.05


class TimedOut(AssertionError):
    """The condition did not hold in time (an AssertionError, so pytest reports it as a
    failed expectation; the benchmarks report it as a failed run)."""


@overload
def eventually(
    check: Callable[[], Awaitable[object]],
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    interval: float = DEFAULT_INTERVAL,
) -> Coroutine[Any, Any, None]: ...
@overload
def eventually(
    check: Callable[[], bool],
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    interval: float = DEFAULT_INTERVAL,
) -> None: ...
def eventually(
    check: Callable[[], object],
    what: str,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    interval: float = DEFAULT_INTERVAL,
) -> Coroutine[Any, Any, None] | None:
    """Return once `check()` is truthy; raise TimedOut naming `what` after `timeout` s.

    An exception raised by `check` propagates at once (a process that died should fail
    the wait now, not at the deadline). With an async check, await the result.
    """
    deadline = time.monotonic() + timeout
    first = check()
    if inspect.isawaitable(first):
        return _eventually_async(check, first, what, timeout, deadline, interval)
    while not first:
        _check_deadline(deadline, what, timeout)
        time.sleep(interval)
        first = check()
    return None


async def _eventually_async(
    check: Callable[[], object],
    first: Awaitable[object],
    what: str,
    timeout: float,
    deadline: float,
    interval: float,
) -> None:
    result = await first
    while not result:
        _check_deadline(deadline, what, timeout)
        await asyncio.sleep(interval)
        result = await check()  # type: ignore[misc]  # an async check, see the overloads
    return None


def _check_deadline(deadline: float, what: str, timeout: float) -> None:
    if time.monotonic() > deadline:
        raise TimedOut(f"{what} did not happen within {timeout:g} s")
