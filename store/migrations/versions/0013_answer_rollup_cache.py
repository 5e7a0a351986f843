"""answer rollups: a cache of the answers users open most (valid for one rollup version), the voice table in
voice order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BY_VOICE = [
    "voice", "brand", "topic", "voice_key", "segment", "identity_id", "day", "platform", "language", "customer_id",
    "weight_sum", "unweighted",
]  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "answer_rollup_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.create_index("ix_answer_rollup_voice_by_voice", BY_VOICE, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_rollup_voice_by_voice")
    op.drop_table("answer_rollup_cache")
