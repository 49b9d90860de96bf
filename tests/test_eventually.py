"""The kit's one polling helper (tests/support/waiting.py), which tests and benchmarks
use for every wait on another process: sync and async checks, the deadline, errors."""

from __future__ import annotations

import pytest

from tests.support.waiting import TimedOut, eventually


def test_a_sync_check_is_polled_until_true() -> None:
    calls: list[int] = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) == 3

    assert eventually(third_time, "the third call", 10, interval=0.001) is None
    assert len(calls) == 3


async def test_an_async_check_is_awaited_until_true() -> None:
    calls: list[int] = []

    async def third_time() -> bool:
        calls.append(1)
        return len(calls) == 3

    await eventually(third_time, "the third call", 10, interval=0.001)
    assert len(calls) == 3


async def test_the_deadline_names_what_did_not_happen() -> None:
    async def never() -> bool:
        return False

    with pytest.raises(TimedOut, match=r"the impossible did not happen within 0\.05 s"):
        await eventually(never, "the impossible", 0.05, interval=0.01)
    with pytest.raises(AssertionError, match="the sync impossible"):  # pytest's failure kind
        eventually(lambda: False, "the sync impossible", 0.05, interval=0.01)


def test_an_error_in_the_check_fails_at_once() -> None:
    calls: list[int] = []

    def dead() -> bool:
        calls.append(1)
        raise RuntimeError("hoist worker exited with 1")

    with pytest.raises(RuntimeError, match="exited"):
        eventually(dead, "a dead process", 60)
    assert len(calls) == 1, "not retried until the deadline"
