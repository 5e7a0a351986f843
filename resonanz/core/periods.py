"""Reporting periods: ISO weeks and date ranges, interpreted in the business time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resonanz.core.errors import InvalidFilterError

_WEEK_RE = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class Period:
    """A half-open interval ``[start, end)`` in UTC, with a human label."""

    start: datetime
    end: datetime
    label: str

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self, tz: str | None = None) -> Period:
        """The period of equal length right before this one. With ``tz``, a period of whole local days (both ends
        at midnight in ``tz``) is followed back by as many local days, so that "the 4 weeks before" a period
        that crosses a change of summer time also starts at midnight (and the daily rollups can answer it)."""
        if tz is not None:
            days = _whole_days(self, zone(tz))
            if days is not None:
                local = self.start.astimezone(zone(tz))
                start = datetime.combine(local.date() - timedelta(days=days), time(), tzinfo=zone(tz))
                return Period(start.astimezone(UTC), self.start, f"before {self.label}")
        return Period(self.start - self.length, self.start, f"before {self.label}")


def _whole_days(period: Period, tz: ZoneInfo) -> int | None:
    """How many local days ``period`` spans when both its ends are local midnights, else None."""
    start, end = period.start.astimezone(tz), period.end.astimezone(tz)
    if start.timetz().replace(tzinfo=None) != time() or end.timetz().replace(tzinfo=None) != time():
        return None
    return (end.date() - start.date()).days


def _(message: str) -> str:
    """The message in the current language (:mod:`resonanz.core.i18n` imports this module, hence the late import)."""
    from resonanz.core.i18n import gettext

    return gettext(message)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidFilterError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin' (RESONANZ_DIGEST__TIMEZONE)"
        ) from exc


def iso_week(label: str, tz: str = "Europe/Berlin") -> Period:
    """``2026-W47`` -> Monday 00:00 to the next Monday 00:00 local time, as UTC."""
    match = _WEEK_RE.match(label.strip())
    if not match:
        raise InvalidFilterError(
            _("cannot read the week {label!r}; write it as an ISO week like 2026-W47").format(label=label)
        )
    year, week = int(match.group(1)), int(match.group(2))
    _check_year(year, label)
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise InvalidFilterError(
            _("{label!r} is not a week of {year}; ISO weeks run from W01 to W52 or W53").format(label=label, year=year)
        ) from exc
    start = datetime.combine(monday, time(), tzinfo=zone(tz))
    end = datetime.combine(monday + timedelta(days=7), time(), tzinfo=zone(tz))
    return Period(start.astimezone(UTC), end.astimezone(UTC), f"{year}-W{week:02d}")


MIN_YEAR, MAX_YEAR = 1900, 2100
"""Reports and imports cover these years; outside them a date is a typo or a placeholder (year 1, 9999)
and overflows in time-zone arithmetic."""


def _check_year(year: int, value: object) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidFilterError(f"{value!r} is outside the years {MIN_YEAR}-{MAX_YEAR} that reports cover")


def week_label(moment: datetime, tz: str = "Europe/Berlin") -> str:
    local = moment.astimezone(zone(tz)) if moment.tzinfo else moment.replace(tzinfo=UTC).astimezone(zone(tz))
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def last_complete_week(now: datetime | None = None, tz: str = "Europe/Berlin") -> Period:
    """The ISO week before the one that contains ``now`` (what a Monday-morning digest reports)."""
    now = now or datetime.now(UTC)
    return iso_week(week_label(now - timedelta(days=7), tz), tz)


def parse_moment(value: str, tz: str = "Europe/Berlin", *, end_of_day: bool = False) -> datetime:
    """``2026-11-16`` (local midnight; with ``end_of_day`` the following midnight) or an ISO timestamp."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidFilterError(
            _("cannot read the date {value!r}; write 2026-11-16 or 2026-11-16T08:00").format(value=value)
        ) from exc
    except OverflowError as exc:
        raise InvalidFilterError(f"{value!r} is outside the years {MIN_YEAR}-{MAX_YEAR} that reports cover") from exc
    if len(text) == 10:
        _check_year(day.year, value)
        if end_of_day:
            day += timedelta(days=1)
        return datetime.combine(day, time(), tzinfo=zone(tz)).astimezone(UTC)
    _check_year(moment.year, value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(tz))
    return moment.astimezone(UTC)


def resolve_period(
    *,
    since: str | None = None,
    until: str | None = None,
    week: str | None = None,
    days: int = 28,
    tz: str = "Europe/Berlin",
    now: datetime | None = None,
) -> Period:
    """The period asked for: an ISO week, or ``since``/``until`` as whole local days (``until`` defaults to today,
    ``since`` to ``days`` days before ``until``: the default is today and the 27 days before it).

    Whole days rather than "28 x 24 hours up to this second": that is how a report's reader counts, and the
    daily rollups (:mod:`resonanz.answers.rollup`) can answer only periods from midnight to midnight. A period
    that ends at the end of today also holds posts stamped later today (a clock running ahead)."""
    if week:
        if since or until:
            raise InvalidFilterError(_("give either --week or --since/--until, not both"))
        return iso_week(week, tz)
    now = now or datetime.now(UTC)
    end = parse_moment(until or f"{now.astimezone(zone(tz)):%Y-%m-%d}", tz, end_of_day=True)
    if since:
        start = parse_moment(since, tz)
    else:
        start = datetime.combine(end.astimezone(zone(tz)).date() - timedelta(days=days), time(), tzinfo=zone(tz))
        start = start.astimezone(UTC)
    if start >= end:
        raise InvalidFilterError(f"the period is empty: since ({since}) must be before until ({until or 'now'})")
    label = f"{start.astimezone(zone(tz)):%Y-%m-%d} – {(end - timedelta(seconds=1)).astimezone(zone(tz)):%Y-%m-%d}"
    return Period(start, end, label)


def buckets(end: datetime, count: int, size: timedelta) -> list[Period]:
    """``count`` consecutive periods of ``size`` ending at ``end``, oldest first."""
    out: list[Period] = []
    for i in range(count, 0, -1):
        start = end - size * i
        out.append(Period(start, start + size, f"{start:%Y-%m-%d}"))
    return out
