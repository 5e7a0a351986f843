"""SQL building blocks for the answers: one row per post with its latest score, author segment and weight.

Everything here is SQLAlchemy Core and runs on SQLite and PostgreSQL; aggregates are left to the
database. The only dialect-specific part is unnesting the ``score.topics`` JSON array.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any
from typing import cast as type_cast

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import DropTable
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement
from sqlalchemy.sql.selectable import FromClause, Subquery
from sqlmodel import Session

from resonanz.core.periods import Period
from resonanz.core.tables import CUSTOMER, LINK, POST, SCORE, VALUE, current_values
from resonanz.pipeline.consent import linkable_clause
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from store.models import Source
from store.types import JSONType

SEGMENTS = ("A", "B", "C", "unvalued", "prospect")
"""ABC classes of linked customers; 'unvalued' = linked but no value computed yet; 'prospect' = not linked."""
SOURCE: Table = Source.__table__  # type: ignore[attr-defined]
ALL_BRANDS = "*"
"""``AnswerFilter.brand`` for every post, whatever brand its source listens to (the competitor comparison)."""


@dataclass(frozen=True)
class AnswerFilter:
    """Who and what to ask about. Empty lists mean "all"."""

    period: Period
    classes: Sequence[str] = ()
    rfm_segments: Sequence[str] = ()
    loyal: bool | None = None
    topics: Sequence[str] = ()
    platforms: Sequence[str] = ()
    languages: Sequence[str] = ()
    model_name: str | None = None
    default_weight: float = 0.5
    """Weight of a post whose score has none and whose author has no value (prospects)."""
    voice: str | None = None
    """``None``: customer voice (the brand's own posts and employees' never count); ``"advocate"``:
    only the employees' posts, reported apart (:mod:`resonanz.pipeline.brand`)."""
    brand: str | None = None
    """Whose posts: ``None`` the own brand's (posts of untagged sources and posts without a source, e.g.
    imported ones), a name: the sources tagged with that competitor (``resonanz sources tag``),
    :data:`ALL_BRANDS`: all of them (:mod:`resonanz.answers.competitors`)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_segment_filter(self) -> bool:
        return bool(self.classes or self.rfm_segments or self.loyal is not None)

    def without_segments(self) -> AnswerFilter:
        return AnswerFilter(
            period=self.period,
            topics=self.topics,
            platforms=self.platforms,
            languages=self.languages,
            model_name=self.model_name,
            default_weight=self.default_weight,
            voice=self.voice,
            brand=self.brand,
        )


def brand_of_post() -> ColumnElement[str | None]:
    """Correlated scalar: the brand of the post's source (``NULL``: the own brand; see ``AnswerFilter.brand``).

    A post seen by several sources keeps the first source that stored it (store.ingest), so it counts once,
    for that source's brand."""
    return select(SOURCE.c.brand).where(SOURCE.c.id == POST.c.source_id).correlate(POST).scalar_subquery()


def brand_clause(brand: str | None) -> ColumnElement[bool]:
    """The posts of ``brand`` (``None``: the own brand; :data:`ALL_BRANDS`: every post). One uncorrelated
    look-up of the (few) tagged sources, not one per post."""
    if brand == ALL_BRANDS:
        return true()
    if brand is None:
        tagged = select(SOURCE.c.id).where(SOURCE.c.brand.is_not(None))
        return or_(POST.c.source_id.is_(None), POST.c.source_id.not_in(tagged))
    return POST.c.source_id.in_(select(SOURCE.c.id).where(SOURCE.c.brand == brand))


def link_subquery(identity_ids: Any = None) -> Subquery:
    """identity_id -> the one customer it is linked to (confirmed before auto, then most probable).
    ``identity_ids``: only these identities (a list or a subquery of ids), for queries about a few posts."""
    ranked = (
        select(
            LINK.c.identity_id.label("identity_id"),
            LINK.c.customer_id.label("customer_id"),
            func.row_number()
            .over(
                partition_by=LINK.c.identity_id,
                order_by=(
                    case((LINK.c.status == "confirmed", 0), else_=1),
                    LINK.c.probability.desc(),
                    LINK.c.id,
                ),
            )
            .label("rn"),
        )
        .join(CUSTOMER, CUSTOMER.c.id == LINK.c.customer_id)
        .where(
            LINK.c.status.in_(LINKED_STATUSES),
            linkable_clause(),  # withdrawal counts at once, before the next link run
            *([LINK.c.identity_id.in_(identity_ids)] if identity_ids is not None else []),
        )
        .subquery("ranked_link")
    )
    return select(ranked.c.identity_id, ranked.c.customer_id).where(ranked.c.rn == 1).subquery("lnk")


