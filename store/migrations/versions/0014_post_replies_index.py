"""post: an index for a post's replies in time order (the item page at a million posts)

Most posts have no parent, so SQLite's statistics give ``parent_id = ?`` a million rows per value and the
planner walked the ``created_at`` index instead (1.5 s per item page at 1M posts); with both columns in one
index the lookup is a seek.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 23:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index("ix_post_parent_created", ["parent_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_parent_created")
