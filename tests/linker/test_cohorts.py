"""First-purchase cohorts and their retention triangle, counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from linker.errors import ValueConfigError
from linker.value.cohorts import cohort_table, first_purchases, month_index, month_start
from linker.value.orders import OrderRecord

AS_OF = datetime(2025, 4, 1, tzinfo=UTC)  # end of 31 March: January, February, March complete


def o(cid: int, month: int, revenue: float, day: int = 10, year: int = 2025) -> OrderRecord:
    return OrderRecord(cid, datetime(year, month, day, tzinfo=UTC), revenue)


ORDERS = [
    # January cohort: 1 (100 in Jan, 50 in Mar), 2 (200 in Jan, a second Jan order of 20, refund -40 in Feb)
    o(1, 1, 100.0), o(1, 3, 50.0), o(2, 1, 200.0), o(2, 1, 20.0, day=20), o(2, 2, -40.0),
    # February cohort: 3 (a refund before any purchase is no first purchase), 4
    o(3, 1, -10.0), o(3, 2, 60.0), o(3, 3, 30.0), o(4, 2, 40.0),
    # bought first in December 2024: before the three cohorts asked for, never counted
    o(5, 12, 80.0, year=2024), o(5, 2, 80.0),
    # April is not complete as of 1 April 00:00 - and this order is after as_of anyway
    o(6, 4, 70.0, day=1),
]  # fmt: skip


def test_month_index_and_start() -> None:
    assert month_index(date(2026, 1, 31)) - month_index(datetime(2025, 12, 1, tzinfo=UTC)) == 1
    assert month_start(month_index(date(2025, 12, 24))) == date(2025, 12, 1)


def test_first_purchase_ignores_refunds() -> None:
    assert first_purchases(ORDERS)[3] == datetime(2025, 2, 10, tzinfo=UTC)
    assert 6 in first_purchases(ORDERS)  # before filtering by as_of


def test_triangle_shares_and_revenue_retention() -> None:
    table = cohort_table(ORDERS, AS_OF, months=3)
    assert table.last_month == date(2025, 3, 1)
    assert [(c.month, c.customers) for c in table.cohorts] == [(date(2025, 1, 1), 2), (date(2025, 2, 1), 2)]
    jan, feb = table.cohorts
    assert [len(c.cells) for c in table.cohorts] == [3, 2]  # the triangle: Jan sees months 0-2, Feb 0-1
    # January: month 0 both bought (320), month 1 nobody bought (a refund of -40), month 2 customer 1 (50)
    assert [(x.customers, x.share, x.revenue) for x in jan.cells] == [(2, 1.0, 320.0), (0, 0.0, -40.0), (1, 0.5, 50.0)]
    assert jan.cells[1].revenue_share == pytest.approx(-40 / 320)
    assert jan.cells[2].revenue_share == pytest.approx(50 / 320)
    # February: month 0 customers 3 and 4 (100), month 1 customer 3 again (30)
    assert [(x.customers, x.share, x.revenue) for x in feb.cells] == [(2, 1.0, 100.0), (1, 0.5, 30.0)]
    assert jan.cell(5) is None and feb.revenue == 100.0


def test_average_pools_the_cohorts_observed_that_long() -> None:
    avg = cohort_table(ORDERS, AS_OF, months=3).average
    # month 1: Jan 0 of 2 and Feb 1 of 2 -> 1 / 4; revenue (-40 + 30) / (320 + 100)
    assert [(x.customers, x.share) for x in avg] == [(4, 1.0), (1, 0.25), (1, 0.5)]
    assert avg[1].revenue_share == pytest.approx(-10 / 420)
    assert avg[2].revenue_share == pytest.approx(50 / 320)  # only January is observed two months on


def test_partial_month_and_given_first_purchases() -> None:
    # as of 15 April: April is still running and not counted; with months=1 only March is a cohort (empty)
    mid = datetime(2025, 4, 15, tzinfo=UTC)
    assert cohort_table(ORDERS, mid, months=1).cohorts == ()
    # first purchases from elsewhere (one aggregate), orders only of the cohort months: same result
    recent = [x for x in ORDERS if x.ordered_at >= datetime(2025, 1, 1, tzinfo=UTC)]
    given = cohort_table(recent, AS_OF, months=3, first=first_purchases(ORDERS))
    assert given == cohort_table(ORDERS, AS_OF, months=3)
    # without them, customer 5's December purchase is not seen and 5 looks like a February first-buyer
    assert [c.customers for c in cohort_table(recent, AS_OF, months=3).cohorts] == [2, 3]


def test_no_orders_and_bad_months() -> None:
    table = cohort_table([], AS_OF)
    assert table.cohorts == () and table.average == () and table.customers == 0
    with pytest.raises(ValueConfigError, match="--months 12"):
        cohort_table(ORDERS, AS_OF, months=0)
