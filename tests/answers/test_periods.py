from datetime import UTC, datetime, timedelta

import pytest

from resonanz.core.errors import InvalidFilterError
from resonanz.core.periods import Period, iso_week, last_complete_week, parse_moment, resolve_period, week_label


def test_iso_week_is_berlin_monday_to_monday() -> None:
    p = iso_week("2026-W47")
    assert p.start == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # Mon 16 Nov 00:00 CET
    assert p.end == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert p.label == "2026-W47"
    assert p.previous().end == p.start and p.previous().length == timedelta(days=7)


def test_week_with_dst_change_is_167_hours() -> None:
    p = iso_week("2026W13")  # summer time starts on Sunday 29 March 2026
    assert p.length == timedelta(hours=167)


@pytest.mark.parametrize("bad", ["2026-47", "W47", "2026-W54", "2025-W53", "next week"])
def test_bad_weeks_say_how_to_write_them(bad: str) -> None:
    with pytest.raises(InvalidFilterError, match="W"):
        iso_week(bad)


def test_week_label_and_last_complete_week() -> None:
    monday_morning = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 07:00 in Berlin
    assert week_label(monday_morning) == "2026-W48"
    assert last_complete_week(monday_morning).label == "2026-W47"
    # Sunday 23:30 UTC is already Monday in Berlin
    assert week_label(datetime(2026, 11, 22, 23, 30, tzinfo=UTC)) == "2026-W48"


def test_resolve_period_since_until_inclusive_local_days() -> None:
    p = resolve_period(since="2026-11-01", until="2026-11-30")
    assert p.start == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert p.end == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)


def test_resolve_period_defaults_and_errors() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    p = resolve_period(days=28, now=now)
    # today (Sunday 22 November in Berlin) and the 27 days before, midnight to midnight
    assert p.start == datetime(2026, 10, 25, 23, 0, tzinfo=UTC) and p.end == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert p.label == "2026-10-26 – 2026-11-22"
    late = resolve_period(days=7, now=datetime(2026, 11, 22, 23, 30, tzinfo=UTC))  # already Monday in Berlin
    assert late.label == "2026-11-17 – 2026-11-23"
    only_until = resolve_period(until="2026-11-30", days=7)
    assert only_until.start == datetime(2026, 11, 23, 23, 0, tzinfo=UTC) and only_until.length == timedelta(days=7)
    with pytest.raises(InvalidFilterError, match="entweder --week oder --since"):
        resolve_period(week="2026-W47", since="2026-11-01")
    with pytest.raises(InvalidFilterError, match="empty"):
        resolve_period(since="2026-12-01", until="2026-11-01")
    with pytest.raises(InvalidFilterError, match="2026-11-16"):
        parse_moment("16.11.2026")
    with pytest.raises(InvalidFilterError, match="IANA"):
        iso_week("2026-W47", tz="Mars/Olympus")


def test_previous_of_whole_days_across_summer_time_starts_at_midnight() -> None:
    # the 4 weeks W44-W47 2026; the 4 weeks before them cross the end of summer time (25 October)
    p = resolve_period(since="2026-10-26", until="2026-11-22")
    assert p.length == timedelta(days=28)
    before = p.previous("Europe/Berlin")
    assert before.end == p.start
    assert before.start == datetime(2026, 9, 27, 22, 0, tzinfo=UTC)  # Monday 28 September 00:00 CEST
    assert before.length == timedelta(days=28, hours=1)
    # without a time zone (or for a period that is not whole days) the same length in hours, as before
    assert p.previous().length == timedelta(days=28)
    odd = Period(p.start + timedelta(hours=5), p.end, "x")
    assert odd.previous("Europe/Berlin").length == odd.length
