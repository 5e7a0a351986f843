"""``resonanz ask``: what does a customer segment say? Value-weighted and plain sentiment, topics,
quotes and the trend against the previous period of equal length, all aggregated in SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.sql.selectable import FromClause, Select
from sqlmodel import Session

from resonanz.answers import rollup
from resonanz.answers.pareto import ParetoResult, combine, revenue_by_class, voice_by_class
from resonanz.answers.search import known_platforms, known_topics, resolve_classes, resolve_values
from resonanz.answers.sql import (
    AnswerFilter,
    aspect_value,
    materialized,
    post_rows,
    post_rows_select,
    ratio,
    sentiment_aggregates,
    topic_elements,
    topic_field,
    voice_keys,
    voice_weight_sums,
)
from resonanz.answers.uncertainty import effective_n, net_band, wilson
from resonanz.core.periods import Period
from resonanz.core.tables import IDENTITY, POST

__all__ = ["AnswerFilter", "Answer", "Quote", "SentimentSummary", "TopicRow", "ask", "summarise", "topic_table"]


@dataclass
class SentimentSummary:
    posts: int = 0
    authors: int = 0
    customers: int = 0
    weight: float = 0.0
    net: float | None = None
    """(positive - negative) / posts, from -1 to +1."""
    net_weighted: float | None = None
    """The same, each post weighted by its author's value."""
    negative_share: float | None = None
    negative_share_weighted: float | None = None
    positive_share: float | None = None
    positive_share_weighted: float | None = None
    estimated_shares: list[float] | None = None
    """Negative, neutral, positive share of this stream estimated from the probabilities by EM prior
    adjustment (:func:`nlp.calibration.estimate_prior`): the label shares above inherit the model's
    training prior, this corrects for the stream's own (measured in nlp/MODEL_CARD.md). None when the
    model's training prior is unknown."""
    estimated_shares_weighted: list[float] | None = None
    """The same with every post weighted by its author's value."""
    voices: int = 0
    """Different voices among the posts: linked customers, else accounts (:func:`resonanz.answers.sql.voice_keys`)."""
    n_eff: float | None = None
    """Kish's effective sample size of the weighted figures (:mod:`resonanz.answers.uncertainty`)."""
    net_weighted_band: list[float] | None = None
    """95 % band ``[low, high]`` of ``net_weighted``; the same for the two shares below."""
    negative_share_weighted_band: list[float] | None = None
    positive_share_weighted_band: list[float] | None = None

    @classmethod
    def from_sums(cls, s: dict[str, float]) -> SentimentSummary:
        posts, w = int(s.get("posts", 0)), float(s.get("w_sum", 0.0))
        summary = cls(
            posts=posts,
            authors=int(s.get("authors", 0)),
            customers=int(s.get("customers", 0)),
            weight=w,
            net=ratio(s.get("s_sum"), posts),
            net_weighted=ratio(s.get("ws_sum"), w),
            negative_share=ratio(s.get("neg"), posts),
            negative_share_weighted=ratio(s.get("w_neg"), w),
            positive_share=ratio(s.get("pos"), posts),
            positive_share_weighted=ratio(s.get("w_pos"), w),
        )
        summary.set_bands(int(s.get("voices", 0)), s.get("w2"))
        return summary

    def set_bands(self, voices: int, sum_sq_voice_weights: float | None) -> None:
        """``voices``, ``n_eff`` and the 95 % bands of the weighted figures (:mod:`resonanz.answers.uncertainty`)."""
        self.voices = voices
        self.n_eff = effective_n(self.weight, sum_sq_voice_weights)
        self.negative_share_weighted_band = wilson(self.negative_share_weighted, self.n_eff)
        self.positive_share_weighted_band = wilson(self.positive_share_weighted, self.n_eff)
        self.net_weighted_band = net_band(self.positive_share_weighted, self.negative_share_weighted, self.n_eff)