def value_subquery(customer_ids: Any = None) -> Subquery:
    """customer_id -> the customer's current CustomerValue row (:func:`resonanz.core.tables.current_value_order`);
    ``customer_ids``: only these customers (a list or a subquery of ids)."""
    v = VALUE.c
    return current_values(v.customer_id, v.abc_class, v.rfm_segment, v.is_loyal, v.weight, v.revenue, v.clv,
                          name="val", customer_ids=customer_ids)  # fmt: skip


def latest_score_id(model_name: str | None = None) -> ColumnElement[Any]:
    """Correlated scalar: the id of the post's latest score (optionally of one model)."""
    s2 = SCORE.alias("s2")
    query = select(s2.c.id).where(s2.c.post_id == POST.c.id)
    if model_name:
        query = query.where(s2.c.model_name == model_name)
    return query.order_by(s2.c.scored_at.desc(), s2.c.id.desc()).limit(1).correlate(POST).scalar_subquery()


def segment_expr(lnk: Subquery, val: Subquery) -> ColumnElement[str]:
    return case(
        (lnk.c.customer_id.is_(None), literal("prospect")),
        (val.c.abc_class.is_(None), literal("unvalued")),
        else_=val.c.abc_class,
    )


def sentiment_value(sentiment: Any) -> ColumnElement[int]:
    return case((sentiment == "positive", 1), (sentiment == "negative", -1), else_=0)


def topic_elements(dialect: str, topics_col: Any) -> tuple[Any, ColumnElement[Any]]:
    """A table-valued unnesting of a topics JSON column and the expression for each element's topic name."""
    if dialect == "postgresql":
        elems = func.json_array_elements(topics_col).table_valued("value", joins_implicitly=True)
        return elems, elems.c.value.op("->>")(literal("topic"))
    elems = func.json_each(topics_col).table_valued("value", joins_implicitly=True)
    return elems, func.json_extract(elems.c.value, "$.topic")


def topic_field(dialect: str, elems: Any, key: str) -> ColumnElement[Any]:
    """A text field of each unnested topic element (NULL where absent), e.g. ``polarity``."""
    if dialect == "postgresql":
        return type_cast(ColumnElement[Any], elems.c.value.op("->>")(literal(key)))
    return func.json_extract(elems.c.value, f"$.{key}")


def aspect_value(polarity: Any, post_sval: Any) -> ColumnElement[int]:
    """+1/0/-1 of a topic's own polarity (:mod:`nlp.aspects`); the post's value where a score has none
    (scores written before aspect sentiment existed, or with aspects switched off)."""
    return case((polarity == "positive", 1), (polarity == "negative", -1), (polarity == "neutral", 0), else_=post_sval)


def has_topic(dialect: str, topics: Sequence[str]) -> ColumnElement[bool]:
    elems, topic = topic_elements(dialect, SCORE.c.topics)
    return select(literal(1)).select_from(elems).where(topic.in_(list(topics))).exists()


def bucket_expr(created_at: Any, periods: Sequence[Period]) -> ColumnElement[int]:
    """Index of the (contiguous, oldest-first) period a timestamp falls into."""
    if len(periods) == 1:
        return literal(0)
    whens = [(created_at < p.end, i) for i, p in enumerate(periods[:-1])]
    return case(*whens, else_=len(periods) - 1)


def post_rows(flt: AnswerFilter, dialect: str, periods: Sequence[Period] | None = None) -> Subquery:
    """:func:`post_rows_select` as a subquery named ``rows``."""
    return post_rows_select(flt, dialect, periods).subquery("rows")


