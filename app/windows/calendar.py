"""When a promotion window is open: pure functions of a window's rules and an instant.

A window is a set of local intervals in one IANA time zone: the occurrences of an RFC 5545
RRULE (parsed by python-dateutil, never by hand), each lasting `duration` on the local wall
clock, and explicit date ranges. A DENY window closes its pairs during its intervals (a
freeze); an ALLOW window opens them only during its intervals. For one pair:

    open at t  ⇔  no DENY window covers t  and  (no ALLOW window applies, or one covers t)

Durations are wall-clock: "Friday 16:00 for 64h" ends on Monday 08:00 local time, also
over a DST change (the instant in UTC follows the zone's new offset). The search is
bounded: rules finer than hourly are refused, at most MAX_OCCURRENCES occurrences per
window are read per question, and nothing past HORIZON is looked at (a pair closed for
longer than that has no known opening time: `opens_at` None).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, HOURLY, MONTHLY, WEEKLY, YEARLY, rrule, rrulestr

# How far ahead an opening (or closing) time is looked for.
HORIZON = timedelta(days=400)
# Occurrences one window's rule yields per question, at most (an hourly rule reaches
# ~200 days with it; a daily or weekly one, past HORIZON).
MAX_OCCURRENCES = 5_000
# Where a rule without an explicit start is anchored: a Monday, at midnight local time.
DEFAULT_START = datetime(2020, 1, 6)

_ALLOWED_FREQS = {YEARLY: "YEARLY", MONTHLY: "MONTHLY", WEEKLY: "WEEKLY", DAILY: "DAILY"}
_ALLOWED_FREQS[HOURLY] = "HOURLY"


class WindowKind(StrEnum):
    DENY = "DENY"
    ALLOW = "ALLOW"


class RuleError(ValueError):
    """A rule, zone or range that cannot be used; the message says why, in words."""


@dataclass(frozen=True)
class DateRange:
    """Local start (inclusive) and end (exclusive), naive, in the window's zone."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class WindowRules:
    """What the calendar reads of one window."""

    name: str
    kind: WindowKind
    time_zone: str
    rrule: str | None = None
    duration_seconds: int | None = None
    starts_at: datetime | None = None  # naive local DTSTART; None: DEFAULT_START
    ranges: tuple[DateRange, ...] = ()


@dataclass(frozen=True)
class WindowState:
    """A pair's windows at one instant: open or not, and when that changes (None: not
    within HORIZON, or never)."""

    open: bool
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    # The windows that keep the pair closed now (DENY covering it; ALLOW not covering it).
    closed_by: tuple[str, ...] = ()


OPEN = WindowState(open=True)


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or RuleError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise RuleError(f"{name[:64]!r} is not an IANA time zone (such as Europe/Paris)") from None