@dataclass
class TopicRow:
    topic: str
    posts: int
    share: float | None
    weighted_share: float | None
    net: float | None
    net_weighted: float | None
    negative_weighted: float = 0.0
    """Sum of the weights of the negative posts on this topic."""
    previous_posts: int = 0
    previous_weighted_share: float | None = None
    aspect_posts: int = 0
    """Posts whose score holds the topic's own polarity (:mod:`nlp.aspects`); for the others the ``aspect_*``
    numbers fall back to the post's sentiment."""
    aspect_net: float | None = None
    """(positive - negative) / posts by the topic's own polarity: "Kaffee super, Lieferung mies" counts as
    positive for Kaffee and negative for Lieferung, where ``net`` counts the post's label for both."""
    aspect_net_weighted: float | None = None
    aspect_negative_share: float | None = None
    aspect_negative_share_weighted: float | None = None
    aspect_positive_share: float | None = None
    aspect_positive_share_weighted: float | None = None
    aspect_negative_weighted: float = 0.0
    """Sum of the weights of the posts that are negative about this topic (what the digest ranks complaints by)."""
    weight: float = 0.0
    """Sum of the weights of the topic's posts."""
    positive_weighted: float = 0.0
    """Sum of the weights of the positive posts on this topic."""
    voices: int = 0
    n_eff: float | None = None
    """Kish's effective sample size of this topic's weighted figures (:mod:`resonanz.answers.uncertainty`)."""
    weighted_share_band: list[float] | None = None
    """95 % band of ``weighted_share`` (with the whole period's effective n); the same for the figures below."""
    net_weighted_band: list[float] | None = None
    aspect_net_weighted_band: list[float] | None = None
    aspect_negative_share_weighted_band: list[float] | None = None
    aspect_positive_share_weighted_band: list[float] | None = None

    def set_bands(self, voices: int, sum_sq_voice_weights: float | None, total_n_eff: float | None) -> None:
        """``n_eff`` and the 95 % bands; ``total_n_eff``: the effective n of the whole period (for the share)."""
        self.voices = voices
        self.n_eff = effective_n(self.weight, sum_sq_voice_weights)
        self.weighted_share_band = wilson(self.weighted_share, total_n_eff)
        self.net_weighted_band = net_band(
            ratio(self.positive_weighted, self.weight), ratio(self.negative_weighted, self.weight), self.n_eff
        )
        self.aspect_negative_share_weighted_band = wilson(self.aspect_negative_share_weighted, self.n_eff)
        self.aspect_positive_share_weighted_band = wilson(self.aspect_positive_share_weighted, self.n_eff)
        self.aspect_net_weighted_band = net_band(
            self.aspect_positive_share_weighted, self.aspect_negative_share_weighted, self.n_eff
        )


@dataclass
class Quote:
    kind: str
    post_id: int
    text: str
    url: str | None
    platform: str
    created_at: datetime
    author: str | None
    segment: str
    weight: float
    sentiment: str
    p_negative: float
    p_positive: float


