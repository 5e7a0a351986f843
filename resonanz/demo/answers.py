"""The answers part of ``resonanz demo``: what A-customers say, and the digest of the latest week."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.format import to_text
from resonanz.core.periods import Period, iso_week, last_complete_week, week_label
from resonanz.core.settings import Settings
from resonanz.demo.story import story
from resonanz.digest.builder import build_digest, write_digest
from store.models import Post
from store.types import as_utc

log = logging.getLogger(__name__)


def latest_week(engine: Engine, settings: Settings) -> Period:
    """The ISO week of the newest post, else the last complete week (the demo itself uses its story week)."""
    tz = settings.digest.timezone
    with Session(engine) as session:
        newest = session.exec(select(func.max(Post.created_at)).where(col(Post.deleted_at).is_(None))).one()
    if newest is None:
        return last_complete_week(tz=tz)
    return iso_week(week_label(as_utc(newest) or newest, tz), tz)


def demo_answers(engine: Engine, settings: Settings, out_dir: Path, width: int = 110) -> tuple[str, Path]:
    """Answer "what do our A-customers say?" over the four weeks up to the story week (2026-W47, whatever
    today's date), and write that week's digest to ``out_dir``. Returns (the answer as text, the digest file)."""
    week = story().period(settings.digest.timezone)
    period = Period(week.start - timedelta(days=21), week.end, f"4 weeks to {week.label}")
    flt = AnswerFilter(period=period, classes=["A"], default_weight=settings.value.prospect_weight)
    with Session(engine) as session:
        answer = ask(session, flt)
    text = to_text(answer, width=width)
    digest = build_digest(engine, settings, week.label)
    path = write_digest(digest, Path(out_dir) / f"digest-{week.label}.html")
    log.info("demo: digest %s written to %s", week.label, path)
    return text, path
