"""The calendar of promotion windows: DENY and ALLOW semantics, RRULEs through DST in
named zones, date ranges, and when a closed pair opens (app/windows/calendar.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.windows.calendar import (
    HORIZON,
    OPEN,
    RuleError,
    WindowKind,
    WindowRules,
    _rebased,
    first_within,
    local_range,
    parse_rule,
    state_at,
    zone,
)

PARIS = "Europe/Paris"
# "No promotions to prod on Friday 16:00 - Monday 08:00": 64 hours on the wall clock.
WEEKEND = WindowRules(
    "weekend-freeze", WindowKind.DENY, PARIS, "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16", 64 * 3600
)
# "prod only Tue-Thu 09:00-15:00" in New York.
OFFICE = WindowRules(
    "office-hours",
    WindowKind.ALLOW,
    "America/New_York",
    "FREQ=WEEKLY;BYDAY=TU,WE,TH;BYHOUR=9",
    6 * 3600,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_no_window_is_open() -> None:
    assert state_at([], utc(2026, 3, 27, 20)) == OPEN


def test_the_weekend_freeze_closes_at_friday_four_and_opens_monday_eight_local() -> None:
    # Wednesday 25 March 2026: open, closing on Friday 16:00 Paris (CET, UTC+1).
    wednesday = state_at([WEEKEND], utc(2026, 3, 25, 12))
    assert wednesday.open and wednesday.closes_at == utc(2026, 3, 27, 15)
    # Just before and at the start of the freeze.
    assert state_at([WEEKEND], utc(2026, 3, 27, 14, 59)).open
    friday = state_at([WEEKEND], utc(2026, 3, 27, 15))
    assert not friday.open and friday.closed_by == ("weekend-freeze",)


def test_a_freeze_over_the_spring_dst_change_ends_at_eight_local_time() -> None:
    """Paris moves to CEST (UTC+2) on Sunday 29 March 2026: Monday 08:00 is 06:00 UTC, so
    the 64 hours are wall-clock hours (63 real ones)."""
    friday = state_at([WEEKEND], utc(2026, 3, 27, 16))
    assert friday.opens_at == utc(2026, 3, 30, 6)
    assert not state_at([WEEKEND], utc(2026, 3, 30, 5, 59)).open
    assert state_at([WEEKEND], utc(2026, 3, 30, 6)).open


def test_a_freeze_over_the_autumn_dst_change_ends_at_eight_local_time() -> None:
    """Paris goes back to CET on Sunday 25 October 2026: Friday 16:00 is 14:00 UTC and
    Monday 08:00 is 07:00 UTC (65 real hours)."""
    assert state_at([WEEKEND], utc(2026, 10, 23, 13, 59)).open
    friday = state_at([WEEKEND], utc(2026, 10, 23, 14))
    assert not friday.open and friday.opens_at == utc(2026, 10, 26, 7)


def test_an_allow_window_opens_only_in_office_hours() -> None:
    # Monday 2 March 2026, noon UTC: closed until Tuesday 09:00 New York (EST, UTC-5).
    monday = state_at([OFFICE], utc(2026, 3, 2, 12))
    assert not monday.open and monday.opens_at == utc(2026, 3, 3, 14)
    assert monday.closed_by == ("office-hours",)
    tuesday = state_at([OFFICE], utc(2026, 3, 3, 15))
    assert tuesday.open and tuesday.closes_at == utc(2026, 3, 3, 20)
    # Thursday 15:00 closes until next Tuesday, 09:00 EDT by then (see below).
    thursday = state_at([OFFICE], utc(2026, 3, 5, 20))
    assert not thursday.open and thursday.opens_at == utc(2026, 3, 10, 13)


def test_an_allow_window_follows_the_american_dst_change() -> None:
    """New York moves to EDT (UTC-4) on 8 March 2026: 09:00 is 13:00 UTC from then."""
    assert state_at([OFFICE], utc(2026, 3, 6, 12)).opens_at == utc(2026, 3, 10, 13)


def test_date_ranges_cover_whole_days_in_the_zone() -> None:
    christmas = WindowRules(
        "christmas",
        WindowKind.DENY,
        PARIS,
        ranges=(local_range(date(2026, 12, 24), date(2027, 1, 2)),),
    )
    # 24 December 00:00 Paris is 23 December 23:00 UTC.
    assert state_at([christmas], utc(2026, 12, 23, 22, 59)).open
    assert not state_at([christmas], utc(2026, 12, 23, 23)).open
    # 2 January is frozen all day: it opens at 3 January 00:00 Paris.
    closed = state_at([christmas], utc(2027, 1, 2, 12))
    assert not closed.open and closed.opens_at == utc(2027, 1, 2, 23)


def test_windows_together_open_only_when_none_denies() -> None:
    """Christmas ends on Saturday 2 January 2027 at midnight, inside the weekend freeze of
    Friday 1 January: the pair opens on Monday 4 January 08:00 Paris."""
    christmas = WindowRules(
        "christmas",
        WindowKind.DENY,
        PARIS,
        ranges=(local_range(date(2026, 12, 24), date(2027, 1, 2)),),
    )
    state = state_at([christmas, WEEKEND], utc(2026, 12, 28, 12))
    assert not state.open and state.closed_by == ("christmas",)
    assert state.opens_at == utc(2027, 1, 4, 7)


def test_a_deny_window_closes_an_allow_window() -> None:
    lunch = WindowRules(
        "no-lunch", WindowKind.DENY, "America/New_York", "FREQ=DAILY;BYHOUR=12", 3600
    )
    # Tuesday 3 March, 12:30 New York: in office hours, but at lunch.
    state = state_at([OFFICE, lunch], utc(2026, 3, 3, 17, 30))
    assert not state.open and state.closed_by == ("no-lunch",)
    assert state.opens_at == utc(2026, 3, 3, 18)


def test_date_time_ranges_are_exact() -> None:
    span = local_range(datetime(2026, 5, 1, 10, 30), datetime(2026, 5, 1, 11))
    window = WindowRules("release", WindowKind.DENY, "UTC", ranges=(span,))
    assert not state_at([window], utc(2026, 5, 1, 10, 45)).open
    assert state_at([window], utc(2026, 5, 1, 11)).open


def test_a_rule_that_ended_no_longer_closes() -> None:
    ended = WindowRules(
        "old", WindowKind.DENY, "UTC", "FREQ=DAILY;UNTIL=20250101T000000", 23 * 3600
    )
    assert state_at([ended], utc(2026, 3, 3, 12)).open


def test_an_old_start_costs_no_more_than_a_recent_one() -> None:
    """A rule anchored years ago is moved forward by whole periods before it is iterated."""
    hourly = WindowRules("hourly", WindowKind.DENY, "UTC", "FREQ=HOURLY;BYMINUTE=0", 1800)
    state = state_at([hourly], utc(2030, 6, 1, 12, 10))
    assert not state.open and state.opens_at == utc(2030, 6, 1, 12, 30)
    before = datetime(2030, 6, 1, 11, 10)
    moved = _rebased(parse_rule(hourly.rrule or "", None), before)
    # The walk starts a period or two before `before`, not in 2020 (DEFAULT_START).
    assert before - timedelta(hours=2) <= moved._dtstart <= before  # type: ignore[attr-defined]
    assert list(moved.xafter(before, count=2)) == [
        datetime(2030, 6, 1, 12),
        datetime(2030, 6, 1, 13),
    ]


# Rules of every kind the calendar takes, each asked from moments around the year.
RULES = [
    ("FREQ=WEEKLY;BYDAY=FR;BYHOUR=16", None),
    ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,TH", datetime(2021, 3, 4, 9)),
    ("FREQ=DAILY;INTERVAL=5;BYHOUR=8,20", datetime(2019, 12, 31, 8)),
    ("FREQ=HOURLY;INTERVAL=7;BYMINUTE=15", datetime(2024, 2, 29, 1)),
    ("FREQ=MONTHLY;BYMONTHDAY=-1", None),
    ("FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU", datetime(2023, 1, 10, 10)),
    ("FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13", None),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", None),
    ("FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24,25,26", None),
    ("FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=-1SU;BYHOUR=2", datetime(2021, 3, 28, 2)),
    ("FREQ=YEARLY;BYWEEKNO=53;BYDAY=TH", None),
    ("FREQ=YEARLY;BYYEARDAY=-1,100", None),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", None),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", None),
    ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", None),
    ("FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31", None),
    ("FREQ=DAILY;UNTIL=20270301T000000", None),
    ("FREQ=DAILY;UNTIL=20260101T000000", None),
    ("FREQ=WEEKLY;BYDAY=SA", datetime(2027, 6, 5, 10)),
    ("FREQ=WEEKLY;BYDAY=SA", datetime(2031, 1, 4)),
    ("FREQ=YEARLY;BYEASTER=-2", None),
]
ASKED = [datetime(2026, 1, 1), datetime(2026, 12, 4, 12, 30), datetime(2027, 2, 28, 23)]


@pytest.mark.parametrize(("text", "start"), RULES)
def test_the_bounded_search_finds_what_the_full_one_does(text: str, start: datetime | None) -> None:
    """first_within searches 400-year cycles later (where giving up is cheap); what it finds
    is what dateutil's search from here finds, within the horizon."""
    for local in ASKED:
        rule = parse_rule(text, start)
        full = rule.after(local, inc=True)
        expected = full if full is not None and full <= local + HORIZON else None
        assert first_within(rule, local, HORIZON) == expected, (text, local)