@dataclass
class Answer:
    filter: AnswerFilter
    period: Period
    previous_period: Period
    current: SentimentSummary
    previous: SentimentSummary
    topics: list[TopicRow] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    pareto: ParetoResult | None = None

    def quotes_of(self, kind: str) -> list[Quote]:
        return [q for q in self.quotes if q.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        f = self.filter
        return {
            "filter": {
                "classes": list(f.classes),
                "rfm_segments": list(f.rfm_segments),
                "loyal": f.loyal,
                "topics": list(f.topics),
                "platforms": list(f.platforms),
                "languages": list(f.languages),
                "model_name": f.model_name,
            },
            "period": {"label": self.period.label, "start": self.period.start, "end": self.period.end},
            "previous_period": {"start": self.previous_period.start, "end": self.previous_period.end},
            "current": asdict(self.current),
            "previous": asdict(self.previous),
            "topics": [asdict(t) for t in self.topics],
            "quotes": [asdict(q) for q in self.quotes],
            "pareto": self.pareto.to_dict() if self.pareto else None,
        }


def _summary_by_segment(session: Session, rows: FromClause) -> list[dict[str, Any]]:
    query = select(rows.c.bucket, rows.c.segment, *sentiment_aggregates(rows)).group_by(rows.c.bucket, rows.c.segment)
    return [dict(r._mapping) for r in session.exec(query).all()]  # type: ignore[call-overload]


def _estimate_shares(
    session: Session, rows: FromClause, train_prior: Sequence[float], buckets: int
) -> list[list[list[float] | None]]:
    """Per bucket the EM-estimated shares, plain and weighted (None: no posts / no weights), from the posts'
    probabilities (one query)."""
    import numpy as np

    query = select(rows.c.bucket, rows.c.p_negative, rows.c.p_positive, rows.c.weight)
    data = np.array([tuple(r) for r in session.exec(query).all()], dtype=np.float64)  # type: ignore[call-overload]
    return _shares(data, train_prior, buckets)


def _shares(data: Any, train_prior: Sequence[float], buckets: int) -> list[list[list[float] | None]]:
    """:func:`_estimate_shares` of an (n, 4) array: bucket, negative and positive probability, weight."""
    import numpy as np

    from nlp.calibration import estimate_prior

    out: list[list[list[float] | None]] = [[None, None] for _ in range(buckets)]
    if data.size == 0:
        return out
    prior = np.asarray(train_prior, dtype=np.float64)
    for bucket in range(buckets):
        part = data[data[:, 0] == bucket]
        if len(part) == 0:
            continue
        neg, pos = np.clip(part[:, 1], 0, 1), np.clip(part[:, 2], 0, 1)
        proba = np.stack([neg, np.clip(1.0 - neg - pos, 0, 1), pos], axis=1) + 1e-9
        proba /= proba.sum(axis=1, keepdims=True)
        out[bucket][0] = [round(float(v), 4) for v in estimate_prior(proba, prior)]
        weights = np.nan_to_num(part[:, 3], nan=0.0)
        if weights.sum() > 0:
            out[bucket][1] = [round(float(v), 4) for v in estimate_prior(proba, prior, weights=weights)]
    return out


def _set_shares(summaries: Sequence[SentimentSummary], shares: list[list[list[float] | None]]) -> None:
    for summary, (plain, weighted) in zip(summaries, shares, strict=True):
        summary.estimated_shares, summary.estimated_shares_weighted = plain, weighted


def summarise(session: Session, flt: AnswerFilter, periods: list[Period]) -> list[SentimentSummary]:
    """One sentiment summary per period (contiguous, oldest first)."""
    rows = post_rows(flt, session.get_bind().dialect.name, periods)
    query = select(rows.c.bucket, *sentiment_aggregates(rows)).group_by(rows.c.bucket)
    found = {r.bucket: dict(r._mapping) for r in session.exec(query).all()}  # type: ignore[call-overload]
    for r in session.exec(voice_weight_sums(rows, rows.c.bucket)).all():  # type: ignore[call-overload]
        found.setdefault(r.bucket, {}).update(voices=r.voices, w2=r.w2)
    return [SentimentSummary.from_sums(found.get(i, {})) for i in range(len(periods))]


def topic_table(
    session: Session,
    rows: FromClause,
    totals: list[float],
    *,
    by_bucket: bool = True,
    n_effs: Sequence[float | None] | None = None,
) -> dict[int, list[TopicRow]]:
    """bucket -> topic rows (weighted share of the bucket's total weight ``totals[bucket]``).

    ``rows``: a :func:`materialized` table (or :func:`post_rows`). ``by_bucket=False``: all rows as bucket 0
    (``totals[0]`` then is the weight of all of them). The ``aspect_*`` numbers use each topic's own polarity
    where the score has one and the post's sentiment where not. ``n_effs[bucket]``: the bucket's effective n,
    for the band of the weighted share (without it that band is left out).
    """
    dialect = session.get_bind().dialect.name
    elems, topic = topic_elements(dialect, rows.c.topics)
    polarity = topic_field(dialect, elems, "polarity")
    w, aval = rows.c.weight, aspect_value(polarity, rows.c.sval)
    neg, pos = case((rows.c.sval == -1, 1), else_=0), case((rows.c.sval == 1, 1), else_=0)
    a_neg, a_pos = case((aval == -1, 1), else_=0), case((aval == 1, 1), else_=0)
    bucket = rows.c.bucket if by_bucket else literal_column("0")
    query = (
        select(
            bucket.label("bucket"),
            topic.label("topic"),
            func.count().label("posts"),
            func.sum(w).label("w_sum"),
            func.sum(rows.c.sval).label("s_sum"),
            func.sum(w * rows.c.sval).label("ws_sum"),
            func.sum(w * neg).label("w_neg"),
            func.sum(w * pos).label("w_pos"),
            func.sum(case((polarity.is_not(None), 1), else_=0)).label("a_posts"),
            func.sum(aval).label("a_sum"),
            func.sum(w * aval).label("wa_sum"),
            func.sum(a_neg).label("a_neg"),
            func.sum(a_pos).label("a_pos"),
            func.sum(w * a_neg).label("wa_neg"),
            func.sum(w * a_pos).label("wa_pos"),
        )
        .select_from(rows)
        .join(elems, topic.is_not(None))
        .group_by(*([rows.c.bucket] if by_bucket else []), topic)
    )
    keys = voice_keys(rows)
    per_voice = (
        select(bucket.label("bucket"), topic.label("topic"), *keys, func.sum(w).label("voice_w"))
        .select_from(rows)
        .join(elems, topic.is_not(None))
        .group_by(*([rows.c.bucket] if by_bucket else []), topic, *keys)
        .subquery("topic_voices")
    )
    voice_query = select(
        per_voice.c.bucket,
        per_voice.c.topic,
        func.count().label("voices"),
        func.sum(per_voice.c.voice_w * per_voice.c.voice_w).label("w2"),
    ).group_by(per_voice.c.bucket, per_voice.c.topic)
    voice_sums = {
        (int(r.bucket), str(r.topic)): (int(r.voices), float(r.w2 or 0.0))
        for r in session.exec(voice_query).all()  # type: ignore[call-overload]
    }
    found = [r._mapping for r in session.exec(query).all()]  # type: ignore[call-overload]
    return topic_rows(found, voice_sums, totals, n_effs)


def topic_rows(
    found: Iterable[Mapping[str, Any]],
    voice_sums: Mapping[tuple[int, str], tuple[int, float]],
    totals: list[float],
    n_effs: Sequence[float | None] | None = None,
) -> dict[int, list[TopicRow]]:
    """bucket -> topic rows from the sums of :func:`topic_table`'s query (or of the rollups,
    :func:`resonanz.answers.rollup.topic_sums`) and each (bucket, topic)'s voices and Σ W_v²."""
    out: dict[int, list[TopicRow]] = {}
    for m in found:
        b, posts, w_sum = int(m["bucket"]), int(m["posts"]), m["w_sum"]
        row = TopicRow(
            topic=str(m["topic"]),
            posts=posts,
            share=None,
            weighted_share=ratio(w_sum, totals[b]),
            net=ratio(m["s_sum"], posts),
            net_weighted=ratio(m["ws_sum"], w_sum),
            negative_weighted=float(m["w_neg"] or 0.0),
            aspect_posts=int(m["a_posts"] or 0),
            aspect_net=ratio(m["a_sum"], posts),
            aspect_net_weighted=ratio(m["wa_sum"], w_sum),
            aspect_negative_share=ratio(m["a_neg"], posts),
            aspect_negative_share_weighted=ratio(m["wa_neg"], w_sum),
            aspect_positive_share=ratio(m["a_pos"], posts),
            aspect_positive_share_weighted=ratio(m["wa_pos"], w_sum),
            aspect_negative_weighted=float(m["wa_neg"] or 0.0),
            weight=float(w_sum or 0.0),
            positive_weighted=float(m["w_pos"] or 0.0),
        )
        voices, w2 = voice_sums.get((b, row.topic), (0, 0.0))
        row.set_bands(voices, w2, n_effs[b] if n_effs is not None and b < len(n_effs) else None)
        out.setdefault(b, []).append(row)
    return out


SENTIMENT_OF = {-1: "negative", 0: "neutral", 1: "positive"}
QUOTE_KINDS: tuple[tuple[str, int | None], ...] = (("most_weighted", None), ("most_negative", -1), ("most_positive", 1))


def _sort_key(kind: str, m: Any) -> tuple[float, ...]:
    """The same order as the SQL top-N (the join afterwards does not keep it)."""
    first = {"most_weighted": m["weight"], "most_negative": m["p_negative"], "most_positive": m["p_positive"]}[kind]
    second = m["p_negative"] + m["p_positive"] if kind == "most_weighted" else m["weight"]
    return (-float(first), -float(second), -int(m["post_id"]))


def quotes(session: Session, rows: FromClause, limit: int = 3, bucket: int | None = None) -> list[Quote]:
    """The most weighted, most negative and most positive posts of ``rows`` (a :func:`materialized` table).

    Each post is quoted once: the most weighted first, then the clearest negatives and positives of
    the rest (so the list shows up to ``3 * limit`` different voices). Three small top-N queries.
    """
    pool = limit * 3  # room to skip posts already quoted under another heading
    orders: dict[str, tuple[Any, ...]] = {
        "most_weighted": (rows.c.weight.desc(), (rows.c.p_negative + rows.c.p_positive).desc(), rows.c.post_id.desc()),
        "most_negative": (rows.c.p_negative.desc(), rows.c.weight.desc(), rows.c.post_id.desc()),
        "most_positive": (rows.c.p_positive.desc(), rows.c.weight.desc(), rows.c.post_id.desc()),
    }
    out: list[Quote] = []
    used: set[int] = set()
    for kind, sval in QUOTE_KINDS:
        top = select(rows).order_by(*orders[kind]).limit(pool)
        if bucket is not None:
            top = top.where(rows.c.bucket == bucket)
        if sval is not None:
            top = top.where(rows.c.sval == sval)
        found = sorted(
            (r._mapping for r in session.execute(_quoted(top.subquery("best"))).all()),
            key=lambda m: _sort_key(kind, m),
        )
        picked = 0
        for m in found:
            if picked >= limit:
                break
            if int(m["post_id"]) in used:
                continue
            used.add(int(m["post_id"]))
            picked += 1
            out.append(_quote(kind, m))
    return out


def _quoted(source: FromClause) -> Select[Any]:
    """The quote columns of ``source`` (a table of :func:`quotes`' rows) with each post's text, link, platform, time
    and author."""
    return (
        select(
            source.c.post_id,
            source.c.segment,
            source.c.weight,
            source.c.sval,
            source.c.p_negative,
            source.c.p_positive,
            POST.c.text,
            POST.c.url,
            POST.c.platform,
            POST.c.created_at,
            func.coalesce(IDENTITY.c.handle, IDENTITY.c.display_name).label("author"),
        )
        .join(POST, POST.c.id == source.c.post_id)
        .outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id)
    )


