"""Orders as plain data, and the analysis window they are counted in.

A window is half-open, ``[start, end)``: an order placed exactly at ``end`` belongs to the next
window. ``as_of`` is the (exclusive) end; the default window reaches back a whole number of
calendar months, so "the last 12 months as of 2025-01-01" is ``[2024-01-01, 2025-01-01)``.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from linker.errors import ValueConfigError


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order line as the valuation sees it. ``revenue`` is negative for refunds."""

    customer_id: int
    ordered_at: datetime
    revenue: float
    cost: float = 0.0
    order_id: str | None = None

    @property
    def margin(self) -> float:
        """Contribution margin of this order: revenue minus cost of goods and service."""
        return self.revenue - self.cost


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window ``[start, end)``."""

    start: datetime
    end: datetime

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end


def months_before(when: datetime, months: int) -> datetime:
    """``when`` moved back by whole calendar months; the day is clamped (31 March - 1 month = 28/29 Feb)."""
    if months < 0:
        raise ValueConfigError(f"window_months must be >= 0, got {months}; set RESONANZ_VALUE__WINDOW_MONTHS")
    total = when.year * 12 + (when.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def window_ending(as_of: datetime, months: int) -> Window:
    """The ``months``-long window that ends (exclusively) at ``as_of``."""
    return Window(months_before(as_of, months), as_of)


def orders_in(orders: Iterable[OrderRecord], window: Window) -> list[OrderRecord]:
    return [o for o in orders if window.contains(o.ordered_at)]


def orders_before(orders: Iterable[OrderRecord], end: datetime) -> list[OrderRecord]:
    return [o for o in orders if o.ordered_at < end]


def by_customer(orders: Sequence[OrderRecord]) -> dict[int, list[OrderRecord]]:
    """Orders grouped per customer, each list sorted by time then order id (deterministic)."""
    groups: dict[int, list[OrderRecord]] = {}
    for order in orders:
        groups.setdefault(order.customer_id, []).append(order)
    for group in groups.values():
        group.sort(key=lambda o: (o.ordered_at, o.order_id or ""))
    return groups
