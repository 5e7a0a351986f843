"""Managing sources (what is collected, how often, for which brand) and reading their run history.

A source listens either to the own brand (no ``brand``: the default, also for every post without a source,
such as imported ones) or to a named competitor (``brand``): its posts then count for that competitor in the
comparison (:mod:`resonanz.answers.competitors`) and stay out of the own brand's answers (``ask``,
dashboard, digest; :func:`resonanz.answers.sql.brand_clause`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlmodel import col

from collectors import SourceSpec, collector_class
from resonanz.answers.rollup import mark_source
from resonanz.core.i18n import _
from resonanz.pipeline.collect import SourceNotFoundError, find_source
from resonanz.review.competitors import close_competitor_items
from store.db import session_scope
from store.models import CollectorRun, Post, Source

MIN_INTERVAL = 30
BRAND_MAX = 200
_SPACES = re.compile(r"\s+")
_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)", re.IGNORECASE)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class SourceExistsError(ValueError):
    """A source with that name exists already."""


class BrandNameError(ValueError):
    """A brand name that cannot be used; the message says why."""


def clean_brand(value: str | None) -> str | None:
    """A brand name as stored: trimmed, inner whitespace as single spaces; ``None``/empty: the own brand."""
    if value is None:
        return None
    name = _SPACES.sub(" ", value).strip()
    if not name:
        return None
    if name == "*":
        raise BrandNameError(_("'*' is reserved and cannot be a brand name; give the competitor's name"))
    if len(name) > BRAND_MAX:
        raise BrandNameError(_("a brand name has at most {n} characters; shorten it").format(n=BRAND_MAX))
    return name


def known_brands(session: Session) -> list[str]:
    """The competitors sources are tagged with, in alphabetical order."""
    rows = session.execute(select(col(Source.brand)).where(col(Source.brand).is_not(None)).distinct())
    return sorted((str(b) for (b,) in rows), key=str.casefold)


def _spelling(session: Session, name: str | None) -> str | None:
    """``name`` in the spelling of an existing tag that differs only in case (``röstlicht`` -> ``Röstlicht``)."""
    if name is None:
        return None
    for known in known_brands(session):
        if known.casefold() == name.casefold():
            return known
    return name


def parse_interval(text: str | int) -> int:
    """Seconds from ``900``, ``90s``, ``15m``, ``1h``, ``1h30m`` or ``1d``."""
    if isinstance(text, int):
        seconds = text
    else:
        value = text.strip().replace(" ", "")
        parts = _INTERVAL.findall(value)
        if not value or "".join(n + u for n, u in parts).lower() != value.lower():
            raise ValueError(f"cannot read the interval {text!r}; write e.g. 900, 90s, 15m, 1h or 1h30m")
        seconds = int(sum(float(n) * _UNITS[u.lower()] for n, u in parts))
    if seconds < MIN_INTERVAL:
        raise ValueError(f"an interval of {seconds} s is too short; the minimum is {MIN_INTERVAL} s")
    return seconds


def parse_options(items: Iterable[str]) -> dict[str, Any]:
    """``key=value`` pairs; values that read as JSON (numbers, true/false, lists) keep that type."""
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"option {item!r} is not key=value")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def add_source(
    engine: Engine,
    *,
    platform: str,
    name: str,
    query: str | None = None,
    account: str | None = None,
    interval_seconds: int = 900,
    options: Mapping[str, Any] | None = None,
    enabled: bool = True,
    brand: str | None = None,
) -> Source:
    """Create a source after checking that its platform can work with what was given.

    ``brand``: the competitor it listens to (``None``: the own brand)."""
    platform = platform.strip().lower()
    brand = clean_brand(brand)
    name = name.strip()
    if not name:
        raise ValueError("a source needs a name")
    config = dict(options or {})
    collector_class(platform).validate(SourceSpec(name=name, platform=platform, query=query, account=account,
                                                  config=config))  # fmt: skip
    interval_seconds = parse_interval(interval_seconds)
    with session_scope(engine) as session:
        if session.execute(select(col(Source.id)).where(col(Source.name) == name)).first():
            raise SourceExistsError(f"a source named {name!r} exists already; pick another name or remove it first")
        source = Source(name=name, platform=platform, query=query, account=account, interval_seconds=interval_seconds,
                        enabled=enabled, config=config, brand=_spelling(session, brand))  # fmt: skip
        session.add(source)
        session.flush()
        session.refresh(source)
    return source


@dataclass
class SourceOverview:
    source: Source
    posts: int
    last_status: str | None
    last_started: datetime | None


def list_sources(engine: Engine) -> list[SourceOverview]:
    with session_scope(engine) as session:
        sources = session.execute(select(Source).order_by(col(Source.name))).scalars().all()
        counts = dict(
            session.execute(
                select(col(Post.source_id), func.count())
                .where(col(Post.source_id).is_not(None))
                .group_by(col(Post.source_id))
            ).all()
        )
        latest = (
            select(col(CollectorRun.source_id), func.max(col(CollectorRun.id)).label("run_id"))
            .group_by(col(CollectorRun.source_id))
            .subquery()
        )
        runs = {
            row.source_id: row
            for row in session.execute(
                select(col(CollectorRun.source_id), col(CollectorRun.status), col(CollectorRun.started_at)).join(
                    latest, latest.c.run_id == col(CollectorRun.id)
                )
            )
        }
    return [
        SourceOverview(
            source=s,
            posts=int(counts.get(s.id, 0)),
            last_status=runs[s.id].status if s.id in runs else None,
            last_started=runs[s.id].started_at if s.id in runs else None,
        )
        for s in sources
    ]


@dataclass
class RemovedSource:
    name: str
    posts_kept: int
    runs_deleted: int


def remove_source(engine: Engine, name: str) -> RemovedSource:
    """Delete a source and its run history. Its posts stay (detached from the source)."""
    with session_scope(engine) as session:
        source = find_source(session, name)
        conn = session.connection()
        kept = conn.execute(update(Post).where(col(Post.source_id) == source.id).values(source_id=None)).rowcount
        runs = conn.execute(delete(CollectorRun).where(col(CollectorRun.source_id) == source.id)).rowcount
        session.delete(source)
    return RemovedSource(name=name, posts_kept=int(kept or 0), runs_deleted=int(runs or 0))


@dataclass
class TaggedSource:
    name: str
    brand: str | None
    """The competitor now (``None``: the own brand)."""
    previous: str | None
    posts: int
    """The source's posts, which now count for ``brand``."""