def _quote(kind: str, m: Any) -> Quote:
    return Quote(
        kind=kind,
        post_id=int(m["post_id"]),
        text=m["text"] or "",
        url=m["url"],
        platform=m["platform"],
        created_at=m["created_at"],
        author=m["author"],
        segment=str(m["segment"]),
        weight=float(m["weight"]),
        sentiment=SENTIMENT_OF.get(int(m["sval"]), "neutral"),
        p_negative=float(m["p_negative"]),
        p_positive=float(m["p_positive"]),
    )


def rollup_quotes(session: Session, flt: AnswerFilter, period: Period, limit: int) -> list[Quote]:
    """:func:`quotes` of ``period`` from the rollups' quote candidates (``limit`` up to
    :data:`QUOTE_LIMIT_FROM_ROLLUP`). Which posts they are is cached with the default answers, under the rollups'
    version (the candidates change only where a day is recomputed, which raises it); the posts' texts, links and
    authors are read each time. Why: the three top-N queries were 70 of the ~90 ms of a cached default ``ask`` at a
    million posts."""
    rows = rollup.quote_rows(flt, period)
    fresh: list[Quote] = []

    def compute() -> list[list[Any]]:
        fresh.extend(quotes(session, rows, limit))
        return [[q.kind, q.post_id] for q in fresh]

    chosen = rollup.cached(session, "quotes", flt, [period], {"limit": limit}, compute)
    if fresh or not chosen:
        return fresh
    query = _quoted(rows).where(rows.c.post_id.in_([int(post_id) for _, post_id in chosen]))
    found = {int(r._mapping["post_id"]): r._mapping for r in session.execute(query).all()}
    return [_quote(str(kind), found[int(post_id)]) for kind, post_id in chosen if int(post_id) in found]


