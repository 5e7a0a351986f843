"""review_item: the author's standing beside each item (the queue page at a million posts)

The queue ordered and filtered its items by joining every active item to its post, the author's link (a window
over all links) and the customer's current value (a window over all value rows): 0.5 s per page at a million
posts. The post's time and the author's customer, class, weight and revenue are now kept on the item
(``resonanz.review.standing``); the page reads one table. The columns are filled by
``resonanz.review.standing.refresh_standing``: the queue does it for the items without ``posted_at`` before it
reads, so an upgraded database needs no separate step.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posted_at", store.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("customer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
        batch_op.add_column(sa.Column("author_weight", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("author_revenue", sa.Float(), nullable=True))
        batch_op.create_index("ix_review_item_posted_at", ["posted_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_posted_at")
        batch_op.drop_column("author_revenue")
        batch_op.drop_column("author_weight")
        batch_op.drop_column("segment")
        batch_op.drop_column("customer_id")
        batch_op.drop_column("posted_at")
