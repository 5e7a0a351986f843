"""Daily rollups for ``ask`` and the dashboard: their numbers from a few thousand rows instead of every post.

What is stored (store/models/rollup.py)
---------------------------------------

``answer_rollup``: per day (Europe/Berlin), brand, voice, ABC class, platform, language, sentiment, and topic with
its aspect polarity (``topic`` NULL: the post itself), the number of posts, the sum of their weights and how many
have no weight yet (they weigh the filter's ``default_weight``, so the rollup does not depend on it). Every sum
``ask``, the dashboard and the Pareto check compute per cell is a sum of these rows.

``answer_rollup_pack``: the same per account (``identity_id``), packed per day, brand, voice and topic
(:mod:`resonanz.answers.packs`). Kish's effective n needs ``Σ W_v²`` over voices (a voice's weight summed over
the *whole* period) and the author and customer counts are distinct counts: neither adds up across days, so they
are kept exact by grouping the accounts' rows by voice at read time, with numpy. Trade-off: a pack holds every
class, platform and language of its cell, so a filter on them reads the whole pack; still one value per cell
instead of a row per (day, account, topic), and none of the joins (link ranking, current value, latest score,
JSON unnesting) the raw query does per post. Posts without an account are their own voice; their squares add up
per day and sit in ``answer_rollup.single_*``.

What is not served from the rollup (the raw query answers, exactly as before): a topic filter (which topics occur
*together* is not in a per-topic rollup), RFM segments, loyalty, a specific model's scores, periods that do not
start and end at midnight Europe/Berlin (e.g. "the last 28 days from now"), the EM-estimated shares (they need each
post's probabilities) and the quotes (top posts: drill-down stays on the raw tables). The rollups are used only
once built (``resonanz db rebuild-rollups``, :func:`rebuild`).

How it stays current
--------------------

A change marks the days it touches in ``answer_rollup_dirty`` in the same transaction as the change:
scoring and a person's corrections (:func:`mark_posts`, from :func:`resonanz.review.corrections.apply_corrections`),
weights (:func:`refresh` with the changed scores, from :func:`resonanz.pipeline.weighting.apply_weights`), classes
and links (:func:`mark_drift`: accounts whose customer or class differs from the rollup, from the valuation and the
weighting), a source's brand (:func:`mark_source`). New scores are also found by a watermark on ``score.id``.
Dirty days are recomputed from the raw tables at the end of the job (:func:`refresh`) and, for the days an answer
reads, by the answer itself (:func:`prepare`); recomputing a day replaces its rows, so doing it twice is harmless.

Reading and the cache
---------------------

The per-voice sums are read from the packs of the days and cells asked for and grouped with one sort per answer
(:func:`resonanz.answers.packs.weight_squares`, :func:`~resonanz.answers.packs.heads`). The sums of the
answers users open most (the dashboard of the last :data:`DASHBOARD_WEEKS` weeks and ``ask`` for the default
period, without a filter) are cached in ``answer_rollup_cache`` by :func:`warm`, which :func:`refresh_rollups`
calls at the end of a pipeline job. An entry holds the rollups' ``version``, which every recomputation of a day
raises in the same transaction (:func:`bump_version`); an answer reads the cache only after :func:`prepare`
recomputed the dirty days it covers, so a correction or a new score is in the next answer. Quotes are read live;
the revenue per class is cached with them under a fingerprint of the customers
(:func:`resonanz.answers.pareto.revenue_by_class`).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import time as time_module
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import Select, Table, case, delete, func, insert, literal, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from resonanz.answers import packs
from resonanz.answers.sql import (
    ALL_BRANDS,
    SOURCE,
    AnswerFilter,
    latest_score_id,
    link_subquery,
    segment_expr,
    sentiment_value,
    value_subquery,
)
from resonanz.core.periods import Period, resolve_period, zone
from resonanz.core.tables import POST, SCORE
from store.bulk import conflict_insert, insert_chunked
from store.db import session_scope
from store.models import AnswerRollup, AnswerRollupDirty, AnswerRollupPack, AnswerRollupQuote, AnswerRollupState
from store.models.rollup import AnswerRollupCache

log = logging.getLogger(__name__)

TZ = "Europe/Berlin"
"""The rollup's days are days in this time zone; periods must start and end at its midnights."""
ROLLUP: Table = AnswerRollup.__table__  # type: ignore[attr-defined]
PACK: Table = AnswerRollupPack.__table__  # type: ignore[attr-defined]
DIRTY: Table = AnswerRollupDirty.__table__  # type: ignore[attr-defined]
STATE: Table = AnswerRollupState.__table__  # type: ignore[attr-defined]
QUOTE: Table = AnswerRollupQuote.__table__  # type: ignore[attr-defined]
CACHE: Table = AnswerRollupCache.__table__  # type: ignore[attr-defined]
QUOTE_POOL = 9
"""Candidates kept per day, cell and order: enough for ``quote_limit`` 3 (``quotes`` looks at 3 x limit)."""
BUILT, WATERMARK, VERSION, WARMED_AT = "built", "score_watermark", "version", "warmed_at"
ACCOUNTS, POSTS = "accounts", "posts"
"""The kinds of :data:`PACK` (:data:`resonanz.answers.packs.DTYPES`)."""
DAYS_PER_QUERY = 7
"""Days recomputed with one query (bounds the memory of a rebuild)."""
INSERT_ROWS = 5000
IN_CHUNK = 900
DEFAULT_WEIGHT = 0.5
"""The prospects' weight of the answers cached by :func:`refresh_rollups` (``Settings().value.prospect_weight``)."""
DASHBOARD_WEEKS = 12
WARM_EVERY_S = 60.0
"""At most one warming of the cache per this many seconds by :func:`refresh_rollups` (the end of each job; the
time of the last one is kept in whole minutes)."""
"""The dashboard's default span (the web page's ``weeks``), cached by :func:`warm`."""
POLARITY = {"positive": 1, "negative": -1, "neutral": 0}

Session = Any
"""A SQLAlchemy/SQLModel session (``execute`` and ``get_bind``)."""


# --- days ------------------------------------------------------------------------------------------------------