QUOTE_LIMIT_FROM_ROLLUP = 3
"""Up to this ``quote_limit`` the quotes come from the rollup's candidates (``rollup.QUOTE_POOL`` = 3 x 3)."""
EM_SAMPLE = 20_000
"""When the rollups answer, the EM-estimated shares use at most about this many posts per period: every k-th
post by id (deterministic; ids follow collection order, not sentiment) of the rollups' post packs
(:func:`resonanz.answers.rollup.probabilities`). 20,000 posts give a standard error of about 0.35 percentage
points on a share, far below the model's own error. Smaller periods use every post (exact, as from the raw
posts)."""


def _add_segments(by_segment: list[dict[str, Any]]) -> list[dict[str, float]]:
    """The per-(bucket, segment) sums added up per bucket (two buckets: before, now)."""
    sums: list[dict[str, float]] = [{}, {}]
    for row in by_segment:
        target = sums[int(row["bucket"])]
        for key, value in row.items():
            if key not in ("bucket", "segment"):
                target[key] = target.get(key, 0.0) + float(value or 0.0)
    return sums


def _sums_from_rollups(
    session: Session, flt: AnswerFilter, periods: list[Period], top_topics: int
) -> tuple[list[dict[str, Any]], SentimentSummary, SentimentSummary, dict[int, list[TopicRow]]]:
    """What :func:`ask` computes from the posts, from the daily rollups (:mod:`resonanz.answers.rollup`). The
    topics' voices (their bands) are read for the ``top_topics`` the answer shows only: the accounts of every
    topic are the largest read of an answer (about a million rows for 8 weeks at a million posts)."""
    by_segment = rollup.sums_by_segment(session, flt, periods)
    sums = _add_segments(by_segment)
    for (bucket,), (voices, w2) in rollup.voice_sums(session, flt, periods).items():
        sums[int(bucket)].update(voices=float(voices), w2=w2)
    previous, current = (SentimentSummary.from_sums(s) for s in sums)
    totals = [previous.weight, current.weight]
    found, _ = rollup.topic_sums(session, flt, periods, voices=False)
    shown = [t.topic for t in shown_topics(topic_rows(found, {}, totals).get(1, []), top_topics)]
    _, topic_voices = rollup.topic_sums(session, flt, periods, only=shown)
    topics = topic_rows(found, topic_voices, totals, [previous.n_eff, current.n_eff])
    return by_segment, previous, current, topics


