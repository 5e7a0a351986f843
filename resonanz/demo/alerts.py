"""The alerts part of ``resonanz demo``: the eight weeks replayed hour by hour, as ``resonanz run`` would have
evaluated them after each collection (nothing is sent), and what was raised."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.alerts.replay import ReplayReport, replay
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.alerts.shapes import alert_title
from resonanz.core.i18n import _, ngettext
from resonanz.core.settings import Settings
from resonanz.demo.data import TRUTH
from resonanz.pipeline.duplicates import SPAM
from store.db import session_scope
from store.models import Post

log = logging.getLogger(__name__)

HISTORY = timedelta(days=7)
"""Spike rules need a week of history; the replay starts a week after the first post."""


@dataclass
class DemoAlerts:
    report: ReplayReport
    start: datetime
    end: datetime
    spam_posts: int
    spam_accounts: int


def demo_period(truth: Path = TRUTH) -> tuple[datetime, datetime]:
    """The demo's posts period from truth.json (the Mastodon demo collection is dated today and left out)."""
    ref = json.loads(truth.read_text(encoding="utf-8"))["reference"]
    start = datetime.fromisoformat(ref["posts_from"]).replace(tzinfo=UTC)
    end = datetime.fromisoformat(ref["posts_until"]).replace(tzinfo=UTC) + timedelta(days=1)
    return start, end


def demo_alerts(engine: Engine, settings: Settings) -> DemoAlerts:
    first, end = demo_period()
    start = first + HISTORY
    report = replay(engine, settings, start, end, step=timedelta(hours=1))
    with session_scope(engine) as session:
        spam_posts, spam_accounts = session.execute(
            select(func.count(), func.count(func.distinct(col(Post.identity_id)))).where(col(Post.voice) == SPAM)
        ).one()
    return DemoAlerts(report, start, end, int(spam_posts), int(spam_accounts))


def demo_alerts_summary(result: DemoAlerts) -> Any:
    """A rich renderable: each alert raised (when, how severe, what, the post that explains it best), and why
    the spam cluster raised none."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    n = len(result.report.alerts)
    table = Table(title=ngettext("{n} alert", "{n} alerts", n).format(n=n), title_justify="left")
    for heading in (_("detected (Berlin)"), _("Severity"), _("Alert"), _("Updates"), _("top post")):
        table.add_column(heading, overflow="fold")
    zone = ZoneInfo("Europe/Berlin")
    for a in result.report.alerts:
        top = (a.explanation or {}).get("top_posts") or [{}]
        when = a.first_seen_at.astimezone(zone).strftime("%d.%m. %H:%M")
        table.add_row(
            when, SEVERITY_NAMES[a.severity], alert_title(a), str(a.updates), str(top[0].get("text", ""))[:90]
        )
    lines = [
        "  "
        + _(
            "no alert for the spam cluster ({posts} posts from {accounts} accounts): marked as copy spam, "
            "does not count as a voice"
        ).format(posts=result.spam_posts, accounts=result.spam_accounts),
        *(f"  {line}" for line in result.report.held_back[:3]),
        "  " + _("In the browser: `resonanz serve` → /alerts; evaluate now: `resonanz alerts check`"),
    ]
    return Group(table, *(Text(line) for line in lines))