def tag_source(engine: Engine, name: str, brand: str | None) -> TaggedSource:
    """Tag a source with the competitor it listens to (``brand=None``: back to the own brand).

    Its posts, also those collected before, count for that brand from now on; nothing is re-collected.
    A name that differs from an existing tag only in case takes that tag's spelling."""
    brand = clean_brand(brand)
    with session_scope(engine) as session:
        source = find_source(session, name)
        previous = source.brand
        source.brand = _spelling(session, brand)
        session.add(source)
        mark_source(session, int(source.id or 0))  # the answers' rollups count its posts for the new brand
        posts = session.execute(select(func.count()).where(col(Post.source_id) == source.id)).scalar_one()
        tagged = TaggedSource(name=source.name, brand=source.brand, previous=previous, posts=int(posts))
    if tagged.brand is not None:
        close_competitor_items(engine)  # a competitor's posts are compared, not answered: at once, not next run
    return tagged


def set_enabled(engine: Engine, name: str, enabled: bool) -> Source:
    with session_scope(engine) as session:
        source = find_source(session, name)
        source.enabled = enabled
        session.add(source)
    return source


def list_runs(engine: Engine, source: str | None = None, limit: int = 20) -> list[tuple[str, CollectorRun]]:
    """The latest runs, newest first, with their source names."""
    with session_scope(engine) as session:
        query = select(CollectorRun, col(Source.name)).join(Source, col(Source.id) == col(CollectorRun.source_id))
        if source is not None:
            query = query.where(col(Source.id) == find_source(session, source).id)
        query = query.order_by(col(CollectorRun.id).desc()).limit(limit)
        return [(str(name), run) for run, name in session.execute(query).all()]


__all__ = [
    "BrandNameError",
    "RemovedSource",
    "SourceExistsError",
    "SourceNotFoundError",
    "SourceOverview",
    "TaggedSource",
    "add_source",
    "clean_brand",
    "known_brands",
    "list_runs",
    "list_sources",
    "parse_interval",
    "parse_options",
    "remove_source",
    "set_enabled",
    "tag_source",
]
