"""The time Hoist's time rules read: retry backoff, due times, claim timeouts, signatures.

Everything that decides "is it time yet?" asks `now()` rather than the system clock, so
a test can let half an hour pass in a moment (`set_source`) while the real SMTP server,
database and worker code run unchanged. In production the source is the system clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def _system() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = _system


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return _source()


def set_source(source: Callable[[], datetime] | None) -> None:
    """Read the time from `source` from now on (None: the system clock again)."""
    global _source
    _source = source or _system


def backoff(attempts: int, base_seconds: float, max_seconds: float) -> timedelta:
    """Wait after the `attempts`-th failure: `base_seconds`, doubling each time, capped at
    `max_seconds` (the exponent is capped too, so a huge count cannot overflow a float)."""
    seconds = base_seconds * 2 ** min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(seconds, max_seconds))