def shown_topics(rows: Iterable[TopicRow], top_topics: int) -> list[TopicRow]:
    """The ``top_topics`` topics an answer shows: the largest weighted shares, ties by name."""
    return sorted(rows, key=lambda t: (-(t.weighted_share or 0.0), t.topic))[:top_topics]


def rollup_voice_by_class(session: Session, flt: AnswerFilter) -> dict[str, tuple[int, float, int]]:
    """:func:`resonanz.answers.pareto.voice_by_class` from the rollups."""
    rows = rollup.sums_by_segment(session, flt.without_segments(), [flt.period])
    return {str(r["segment"]): (int(r["posts"]), float(r["w_sum"] or 0.0), int(r["authors"])) for r in rows}


def checked_filter(session: Session, flt: AnswerFilter) -> AnswerFilter:
    """``flt`` with its classes checked and its topics and platforms in the stored spelling.

    Classes are case-insensitive (``a`` = ``A``); an unknown class raises :class:`InvalidFilterError` (it would
    silently match nothing). Topics and platforms match case-insensitively (``--topic lieferung`` finds
    "Lieferung"); an unknown one stays as given and matches nothing.
    """
    classes = resolve_classes(flt.classes)
    topics = resolve_values(flt.topics, known_topics(session), "Unbekanntes Thema", strict=False) if flt.topics else ()
    platforms = (
        resolve_values(flt.platforms, known_platforms(session), "Unbekannte Plattform", strict=False)
        if flt.platforms
        else ()
    )
    if (classes, topics, platforms) == (tuple(flt.classes), tuple(flt.topics), tuple(flt.platforms)):
        return flt
    return replace(flt, classes=classes, topics=topics, platforms=platforms)


