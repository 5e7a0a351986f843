"""brand voice and duplicates: post.voice, post.fingerprint and the brand_marker table

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voice", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_post_voice"), ["voice"], unique=False)
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f("ix_post_fingerprint"), ["fingerprint"], unique=False)
    op.create_table(
        "brand_marker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "value", name="uq_brand_marker_kind_value"),
    )


def downgrade() -> None:
    op.drop_table("brand_marker")
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_fingerprint"))
        batch_op.drop_column("fingerprint")
        batch_op.drop_index(batch_op.f("ix_post_voice"))
        batch_op.drop_column("voice")