def local_day(moment: datetime) -> date:
    """The Europe/Berlin day of a timestamp (naive timestamps are UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(TZ)).date()


def day_start(day: date) -> datetime:
    """Midnight Europe/Berlin at the start of ``day``, in UTC."""
    return datetime.combine(day, time(), tzinfo=zone(TZ)).astimezone(UTC)


def aligned(moment: datetime) -> bool:
    """True when ``moment`` is a midnight in Europe/Berlin (a period boundary the rollup can answer)."""
    return day_start(local_day(moment)) == (moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _runs(days: Iterable[date], longest: int = DAYS_PER_QUERY) -> Iterator[list[date]]:
    """Sorted days in runs of consecutive days, at most ``longest`` each."""
    run: list[date] = []
    for day in sorted(set(days)):
        if run and (day != run[-1] + timedelta(days=1) or len(run) >= longest):
            yield run
            run = []
        run.append(day)
    if run:
        yield run


# --- state and marks -------------------------------------------------------------------------------------------


def _state(session: Session, key: str) -> int | None:
    value = session.execute(select(STATE.c.value).where(STATE.c.key == key)).scalar_one_or_none()
    return None if value is None else int(value)


def _set_state(session: Session, key: str, value: int) -> None:
    if session.execute(update(STATE).where(STATE.c.key == key).values(value=value)).rowcount == 0:
        session.execute(insert(STATE).values(key=key, value=value))


def is_built(session: Session) -> bool:
    return _state(session, BUILT) == 1


def mark_days(session: Session, days: Iterable[date]) -> int:
    """Mark ``days`` for recomputation (once each; safe beside a concurrent marker)."""
    rows = [{"day": d} for d in sorted(set(days))]
    if not rows:
        return 0
    make = conflict_insert(session.get_bind().dialect.name)
    for start in range(0, len(rows), INSERT_ROWS):
        session.execute(make(DIRTY).values(rows[start : start + INSERT_ROWS]).on_conflict_do_nothing())
    return len(rows)


def _post_hour(session: Session) -> ColumnElement[Any]:
    """The UTC hour of ``post.created_at``, computed by the database (SQLite keeps UTC timestamps as text,
    ``YYYY-MM-DD HH:MM:SS``; PostgreSQL as ``timestamptz``). A day of Europe/Berlin is whole UTC hours, so the days
    to mark follow from the distinct hours: about 24 rows per day instead of one per post (a million posts without
    a weight took 20 s to mark, most of it reading and converting their timestamps)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(POST.c.created_at, 1, 13).label("hour")
    return func.date_trunc("hour", func.timezone("UTC", POST.c.created_at)).label("hour")  # whatever the session's zone


def _hour_day(hour: Any) -> date:
    """The Europe/Berlin day of an hour from :func:`_post_hour`."""
    moment = hour if isinstance(hour, datetime) else datetime.fromisoformat(str(hour).replace("T", " ") + ":00")
    return local_day(moment)


def _days_of(session: Session, query: Select[Any]) -> set[date]:
    """The days of the hours (:func:`_post_hour`) ``query`` selects."""
    return {_hour_day(hour) for (hour,) in session.execute(query).all() if hour is not None}


def mark_posts(session: Session, post_ids: Iterable[int]) -> int:
    """Mark the days of these posts (their scores or corrections changed). Nothing to do before the first build."""
    ids = sorted(set(post_ids))
    if not ids or not is_built(session):
        return 0
    days: set[date] = set()
    for start in range(0, len(ids), IN_CHUNK):
        query = select(_post_hour(session)).where(POST.c.id.in_(ids[start : start + IN_CHUNK])).distinct()
        days |= _days_of(session, query)
    return mark_days(session, days)


def mark_scores(session: Session, score_ids: Iterable[int]) -> int:
    """Mark the days of the posts of these scores (e.g. their weights changed)."""
    ids = sorted(set(score_ids))
    if not ids or not is_built(session):
        return 0
    days: set[date] = set()
    for start in range(0, len(ids), IN_CHUNK):
        query = (
            select(_post_hour(session))
            .join(SCORE, SCORE.c.post_id == POST.c.id)
            .where(SCORE.c.id.in_(ids[start : start + IN_CHUNK]))
            .distinct()
        )
        days |= _days_of(session, query)
    return mark_days(session, days)


def mark_source(session: Session, source_id: int) -> int:
    """Mark the days of a source's posts (its brand changed)."""
    if not is_built(session):
        return 0
    query = select(_post_hour(session)).where(POST.c.source_id == source_id).distinct()
    return mark_days(session, _days_of(session, query))


def mark_new_scores(session: Session) -> int:
    """Mark the days of the posts of scores written since the last recomputation (``score.id`` watermark)."""
    if not is_built(session):
        return 0
    mark = _state(session, WATERMARK) or 0
    newest = int(session.execute(select(func.max(SCORE.c.id))).scalar_one() or 0)
    if newest <= mark:
        return 0
    query = select(_post_hour(session)).join(SCORE, SCORE.c.post_id == POST.c.id).where(SCORE.c.id > mark).distinct()
    marked = mark_days(session, _days_of(session, query))
    _set_state(session, WATERMARK, newest)
    return marked


def _current_mapping(session: Session) -> dict[int, tuple[int, str]]:
    """identity -> (customer, class) as the answers see it now, for linked identities (the others: prospects)."""
    lnk, val = link_subquery(), value_subquery()
    query = select(lnk.c.identity_id, lnk.c.customer_id, segment_expr(lnk, val)).outerjoin(
        val, val.c.customer_id == lnk.c.customer_id
    )
    return {int(i): (int(c), str(s)) for i, c, s in session.execute(query).all()}


def mark_drift(session: Session) -> int:
    """Mark the days of the accounts whose customer or class changed since their days were rolled up (links,
    consent, erasure, a new valuation), and of the linked posts without a weight of their own."""
    if not is_built(session):
        return 0
    now = packs.Standing.of(_current_mapping(session))
    days: set[date] = set()
    changed: set[int] = set()
    # every account of a day is in the day's packs of the posts themselves (topic NULL)
    query = select(PACK.c.day, PACK.c.vocab, PACK.c.data).where(PACK.c.kind == ACCOUNTS, PACK.c.topic.is_(None))
    for day, vocab, data in session.execute(query):
        moved = packs.drifted(packs.unpack(ACCOUNTS, vocab, data), now)
        if len(moved):
            changed.update(moved.tolist())
            days.add(day)
    # a post without a weight of its own weighs its customer's value weight, which a valuation may change
    # without changing the class (none such once the weighting ran)
    unweighted = (
        select(_post_hour(session))
        .join(SCORE, SCORE.c.post_id == POST.c.id)
        .where(SCORE.c.weight.is_(None), POST.c.identity_id.is_not(None), POST.c.deleted_at.is_(None))
        .distinct()
    )
    days |= _days_of(session, unweighted)
    if changed:
        log.info("rollups: %d accounts changed customer or class; %d days to recompute", len(changed), len(days))
    return mark_days(session, days)


