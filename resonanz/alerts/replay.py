"""Evaluating stored history as it unfolded: each moment sees only the posts created until then, nothing is
sent. The demo shows what its eight weeks would have raised; a new installation can check its rules on the
backfill before switching notifications on.

Trade-off: the baseline is aggregated once, with what the store knows now (spam clusters, links and values
found later); a pass in ``resonanz run`` at the time would have known less.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.alerts.aggregate import BaselineCache
from resonanz.alerts.detect import detect
from resonanz.alerts.evaluate import build_context, load_rules, refresh
from resonanz.alerts.incidents import Policy, apply_findings
from resonanz.alerts.posts import load_posts
from resonanz.alerts.rules import Rule, lookbacks
from resonanz.core.settings import Settings
from store.db import session_scope
from store.models import Alert

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    alerts: list[Alert] = field(default_factory=list)
    """The alerts raised during the replay, in the order raised (with their state at its end)."""
    held_back: list[str] = field(default_factory=list)
    steps: int = 0


def replay(
    engine: Engine,
    settings: Settings,
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(hours=1),
    rules: list[Rule] | None = None,
) -> ReplayReport:
    """Evaluate at ``start``, ``start + step`` ... ``end`` without notifications (see the module docstring)."""
    report = ReplayReport()
    cache = BaselineCache()
    with session_scope(engine) as session:
        active = rules if rules is not None else load_rules(session, settings)
        lb = lookbacks(active)
        refresh(session, settings, end, lb.window_hours, history_days=None, cache=cache)
        before = set(session.execute(select(col(Alert.id))).scalars())
    policy = Policy.of(settings.alerts)
    window = timedelta(hours=lb.window_hours)
    t = start
    while t <= end:
        with session_scope(engine) as session:
            posts = load_posts(session, t - window, t + timedelta(seconds=1),
                               prospect_weight=settings.value.prospect_weight, until=t)  # fmt: skip
            found = detect(active, build_context(session, settings, active, t, posts, cache))
            apply_findings(session, found.findings, t, policy, [])
            report.held_back += [line for line in found.held_back if line not in report.held_back]
        report.steps += 1
        t += step
    with session_scope(engine) as session:
        query = select(Alert).where(col(Alert.id).not_in(before)).order_by(col(Alert.first_seen_at), col(Alert.id))
        report.alerts = list(session.execute(query).scalars())
    log.info("replay %s .. %s: %d alerts", start, end, len(report.alerts))
    return report
