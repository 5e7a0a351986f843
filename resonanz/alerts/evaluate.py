"""One evaluation pass: bring the baselines up to date with what came in, apply the rules at ``now``, turn
the findings into incidents, and send what is due.

Cost per pass (``resonanz run`` every ``alerts.interval_minutes``, or ``resonanz alerts check``): the posts
of the longest rule window (a day by default, an index range scan on ``post.created_at``), the hours of posts
stored or scored since the last pass (watermarks on ``post.id`` and ``score.id`` in ``alert_state``), and the
hourly buckets of the baseline weeks (about 700 hours x the slices). None of it grows with the number of
stored posts; only the first pass aggregates the history (the baseline weeks, in chunks of a week).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from resonanz.alerts.aggregate import ALL, BaselineCache, first_hour, series, write_days, write_hours
from resonanz.alerts.baseline import HOUR, calendar, floor_hour, local_day, seasonal_shape
from resonanz.alerts.detect import Context, detect
from resonanz.alerts.findings import Finding
from resonanz.alerts.incidents import IncidentReport, Policy, apply_findings
from resonanz.alerts.notify import channels, dispatch_due
from resonanz.alerts.posts import AlertPost, load_posts, new_post_times
from resonanz.alerts.rules import EmergingParams, Rule, build_rules, lookbacks
from resonanz.core.settings import Settings
from store.db import session_scope
from store.models import AlertBucket, AlertRuleOverride, AlertState, AlertTermDay
from store.types import utcnow

log = logging.getLogger(__name__)

STATE = "aggregate"
CHUNK = timedelta(days=7)
KEEP_EXTRA_DAYS = 7
"""Buckets are kept this many days beyond the longest baseline, then pruned."""


@dataclass
class EvaluationReport:
    now: datetime
    posts_read: int = 0
    rows_written: int = 0
    findings: list[Finding] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)
    incidents: IncidentReport = field(default_factory=IncidentReport)
    sent: int = 0
    failed: int = 0
    held: int = 0
    seconds: float = 0.0


def rule_layers(session: Session, settings: Settings) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """The override layers above the shipped defaults: the TOML file (and environment), then the web app."""
    web: dict[str, dict[str, Any]] = {}
    for row in session.execute(select(AlertRuleOverride).order_by(col(AlertRuleOverride.name))).scalars():
        entry: dict[str, Any] = dict(row.params or {})
        if row.kind:
            entry["kind"] = row.kind
        if row.enabled is not None:
            entry["enabled"] = row.enabled
        web[row.name] = entry
    return [("TOML", dict(settings.alerts.rules)), ("Web-App", web)]


def load_rules(session: Session, settings: Settings) -> list[Rule]:
    return build_rules(rule_layers(session, settings))


def _state(session: Session) -> AlertState:
    row = session.get(AlertState, STATE)
    return row if row is not None else AlertState(key=STATE, value={"post_id": 0, "score_id": 0})


def _day_range(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, dtime(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _merge(ranges: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _rebuild(
    session: Session, start: datetime, end: datetime, now: datetime, settings: Settings, cache: BaselineCache
) -> tuple[list[AlertPost], int]:
    """Re-aggregate ``[start, end)`` (hour aligned) and the term counts of the Berlin days inside it."""
    tz = settings.digest.timezone
    posts = load_posts(session, start, end, prospect_weight=settings.value.prospect_weight, until=now)
    written, counts = write_hours(session, start, end, posts)
    cache.put_hours(start, end, counts)
    days = []
    d = local_day(start, tz)
    while True:
        a, b = _day_range(d, tz)
        if a >= end:
            break
        if a >= start and (b <= end or end > now):
            days.append(d)
        d += timedelta(days=1)
    n, stored = write_days(session, days, posts, tz)
    cache.put_days(stored)
    return posts, written + n


@dataclass
class Refreshed:
    """What a refresh read: the trailing window's posts, posts stored or scored late (older than the window,
    at most ``late_hours`` old), and how many rows it wrote."""

    window: list[AlertPost]
    late: list[AlertPost]
    written: int

    @property
    def posts(self) -> list[AlertPost]:
        return self.late + self.window


def refresh(
    session: Session,
    settings: Settings,
    now: datetime,
    window_hours: float,
    history_days: int | None,
    late_hours: float = 0.0,
    cache: BaselineCache | None = None,
) -> Refreshed:
    """Re-aggregate what changed (see the module docstring). ``history_days``: aggregate and keep only that
    much history (None: all)."""
    tz = settings.digest.timezone
    cache = cache if cache is not None else BaselineCache()
    state = _state(session)
    generation = int(state.value.get("generation", 0))
    cache.check(generation)
    times, max_post, max_score = new_post_times(session, int(state.value.get("post_id", 0)),
                                                int(state.value.get("score_id", 0)))  # fmt: skip
    window_start = floor_hour(now - timedelta(hours=window_hours))
    window_end = floor_hour(now) + HOUR
    oldest = now - timedelta(days=history_days) if history_days is not None else None
    days = {local_day(t, tz) for t in times if t < window_start and (oldest is None or t >= oldest)}
    ranges = []
    for a, b in _merge([_day_range(d, tz) for d in days]):
        b = min(b, window_start)
        while a < b:
            ranges.append((a, min(a + CHUNK, b)))
            a += CHUNK
    written = 0
    late: list[AlertPost] = []
    late_start = now - timedelta(hours=late_hours)
    if ranges:
        generation += 1
        cache.check(generation)
    for a, b in ranges:
        read, n = _rebuild(session, a, b, now, settings, cache)
        late += [p for p in read if p.created_at >= late_start]
        written += n
        session.flush()
    posts, n = _rebuild(session, window_start, window_end, now, settings, cache)
    written += n
    if oldest is not None:
        written += _prune(session, oldest - timedelta(days=KEEP_EXTRA_DAYS), tz)
    state.value = {"post_id": max_post, "score_id": max_score, "generation": generation,
                   "evaluated_at": now.isoformat()}  # fmt: skip
    state.updated_at = utcnow()
    session.add(state)
    return Refreshed(window=posts, late=late, written=written)


def _prune(session: Session, before: datetime, tz: str) -> int:
    gone = session.execute(delete(AlertBucket).where(col(AlertBucket.hour) < before))
    days = session.execute(delete(AlertTermDay).where(col(AlertTermDay.day) < local_day(before, tz)))
    return int(getattr(gone, "rowcount", 0) or 0) + int(getattr(days, "rowcount", 0) or 0)


def build_context(
    session: Session,
    settings: Settings,
    rules: Sequence[Rule],
    now: datetime,
    posts: Sequence[AlertPost],
    cache: BaselineCache | None = None,
) -> Context:
    """What the rules need at ``now``: ``posts`` (the trailing window) and the baseline from the store."""
    tz = settings.digest.timezone
    cache = cache if cache is not None else BaselineCache()
    lb = lookbacks(rules)
    base_start = floor_hour(now - timedelta(days=lb.baseline_days) - timedelta(hours=lb.window_hours))
    buckets = cache.hours_between(session, base_start, floor_hour(now) + HOUR)
    history_start = first_hour(session)
    shape_start = max(base_start, floor_hour(history_start)) if history_start is not None else base_start
    shape_end = floor_hour(now - timedelta(hours=lb.window_hours))
    shape = seasonal_shape(series(buckets.get(ALL, {}), "posts"), shape_start, shape_end, tz)
    cal = calendar(shape, base_start, floor_hour(now) + HOUR)
    term_days: dict[str, dict[date, int]] = {}
    emerging = [r.params for r in rules if r.enabled and isinstance(r.params, EmergingParams)]
    if emerging:
        days = max(p.baseline_days for p in emerging)
        first = local_day(now - timedelta(hours=max(p.window_hours for p in emerging)), tz)
        term_days = cache.term_days(session, first - timedelta(days=days), first)
    return Context(
        now=now,
        tz=tz,
        posts=posts,
        buckets=buckets,
        history_start=history_start,
        shape=shape,
        calendar=cal,
        term_days=term_days,
    )


Dispatcher = Callable[[Engine, Settings, datetime], tuple[int, int, int]]


def evaluate(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    rules: Sequence[Rule] | None = None,
    notify: bool = True,
    dispatcher: Dispatcher | None = None,
    cache: BaselineCache | None = None,
) -> EvaluationReport:
    """One pass at ``now`` (default: the current time). Posts created after ``now`` are not looked at, so
    a replay over stored history sees each moment as it was (bench/bench_alerts.py, the demo). ``cache``:
    keep one between passes of a long-running process (:mod:`resonanz.alerts.job`) to read less."""
    started = time.perf_counter()
    now = now or utcnow()
    report = EvaluationReport(now=now)
    with session_scope(engine) as session:
        active_rules = list(rules) if rules is not None else load_rules(session, settings)
        lb = lookbacks(active_rules)
        cache = cache if cache is not None else BaselineCache()
        read = refresh(session, settings, now, lb.window_hours, history_days=lb.baseline_days + 2,
                       late_hours=lb.late_hours, cache=cache)  # fmt: skip
        report.posts_read, report.rows_written = len(read.posts), read.written
        ctx = build_context(session, settings, active_rules, now, read.posts, cache)
        found = detect(active_rules, ctx)
        report.findings, report.held_back = found.findings, found.held_back
        report.incidents = apply_findings(session, found.findings, now, Policy.of(settings.alerts),
                                          channels(settings) if notify else [])  # fmt: skip
    if notify:
        report.sent, report.failed, report.held = (dispatcher or dispatch_due)(engine, settings, now)
    report.seconds = time.perf_counter() - started
    for line in report.held_back:
        log.info("%s", line)
    if report.incidents.raised or report.incidents.updated:
        log.info("alerts: %d raised, %d updated, %d resolved", len(report.incidents.raised),
                 len(report.incidents.updated), len(report.incidents.resolved))  # fmt: skip
    return report
