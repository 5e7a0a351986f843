"""First-purchase cohorts: of the customers who first bought in a month, how many bought again, and for how much.

A customer's **cohort** is the calendar month of their first purchase (first order with positive revenue;
a refund is no purchase). For each cohort and each month since (0 = the first-purchase month itself):

* ``customers``: cohort customers with at least one purchase in that month; ``share`` = that / cohort size.
  Month 0 is 100 % by construction (everybody bought then), which is why the triangle's first column is
  the base and not a finding;
* ``revenue``: the cohort's net revenue in that month (refunds subtract); ``revenue_share`` = that / the
  cohort's month-0 revenue (the *revenue retention*: 0.5 means the cohort spends half of what it spent in
  its first month; it can exceed 1 when the survivors spend more).

Only **complete** months are counted: with ``as_of`` (exclusive end of the analysis, e.g. the end of
30 June) the last month is the one before the month that contains ``as_of``; orders after that are
ignored. So a cohort of the last complete month shows month 0 only, the one before months 0 and 1, and so
on: the retention *triangle*. Trade-off: a run in the middle of a month ignores the month so far, rather
than comparing a half month with whole ones (which would read as a fall in retention).

Months are the calendar months of the timestamps as given; the application passes UTC, so an order at
00:30 German time on the 1st counts in the month before. The bottom row (:attr:`CohortTable.average`)
pools all cohorts observed at each month since, weighted by cohort size (customers) and by month-0
revenue (revenue), so a large cohort counts more than a small one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from linker.errors import ValueConfigError
from linker.value.orders import OrderRecord


def month_index(when: datetime | date) -> int:
    """Months since year 0: consecutive months differ by 1 (``2026-01`` - ``2025-12`` = 1)."""
    return when.year * 12 + when.month - 1


def month_start(index: int) -> date:
    """The first day of the month ``index`` (:func:`month_index`)."""
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


@dataclass(frozen=True, slots=True)
class CohortCell:
    months_since: int
    customers: int
    """Cohort customers with a purchase in this month."""
    share: float
    """``customers`` / cohort size."""
    revenue: float
    """The cohort's net revenue in this month (refunds subtract)."""
    revenue_share: float | None
    """``revenue`` / the cohort's month-0 revenue; None when that is not positive."""


@dataclass(frozen=True, slots=True)
class Cohort:
    month: date
    """First day of the first-purchase month."""
    customers: int
    cells: tuple[CohortCell, ...]
    """Months since 0, 1, ... up to the last complete month."""

    @property
    def revenue(self) -> float:
        """Month-0 revenue, the base of the revenue retention."""
        return self.cells[0].revenue if self.cells else 0.0

    def cell(self, months_since: int) -> CohortCell | None:
        return self.cells[months_since] if 0 <= months_since < len(self.cells) else None


@dataclass(frozen=True, slots=True)
class CohortTable:
    as_of: datetime
    last_month: date
    """First day of the last complete month counted."""
    cohorts: tuple[Cohort, ...]
    """Oldest first; months without a first purchase are left out."""
    average: tuple[CohortCell, ...]
    """Per month since, all cohorts observed that long, pooled (see the module docstring)."""

    @property
    def customers(self) -> int:
        return sum(c.customers for c in self.cohorts)


def first_purchases(orders: Iterable[OrderRecord]) -> dict[int, datetime]:
    """Each customer's first order with positive revenue."""
    first: dict[int, datetime] = {}
    for o in orders:
        if o.revenue > 0:
            seen = first.get(o.customer_id)
            if seen is None or o.ordered_at < seen:
                first[o.customer_id] = o.ordered_at
    return first


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def cohort_table(
    orders: Iterable[OrderRecord],
    as_of: datetime,
    months: int = 12,
    *,
    first: Mapping[int, datetime] | None = None,
) -> CohortTable:
    """The ``months`` most recent complete first-purchase cohorts and their retention, as of ``as_of``.

    ``first`` (customer -> first purchase) may be passed when ``orders`` hold only the cohort months
    (the application reads the first purchases with one aggregate instead of every older order); without
    it the first purchases are taken from ``orders``, which then must reach back to each customer's first.
    Example: customer 1 buys in January (100) and March (50), customer 2 in January (200); as of 1 April
    the January cohort has 2 customers, month 2 share 0.5 and revenue share 50 / 300.
    """
    if months < 1:
        raise ValueConfigError(f"a cohort table needs at least 1 month, got {months}; use --months 12 for a year")
    items = [o for o in orders if o.ordered_at < as_of]
    starts = first if first is not None else first_purchases(items)
    last = month_index(as_of) - 1
    oldest = last - months + 1
    cohort_of = {cid: m for cid, at in starts.items() if oldest <= (m := month_index(at)) <= last}
    buyers: dict[tuple[int, int], set[int]] = defaultdict(set)
    revenue: dict[tuple[int, int], float] = defaultdict(float)
    for o in items:
        c = cohort_of.get(o.customer_id)
        m = month_index(o.ordered_at)
        if c is None or not c <= m <= last:
            continue
        revenue[(c, m - c)] += o.revenue
        if o.revenue > 0:
            buyers[(c, m - c)].add(o.customer_id)
    sizes: dict[int, int] = defaultdict(int)
    for c in cohort_of.values():
        sizes[c] += 1
    cohorts = []
    for c in sorted(sizes):
        size, base = sizes[c], revenue[(c, 0)]
        counts = [(len(buyers[(c, k)]), revenue[(c, k)]) for k in range(last - c + 1)]
        cells = tuple(CohortCell(k, n, n / size, rev, _ratio(rev, base)) for k, (n, rev) in enumerate(counts))
        cohorts.append(Cohort(month_start(c), size, cells))
    average = []
    for k in range(max((len(c.cells) for c in cohorts), default=0)):
        seen = [c for c in cohorts if len(c.cells) > k]
        n, active = sum(c.customers for c in seen), sum(c.cells[k].customers for c in seen)
        rev, base = sum(c.cells[k].revenue for c in seen), sum(c.revenue for c in seen)
        average.append(CohortCell(k, active, active / n, rev, _ratio(rev, base)))
    return CohortTable(as_of, month_start(last), tuple(cohorts), tuple(average))
