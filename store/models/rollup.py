"""Daily rollups of the scored posts for the answers (``ask``, the dashboard): what they count, per day.

Kept current by the application (resonanz/answers/rollup.py); the raw tables stay the truth and the place
for drill-down. ``topic`` is NULL on the rows that count each post once and holds a topic name on the rows
that count each (post, topic) element of ``score.topics``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, LargeBinary
from sqlmodel import Field, SQLModel


class AnswerRollup(SQLModel, table=True):
    """Posts of one day (Europe/Berlin) in one cell: brand, voice, class, platform, language, sentiment, topic,
    aspect polarity. Sums of weights leave out posts without a weight (``unweighted`` counts those: they weigh
    the filter's default weight)."""

    __tablename__ = "answer_rollup"
    __table_args__ = (Index("ix_answer_rollup_day_topic", "day", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_type=Date)
    brand: str = Field(default="", max_length=200, description="'' the own brand, else the source's competitor")
    voice: str = Field(default="", max_length=40, description="'' customer voice, else Post.voice")
    segment: str = Field(max_length=20, description="A/B/C/unvalued/prospect")
    platform: str = Field(max_length=40)
    language: str = Field(default="", max_length=20)
    sval: int = Field(description="+1 positive, -1 negative, 0 otherwise (the post's sentiment)")
    topic: str | None = Field(default=None, description="NULL: the post itself; else one topic element")
    aval: int = Field(default=0, description="the topic's own polarity as +1/0/-1, else the post's")
    has_polarity: bool = False
    posts: int = 0
    weight_sum: float = 0.0
    unweighted: int = 0
    single_posts: int = 0
    """Posts that are their own voice (no account, no customer): they need no per-voice grouping."""
    single_w2: float = 0.0
    """Σ W² of those voices (a post listing a topic k times weighs k times its weight on that topic)."""
    single_unweighted: int = 0
    """Σ k² of those voices without a weight (each weighs k x the default weight)."""


class AnswerRollupPack(SQLModel, table=True):
    """Per day and cell (brand, voice, topic) packed into one value (resonanz/answers/packs.py): ``accounts``,
    what each account contributed (its customer, class, platform, language and weights: Kish's effective n, the
    authors and the customers need these per-account sums, they do not add up across days); ``posts`` (topic
    NULL), each post's probabilities and weight (the EM-estimated shares). ``topic`` NULL: the posts themselves,
    else one topic's elements."""

    __tablename__ = "answer_rollup_pack"
    __table_args__ = (Index("ix_answer_rollup_pack_read", "day", "kind", "voice", "brand", "topic"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_type=Date)
    kind: str = Field(max_length=20, description="accounts or posts (resonanz.answers.packs.DTYPES)")
    brand: str = Field(default="", max_length=200)
    voice: str = Field(default="", max_length=40)
    topic: str | None = None
    rows: int = Field(default=0, description="accounts or posts in the pack")
    vocab: str = Field(description="JSON: the class, platform and language names the pack's codes stand for")
    data: bytes = Field(sa_type=LargeBinary, description="rows of resonanz.answers.packs.DTYPES[kind]")


class AnswerRollupDirty(SQLModel, table=True):
    """A day whose rollup rows must be recomputed (set where scores, weights, classes or corrections change)."""

    __tablename__ = "answer_rollup_dirty"

    day: date = Field(sa_type=Date, primary_key=True)


class AnswerRollupState(SQLModel, table=True):
    """``built`` (1 once the rollups were built), ``score_watermark`` (the highest score id rolled up) and
    ``version`` (raised by every recomputation of a day: the answers cached under an older one are stale) and
    ``warmed_at`` (minutes since 1970 of the pipeline's last warming of the cache)."""

    __tablename__ = "answer_rollup_state"

    key: str = Field(primary_key=True, max_length=40)
    value: int = 0


class AnswerRollupQuote(SQLModel, table=True):
    """The posts an answer may quote: per day and cell (brand, voice, class, platform, language) the top posts by
    weight, by negative and by positive probability (:data:`resonanz.answers.rollup.QUOTE_POOL` each, apart for
    posts with and without a weight), so the top posts of any union of cells are among them."""

    __tablename__ = "answer_rollup_quote"

    post_id: int = Field(primary_key=True)
    day: date = Field(sa_type=Date, index=True)
    brand: str = Field(default="", max_length=200)
    voice: str = Field(default="", max_length=40)
    segment: str = Field(max_length=20)
    platform: str = Field(max_length=40)
    language: str = Field(default="", max_length=20)
    sval: int
    weight: float | None = None
    p_negative: float
    p_positive: float


class AnswerRollupCache(SQLModel, table=True):
    """Sums read from the rollups for one answer (filter, periods, what was summed), valid while the rollups'
    ``version`` (:class:`AnswerRollupState`) is the one stored here. Kept for the answers users open most (the
    dashboard and ``ask`` with their default filters), written when the pipeline has refreshed the rollups."""

    __tablename__ = "answer_rollup_cache"

    key: str = Field(primary_key=True, max_length=64, description="sha256 of the filter, periods and reader")
    version: int
    value: str = Field(description="the reader's result as JSON")
