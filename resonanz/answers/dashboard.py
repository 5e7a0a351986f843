"""Time series for the dashboard and the digest: weighted sentiment per ABC class and topic shares per week,
plus what the span's posts say about each top topic itself (aspect polarity, :mod:`nlp.aspects`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.sql.selectable import FromClause
from sqlmodel import Session

from resonanz.answers import rollup
from resonanz.answers.ask import TopicRow, rollup_voice_by_class, topic_rows, topic_table
from resonanz.answers.pareto import ParetoResult, combine, pareto, revenue_by_class
from resonanz.answers.sql import AnswerFilter, materialized, post_rows_select, ratio, voice_weight_sums
from resonanz.answers.uncertainty import effective_n, net_band
from resonanz.core.periods import Period, iso_week, week_label, zone

TREND_CLASSES = ("A", "B", "C", "prospect")


@dataclass
class Dashboard:
    weeks: list[Period]
    labels: list[str]
    posts: list[int] = field(default_factory=list)
    sentiment_by_class: dict[str, list[float | None]] = field(default_factory=dict)
    posts_by_class: dict[str, list[int]] = field(default_factory=dict)
    n_eff_by_class: dict[str, list[float | None]] = field(default_factory=dict)
    """Effective n of each point of ``sentiment_by_class`` (:mod:`resonanz.answers.uncertainty`)."""
    band_by_class: dict[str, list[list[float] | None]] = field(default_factory=dict)
    """95 % band of each point of ``sentiment_by_class``."""
    topic_share: dict[str, list[float | None]] = field(default_factory=dict)
    topic_aspects: list[TopicRow] = field(default_factory=list)
    """The top topics over the whole span, with their aspect polarity shares (same order as ``topic_share``)."""
    pareto: ParetoResult | None = None
    since: str = ""
    until: str = ""
    """The span as dates in the reporting time zone (inclusive), for the Ask page's ``since``/``until``."""


def weekly_periods(end_week: str, count: int, tz: str) -> list[Period]:
    """``count`` ISO weeks ending with ``end_week``, each from Monday midnight to Monday midnight in ``tz`` (also
    across a change of summer time, so every week starts where the daily rollups' days do)."""
    last = iso_week(end_week, tz)
    out = []
    for i in range(count - 1, -1, -1):
        week = iso_week(week_label(last.start + timedelta(days=1 - 7 * i), tz), tz)
        out.append(Period(week.start, week.end, week_label(week.start + timedelta(days=1), tz)))
    return out


def dashboard(
    session: Session,
    *,
    now: datetime,
    weeks: int = 12,
    tz: str = "Europe/Berlin",
    base: AnswerFilter | None = None,
    top_topics: int = 5,
) -> Dashboard:
    """``weeks`` ISO weeks ending with the one containing ``now``; Pareto over the whole span."""
    periods = weekly_periods(week_label(now, tz), weeks, tz)
    span = Period(periods[0].start, periods[-1].end, f"{periods[0].label} – {periods[-1].label}")
    flt = base or AnswerFilter(period=span)
    flt = AnswerFilter(
        period=span,
        platforms=flt.platforms,
        languages=flt.languages,
        topics=flt.topics,
        model_name=flt.model_name,
        default_weight=flt.default_weight,
    )
    board = Dashboard(weeks=periods, labels=[p.label.split("-")[-1] for p in periods])
    board.since = periods[0].start.astimezone(zone(tz)).date().isoformat()
    board.until = (periods[-1].end.astimezone(zone(tz)) - timedelta(days=1)).date().isoformat()
    if rollup.prepare(session, flt, periods):
        _fill_from_rollups(session, board, flt, periods, top_topics)
        board.pareto = combine(rollup_voice_by_class(session, flt), revenue_by_class(session))
        return board
    with materialized(session, post_rows_select(flt, session.get_bind().dialect.name, periods)) as rows:
        _fill(session, board, rows, len(periods), top_topics)
    board.pareto = pareto(session, flt)
    return board


def _fill(session: Session, board: Dashboard, rows: FromClause, n: int, top_topics: int) -> None:
    w = rows.c.weight
    query = select(
        rows.c.bucket,
        rows.c.segment,
        func.count().label("n"),
        func.sum(w).label("w"),
        func.sum(w * rows.c.sval).label("ws"),
        func.sum(case((rows.c.sval == -1, w), else_=0.0)).label("w_neg"),
        func.sum(case((rows.c.sval == 1, w), else_=0.0)).label("w_pos"),
    ).group_by(rows.c.bucket, rows.c.segment)
    voices = {
        (int(r.bucket), str(r.segment)): float(r.w2 or 0.0)
        for r in session.exec(voice_weight_sums(rows, rows.c.bucket, rows.c.segment)).all()  # type: ignore[call-overload]
    }
    cells = [dict(r._mapping) for r in session.exec(query).all()]  # type: ignore[call-overload]
    totals = _fill_classes(board, cells, voices, n)

    def span_topics(span_n_eff: float | None, _top: Sequence[str]) -> list[TopicRow]:
        return topic_table(session, rows, [sum(totals)], by_bucket=False, n_effs=[span_n_eff]).get(0, [])

    everything = session.exec(voice_weight_sums(rows)).one()  # type: ignore[call-overload]
    _fill_topics(board, topic_table(session, rows, totals), totals, everything.w2, span_topics, top_topics)


