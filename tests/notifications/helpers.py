"""Helpers of notification tests: settings for one test, a worker's pass over the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.notifications.models import Notification
from app.outbox.models import OutboxJob
from app.outbox.service import run_job
from app.settings import get_settings
from tests.promotions.world import due_job_ids

SENDER = "Hoist <hoist@example.com>"
PUBLIC_URL = "https://hoist.example.com"


def configure(monkeypatch: pytest.MonkeyPatch, **values: Any) -> None:
    """Change settings for one test (restored after it), as HOIST_ variables would."""
    settings = get_settings()
    for name, value in values.items():
        assert hasattr(settings, name), name
        monkeypatch.setattr(settings, name, value)


async def run_jobs() -> int:
    """One pass of a worker over every job not done yet (what the relay would hand over)."""
    ran = 0
    for job_id in await due_job_ids():
        ran += await run_job(job_id)
    return ran


async def open_jobs() -> int:
    return await OutboxJob.filter(done_at__isnull=True).count()


async def notifications(**filters: Any) -> list[Notification]:
    return await Notification.filter(**filters).order_by("id")


class Clock:
    """The time Hoist reads (app.clock), moved by the test: it starts at the real time and
    advances only when told, so an hour-long outage takes a moment."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
