"""answer rollups: the per-account rows packed per day and cell (answer_rollup_pack) instead of a table row each,
and the posts' probabilities for the EM-estimated shares packed the same way

At a million posts an answer grouped one to 2.5 million rows of ``answer_rollup_voice`` by voice (1.5-6 s on
SQLite). ``answer_rollup_pack`` holds the same rows packed per (day, brand, voice, topic) and is grouped with numpy
(``resonanz.answers.packs``); the EM-estimated shares read its ``posts`` packs instead of the raw posts. The packs
are written when a day is recomputed: every day the rollups hold is marked dirty here, so the next pipeline job or
the next answer of those days recomputes it (or run ``resonanz db rebuild-rollups`` at once). The cached answers
are dropped.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

READ = [
    "voice", "brand", "day", "topic", "segment", "platform", "language", "voice_key", "identity_id", "customer_id",
    "weight_sum", "unweighted",
]  # fmt: skip
BY_VOICE = [
    "voice", "brand", "topic", "voice_key", "segment", "identity_id", "day", "platform", "language", "customer_id",
    "weight_sum", "unweighted",
]  # fmt: skip
MARK_ALL = "INSERT INTO answer_rollup_dirty (day) SELECT DISTINCT day FROM answer_rollup"


def _recompute_everything() -> None:
    op.execute("DELETE FROM answer_rollup_dirty")
    op.execute(MARK_ALL)
    op.execute("DELETE FROM answer_rollup_cache")


def upgrade() -> None:
    op.create_table(
        "answer_rollup_pack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("brand", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("voice", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("vocab", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("answer_rollup_pack", schema=None) as batch_op:
        batch_op.create_index("ix_answer_rollup_pack_read", ["day", "kind", "voice", "brand", "topic"], unique=False)
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        for name in ("by_voice", "read", "identity", "day_topic"):
            batch_op.drop_index(f"ix_answer_rollup_voice_{name}")
    op.drop_table("answer_rollup_voice")
    _recompute_everything()


def downgrade() -> None:
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
        batch_op.create_index("ix_answer_rollup_voice_read", READ, unique=False)
        batch_op.create_index("ix_answer_rollup_voice_by_voice", BY_VOICE, unique=False)
    with op.batch_alter_table("answer_rollup_pack", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_rollup_pack_read")
    op.drop_table("answer_rollup_pack")
    _recompute_everything()
