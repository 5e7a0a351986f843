"""answer rollups: a covering index for reading the per-voice table by period

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "voice", "brand", "day", "topic", "segment", "platform", "language", "voice_key", "identity_id", "customer_id",
    "weight_sum", "unweighted",
]  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.create_index("ix_answer_rollup_voice_read", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("answer_rollup_voice", schema=None) as batch_op:
        batch_op.drop_index("ix_answer_rollup_voice_read")
