"""alerts: baselines, incidents, audit trail, outbox, rule overrides

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("rule", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("started_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_seen_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("statistic", sa.Float(), nullable=False),
        sa.Column("peak_statistic", sa.Float(), nullable=False),
        sa.Column("explanation", store.types.JSONType(), nullable=False),
        sa.Column("post_ids", store.types.JSONType(), nullable=False),
        sa.Column("review_item_ids", store.types.JSONType(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("notified_severity", sa.Integer(), nullable=False),
        sa.Column("notified_observed", sa.Float(), nullable=False),
        sa.Column("last_notified_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_first_seen_at"), ["first_seen_at"], unique=False)
        batch_op.create_index("ix_alert_key_status", ["key", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_status"), ["status"], unique=False)

    op.create_table(
        "alert_bucket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dimension", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("negative", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("weighted_negative", sa.Float(), nullable=False),
        sa.Column("engagement", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hour", "dimension", "key", name="uq_alert_bucket_hour_dim_key"),
    )
    with op.batch_alter_table("alert_bucket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_bucket_hour"), ["hour"], unique=False)

    op.create_table(
        "alert_rule_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("params", store.types.JSONType(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_rule_override", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_rule_override_name"), ["name"], unique=True)

    op.create_table(
        "alert_state",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", store.types.JSONType(), nullable=False),
        sa.Column("updated_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "alert_term_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("term", sa.String(length=100), nullable=False),
        sa.Column("authors", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "term", name="uq_alert_term_day"),
    )
    with op.batch_alter_table("alert_term_day", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_term_day_day"), ["day"], unique=False)

    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", store.types.JSONType(), nullable=False),
        sa.Column("at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_event_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "alert_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=120), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_notification_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_notification_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alert_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_notification_status"))
        batch_op.drop_index(batch_op.f("ix_alert_notification_alert_id"))

    op.drop_table("alert_notification")
    with op.batch_alter_table("alert_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_event_alert_id"))

    op.drop_table("alert_event")
    with op.batch_alter_table("alert_term_day", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_term_day_day"))

    op.drop_table("alert_term_day")
    op.drop_table("alert_state")
    with op.batch_alter_table("alert_rule_override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_rule_override_name"))

    op.drop_table("alert_rule_override")
    with op.batch_alter_table("alert_bucket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_bucket_hour"))

    op.drop_table("alert_bucket")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_status"))
        batch_op.drop_index(batch_op.f("ix_alert_rule"))
        batch_op.drop_index("ix_alert_key_status")
        batch_op.drop_index(batch_op.f("ix_alert_first_seen_at"))

    op.drop_table("alert")