def test_a_rule_that_never_matches_is_given_up_on() -> None:
    hourly = parse_rule("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=1,2,3", None)
    assert first_within(hourly, datetime(2026, 12, 4), HORIZON) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("FREQ=MINUTELY", "FREQ must be"),
        ("FREQ=SECONDLY", "FREQ must be"),
        ("FREQ=DAILY;COUNT=3", "COUNT is not supported"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid RRULE"),
        ("BYDAY=FR", "not a valid RRULE"),
        ("DTSTART:20260101T000000\nRRULE:FREQ=DAILY", "give one RRULE"),
        ("FREQ=DAILY;UNTIL=20270101T000000Z", "without Z"),
    ],
)
def test_rules_that_cannot_be_used_are_refused_in_words(text: str, says: str) -> None:
    with pytest.raises(RuleError, match=says):
        parse_rule(text, None)


def test_a_prefixed_rule_is_the_same_rule() -> None:
    start = datetime(2026, 1, 5)
    assert list(parse_rule("RRULE:FREQ=DAILY", start)[:2]) == list(
        parse_rule("FREQ=DAILY", start)[:2]
    )


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", "x" * 300])
def test_unknown_zones_are_refused(name: str) -> None:
    with pytest.raises(RuleError, match="IANA time zone"):
        zone(name)


def test_a_range_must_end_after_it_starts() -> None:
    with pytest.raises(RuleError, match="end after"):
        local_range(datetime(2026, 1, 2, 10), datetime(2026, 1, 2, 9))
    # A one-day range written as the same date twice is that whole day.
    assert local_range(date(2026, 1, 2), date(2026, 1, 2)).end - datetime(2026, 1, 2) == (
        timedelta(days=1)
    )