def mark_voice_drift(session: Session) -> int:
    """Mark the days whose posts changed their voice (brand, advocate, spam) since they were rolled up."""
    if not is_built(session):
        return 0
    hour = _post_hour(session)
    query = (
        select(hour, POST.c.voice, func.count())
        .where(POST.c.voice.is_not(None), POST.c.deleted_at.is_(None))
        .where(select(SCORE.c.id).where(SCORE.c.post_id == POST.c.id).exists())
        .group_by(hour, POST.c.voice)
    )
    now: dict[tuple[date, str], int] = {}
    for moment, who, count in session.execute(query).all():
        key = (_hour_day(moment), str(who))
        now[key] = now.get(key, 0) + int(count)
    stored_query = (
        select(ROLLUP.c.day, ROLLUP.c.voice, func.sum(ROLLUP.c.posts))
        .where(ROLLUP.c.voice != "", ROLLUP.c.topic.is_(None))
        .group_by(ROLLUP.c.day, ROLLUP.c.voice)
    )
    stored = {(d, str(v)): int(n) for d, v, n in session.execute(stored_query).all()}
    return mark_days(session, {key[0] for key in set(now) | set(stored) if now.get(key) != stored.get(key)})


# --- recomputing days ------------------------------------------------------------------------------------------


def _source_rows(start: datetime, end: datetime) -> Select[Any]:
    """One row per scored, not deleted post created in ``[start, end)``: the columns the answers filter and sum by
    (the same joins and rules as :func:`resonanz.answers.sql.post_rows_select`, for every brand and voice)."""
    lnk, val = link_subquery(), value_subquery()
    return (
        select(
            POST.c.id,
            POST.c.created_at,
            func.coalesce(SOURCE.c.brand, "").label("brand"),
            POST.c.voice,
            POST.c.platform,
            POST.c.language,
            POST.c.identity_id,
            lnk.c.customer_id,
            segment_expr(lnk, val).label("segment"),
            func.coalesce(SCORE.c.weight, val.c.weight).label("weight"),
            sentiment_value(SCORE.c.sentiment).label("sval"),
            SCORE.c.topics,
            SCORE.c.p_negative,
            SCORE.c.p_positive,
        )
        .select_from(POST)
        .outerjoin(lnk, lnk.c.identity_id == POST.c.identity_id)
        .outerjoin(val, val.c.customer_id == lnk.c.customer_id)
        .join(SCORE, SCORE.c.id == latest_score_id(None))
        .outerjoin(SOURCE, SOURCE.c.id == POST.c.source_id)
        .where(POST.c.created_at >= start, POST.c.created_at < end, POST.c.deleted_at.is_(None))
    )


def _elements(topics: Any, sval: int) -> list[tuple[str | None, int, bool]]:
    """(topic, aspect value, has polarity): first the post itself, then each topic element (as the raw answers
    unnest ``score.topics``: every element with a topic, duplicates included)."""
    out: list[tuple[str | None, int, bool]] = [(None, sval, False)]
    for element in topics or []:
        if not isinstance(element, dict) or element.get("topic") is None:
            continue
        polarity = element.get("polarity")
        value = POLARITY.get(polarity, sval) if isinstance(polarity, str) else sval
        out.append((str(element["topic"]), value, polarity is not None))
    return out


Aggregates = tuple[
    dict[tuple[Any, ...], list[Any]],
    dict[tuple[Any, ...], list[Any]],
    dict[tuple[Any, ...], list[dict[str, Any]]],
]


def _known_weight(post: dict[str, Any]) -> float:
    return float(post["weight"] or 0.0)


