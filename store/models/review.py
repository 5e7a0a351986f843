"""The community managers' review queue, its audit trail, training feedback, users and digests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from store.types import JSONType, UTCDateTime, utcnow


class ReviewItemBase(SQLModel):
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType)
    severity: int = Field(default=1, ge=0, le=5, index=True)
    status: str = Field(
        default="open", max_length=20, index=True, description="open/in_progress/answered/merged/resolved/dismissed"
    )
    assignee: str | None = Field(default=None, max_length=100)
    notes: str | None = None


class ReviewItem(ReviewItemBase, table=True):
    __tablename__ = "review_item"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", unique=True, index=True)
    priority: float = Field(default=0.0, index=True, description="a person's priority (> 0 overrides the order)")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # the author's standing, copied from the post, its link and the customer's current value so that the queue
    # orders and filters its items without joining them (resonanz/review/standing.py keeps them current)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    customer_id: int | None = Field(default=None)
    segment: str | None = Field(default=None, max_length=10, description="A/B/C, unvalued or prospect")
    author_weight: float | None = Field(default=None, description="the customer's value weight; None: a prospect")
    author_revenue: float | None = Field(default=None)


class ReviewEvent(SQLModel, table=True):
    """Append-only audit trail: who did what to which review item, when."""

    __tablename__ = "review_event"

    id: int | None = Field(default=None, primary_key=True)
    review_item_id: int | None = Field(default=None, foreign_key="review_item.id", index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LabelFeedback(SQLModel, table=True):
    """A human correction of a model output; training material for `resonanz train`."""

    __tablename__ = "label_feedback"

    id: int | None = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id", index=True)
    field: str = Field(max_length=20, description="sentiment/topic/flag")
    old_value: str | None = None
    new_value: str
    actor: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=100, unique=True, index=True)
    password_hash: str
    role: str = Field(default="community_manager", max_length=30, description="community_manager/analyst/admin")
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Digest(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    period_label: str = Field(max_length=20, index=True, description="ISO week, e.g. 2026-W47")
    period_start: datetime = Field(sa_type=UTCDateTime)
    period_end: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    content_html: str = ""
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    recipients: list[str] = Field(default_factory=list, sa_type=JSONType)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A logged-in browser session, held on the server so that logout and account changes end it."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True, description="sha256 of the cookie's token")
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