def parse_rule(text: str, starts_at: datetime | None) -> rrule:
    """The RRULE (`FREQ=...;...`, optionally prefixed `RRULE:`) anchored at `starts_at`
    (naive local time), or RuleError naming what is wrong. The rule runs on the window's
    local wall clock: its times, UNTIL included, are local and carry no zone."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body or "\r" in body or ":" in body:
        raise RuleError("give one RRULE, such as FREQ=WEEKLY;BYDAY=FR;BYHOUR=16")
    if "UNTIL=" in body.upper() and body.upper().split("UNTIL=", 1)[1].split(";")[0].endswith("Z"):
        raise RuleError("write UNTIL in the window's local time, without Z")
    try:
        rule = rrulestr(body, dtstart=starts_at or DEFAULT_START, forceset=False)
    except (ValueError, TypeError, KeyError, OverflowError, IndexError) as exc:
        raise RuleError(f"not a valid RRULE: {str(exc)[:120]}") from None
    if not isinstance(rule, rrule):
        raise RuleError("give one RRULE, such as FREQ=WEEKLY;BYDAY=FR;BYHOUR=16")
    if _part(rule, "freq") not in _ALLOWED_FREQS:
        raise RuleError("FREQ must be YEARLY, MONTHLY, WEEKLY, DAILY or HOURLY")
    if _part(rule, "count") is not None:
        # Counted from the rule's start, a COUNT cannot be iterated from a recent point:
        # UNTIL bounds a rule instead.
        raise RuleError("COUNT is not supported: end the rule with UNTIL instead")
    if _part(rule, "bysecond") is not None and len(_part(rule, "bysecond")) > 1:
        raise RuleError("BYSECOND may list one second at most")
    if _part(rule, "byminute") is not None and len(_part(rule, "byminute")) > 4:
        raise RuleError("BYMINUTE may list four minutes at most")
    return rule


# The Gregorian calendar repeats itself every 400 years to the weekday (146097 days,
# exactly 20871 weeks): from a start 400·k years later, a rule yields the same occurrences
# 400·k years later. BYEASTER (dateutil's extension) follows another cycle.
CYCLE_YEARS = 400


def _years_later(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)  # 29 February too: both are leap years


def first_within(rule: rrule, local: datetime, horizon: timedelta) -> datetime | None:
    """The rule's first occurrence in [local, local + horizon] (naive local times), or None.

    dateutil searches a rule that never matches (30 February) up to the year 9999: seconds
    of CPU from today for an hourly rule, and no way to stop it. The search is therefore
    moved by whole 400-year cycles to the last cycle before 9999, where giving up costs at
    most CYCLE_YEARS of periods. Saving a rule runs this (under a time limit as well,
    app/windows/service.py), so the rules the calendar iterates are known to match."""
    end = local + horizon
    rule = _rebased(rule, local)
    start: datetime = _part(rule, "dtstart")
    if start > end:
        return None
    shift = (
        0
        if _part(rule, "byeaster")
        else CYCLE_YEARS * ((datetime.max.year - end.year) // CYCLE_YEARS)
    )
    if shift:
        until: datetime | None = _part(rule, "until")
        rule = rule.replace(
            dtstart=_years_later(start, shift),
            # An UNTIL past the horizon changes nothing the search may find.
            until=None if until is None or until > end else _years_later(until, shift),
        )
    found = rule.after(_years_later(local, shift), inc=True)
    if found is None:
        return None
    found = _years_later(found, -shift)
    return found if found <= end else None


def _part(rule: rrule, name: str) -> Any:
    """One part of a parsed rule: dateutil keeps them only as underscore attributes."""
    return getattr(rule, "_" + name)


def _periods(rule: rrule) -> relativedelta:
    interval = _part(rule, "interval")
    return {
        YEARLY: relativedelta(years=interval),
        MONTHLY: relativedelta(months=interval),
        WEEKLY: relativedelta(weeks=interval),
        DAILY: relativedelta(days=interval),
        HOURLY: relativedelta(hours=interval),
    }[_part(rule, "freq")]


def _rebased(rule: rrule, before: datetime) -> rrule:
    """The same rule with its start moved forward by whole periods to just before
    `before` (local), so iterating it does not walk years of past occurrences (rules have
    no COUNT, so whole periods change nothing of what they yield)."""
    start: datetime = _part(rule, "dtstart")
    step = _periods(rule)
    naive_start, naive_before = start, before
    if naive_start >= naive_before:
        return rule
    # Estimate the number of periods, then step back until it is not past `before`.
    approx = {
        YEARLY: 365.25 * 86400,
        MONTHLY: 30.44 * 86400,
        WEEKLY: 7 * 86400,
        DAILY: 86400,
        HOURLY: 3600,
    }[_part(rule, "freq")] * _part(rule, "interval")
    n = max(int((naive_before - naive_start).total_seconds() // approx) - 1, 0)
    moved = naive_start + step * n
    while moved > naive_before and n > 0:
        n -= 1
        moved = naive_start + step * n
    if start.day > 28 and _part(rule, "freq") in (MONTHLY, YEARLY):
        return rule  # month-end anchors do not survive relativedelta's clamping
    return rule.replace(dtstart=moved)


def _utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def intervals(
    window: WindowRules, since: datetime, until: datetime
) -> list[tuple[datetime, datetime]]:
    """The window's intervals (UTC start, UTC end) that overlap [since, until), sorted."""
    tz = zone(window.time_zone)
    found: list[tuple[datetime, datetime]] = []
    for span in window.ranges:
        start, end = _utc(span.start, tz), _utc(span.end, tz)
        if start < until and end > since:
            found.append((start, end))
    if window.rrule and window.duration_seconds:
        length = timedelta(seconds=window.duration_seconds)
        rule = parse_rule(window.rrule, window.starts_at)
        # An occurrence that started up to one duration before `since` may still run.
        local_since = since.astimezone(tz).replace(tzinfo=None) - length - timedelta(days=1)
        local_until = until.astimezone(tz).replace(tzinfo=None)
        rule = _rebased(rule, local_since)
        for count, occurrence in enumerate(rule.xafter(local_since, inc=True)):
            if count >= MAX_OCCURRENCES or occurrence >= local_until:
                break
            # Wall-clock arithmetic on naive local times; the conversion to UTC then
            # applies the offset in force at each end (DST).
            start, end = _utc(occurrence, tz), _utc(occurrence + length, tz)
            if start < until and end > since:
                found.append((start, end))
    found.sort()
    return found


