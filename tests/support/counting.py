"""Counting the calls of a function, to assert how much work something did (not how long
it took: this machine's speed says nothing of the algorithm)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> Callable[[], int]:
    """Wraps `owner.name` for the rest of the test; the returned function tells how many
    times it was called so far."""
    original = getattr(owner, name)
    calls = 0

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counting)
    return lambda: calls