def ask(
    session: Session,
    flt: AnswerFilter,
    *,
    top_topics: int = 10,
    quote_limit: int = 3,
    with_pareto: bool = True,
    train_prior: Sequence[float] | None = None,
) -> Answer:
    """Answer "what does this segment say?" for the filter's period and the period before it.

    ``train_prior``: the sentiment model's training prior (:func:`nlp.loading.train_prior`); with it the
    summaries also carry the EM-estimated class shares of the stream.
    """
    flt = checked_filter(session, flt)
    cur = flt.period
    prev = cur.previous(rollup.TZ)  # whole days stay whole days across a change of summer time
    periods = [prev, cur]
    dialect = session.get_bind().dialect.name
    if quote_limit <= QUOTE_LIMIT_FROM_ROLLUP and rollup.prepare(session, flt, periods):
        by_segment, previous, current, topics_by_bucket = _sums_from_rollups(session, flt, periods, top_topics)
        picked = rollup_quotes(session, flt, cur, quote_limit)
        if train_prior is not None:  # from a sample of the posts (EM_SAMPLE); cached for the default ask
            step = max(1, -(-max(previous.posts, current.posts) // EM_SAMPLE))

            def estimate() -> list[list[list[float] | None]]:
                data = rollup.probabilities(session, flt, periods, every=step)
                return _shares(data, train_prior, len(periods))

            options = {"prior": [round(float(v), 9) for v in train_prior], "every": step}
            _set_shares(
                [previous, current], rollup.cached(session, "estimated_shares", flt, periods, options, estimate)
            )
    else:
        with materialized(session, post_rows_select(flt, dialect, periods)) as rows:
            by_segment = _summary_by_segment(session, rows)
            sums = _add_segments(by_segment)
            for r in session.exec(voice_weight_sums(rows, rows.c.bucket)).all():  # type: ignore[call-overload]
                sums[int(r.bucket)].update(voices=float(r.voices), w2=float(r.w2 or 0.0))
            previous, current = (SentimentSummary.from_sums(s) for s in sums)
            if train_prior is not None:
                _set_shares([previous, current], _estimate_shares(session, rows, train_prior, len(periods)))
            topics_by_bucket = topic_table(
                session, rows, [previous.weight, current.weight], n_effs=[previous.n_eff, current.n_eff]
            )
            picked = quotes(session, rows, quote_limit, bucket=1)
    before = {t.topic: t for t in topics_by_bucket.get(0, [])}
    topics = shown_topics(topics_by_bucket.get(1, []), top_topics)
    for t in topics:
        t.share = ratio(t.posts, current.posts)
        if t.topic in before:
            t.previous_posts = before[t.topic].posts
            t.previous_weighted_share = before[t.topic].weighted_share
    answer = Answer(flt, cur, prev, current, previous, topics, picked)
    if with_pareto:
        if flt.has_segment_filter and rollup.prepare(session, flt.without_segments(), [cur]):
            voice = rollup_voice_by_class(session, flt)
        elif flt.has_segment_filter:
            voice = voice_by_class(session, flt)
        else:
            voice = {
                str(r["segment"]): (int(r["posts"]), float(r["w_sum"] or 0.0), int(r["authors"]))
                for r in by_segment
                if int(r["bucket"]) == 1
            }
        answer.pareto = combine(voice, revenue_by_class(session))
    return answer