def _merged(spans: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _covers(spans: list[tuple[datetime, datetime]], t: datetime) -> bool:
    i = bisect.bisect_right(spans, (t, datetime.max.replace(tzinfo=UTC))) - 1
    return i >= 0 and spans[i][0] <= t < spans[i][1]


def state_at(windows: Sequence[WindowRules], instant: datetime) -> WindowState:
    """Whether a pair with these windows is open at `instant` (aware), and when it opens
    (closed) or closes (open), within HORIZON."""
    if not windows:
        return OPEN
    instant = instant.astimezone(UTC)
    until = instant + HORIZON
    deny_spans: list[tuple[datetime, datetime]] = []
    allow_spans: list[tuple[datetime, datetime]] = []
    covering: dict[str, bool] = {}
    has_allow = False
    for window in windows:
        spans = intervals(window, instant, until)
        covering[window.name] = any(s <= instant < e for s, e in spans)
        if window.kind == WindowKind.DENY:
            deny_spans.extend(spans)
        else:
            has_allow = True
            allow_spans.extend(spans)
    deny, allow = _merged(deny_spans), _merged(allow_spans)

    def is_open(t: datetime) -> bool:
        return not _covers(deny, t) and (not has_allow or _covers(allow, t))

    # The open set only changes at an interval's start or end.
    changes = sorted({t for s, e in deny + allow for t in (s, e) if instant < t < until})
    now_open = is_open(instant)
    following = next((t for t in changes if is_open(t) != now_open), None)
    if now_open:
        return WindowState(open=True, closes_at=following)
    allowed = any(covering[w.name] for w in windows if w.kind == WindowKind.ALLOW)
    closed_by = tuple(
        w.name for w in windows if (covering[w.name] if w.kind == WindowKind.DENY else not allowed)
    )
    return WindowState(open=False, opens_at=following, closed_by=closed_by)


def local_range(start: date | datetime, end: date | datetime) -> DateRange:
    """A range as people write it: a date alone starts at its midnight, and as an end
    covers that whole day (24 Dec - 2 Jan includes 2 Jan)."""
    begin = start if isinstance(start, datetime) else datetime.combine(start, time())
    finish = end if isinstance(end, datetime) else datetime.combine(end, time()) + timedelta(days=1)
    if finish <= begin:
        raise RuleError("a date range must end after it starts")
    return DateRange(begin.replace(tzinfo=None), finish.replace(tzinfo=None))
