"""Durations as people write them in policies and manifests: `72h`, `1h30m`, `2d`, `45m`.

One or more `<whole number><unit>` parts, largest unit first, each unit at most once:
`d` (24 hours: a calendar day's length changes with DST, a policy's time limit does not),
`h`, `m`, `s`. Stored as whole seconds; shown back in the same form, normalised (`90m` is
shown as `1h30m`). No library writes this Go-style form for Python, and ISO 8601's `PT72H`
is not what a super-admin types; the grammar is one regular expression.
"""

from __future__ import annotations

import re

from app.errors import DomainError, validation
from app.limits import DURATION

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
_FORM = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?(?:(\d{1,9})s)?")


def parse(text: str) -> int | None:
    """The duration in seconds, or None when `text` is not one (see the module)."""
    text = text.strip()
    if not text or len(text) > DURATION:
        return None
    match = _FORM.fullmatch(text)
    if match is None:
        return None
    return sum(
        int(part) * size for part, (_, size) in zip(match.groups(), _UNITS, strict=True) if part
    )


def show(seconds: int) -> str:
    """`seconds` in the written form, largest units first: 5400 → `1h30m`, 0 → `0s`."""
    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def check(seconds: int | None, field: str, *, low: int, high: int) -> DomainError | None:
    """A duration field's bounds (None, meaning "none", is always allowed)."""
    if seconds is None or low <= seconds <= high:
        return None
    return validation(
        f"{field} must be between {show(low)} and {show(high)} (got {show(seconds)})", field
    )


def read(text: str | None, field: str) -> int | None:
    """An API value: None or "" for none, else a duration; a VALIDATION error naming
    `field` when it is neither."""
    if text is None or not text.strip():
        return None
    seconds = parse(text)
    if seconds is None:
        raise validation(
            f"{field} must be a duration such as 72h, 1h30m, 2d or 45m (got {text[:40]!r})",
            field,
        )
    return seconds
