"""Fixtures of the policy tests."""

from __future__ import annotations

import dataclasses

import pytest

from app.cel import limits as cel_limits
from app.cel import validate


@pytest.fixture
def steps_not_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    """The save-time trial keeps its step budget but gets a minute of wall time, so a test
    of the step limit sees that limit even on a machine loaded enough to make 1,000 steps
    take longer than the trial's 0.25 s (then the deadline, also a refusal, came first)."""
    generous = dataclasses.replace(cel_limits.VALIDATION_BUDGET, seconds=60.0)
    monkeypatch.setattr(validate, "VALIDATION_BUDGET", generous)