def post_rows_select(
    flt: AnswerFilter, dialect: str, periods: Sequence[Period] | None = None, *, post_ids: Sequence[int] | None = None
) -> Select[Any]:
    """One row per scored, not deleted post in ``periods`` (default: the filter's period) matching the filter;
    ``post_ids``: of these posts only (the links are then ranked for their authors only, not for everyone).

    Columns: post_id, score_id, identity_id, customer_id, created_at, platform, bucket, segment, weight,
    sentiment, sval (+1/0/-1), p_negative, p_positive, topics.
    """
    periods = list(periods or [flt.period])
    if post_ids is None:
        lnk, val = link_subquery(), value_subquery()
    else:
        authors = select(POST.c.identity_id).where(POST.c.id.in_(list(post_ids)), POST.c.identity_id.is_not(None))
        lnk = link_subquery(identity_ids=authors)
        val = value_subquery(customer_ids=select(lnk.c.customer_id))
    segment = segment_expr(lnk, val)
    weight = cast(func.coalesce(SCORE.c.weight, val.c.weight, flt.default_weight), Float)
    query: Select[Any] = (
        select(
            POST.c.id.label("post_id"),
            SCORE.c.id.label("score_id"),
            POST.c.identity_id.label("identity_id"),
            lnk.c.customer_id.label("customer_id"),
            POST.c.created_at.label("created_at"),
            POST.c.platform.label("platform"),
            bucket_expr(POST.c.created_at, periods).label("bucket"),
            segment.label("segment"),
            weight.label("weight"),
            SCORE.c.sentiment.label("sentiment"),
            sentiment_value(SCORE.c.sentiment).label("sval"),
            SCORE.c.p_negative.label("p_negative"),
            SCORE.c.p_positive.label("p_positive"),
            SCORE.c.topics.label("topics"),
        )
        .select_from(POST)
        # the author's customer first: a class filter then skips the score lookup for other posts
        .outerjoin(lnk, lnk.c.identity_id == POST.c.identity_id)
        .outerjoin(val, val.c.customer_id == lnk.c.customer_id)
        .join(SCORE, SCORE.c.id == latest_score_id(flt.model_name))
        .where(
            POST.c.created_at >= periods[0].start,
            POST.c.created_at < periods[-1].end,
            POST.c.deleted_at.is_(None),
            POST.c.voice.is_(None) if flt.voice is None else POST.c.voice == flt.voice,
        )
    )
    if post_ids is not None:
        query = query.where(POST.c.id.in_(list(post_ids)))
    if flt.brand != ALL_BRANDS:
        query = query.where(brand_clause(flt.brand))
    if flt.classes:
        query = query.where(segment.in_(list(flt.classes)))
    if flt.rfm_segments:
        query = query.where(val.c.rfm_segment.in_(list(flt.rfm_segments)))
    if flt.loyal is True:
        query = query.where(val.c.is_loyal.is_(True))
    elif flt.loyal is False:
        query = query.where(or_(val.c.is_loyal.is_(None), val.c.is_loyal == false()))
    if flt.platforms:
        query = query.where(POST.c.platform.in_(list(flt.platforms)))
    if flt.languages:
        query = query.where(POST.c.language.in_(list(flt.languages)))
    if flt.topics:
        query = query.where(has_topic(dialect, flt.topics))
    return query


ROW_COLUMNS: tuple[tuple[str, Any], ...] = (
    ("post_id", Integer),
    ("score_id", Integer),
    ("identity_id", Integer),
    ("customer_id", Integer),
    ("bucket", Integer),
    ("segment", String(20)),
    ("weight", Float),
    ("sval", Integer),
    ("p_negative", Float),
    ("p_positive", Float),
    ("topics", JSONType),
)
"""What :func:`materialized` keeps (texts and timestamps are looked up by post id when needed)."""


