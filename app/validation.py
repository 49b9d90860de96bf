"""Field rules shared by several domains."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.errors import DomainError, validation

_NAME = re.compile(r"[a-z0-9-]+")

# Row ids are 32-bit integer columns; a bigger number would fail in the database driver.
MAX_ROW_ID = 2**31 - 1


def check_name(
    value: str, field: str, *, min_len: int = 2, max_len: int = 50
) -> DomainError | None:
    """Names of applications, environments, workflows and policies: lowercase, digits, '-'."""
    if not min_len <= len(value) <= max_len:
        return validation(f"{field} must be {min_len}-{max_len} characters long", field)
    if not _NAME.fullmatch(value):  # not match(): "$" lets a trailing newline through
        return validation(
            f"{field} may contain only lowercase letters, digits and '-' (got {value!r})", field
        )
    return None


def blank_to_none(value: str | None) -> str | None:
    """Optional text that is empty or only whitespace means absent: None (conditions left
    blank in a form or a manifest are no condition at all)."""
    return value if value is not None and value.strip() else None


def check_count(value: int, field: str, *, low: int = 0, high: int = 6) -> DomainError | None:
    if not low <= value <= high:
        return validation(f"{field} must be between {low} and {high} (got {value})", field)
    return None


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; one without a zone is taken as UTC (as CI tools and scripts write
    it). Raises OverflowError for a moment no UTC datetime can hold: `check_moment` first."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_moment(moment: datetime | None, field: str) -> DomainError | None:
    """A client's date-time must have a UTC equivalent: 9999-12-31T23:00-14:00 is later than
    any datetime Python (or the database) can hold."""
    if moment is None:
        return None
    try:
        utc(moment)
    except OverflowError:
        return validation(f"{field} is out of range (latest: 9999-12-31T23:59:59Z)", field)
    return None


def storable(text: str) -> bool:
    """Text both databases can store: no NUL (Postgres refuses it) and no lone surrogate
    (it cannot be encoded as UTF-8). Decoders such as JSON and YAML let either through."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
