"""answer rollups: daily sums per cell and per voice, dirty days, state

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_rollup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("voice", sa.String(length=40), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("sval", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("aval", sa.Integer(), nullable=False),
        sa.Column("has_polarity", sa.Boolean(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("weight_sum", sa.Float(), nullable=False),
        sa.Column("unweighted", sa.Integer(), nullable=False),
        sa.Column("single_posts", sa.Integer(), nullable=False),
        sa.Column("single_w2", sa.Float(), nullable=False),
        sa.Column("single_unweighted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_rollup", schema=None) as batch_op:
        batch_op.create_index("ix_answer_rollup_day_topic", ["day", "topic"], unique=False)

    op.create_table("answer_rollup_dirty", sa.Column("day", sa.Date(), nullable=False), sa.PrimaryKeyConstraint("day"))
    op.create_table(
        "answer_rollup_quote",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("voice", sa.String(length=40), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("sval", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=True),
        sa.Column("p_negative", sa.Float(), nullable=False),
        sa.Column("p_positive", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("post_id"),
    )
    with op.batch_alter_table("answer_rollup_quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_rollup_quote_day"), ["day"], unique=False)

    op.create_table(
        "answer_rollup_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "answer_rollup_voice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=False),
        sa.Column("voice", sa.String(length=40), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("language", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("voice_key", sa.Integer(), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("weight_sum", sa.Float(), nullable=False),
        sa.Column("unweighted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.create_index("ix_answer_rollup_voice_day_topic", ["day", "topic"], unique=False)
        batch_op.create_index("ix_answer_rollup_voice_identity", ["identity_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_rollup_voice_identity")
        batch_op.drop_index("ix_answer_rollup_voice_day_topic")

    op.drop_table("answer_rollup_voice")
    op.drop_table("answer_rollup_state")
    with op.batch_alter_table("answer_rollup_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_rollup_quote_day"))

    op.drop_table("answer_rollup_quote")
    op.drop_table("answer_rollup_dirty")
    with op.batch_alter_table("answer_rollup", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_rollup_day_topic")

    op.drop_table("answer_rollup")
