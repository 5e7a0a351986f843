"""Alerts: hourly aggregates for baselines, incidents with their audit trail, the notification outbox,
rule overrides made in the web app, and the evaluator's watermarks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import JSONType, UTCDateTime, utcnow


class AlertBucket(SQLModel, table=True):
    """One hour of posts in one slice (all posts, a topic, a platform, a customer class): the baseline's raw data.

    Rebuilt for the hours that new posts or scores touch; older hours stay as they were."""

    __tablename__ = "alert_bucket"
    __table_args__ = (UniqueConstraint("hour", "dimension", "key", name="uq_alert_bucket_hour_dim_key"),)

    id: int | None = Field(default=None, primary_key=True)
    hour: datetime = Field(sa_type=UTCDateTime, index=True, description="start of the hour (UTC)")
    dimension: str = Field(max_length=20, description="all / topic / platform / class")
    key: str = Field(max_length=200, description="'*' for all, else the topic, platform or class")
    posts: int = 0
    """Posts counted, at most ``PER_AUTHOR_CAP`` per author and hour (see resonanz/alerts/aggregate.py)."""
    scored: int = 0
    negative: int = 0
    weight: float = 0.0
    weighted_negative: float = 0.0
    engagement: float = 0.0


class AlertTermDay(SQLModel, table=True):
    """How many distinct authors used a word or hashtag on one day (Europe/Berlin): the emerging-topic baseline."""

    __tablename__ = "alert_term_day"
    __table_args__ = (UniqueConstraint("day", "term", name="uq_alert_term_day"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(sa_type=Date, index=True)
    term: str = Field(max_length=100)
    authors: int = 0


class AlertState(SQLModel, table=True):
    """The evaluator's watermarks (last post and score id aggregated, last evaluation time)."""

    __tablename__ = "alert_state"

    key: str = Field(primary_key=True, max_length=60)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertRuleOverride(SQLModel, table=True):
    """A rule changed in the web app: wins over the TOML file and the shipped defaults (resonanz/alerts/rules.py)."""

    __tablename__ = "alert_rule_override"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True, index=True)
    kind: str | None = Field(default=None, max_length=20, description="only for rules that are not shipped")
    enabled: bool | None = None
    params: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    updated_by: str | None = Field(default=None, max_length=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """One incident: opened by a rule, updated while it lasts, acknowledged and resolved by people."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_key_status", "key", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, description="rule + subject: one incident per key at a time")
    rule: str = Field(max_length=80, index=True)
    kind: str = Field(max_length=20)
    severity: int = Field(default=2, ge=1, le=3, description="1 Hinweis, 2 Warnung, 3 kritisch")
    status: str = Field(default="open", max_length=20, index=True, description="open/acknowledged/resolved")
    title: str
    summary: str = ""
    subject: str = Field(default="", max_length=200)
    started_at: datetime = Field(sa_type=UTCDateTime, description="start of the window that first crossed")
    first_seen_at: datetime = Field(sa_type=UTCDateTime, index=True, description="when the alert was raised")
    last_seen_at: datetime = Field(sa_type=UTCDateTime, description="the latest evaluation that still found it")
    observed: float = 0.0
    expected: float = 0.0
    statistic: float = 0.0
    peak_statistic: float = 0.0
    explanation: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    post_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
    review_item_ids: list[int] = Field(default_factory=list, sa_type=JSONType)
    updates: int = 0
    notified_severity: int = 0
    notified_observed: float = 0.0
    last_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_by: str | None = Field(default=None, max_length=100)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=100)


class AlertEvent(SQLModel, table=True):
    """Append-only audit trail of an alert: raised, updated, notified, acknowledged, resolved, reopened."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AlertNotification(SQLModel, table=True):
    """The outbox: one message about one alert to one channel, sent once (retried until it is)."""

    __tablename__ = "alert_notification"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    channel: str = Field(max_length=120, description="'email' or 'webhook:<name>'")
    event: str = Field(max_length=20, description="new / update / resolved")
    status: str = Field(default="pending", max_length=20, index=True, description="pending/sent/failed")
    idempotency_key: str = Field(max_length=120, unique=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