def _quote_candidates(posts: dict[tuple[Any, ...], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per cell the top :data:`QUOTE_POOL` posts in each order of :func:`resonanz.answers.ask.quotes`, apart for
    posts with and without a weight (the default weight of the latter is only known when asking)."""
    out: dict[int, dict[str, Any]] = {}
    for cell_posts in posts.values():
        for weighted in (True, False):
            group = [p for p in cell_posts if (p["weight"] is not None) == weighted]
            orders: list[tuple[list[dict[str, Any]], Any]] = [
                (group, lambda p: (-_known_weight(p), -(p["p_negative"] + p["p_positive"]), -p["post_id"])),
                ([p for p in group if p["sval"] == -1], lambda p: (-p["p_negative"], -_known_weight(p), -p["post_id"])),
                ([p for p in group if p["sval"] == 1], lambda p: (-p["p_positive"], -_known_weight(p), -p["post_id"])),
            ]
            for candidates, key in orders:
                for p in heapq.nsmallest(QUOTE_POOL, candidates, key=key):
                    out[p["post_id"]] = p
    return list(out.values())


def _aggregate(rows: Iterable[Any]) -> Aggregates:
    cells: dict[tuple[Any, ...], list[Any]] = {}
    voices: dict[tuple[Any, ...], list[Any]] = {}
    posts: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for (post_id, created_at, brand, who, platform, language, identity_id, customer_id, segment, weight, sval,
         topics, p_negative, p_positive) in rows:  # fmt: skip
        base = (local_day(created_at), brand or "", who or "", str(segment), platform, language or "")
        w = None if weight is None else float(weight)
        posts.setdefault(base, []).append(
            dict(zip(("day", "brand", "voice", "segment", "platform", "language"), base, strict=True))
            | {
                "post_id": int(post_id),
                "sval": int(sval),
                "weight": w,
                "p_negative": float(p_negative or 0.0),
                "p_positive": float(p_positive or 0.0),
            }  # fmt: skip
        )
        elements = _elements(topics, int(sval))
        repeats: dict[str | None, int] = {}
        for topic, _, _ in elements:
            repeats[topic] = repeats.get(topic, 0) + 1
        for topic, aval, has_polarity in elements:
            cell = cells.setdefault((*base, int(sval), topic, aval, has_polarity), [0, 0.0, 0, 0, 0.0, 0])
            cell[0] += 1
            if w is None:
                cell[2] += 1
            else:
                cell[1] += w
            if identity_id is None:  # its own voice: once per topic, weighing k times (a topic listed k times)
                k = repeats.pop(topic, 0)
                if k:
                    cell[3] += 1
                    if w is None:
                        cell[5] += k * k
                    else:
                        cell[4] += (k * w) ** 2
                continue
            key = (*base, topic, int(identity_id), None if customer_id is None else int(customer_id))
            voice = voices.setdefault(key, [0, 0.0, 0])
            voice[0] += 1
            if w is None:
                voice[2] += 1
            else:
                voice[1] += w
    return cells, voices, posts


def _cell_rows(cells: dict[tuple[Any, ...], list[Any]]) -> Iterator[dict[str, Any]]:
    for (day, brand, who, segment, platform, language, sval, topic, aval, has_pol), acc in cells.items():
        yield {
            "day": day, "brand": brand, "voice": who, "segment": segment, "platform": platform,
            "language": language, "sval": sval, "topic": topic, "aval": aval, "has_polarity": has_pol,
            "posts": acc[0], "weight_sum": acc[1], "unweighted": acc[2], "single_posts": acc[3],
            "single_w2": acc[4], "single_unweighted": acc[5],
        }  # fmt: skip


def _pack_rows(
    voices: dict[tuple[Any, ...], list[Any]], posts: dict[tuple[Any, ...], list[dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    """The rows of :data:`PACK`: per day, brand, voice and topic its accounts, per day, brand and voice its posts
    (:func:`packs.pack`)."""
    accounts: dict[tuple[Any, ...], list[packs.AccountRow]] = {}
    for (day, brand, who, segment, platform, language, topic, identity_id, customer_id), acc in voices.items():
        accounts.setdefault((day, brand, who, topic), []).append(
            packs.AccountRow(
                voice_key=customer_id if customer_id is not None else -identity_id,
                identity_id=identity_id,
                segment=segment,
                platform=platform,
                language=language,
                weight_sum=acc[1],
                unweighted=acc[2],
            )
        )
    cells: dict[tuple[Any, ...], list[packs.PostRow]] = {}
    for (day, brand, who, segment, platform, language), cell_posts in posts.items():
        cells.setdefault((day, brand, who, None), []).extend(
            packs.PostRow(
                post_id=p["post_id"],
                segment=segment,
                platform=platform,
                language=language,
                p_negative=p["p_negative"],
                p_positive=p["p_positive"],
                weight=p["weight"],
            )
            for p in cell_posts
        )
    for kind, groups in ((ACCOUNTS, accounts), (POSTS, cells)):
        for (day, brand, who, topic), rows in groups.items():
            vocab, data = packs.pack(kind, rows)  # type: ignore[arg-type]
            yield {
                "day": day, "kind": kind, "brand": brand, "voice": who, "topic": topic, "rows": len(rows),
                "vocab": vocab, "data": data,
            }  # fmt: skip


def _insert(session: Session, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    return insert_chunked(session, table, rows, INSERT_ROWS)


def recompute_days(session: Session, days: Iterable[date]) -> int:
    """Replace the rollup rows of ``days`` by what the raw tables say now and clear their marks; returns the
    rows written."""
    written = 0
    bump_version(session)
    for run in _runs(days):
        rows = session.execute(_source_rows(day_start(run[0]), day_start(run[-1] + timedelta(days=1)))).all()
        cells, voices, posts = _aggregate(rows)
        for table in (ROLLUP, PACK, QUOTE, DIRTY):
            session.execute(delete(table).where(table.c.day.in_(run)))
        written += _insert(session, ROLLUP, _cell_rows(cells)) + _insert(session, PACK, _pack_rows(voices, posts))
        _insert(session, QUOTE, _quote_candidates(posts))
    return written


def bump_version(session: Session) -> None:
    """Raise the rollups' version (in the transaction that changes them): the cached answers of the older
    version are not served any more. One atomic statement, so two concurrent writers never share a version."""
    stmt = conflict_insert(session.get_bind().dialect.name)(STATE).values(key=VERSION, value=1)
    session.execute(stmt.on_conflict_do_update(index_elements=[STATE.c.key], set_={"value": STATE.c.value + 1}))


def dirty_days(session: Session, start: date | None = None, end: date | None = None) -> list[date]:
    query = select(DIRTY.c.day)
    if start is not None:
        query = query.where(DIRTY.c.day >= start)
    if end is not None:
        query = query.where(DIRTY.c.day < end)
    return sorted(d for (d,) in session.execute(query).all())


def refresh(session: Session, *, score_ids: Iterable[int] = (), drift: bool = False, voices: bool = False) -> int:
    """Mark what changed (``score_ids``; with ``drift`` accounts whose customer or class changed; with ``voices``
    posts whose voice changed; always new scores) and recompute every dirty day. Returns the days recomputed.
    Nothing happens before the rollups were built."""
    if not is_built(session):
        return 0
    mark_scores(session, score_ids)
    mark_new_scores(session)
    if drift:
        mark_drift(session)
    if voices:
        mark_voice_drift(session)
    days = dirty_days(session)
    if days:
        recompute_days(session, days)
        log.info("rollups: %d days recomputed", len(days))
    return len(days)


def refresh_rollups(
    engine: Engine,
    *,
    drift: bool = False,
    voices: bool = False,
    default_weight: float = DEFAULT_WEIGHT,
    train_prior: Sequence[float] | None = None,
    now: datetime | None = None,
    warm_every: float = WARM_EVERY_S,
    key_classes: Sequence[str] = (),
) -> int:
    """:func:`refresh` in a transaction of its own (the end of a pipeline job), then :func:`warm` in another one
    (``default_weight``: the prospects' weight the answers use, ``settings.value.prospect_weight``;
    ``train_prior``: the sentiment model's training prior, :func:`resonanz.pipeline.scoring.sentiment_train_prior`;
    ``key_classes``: ``settings.review.key_classes``).

    Warming is skipped when the cache already holds the current version (nothing changed) and when the last
    warming by this function was less than ``warm_every`` seconds ago: at a million posts it takes seconds, and
    workers end a scoring job every few seconds. Meanwhile the answers are computed from the rollups (exact, as
    the cache is never read for an older version), and the next job's end warms again."""
    with session_scope(engine) as session:
        days = refresh(session, drift=drift, voices=voices)
    try:
        with session_scope(engine) as session:
            if is_built(session) and _warm_due(session, warm_every):
                warm(session, now=now, default_weight=default_weight, train_prior=train_prior, key_classes=key_classes)
                _set_state(session, WARMED_AT, int(time_module.time() * 1000 // 60_000))  # minutes: an int column
    except SQLAlchemyError as exc:  # the answers stay exact without the cache, only slower
        log.warning("rollups: could not cache the default answers (they are computed when asked): %s", exc)
    return days


def _warm_due(session: Session, warm_every: float) -> bool:
    """Whether :func:`refresh_rollups` should warm now (see there)."""
    version = _state(session, VERSION) or 0
    if session.execute(select(CACHE.c.key).where(CACHE.c.version == version).limit(1)).first() is not None:
        return False
    warmed_at = _state(session, WARMED_AT)
    return warmed_at is None or time_module.time() - warmed_at * 60 >= warm_every


@dataclass
class RebuildReport:
    days: int = 0
    cells: int = 0
    posts: int = 0


def rebuild(session: Session) -> RebuildReport:
    """Recompute the rollups of every day from the raw tables and switch them on for the answers."""
    report = RebuildReport()
    for table in (ROLLUP, PACK, QUOTE, DIRTY, CACHE):
        session.execute(delete(table))
    bump_version(session)
    first, last = session.execute(
        select(func.min(POST.c.created_at), func.max(POST.c.created_at)).where(POST.c.deleted_at.is_(None))
    ).one()
    newest = int(session.execute(select(func.max(SCORE.c.id))).scalar_one() or 0)
    if first is not None and last is not None:
        start, end = local_day(first), local_day(last)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        report.days = len(days)
        report.cells = recompute_days(session, days)
        report.posts = int(
            session.execute(select(func.sum(ROLLUP.c.posts)).where(ROLLUP.c.topic.is_(None))).scalar_one() or 0
        )
    _set_state(session, WATERMARK, newest)
    _set_state(session, BUILT, 1)
    return report


# --- reading ---------------------------------------------------------------------------------------------------


def servable(flt: AnswerFilter, periods: Sequence[Period]) -> bool:
    """Whether the rollup can answer this filter over these (contiguous) periods exactly."""
    if flt.topics or flt.rfm_segments or flt.loyal is not None or flt.model_name or "" in flt.languages:
        return False
    return all(aligned(p.start) and aligned(p.end) for p in periods)


def prepare(session: Session, flt: AnswerFilter, periods: Sequence[Period]) -> bool:
    """True when the answer for ``periods`` may be read from the rollups: they are built, the filter is one they
    hold, and the days read are current (dirty ones are recomputed here, in the caller's transaction)."""
    if not servable(flt, periods) or not is_built(session):
        return False
    mark_new_scores(session)
    days = dirty_days(session, local_day(periods[0].start), local_day(periods[-1].end))
    if days:
        recompute_days(session, days)
    return True


def _where(
    table: Table, flt: AnswerFilter, periods: Sequence[Period], *, topics: bool | None
) -> list[ColumnElement[bool]]:
    """The filter on a rollup table; ``topics``: the topic rows, the post rows, or (None) a table without topics."""
    c = table.c
    out = [c.day >= local_day(periods[0].start), c.day < local_day(periods[-1].end), c.voice == (flt.voice or "")]
    if topics is not None:
        out.append(c.topic.is_not(None) if topics else c.topic.is_(None))
    if flt.brand != ALL_BRANDS:
        out.append(c.brand == (flt.brand or ""))
    if flt.classes:
        out.append(c.segment.in_(list(flt.classes)))
    if flt.platforms:
        out.append(c.platform.in_(list(flt.platforms)))
    if flt.languages:
        out.append(c.language.in_(list(flt.languages)))
    return out


def _weight(table: Table, default: float) -> ColumnElement[float]:
    return table.c.weight_sum + table.c.unweighted * literal(float(default))


# --- the cache of the answers users open most --------------------------------------------------------------

_WARMING: ContextVar[bool] = ContextVar("rollup_cache_warming", default=False)
T = TypeVar("T")


def _plain(value: Any) -> Any:
    """A database number as JSON keeps it: PostgreSQL sums integers as ``Decimal``."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def _cache_key(reader: str, flt: AnswerFilter, periods: Sequence[Period], options: dict[str, Any]) -> str:
    """Everything a reader's result depends on besides the rollups' rows (the filter as :func:`_where` and
    :func:`_weight` read it, the periods, the reader and its options)."""
    what = {
        "reader": reader, "options": options, "brand": flt.brand, "voice": flt.voice,
        "classes": sorted(flt.classes), "platforms": sorted(flt.platforms), "languages": sorted(flt.languages),
        "default_weight": float(flt.default_weight),
        "periods": [[p.start.astimezone(UTC).isoformat(), p.end.astimezone(UTC).isoformat()] for p in periods],
    }  # fmt: skip
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def cached(
    session: Session,
    reader: str,
    flt: AnswerFilter,
    periods: Sequence[Period],
    options: dict[str, Any],
    compute: Callable[[], T],
    encode: Callable[[T], Any] = lambda value: value,
    decode: Callable[[Any], T] = lambda value: value,
) -> T:
    """The reader's result from :data:`CACHE` when it was stored under the rollups' current version, else
    computed (and stored while :func:`warm` runs). ``encode``/``decode``: to and from what JSON keeps (default:
    the value itself, for JSON-ready lists and dicts). The version is read first: an entry computed while another
    transaction changed the rollups is stored under the older version and never served."""
    return cached_key(session, _cache_key(reader, flt, periods, options), compute, encode, decode)


def cached_key(
    session: Session,
    key: str,
    compute: Callable[[], T],
    encode: Callable[[T], Any] = lambda value: value,
    decode: Callable[[Any], T] = lambda value: value,
) -> T:
    """:func:`cached` for a result whose key the caller made (a sha256 of everything the result depends on besides
    the rollups' rows, e.g. :func:`resonanz.answers.pareto.revenue_by_class`'s fingerprint of the customers)."""
    version = _state(session, VERSION) or 0
    hit = session.execute(
        select(CACHE.c.value).where(CACHE.c.key == key, CACHE.c.version == version)
    ).scalar_one_or_none()
    if hit is not None:
        return decode(json.loads(hit))
    value = compute()
    if _WARMING.get():
        make = conflict_insert(session.get_bind().dialect.name)
        stmt = make(CACHE).values(key=key, version=version, value=json.dumps(encode(value), default=_plain))
        session.execute(stmt.on_conflict_do_update(index_elements=[CACHE.c.key], set_=dict(stmt.excluded)))
    return value


def warm(
    session: Session,
    *,
    now: datetime | None = None,
    default_weight: float = DEFAULT_WEIGHT,
    train_prior: Sequence[float] | None = None,
    key_classes: Sequence[str] = (),
) -> int:
    """Compute and cache the rollup sums of the answers users open most: the dashboard of the last
    :data:`DASHBOARD_WEEKS` weeks and ``ask`` for the default period, both without a filter (as the web pages and
    ``resonanz ask`` ask them on the day of ``now``; with ``train_prior``, the sentiment model's training prior, also
    the EM-estimated shares that ``ask`` reads from the raw posts), and ``ask`` for the default period of the key
    customers (``key_classes``, ``settings.review.key_classes``, e.g. ``resonanz ask --class A``: the product's
    question, seconds uncached at a million posts). Entries of older versions are deleted. Returns the entries
    cached now."""
    from resonanz.answers.ask import ask
    from resonanz.answers.dashboard import dashboard

    moment = now or datetime.now(UTC)
    token = _WARMING.set(True)
    try:
        base = AnswerFilter(
            period=resolve_period(days=7 * DASHBOARD_WEEKS, tz=TZ, now=moment), default_weight=default_weight
        )
        dashboard(session, now=moment, weeks=DASHBOARD_WEEKS, tz=TZ, base=base)
        default = AnswerFilter(period=resolve_period(tz=TZ, now=moment), default_weight=default_weight)
        ask(session, default, train_prior=train_prior)
        if key_classes:
            ask(session, replace(default, classes=sorted(set(key_classes))), train_prior=train_prior)
    finally:
        _WARMING.reset(token)
    version = _state(session, VERSION) or 0
    session.execute(delete(CACHE).where(CACHE.c.version != version))
    return int(session.execute(select(func.count()).select_from(CACHE)).scalar_one())


def _pairs(found: dict[tuple[Any, ...], tuple[int, float]]) -> list[list[Any]]:
    return [[list(k), list(v)] for k, v in found.items()]


def _unpairs(pairs: list[list[Any]]) -> dict[tuple[Any, ...], tuple[int, float]]:
    return {tuple(k): (int(v[0]), float(v[1])) for k, v in pairs}


@dataclass
class _Accounts:
    """The packed account rows of some days and cells, filtered: per row its day (an ordinal), class and topic
    (numbers into ``segments`` and ``topics``), voice key, account (only on the posts' rows: the heads count them)
    and weight (with the default weight for posts without one). 32-bit where that holds: at a million posts the
    topics' rows are 1.5 million."""

    day: npt.NDArray[np.int32]
    segment: npt.NDArray[np.int32]
    topic: npt.NDArray[np.int32]
    voice_key: packs.Int64
    identity_id: packs.Int64
    weight: packs.Float64
    segments: list[str]
    topics: list[str]

    def buckets(self, periods: Sequence[Period], *, by_bucket: bool) -> packs.Int64:
        """Per row the number of its period (:func:`_day_buckets`), or 0 for all."""
        if not by_bucket:
            return np.zeros(len(self.day), dtype=np.int64)
        return _day_buckets(self.day, periods)


def _day_buckets(days: npt.NDArray[np.int32] | packs.Int64, periods: Sequence[Period]) -> packs.Int64:
    """Per day (an ordinal) the number of its period: how many of the periods end on or before the day (the periods
    are contiguous; a day after the last one counts to the last one), as :func:`_per_period` numbers them."""
    ends = np.array([local_day(p.end).toordinal() for p in periods[:-1]], dtype=np.int64)
    return np.searchsorted(ends, days, side="right").astype(np.int64)


ACCOUNTS_MEMO = "resonanz_rollup_accounts"
"""The key of :func:`_accounts`' last results in ``Session.info``: an answer reads the same packs for several sums
(the dashboard: per week and class, over the span, the Pareto check)."""
MEMO_SIZE = 3


def _accounts(
    session: Session, flt: AnswerFilter, periods: Sequence[Period], *, topics: bool, only: Sequence[str] | None = None
) -> _Accounts:
    """:func:`_read_accounts` of the days from the first period's start to the last one's end, kept in the session
    for the other sums of the same answer while the rollups' version is the same (the last :data:`MEMO_SIZE`)."""
    span = [Period(periods[0].start, periods[-1].end, "")]
    key = _cache_key("accounts", flt, span, {"topics": topics, "only": None if only is None else sorted(only)})
    return _memoized(
        session, ACCOUNTS_MEMO, key, lambda: _read_accounts(session, flt, span[0], topics=topics, only=only)
    )


def _memoized(session: Session, name: str, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` kept in ``Session.info[name]`` under ``key`` and the rollups' version: the last
    :data:`MEMO_SIZE` results, for the other sums of the same answer."""
    memo: dict[tuple[str, int | None], T] = session.info.setdefault(name, {})
    versioned = (key, _state(session, VERSION))
    if versioned not in memo:
        if len(memo) >= MEMO_SIZE:
            memo.pop(next(iter(memo)))
        memo[versioned] = compute()
    return memo[versioned]


def _matching_packs(
    session: Session, flt: AnswerFilter, span: Period, kind: str, *, topics: bool, only: Sequence[str] | None = None
) -> Iterator[tuple[date, str | None, packs.Pack]]:
    """The packs of ``kind`` of the span's days that match the filter, with their day and topic: brand, voice and
    topic rows (or the posts' rows) chosen in the query, class, platform and language per row after unpacking;
    packs left empty by that are skipped."""
    p = PACK.c
    where = [p.day >= local_day(span.start), p.day < local_day(span.end), p.kind == kind, p.voice == (flt.voice or "")]
    where.append(p.topic.is_not(None) if topics else p.topic.is_(None))
    if only is not None:
        where.append(p.topic.in_(list(only)))
    if flt.brand != ALL_BRANDS:
        where.append(p.brand == (flt.brand or ""))
    for day, topic, vocab, data in session.execute(select(p.day, p.topic, p.vocab, p.data).where(*where)):
        packed = packs.unpack(kind, vocab, data).matching(flt.classes, flt.platforms, flt.languages)
        if len(packed.rows):
            yield day, topic, packed


def probabilities(session: Session, flt: AnswerFilter, periods: Sequence[Period], *, every: int = 1) -> packs.Float64:
    """Per post of the periods that matches the filter: its bucket (:func:`_day_buckets`), negative and positive
    probability and weight (the filter's default weight for posts without one), as the columns of an (n, 4)
    array; ``every``: only the posts whose id is a multiple of it (the sample of ``ask``'s EM-estimated shares)."""
    span = Period(periods[0].start, periods[-1].end, "")
    parts: list[packs.Float64] = []
    for day, _, packed in _matching_packs(session, flt, span, POSTS, topics=False):
        rows = packed.rows[packed.rows["post_id"] % every == 0] if every > 1 else packed.rows
        if len(rows):
            weight = _post_weight(rows, flt)
            ordinal = np.full(len(rows), float(day.toordinal()))
            parts.append(np.stack([ordinal, rows["p_negative"], rows["p_positive"], weight], axis=1))
    if not parts:
        return np.zeros((0, 4), dtype=np.float64)
    found = np.concatenate(parts)
    found[:, 0] = _day_buckets(found[:, 0].astype(np.int64), periods)  # each day's period, for all days at once
    return found


def _post_weight(rows: np.ndarray, flt: AnswerFilter) -> packs.Float64:
    """Per post row of a pack its weight, the filter's default weight where it has none yet (NaN)."""
    return np.where(np.isnan(rows["weight"]), float(flt.default_weight), rows["weight"])


def post_weights(session: Session, flt: AnswerFilter, period: Period) -> tuple[packs.Int64, packs.Float64, packs.Int64]:
    """The ids, weights (the filter's default weight for posts without one) and days (local, as ordinals) of the posts
    of ``period`` that match the filter, from the posts' packs: what :func:`resonanz.answers.posts.posts_behind` picks
    a page among."""
    ids: list[packs.Int64] = []
    weights: list[packs.Float64] = []
    days: list[packs.Int64] = []
    for pack_day, _, packed in _matching_packs(session, flt, period, POSTS, topics=False):
        ids.append(packed.rows["post_id"].astype(np.int64))
        weights.append(_post_weight(packed.rows, flt))
        days.append(np.full(len(packed.rows), pack_day.toordinal(), dtype=np.int64))
    if not ids:
        empty = np.zeros(0, dtype=np.int64)
        return empty, np.zeros(0, dtype=np.float64), empty
    return np.concatenate(ids), np.concatenate(weights).astype(np.float64), np.concatenate(days)


def _read_accounts(
    session: Session, flt: AnswerFilter, span: Period, *, topics: bool, only: Sequence[str] | None = None
) -> _Accounts:
    """Read and unpack the packs of the span's days that match the filter (brand, voice, topic rows or post rows
    in the query, ``only`` these topics; class, platform and language per account after unpacking)."""
    segment_numbers: dict[str, int] = {}
    topic_numbers: dict[str, int] = {}
    parts: list[tuple[Any, ...]] = []
    d = float(flt.default_weight)
    for pack_day, topic_name, packed in _matching_packs(session, flt, span, ACCOUNTS, topics=topics, only=only):
        rows = packed.rows
        n = len(rows)
        topic_number = topic_numbers.setdefault(topic_name, len(topic_numbers)) if topic_name is not None else 0
        parts.append(
            (
                np.full(n, pack_day.toordinal(), dtype=np.int32),
                packed.mapped("segment", segment_numbers).astype(np.int32),
                np.full(n, topic_number, dtype=np.int32),
                rows["voice_key"],
                rows["identity_id"][:0] if topics else rows["identity_id"],
                rows["weight_sum"] + rows["unweighted"] * d,
            )  # fmt: skip
        )
    if not parts:
        small, big = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
        return _Accounts(small, small, small, big, big, np.zeros(0, dtype=np.float64), [], [])
    day, segment, topic, voice_key, identity_id, weight = (np.concatenate(c) for c in zip(*parts, strict=True))
    return _Accounts(
        day, segment, topic, voice_key.astype(np.int64, copy=False), identity_id.astype(np.int64, copy=False),
        weight.astype(np.float64, copy=False), list(segment_numbers), list(topic_numbers),
    )  # fmt: skip


def sums_by_segment(
    session: Session, flt: AnswerFilter, periods: Sequence[Period], *, heads: bool = True
) -> list[dict[str, Any]]:
    """Per (bucket, segment) the columns of :func:`resonanz.answers.sql.sentiment_aggregates` (``heads=False``:
    without ``authors`` and ``customers``, which need the accounts' packs)."""
    compute = lambda: _sums_by_segment(session, flt, periods, heads=heads)  # noqa: E731
    return cached(session, "sums_by_segment", flt, periods, {"heads": heads}, compute)


def _sums_by_segment(
    session: Session, flt: AnswerFilter, periods: Sequence[Period], *, heads: bool
) -> list[dict[str, Any]]:
    per_period = _per_period(_day_rows(session, flt, periods, topics=False), periods, ("segment",))
    out = {(int(m["bucket"]), str(m["segment"])): _without_singles(m) for m in per_period}
    if not heads:
        return list(out.values())
    accounts = _accounts(session, flt, periods, topics=False)
    classes = len(accounts.segments)
    groups = accounts.buckets(periods, by_bucket=True) * classes + accounts.segment
    found = packs.heads(groups, accounts.voice_key, accounts.identity_id)
    for group, (authors, customers) in found.items():
        row = out.get((group // classes, accounts.segments[group % classes]))
        if row is not None:
            row.update(authors=authors, customers=customers)
    for row in out.values():
        row.setdefault("authors", 0)
        row.setdefault("customers", 0)
    return list(out.values())


def voice_sums(
    session: Session, flt: AnswerFilter, periods: Sequence[Period], *, by_bucket: bool = True, by_segment: bool = False
) -> dict[tuple[Any, ...], tuple[int, float]]:
    """(bucket[, segment]) -> (voices, Σ W_v²) of :func:`resonanz.answers.sql.voice_weight_sums`."""
    compute = lambda: _voice_sums(session, flt, periods, by_bucket=by_bucket, by_segment=by_segment, topics=False)  # noqa: E731
    options = {"by_bucket": by_bucket, "by_segment": by_segment}
    return cached(session, "voice_sums", flt, periods, options, compute, _pairs, _unpairs)


def _voice_sums(
    session: Session,
    flt: AnswerFilter,
    periods: Sequence[Period],
    *,
    by_bucket: bool,
    by_segment: bool = False,
    topics: bool,
    only: Sequence[str] | None = None,
) -> dict[tuple[Any, ...], tuple[int, float]]:
    if topics and by_segment:
        raise ValueError("Die Rollups führen die Stimmen nicht nach Thema und Klasse zugleich.")
    accounts = _accounts(session, flt, periods, topics=topics, only=only)
    classes, topic_count = max(1, len(accounts.segments)), max(1, len(accounts.topics))
    segment = accounts.segment if by_segment else np.zeros_like(accounts.segment)
    groups = (accounts.buckets(periods, by_bucket=by_bucket) * topic_count + accounts.topic) * classes + segment
    found: dict[tuple[Any, ...], tuple[int, float]] = {}
    for group, sums in packs.weight_squares(groups, accounts.voice_key, accounts.weight).items():
        rest, number = divmod(group, classes)
        bucket, topic = divmod(rest, topic_count)
        key = (
            bucket, *([accounts.segments[number]] if by_segment else []), *([accounts.topics[topic]] if topics else [])
        )  # fmt: skip
        found[key] = sums
    # the voices of the posts without an account, one per post (rollup rows, not packs)
    keys = ("topic",) if topics else ("segment",) if by_segment else ()
    wanted = None if only is None or not topics else set(only)
    rows = [
        row
        for row in _day_rows(session, flt, periods, topics=topics)
        if row["single_voices"] and (wanted is None or row["topic"] in wanted)
    ]
    for row in _per_period(rows, periods, keys) if by_bucket else _add_up(rows, keys, lambda _: 0):
        key = (row["bucket"], *(row[k] for k in keys))
        voices, w2 = found.get(key, (0, 0.0))
        found[key] = (voices + int(row["single_voices"]), w2 + float(row["single_w2"] or 0.0))
    return found


def topic_sums(
    session: Session,
    flt: AnswerFilter,
    periods: Sequence[Period],
    *,
    by_bucket: bool = True,
    voices: bool = True,
    only: Sequence[str] | None = None,
) -> tuple[list[dict[str, Any]], dict[tuple[int, str], tuple[int, float]]]:
    """The rows of :func:`resonanz.answers.ask.topic_table`'s query and (with ``voices``) its per-topic
    (voices, Σ W_v²); ``only``: just these topics (the topics an answer shows: only their packs are read)."""
    chosen = None if only is None else sorted(set(only))
    rows, found = cached(
        session, "topic_sums", flt, periods, {"by_bucket": by_bucket, "voices": voices, "only": chosen},
        lambda: _topic_sums(session, flt, periods, by_bucket=by_bucket, voices=voices, only=chosen),
        lambda value: [value[0], _pairs(value[1])], lambda value: (value[0], _unpairs(value[1])),
    )  # fmt: skip
    return rows, {(int(k[0]), str(k[1])): v for k, v in found.items()}


def _topic_sums(
    session: Session,
    flt: AnswerFilter,
    periods: Sequence[Period],
    *,
    by_bucket: bool,
    voices: bool,
    only: Sequence[str] | None = None,
) -> tuple[list[dict[str, Any]], dict[tuple[Any, ...], tuple[int, float]]]:
    rows = _topic_rows(session, flt, periods) if by_bucket else _fold_buckets(_topic_rows(session, flt, periods))
    if only is not None:
        wanted = set(only)
        rows = [row for row in rows if row["topic"] in wanted]
    if not voices:
        return rows, {}
    return rows, _voice_sums(session, flt, periods, by_bucket=by_bucket, topics=True, only=only)


DAY_ROWS_MEMO = "resonanz_rollup_day_rows"
"""The key of :func:`_day_rows`' last results in ``Session.info``: an answer adds up the same days per period, over
its span, and for the voices without an account (the dashboard: per week and class, over the span, the Pareto
check, the topics per week and over the span); one query per kind of row instead of one per sum."""
SINGLES = ("single_voices", "single_w2")
"""The day rows' columns of the voices without an account (:func:`_voice_sums`); the other readers drop them."""


def _day_rows(session: Session, flt: AnswerFilter, periods: Sequence[Period], *, topics: bool) -> list[dict[str, Any]]:
    """The rollup rows of the periods' days summed per (day, class), or per (day, topic) with ``topics``, kept in
    the session for the other sums of the same answer while the rollups' version is the same (the last
    :data:`MEMO_SIZE`). Shared: callers copy before they change a row (:func:`_add_up` does)."""
    span = Period(periods[0].start, periods[-1].end, "")
    key = _cache_key("day_rows", flt, [span], {"topics": topics})
    return _memoized(session, DAY_ROWS_MEMO, key, lambda: _query_day_rows(session, flt, span, topics=topics))


def _query_day_rows(session: Session, flt: AnswerFilter, span: Period, *, topics: bool) -> list[dict[str, Any]]:
    r, w, d = ROLLUP.c, _weight(ROLLUP, flt.default_weight), float(flt.default_weight)
    key = r.topic.label("topic") if topics else r.segment.label("segment")
    columns = [
        func.sum(r.posts).label("posts"),
        func.sum(w).label("w_sum"),
        func.sum(r.sval * r.posts).label("s_sum"),
        func.sum(r.sval * w).label("ws_sum"),
        func.sum(case((r.sval == -1, w), else_=0.0)).label("w_neg"),
        func.sum(case((r.sval == 1, w), else_=0.0)).label("w_pos"),
        func.sum(r.single_posts).label("single_voices"),
        func.sum(r.single_w2 + r.single_unweighted * literal(d * d)).label("single_w2"),
    ]
    if topics:
        columns += [
            func.sum(case((r.has_polarity.is_(True), r.posts), else_=0)).label("a_posts"),
            func.sum(r.aval * r.posts).label("a_sum"),
            func.sum(r.aval * w).label("wa_sum"),
            func.sum(case((r.aval == -1, r.posts), else_=0)).label("a_neg"),
            func.sum(case((r.aval == 1, r.posts), else_=0)).label("a_pos"),
            func.sum(case((r.aval == -1, w), else_=0.0)).label("wa_neg"),
            func.sum(case((r.aval == 1, w), else_=0.0)).label("wa_pos"),
        ]
    else:
        columns += [
            func.sum(case((r.sval == -1, r.posts), else_=0)).label("neg"),
            func.sum(case((r.sval == 1, r.posts), else_=0)).label("pos"),
        ]
    query = select(r.day.label("day"), key, *columns).where(*_where(ROLLUP, flt, [span], topics=topics))
    return [dict(x._mapping) for x in session.execute(query.group_by(r.day, key))]


def _without_singles(row: dict[str, Any]) -> dict[str, Any]:
    for name in SINGLES:
        row.pop(name, None)
    return row


def _topic_rows(session: Session, flt: AnswerFilter, periods: Sequence[Period]) -> list[dict[str, Any]]:
    """The rows of :func:`resonanz.answers.ask.topic_table`'s query per (bucket, topic)."""
    days = _day_rows(session, flt, periods, topics=True)
    return [_without_singles(row) for row in _per_period(days, periods, ("topic",))]


def _fold_buckets(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per topic the sum of its rows over every bucket, as bucket 0 (every column but ``bucket`` and ``topic`` is
    a sum). E.g. [{bucket 0, t, posts 2}, {bucket 1, t, posts 3}] -> [{bucket 0, t, posts 5}]."""
    return _add_up(rows, ("topic",), lambda _: 0)


def _per_period(
    rows: Iterable[Mapping[str, Any]], periods: Sequence[Period], keys: Sequence[str]
) -> list[dict[str, Any]]:
    """Rows summed per ``day`` (and ``keys``) in the database, added up per period: ``day`` becomes ``bucket``, the
    number of the day's period (as :func:`_day_buckets`); every other column is a sum.

    Why not the periods in the query: grouped by a ``CASE`` of the periods' ends, SQLite evaluates it for every
    rollup row and sorts the rows by it, while rows grouped by ``(day, topic)`` come in the order of its index. The
    dashboard's 55,000 topic rows of 12 weeks took 195 ms that way and 100 ms by day (the days' rows are a few
    hundred)."""
    ends = [local_day(p.end) for p in periods[:-1]]
    return _add_up(rows, keys, lambda row: bisect_right(ends, _as_date(row["day"])))


def _as_date(value: Any) -> date:
    """A ``day`` column as a date (SQLite without a column type hands back the ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _add_up(
    rows: Iterable[Mapping[str, Any]], keys: Sequence[str], bucket_of: Callable[[Mapping[str, Any]], int]
) -> list[dict[str, Any]]:
    """The rows added up per (``bucket_of(row)``, ``keys``), with ``bucket`` set to that number and without ``day``:
    every other column is a sum (None counts as nothing). The input is left as it is."""
    folded: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        bucket = bucket_of(row)
        key = (bucket, *(row[k] for k in keys))
        held = folded.get(key)
        if held is None:
            folded[key] = {**{k: v for k, v in row.items() if k != "day"}, "bucket": bucket}
            continue
        for name, value in row.items():
            if name not in ("bucket", "day", *keys) and value is not None:
                held[name] = value if held[name] is None else held[name] + value
    return list(folded.values())


def quote_rows(flt: AnswerFilter, period: Period) -> Any:
    """The quote candidates of ``period`` matching the filter, with the columns :func:`resonanz.answers.ask.quotes`
    reads (a subquery; valid for ``quote_limit`` up to 3)."""
    q = QUOTE.c
    return (
        select(
            q.post_id.label("post_id"),
            literal(0).label("bucket"),
            q.segment.label("segment"),
            func.coalesce(q.weight, literal(float(flt.default_weight))).label("weight"),
            q.sval.label("sval"),
            q.p_negative.label("p_negative"),
            q.p_positive.label("p_positive"),
        )
        .where(*_where(QUOTE, flt, [period], topics=None))
        .subquery("quote_rows")
    )