class _CreateTempTableAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name AS SELECT ...`` (one statement on SQLite and PostgreSQL)."""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTempTableAs)
def _compile_create_temp_as(element: _CreateTempTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


@compiles(Table, "sqlite")
def _compile_sqlite_table(element: Table, compiler: Any, **kw: Any) -> str:
    """A table with its hint on SQLite, which SQLAlchemy leaves out: ``select(...).with_hint(table,
    "INDEXED BY ix_name", dialect_name="sqlite")`` names the index to read (:mod:`resonanz.answers.rollup`)."""
    text = str(compiler.visit_table(element, **kw))
    hints = kw.get("fromhints")
    if kw.get("asfrom") and hints and element in hints:
        text += f" {hints[element]}"
    return text


@contextmanager
def materialized(session: Session, query: Select[Any]) -> Iterator[Table]:
    """Compute ``query`` (a :func:`post_rows_select`) once into a temporary table for several aggregates.

    Temporary tables are private to the connection; this works the same on SQLite and PostgreSQL
    and saves recomputing the joins for every aggregate. Created and dropped by one DDL statement
    each, so both happen in the same transaction state (SQLite's driver starts transactions only
    before DML: a CREATE + INSERT, with the DROP rolled back, would leave the table behind).
    """
    name = f"tmp_answer_rows_{uuid.uuid4().hex[:12]}"
    table = Table(
        name,
        MetaData(),
        *(Column(col_name, type_() if isinstance(type_, type) else type_) for col_name, type_ in ROW_COLUMNS),
        prefixes=["TEMPORARY"],
    )
    source = query.subquery("src")
    conn = session.connection()
    conn.execute(_CreateTempTableAs(name, select(*(source.c[n] for n, _ in ROW_COLUMNS))))
    try:
        yield table
    except BaseException:
        # after a database error (an aborted PostgreSQL transaction) the rollback removes the table
        with suppress(SQLAlchemyError):
            conn.execute(DropTable(table, if_exists=True))
        raise
    conn.execute(DropTable(table, if_exists=True))


def sentiment_aggregates(rows: FromClause) -> list[ColumnElement[Any]]:
    """The columns every sentiment summary needs; shared by ask, dashboard and digest (rows: post_rows or
    a :func:`materialized` table)."""
    w = rows.c.weight
    neg = case((rows.c.sval == -1, 1), else_=0)
    pos = case((rows.c.sval == 1, 1), else_=0)
    return [
        func.count().label("posts"),
        func.count(func.distinct(rows.c.identity_id)).label("authors"),
        func.count(func.distinct(rows.c.customer_id)).label("customers"),
        func.sum(rows.c.sval).label("s_sum"),
        func.sum(w).label("w_sum"),
        func.sum(w * rows.c.sval).label("ws_sum"),
        func.sum(neg).label("neg"),
        func.sum(pos).label("pos"),
        func.sum(w * neg).label("w_neg"),
        func.sum(w * pos).label("w_pos"),
    ]


def voice_keys(rows: FromClause) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]]:
    """Who a post speaks for, for :mod:`resonanz.answers.uncertainty`: the linked customer; else the social
    account; else the post itself. Three columns (NULL where another applies), to group by on any database."""
    c = rows.c
    return (
        c.customer_id.label("voice_customer"),
        case((c.customer_id.is_(None), c.identity_id), else_=None).label("voice_identity"),
        case((c.customer_id.is_(None) & c.identity_id.is_(None), c.post_id), else_=None).label("voice_post"),
    )


def voice_weight_sums(rows: FromClause, *by: ColumnElement[Any]) -> Select[Any]:
    """Per group of ``by`` (labelled columns of ``rows``): ``voices`` and ``w2`` = Σ W² over the group's voices,
    W being a voice's summed weight (Kish's effective n: :func:`resonanz.answers.uncertainty.effective_n`)."""
    keys = voice_keys(rows)
    inner = (
        select(*by, *keys, func.sum(rows.c.weight).label("voice_w"))
        .select_from(rows)
        .group_by(*by, *keys)
        .subquery("voices")
    )
    group = [inner.c[str(col.key)] for col in by]
    return select(
        *group, func.count().label("voices"), func.sum(inner.c.voice_w * inner.c.voice_w).label("w2")
    ).group_by(*group)


def ratio(num: float | None, den: float | None) -> float | None:
    if not den:
        return None
    return float(num or 0.0) / float(den)
