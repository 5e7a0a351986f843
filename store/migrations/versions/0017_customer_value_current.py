"""customer_value: ``is_current`` marks each customer's current value row

Every reader of "the customer's current standing" (the answers' classes and revenue, the weights, the queue's
standing, the alerts) ranked all value rows with a window per query. The valuation keeps a daily history for 90
days and a monthly one beyond, so with a daily valuation the rows grow to about 90 per customer, and the window
with them (0.2-0.4 s for 50,000 rows on SQLite, per answer). The valuation now marks the current row once
(``resonanz.core.tables.mark_current_values``) and the readers select the marked rows. This upgrade marks the
existing rows by the same rule.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer_value", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_current", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_customer_value_current", ["is_current", "customer_id"], unique=False)
    value = sa.table(
        "customer_value", sa.column("id"), sa.column("customer_id"), sa.column("computed_at"),
        sa.column("window_end"), sa.column("is_current", sa.Boolean()),
    )  # fmt: skip
    order = (sa.func.coalesce(value.c.window_end, value.c.computed_at).desc(), value.c.computed_at.desc(),
             value.c.id.desc())  # fmt: skip
    ranked = sa.select(
        value.c.id, sa.func.row_number().over(partition_by=value.c.customer_id, order_by=order).label("rn")
    ).subquery("ranked")
    best = sa.select(ranked.c.id).where(ranked.c.rn == 1)
    op.execute(sa.update(value).where(value.c.id.in_(best)).values(is_current=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_value", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_value_current")
        batch_op.drop_column("is_current")
