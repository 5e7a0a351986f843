"""Hourly aggregates for the baselines (``alert_bucket``) and daily term counts (``alert_term_day``), kept
up to date incrementally.

Each evaluation rebuilds the hours it has read in full: the trailing window (so that spam marking, new
links and new weights of the last day reach the baseline) and the hours of posts stored or scored since
the last pass (a late backfill). Older hours are not touched again, so a pass costs what came in and one
day of posts, not the whole store. Trade-off: a post re-scored or re-weighted after its hour has left the
trailing window keeps its old contribution to the baseline; a baseline is a median over weeks and does not
notice.

A slice counts at most :data:`PER_AUTHOR_CAP` posts per author and hour: one account posting 40 times in
an hour is one loud account, not 40 voices (a single-account flood never looks like a spike).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlmodel import Session, col

from resonanz.alerts.baseline import floor_hour, local_day
from resonanz.alerts.posts import AlertPost
from resonanz.alerts.signals import terms
from store.models import AlertBucket, AlertTermDay

log = logging.getLogger(__name__)

PER_AUTHOR_CAP = 2
TERM_MIN_AUTHORS = 2
"""A term is stored for a day only if at least this many authors used it (keeps the table small)."""
ALL = ("all", "*")

SliceKey = tuple[str, str]
"""(dimension, key): ('all', '*'), ('topic', 'Preis'), ('platform', 'bluesky'), ('class', 'A')."""


@dataclass
class Counts:
    """One hour of one slice (mutable while adding up)."""

    posts: float = 0.0
    scored: float = 0.0
    negative: float = 0.0
    weight: float = 0.0
    weighted_negative: float = 0.0
    engagement: float = 0.0

    def add(self, post: AlertPost) -> None:
        self.posts += 1
        self.engagement += post.engagement
        if post.scored:
            self.scored += 1
            self.weight += post.weight
            if post.negative:
                self.negative += 1
                self.weighted_negative += post.weight

    def values(self) -> tuple[float, ...]:
        return (self.posts, self.scored, self.negative, self.weight, self.weighted_negative, self.engagement)


def slices(post: AlertPost) -> list[SliceKey]:
    """Every slice a post counts in."""
    out = [ALL, ("platform", post.platform[:200]), ("class", post.segment)]
    out += [("topic", t[:200]) for t in dict.fromkeys(post.topics)]
    return out


def hourly_counts(posts: Iterable[AlertPost]) -> dict[tuple[datetime, str, str], Counts]:
    """(hour, dimension, key) -> counts, at most :data:`PER_AUTHOR_CAP` posts per author, hour and slice."""
    out: dict[tuple[datetime, str, str], Counts] = {}
    per_author: dict[tuple[datetime, str, str, str], int] = {}
    for post in posts:
        hour = floor_hour(post.created_at)
        for dim, key in slices(post):
            seen = per_author.get((hour, dim, key, post.author), 0)
            if seen >= PER_AUTHOR_CAP:
                continue
            per_author[(hour, dim, key, post.author)] = seen + 1
            out.setdefault((hour, dim, key), Counts()).add(post)
    return out


def daily_term_authors(posts: Iterable[AlertPost], tz: str) -> dict[tuple[date, str], set[str]]:
    out: dict[tuple[date, str], set[str]] = {}
    for post in posts:
        day = local_day(post.created_at, tz)
        for term in terms(post.text):
            out.setdefault((day, term[:100]), set()).add(post.author)
    return out


def write_hours(
    session: Session, start: datetime, end: datetime, posts: Iterable[AlertPost]
) -> tuple[int, dict[tuple[datetime, str, str], Counts]]:
    """Make the buckets of the hours in ``[start, end)`` match ``posts`` (only changed rows are written);
    returns the rows written or deleted, and the counts now stored."""
    wanted = hourly_counts(posts)
    b = AlertBucket
    rows = session.execute(
        select(
            col(b.id),
            col(b.hour),
            col(b.dimension),
            col(b.key),
            col(b.posts),
            col(b.scored),
            col(b.negative),
            col(b.weight),
            col(b.weighted_negative),
            col(b.engagement),
        ).where(col(b.hour) >= start, col(b.hour) < end)  # fmt: skip
    ).all()
    existing = {(r[1], r[2], r[3]): (r[0], tuple(float(v) for v in r[4:])) for r in rows}
    gone = [row_id for where, (row_id, _) in existing.items() if where not in wanted]
    changed, new = [], []
    for (hour, dim, key), counts in wanted.items():
        values = counts.values()
        old = existing.get((hour, dim, key))
        if old is not None and old[1] == values:
            continue
        fields = dict(zip(_FIELDS, values, strict=True))
        if old is None:
            new.append({"hour": hour, "dimension": dim, "key": key, **fields})
        else:
            changed.append({"row_id": old[0], **fields})
    table = AlertBucket.__table__  # type: ignore[attr-defined]
    if gone:
        session.execute(delete(table).where(table.c.id.in_(gone)))
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(
            update(table).where(table.c.id == bindparam("row_id")).values({f: bindparam(f) for f in _FIELDS}),
            changed,
        )
    return len(gone) + len(new) + len(changed), wanted


_FIELDS = ("posts", "scored", "negative", "weight", "weighted_negative", "engagement")


def write_days(
    session: Session, days: Iterable[date], posts: Iterable[AlertPost], tz: str
) -> tuple[int, dict[date, dict[str, int]]]:
    """Make the term counts of ``days`` (each read in full) match ``posts`` (only changed rows are written);
    returns the rows written or deleted and what is stored now (day -> term -> authors)."""
    days = sorted(set(days))
    if not days:
        return 0, {}
    authors = daily_term_authors(posts, tz)
    stored: dict[date, dict[str, int]] = {d: {} for d in days}
    for (day, term), who in authors.items():
        if day in stored and len(who) >= TERM_MIN_AUTHORS:
            stored[day][term] = len(who)
    t = AlertTermDay
    existing = {
        (day, term): (row_id, n)
        for row_id, day, term, n in session.execute(
            select(col(t.id), col(t.day), col(t.term), col(t.authors)).where(col(t.day).in_(days))
        )
    }
    wanted = {(d, term): n for d, terms_ in stored.items() for term, n in terms_.items()}
    gone = [row_id for key, (row_id, _) in existing.items() if key not in wanted]
    new = [{"day": d, "term": term, "authors": n} for (d, term), n in wanted.items() if (d, term) not in existing]
    changed = [
        {"row_id": existing[k][0], "authors": n} for k, n in wanted.items() if k in existing and existing[k][1] != n
    ]
    table = AlertTermDay.__table__  # type: ignore[attr-defined]
    if gone:
        session.execute(delete(table).where(table.c.id.in_(gone)))
    if new:
        session.execute(insert(table), new)
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("row_id")).values(authors=bindparam("authors")),
                        changed)  # fmt: skip
    return len(gone) + len(new) + len(changed), stored


def _load_buckets(session: Session, start: datetime, end: datetime) -> dict[SliceKey, dict[datetime, Counts]]:
    b = AlertBucket
    query = select(col(b.hour), col(b.dimension), col(b.key), col(b.posts), col(b.scored), col(b.negative),
                   col(b.weight), col(b.weighted_negative), col(b.engagement)
                   ).where(col(b.hour) >= start, col(b.hour) < end)  # fmt: skip
    out: dict[SliceKey, dict[datetime, Counts]] = {}
    for hour, dim, key, *values in session.execute(query):
        out.setdefault((dim, key), {})[hour] = Counts(*(float(v) for v in values))
    return out


def _load_term_days(session: Session, start: date, end: date) -> dict[date, dict[str, int]]:
    query = select(col(AlertTermDay.day), col(AlertTermDay.term), col(AlertTermDay.authors)).where(
        col(AlertTermDay.day) >= start, col(AlertTermDay.day) < end
    )
    out: dict[date, dict[str, int]] = {}
    for day, term, n in session.execute(query):
        out.setdefault(day, {})[str(term)] = int(n)
    return out


def first_hour(session: Session) -> datetime | None:
    """The oldest hour with any posts: how much history the baselines have."""
    first: datetime | None = session.execute(select(func.min(col(AlertBucket.hour)))).scalar_one_or_none()
    return first


@dataclass
class BaselineCache:
    """The buckets and term counts a process has read or written, so that a pass every few minutes reads only
    what it does not hold yet. It trusts what this process wrote; ``generation`` (kept in ``alert_state``,
    raised whenever a pass re-aggregates hours before its trailing window) makes every process drop its
    cache when another one has rewritten older history."""

    generation: int = -1
    buckets: dict[SliceKey, dict[datetime, Counts]] = field(default_factory=dict)
    covered: tuple[datetime, datetime] | None = None
    days: dict[date, dict[str, int]] = field(default_factory=dict)
    days_covered: tuple[date, date] | None = None

    def check(self, generation: int) -> None:
        if generation != self.generation:
            self.generation = generation
            self.buckets, self.covered, self.days, self.days_covered = {}, None, {}, None

    def put_hours(self, start: datetime, end: datetime, counts: dict[tuple[datetime, str, str], Counts]) -> None:
        """What :func:`write_hours` stored for ``[start, end)`` (only hours already covered are kept)."""
        if self.covered is None:
            return
        for hours in self.buckets.values():
            for h in [h for h in hours if start <= h < end]:
                del hours[h]
        lo, hi = self.covered
        for (hour, dim, key), c in counts.items():
            if lo <= hour < hi:
                self.buckets.setdefault((dim, key), {})[hour] = c

    def put_days(self, stored: dict[date, dict[str, int]]) -> None:
        if self.days_covered is None:
            return
        lo, hi = self.days_covered
        for day, terms_ in stored.items():
            if lo <= day < hi:
                self.days[day] = terms_

    def hours_between(self, session: Session, start: datetime, end: datetime) -> dict[SliceKey, dict[datetime, Counts]]:
        """Every slice's buckets in ``[start, end)``, reading from the store only the hours not held."""
        if self.covered is None or start < self.covered[0] or start >= self.covered[1]:
            self.buckets, self.covered = _load_buckets(session, start, end), (start, end)
        else:
            lo, hi = self.covered
            if end > hi:
                for where, hours in _load_buckets(session, hi, end).items():
                    self.buckets.setdefault(where, {}).update(hours)
            if start > lo:
                for hours in self.buckets.values():
                    for h in [h for h in hours if h < start]:
                        del hours[h]
            self.covered = (start, max(end, hi))
        return self.buckets

    def term_days(self, session: Session, start: date, end: date) -> dict[str, dict[date, int]]:
        """term -> day -> authors for days in ``[start, end)``."""
        if self.days_covered is None or start < self.days_covered[0] or start >= self.days_covered[1]:
            self.days, self.days_covered = _load_term_days(session, start, end), (start, end)
        else:
            lo, hi = self.days_covered
            if end > hi:
                self.days.update(_load_term_days(session, hi, end))
            for d in [d for d in self.days if d < start]:
                del self.days[d]
            self.days_covered = (start, max(end, hi))
        out: dict[str, dict[date, int]] = {}
        for day, terms_ in self.days.items():
            if start <= day < end:
                for term, n in terms_.items():
                    out.setdefault(term, {})[day] = n
        return out


def series(buckets: Mapping[datetime, Counts], column: str) -> dict[datetime, float]:
    """One column of a slice's buckets as hour -> value."""
    return {h: float(getattr(b, column)) for h, b in buckets.items()}
