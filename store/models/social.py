"""Sources, collector runs, social identities, posts/comments and their scores."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import JSONType, UTCDateTime, utcnow


class SourceBase(SQLModel):
    name: str = Field(index=True, unique=True, max_length=200)
    platform: str = Field(index=True, max_length=40)
    query: str | None = Field(default=None, description="hashtag, search query, subreddit, feed URL ...")
    account: str | None = Field(default=None, description="account/channel to follow, if any")
    interval_seconds: int = Field(default=900, ge=30)
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    brand: str | None = Field(
        default=None,
        max_length=200,
        description="the competitor this source listens to (its posts count for that brand); None: the own brand",
    )


class Source(SourceBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    cursor: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CollectorRun(SQLModel, table=True):
    __tablename__ = "collector_run"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="source.id", index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="running", max_length=20, description="running/ok/partial/failed/interrupted")
    fetched: int = 0
    new: int = 0
    updated: int = 0
    errors: int = 0
    error: str | None = None
    cursor_before: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    cursor_after: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    heartbeat_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="last sign of life of a running run (stale ones were killed)"
    )
    owner: str | None = Field(default=None, max_length=300, description="host:pid of the process running it")


class SocialIdentityBase(SQLModel):
    platform: str = Field(max_length=40, index=True)
    account_id: str = Field(max_length=300, description="stable platform id (Mastodon account URI, DID ...)")
    handle: str | None = Field(default=None, max_length=300, index=True)
    display_name: str | None = None
    profile_url: str | None = None
    bio: str | None = None
    location: str | None = None


class SocialIdentity(SocialIdentityBase, table=True):
    __tablename__ = "social_identity"
    __table_args__ = (UniqueConstraint("platform", "account_id", name="uq_identity_platform_account"),)

    id: int | None = Field(default=None, primary_key=True)
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    link_checked_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="last time `resonanz link` examined this identity"
    )


class PostBase(SQLModel):
    platform: str = Field(max_length=40, index=True)
    external_id: str = Field(max_length=300)
    kind: str = Field(default="post", max_length=20, description="post/comment/review")
    url: str | None = None
    text: str = ""
    title: str | None = None
    language: str | None = Field(default=None, max_length=8, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deleted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class Post(PostBase, table=True):
    __table_args__ = (
        UniqueConstraint("platform", "external_id", name="uq_post_platform_external"),
        # a post's replies in time order (review/detail.py); ``parent_id`` alone loses to ``created_at`` in
        # SQLite's planner, most posts having no parent (migration 0014)
        Index("ix_post_parent_created", "parent_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int | None = Field(default=None, foreign_key="social_identity.id", index=True)
    source_id: int | None = Field(default=None, foreign_key="source.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    thread_root_id: int | None = Field(default=None, foreign_key="post.id", index=True)
    parent_external_id: str | None = Field(default=None, max_length=300, index=True)
    root_external_id: str | None = Field(default=None, max_length=300, index=True)
    raw: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    fetched_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    voice: str | None = Field(
        default=None,
        max_length=20,
        index=True,
        description="who speaks: 'brand' (the brand's own accounts or signatures), 'advocate' (an employee), "
        "'spam' (a copy-paste cluster), None (customers and the public); set by resonanz.pipeline.brand "
        "and resonanz.pipeline.duplicates",
    )
    fingerprint: str | None = Field(
        default=None, max_length=40, index=True, description="same-text key (resonanz.pipeline.duplicates)"
    )


class Score(SQLModel, table=True):
    """One model's verdict on one post. Rescoring with a new model version adds rows."""

    __table_args__ = (
        UniqueConstraint("post_id", "model_name", "model_version", name="uq_score_post_model"),
        # "the latest score per post" (answers, queue) without sorting: newest scored_at, then id
        Index("ix_score_post_latest", "post_id", "scored_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    model_name: str = Field(max_length=200)
    model_version: str = Field(max_length=100)
    sentiment: str = Field(max_length=10, index=True, description="negative/neutral/positive")
    p_negative: float = 0.0
    p_neutral: float = 0.0
    p_positive: float = 0.0
    topics: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    flags: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    weight: float | None = Field(default=None, description="author value weight at scoring/weighing time")
    scored_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BrandMarker(SQLModel, table=True):
    """How the brand's own voice is recognised: an account, a staff signature, or an employee advocate."""

    __tablename__ = "brand_marker"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_brand_marker_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, description="account / signature / advocate")
    value: str = Field(max_length=300, description="a handle or profile URL, or a signature such as '^Lea'")
    note: str | None = None
    created_by: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
