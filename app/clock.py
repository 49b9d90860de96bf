"""The time Hoist's time rules read: retry backoff, due times, claim timeouts, signatures.

Everything that decides "is it time yet?" asks `now()` rather than the system clock, so
a test can let half an hour pass in a moment (`set_source`) while the real SMTP server,
database and worker code run unchanged. In production the source is the system clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


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