def _fill_from_rollups(
    session: Session, board: Dashboard, flt: AnswerFilter, periods: list[Period], top_topics: int
) -> None:
    """:func:`_fill` from the daily rollups (:mod:`resonanz.answers.rollup`)."""
    cells = [
        {"bucket": r["bucket"], "segment": r["segment"], "n": r["posts"], "w": r["w_sum"], "ws": r["ws_sum"],
         "w_neg": r["w_neg"], "w_pos": r["w_pos"]}
        for r in rollup.sums_by_segment(session, flt, periods, heads=False)
    ]  # fmt: skip
    voices = {
        (int(b), str(seg)): w2
        for (b, seg), (_, w2) in rollup.voice_sums(session, flt, periods, by_segment=True).items()
    }
    totals = _fill_classes(board, cells, voices, len(periods))
    found, _ = rollup.topic_sums(session, flt, periods, voices=False)
    by_bucket = topic_rows(found, {}, totals)

    def span_topics(span_n_eff: float | None, top: Sequence[str]) -> list[TopicRow]:
        found, topic_voices = rollup.topic_sums(session, flt, periods, by_bucket=False, only=top)
        return topic_rows(found, topic_voices, [sum(totals)], [span_n_eff]).get(0, [])

    span_w2 = rollup.voice_sums(session, flt, periods, by_bucket=False).get((0,), (0, 0.0))[1]
    _fill_topics(board, by_bucket, totals, span_w2, span_topics, top_topics)


def _fill_classes(
    board: Dashboard, cells: list[dict[str, Any]], voices: dict[tuple[int, str], float], n: int
) -> list[float]:
    """Posts and weighted sentiment per week and class; returns the weight of each week."""
    totals = [0.0] * n
    board.posts = [0] * n
    for cls in TREND_CLASSES:
        board.sentiment_by_class[cls] = [None] * n
        board.posts_by_class[cls] = [0] * n
        board.n_eff_by_class[cls] = [None] * n
        board.band_by_class[cls] = [None] * n
    for r in cells:
        b, seg = int(r["bucket"]), str(r["segment"])
        totals[b] += float(r["w"] or 0.0)
        board.posts[b] += int(r["n"])
        if seg in board.sentiment_by_class:
            board.sentiment_by_class[seg][b] = ratio(r["ws"], r["w"])
            board.posts_by_class[seg][b] = int(r["n"])
            n_eff = effective_n(r["w"], voices.get((b, seg)))
            board.n_eff_by_class[seg][b] = n_eff
            board.band_by_class[seg][b] = net_band(ratio(r["w_pos"], r["w"]), ratio(r["w_neg"], r["w"]), n_eff)
    return totals


def _fill_topics(
    board: Dashboard,
    by_bucket: dict[int, list[TopicRow]],
    totals: list[float],
    span_w2: float | None,
    span_topics: Callable[[float | None, Sequence[str]], list[TopicRow]],
    top_topics: int,
) -> None:
    """The top topics' weekly shares and their aspect figures over the whole span (``span_topics(n_eff, top)``: the
    span's rows of at least the ``top`` topics)."""
    n = len(totals)
    weight_by_topic: dict[str, float] = {}
    for items in by_bucket.values():
        for t in items:
            weight_by_topic[t.topic] = weight_by_topic.get(t.topic, 0.0) + (t.weighted_share or 0.0)
    top = sorted(weight_by_topic, key=lambda k: (-weight_by_topic[k], k))[:top_topics]
    for topic in top:
        series: list[float | None] = [None] * n
        for b, items in by_bucket.items():
            for t in items:
                if t.topic == topic:
                    series[b] = t.weighted_share
        board.topic_share[topic] = [v if v is not None else (0.0 if totals[i] else None) for i, v in enumerate(series)]
    span_n_eff = effective_n(sum(totals), span_w2)
    span = {t.topic: t for t in span_topics(span_n_eff, top)}
    board.topic_aspects = [span[topic] for topic in top if topic in span]
    for t in board.topic_aspects:
        t.share = ratio(t.posts, sum(board.posts))
