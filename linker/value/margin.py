"""Revenue, cost and contribution margin per customer within a window.

Contribution margin (Deckungsbeitrag I) = net revenue - cost of goods and service. Refunds are
orders with negative revenue (and usually negative or zero cost, when goods come back to stock);
they are simply summed, so a customer who returned more than they bought has negative revenue
and is ranked last by ABC, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from linker.value.orders import OrderRecord, Window


@dataclass(frozen=True, slots=True)
class CustomerTotals:
    """One customer's order totals inside the window."""

    revenue: float = 0.0
    cost: float = 0.0
    purchases: int = 0
    """Orders with positive revenue (refunds are not purchases)."""
    refunds: int = 0
    last_purchase_at: datetime | None = None
    """The latest positive order before the window end (may lie before the window start)."""

    @property
    def margin(self) -> float:
        return self.revenue - self.cost


def customer_totals(
    customer_ids: Iterable[int], orders: Sequence[OrderRecord], window: Window
) -> dict[int, CustomerTotals]:
    """Totals for every customer in ``customer_ids``; customers without orders get zeros.

    ``last_purchase_at`` looks at all history before ``window.end`` (recency is not limited to the
    window); revenue, cost and purchase counts only at orders inside the window.
    """
    acc: dict[int, list[float]] = {cid: [0.0, 0.0, 0.0, 0.0] for cid in customer_ids}
    last: dict[int, datetime] = {}
    for order in orders:
        if order.customer_id not in acc or order.ordered_at >= window.end:
            continue
        if order.revenue > 0:
            prev = last.get(order.customer_id)
            if prev is None or order.ordered_at > prev:
                last[order.customer_id] = order.ordered_at
        if order.ordered_at < window.start:
            continue
        row = acc[order.customer_id]
        row[0] += order.revenue
        row[1] += order.cost
        if order.revenue > 0:
            row[2] += 1
        elif order.revenue < 0:
            row[3] += 1
    return {
        cid: CustomerTotals(
            revenue=round(r[0], 2),
            cost=round(r[1], 2),
            purchases=int(r[2]),
            refunds=int(r[3]),
            last_purchase_at=last.get(cid),
        )
        for cid, r in acc.items()
    }


def contribution_margins(totals: dict[int, CustomerTotals]) -> dict[int, float]:
    """customer -> contribution margin (revenue - cost), rounded to cents."""
    return {cid: round(t.margin, 2) for cid, t in totals.items()}
