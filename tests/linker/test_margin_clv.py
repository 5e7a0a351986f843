"""Contribution margin, windows and CLV, hand-computed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linker.errors import ClvModelError
from linker.value.clv import ClvConfig, estimate_retention, probabilistic_clvs, simple_clv, simple_clvs
from linker.value.margin import contribution_margins, customer_totals
from linker.value.orders import OrderRecord, Window, months_before, window_ending


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


def test_months_before_clamps_day() -> None:
    assert months_before(d(2025, 3, 31), 1) == d(2025, 2, 28)
    assert months_before(d(2024, 3, 31), 1) == d(2024, 2, 29)
    assert months_before(d(2025, 1, 15), 12) == d(2024, 1, 15)
    assert window_ending(d(2025, 1, 1), 12) == Window(d(2024, 1, 1), d(2025, 1, 1))


def test_totals_with_refund_and_window_edges() -> None:
    window = Window(d(2024, 1, 1), d(2025, 1, 1))
    orders = [
        OrderRecord(1, d(2023, 6, 1), 50.0, 20.0, "o0"),  # before the window: only recency
        OrderRecord(1, d(2024, 5, 1), 100.0, 60.0, "o1"),
        OrderRecord(1, d(2024, 6, 1), -20.0, -12.0, "o2"),  # refund: goods back to stock
        OrderRecord(3, d(2024, 1, 1), 10.0, 4.0, "o3"),  # exactly at the start: inside
        OrderRecord(3, d(2025, 1, 1), 30.0, 10.0, "o4"),  # exactly at the end: outside
        OrderRecord(9, d(2024, 5, 1), 99.0, 0.0, "o5"),  # not one of ours
    ]
    totals = customer_totals([1, 2, 3], orders, window)
    assert set(totals) == {1, 2, 3}
    t1 = totals[1]
    assert (t1.revenue, t1.cost, t1.margin, t1.purchases, t1.refunds) == (80.0, 48.0, 32.0, 1, 1)
    assert t1.last_purchase_at == d(2024, 5, 1)
    assert totals[2].revenue == 0.0 and totals[2].last_purchase_at is None
    assert totals[3].revenue == 10.0 and totals[3].last_purchase_at == d(2024, 1, 1)
    assert contribution_margins(totals) == {1: 32.0, 2: 0.0, 3: 6.0}


def test_refunds_exceeding_purchases_give_negative_margin() -> None:
    window = Window(d(2024, 1, 1), d(2025, 1, 1))
    orders = [OrderRecord(1, d(2024, 2, 1), 40.0, 30.0), OrderRecord(1, d(2024, 3, 1), -60.0, -30.0)]
    totals = customer_totals([1], orders, window)
    assert totals[1].revenue == -20.0 and totals[1].margin == -20.0


def test_simple_clv_hand_computed() -> None:
    # 100/1.1 + 50/1.21 + 25/1.331 = 90.9091 + 41.3223 + 18.7829
    assert simple_clv(100.0, 0.5, 0.1, 3) == pytest.approx(151.0143, abs=1e-4)
    assert simple_clv(0.0, 0.5, 0.1, 3) == 0.0
    assert simple_clv(-10.0, 1.0, 0.0, 2) == -20.0


def test_simple_clvs_scale_window_to_a_year() -> None:
    window = Window(d(2024, 7, 1), d(2025, 1, 1))  # six months
    values = simple_clvs({1: 50.0, 2: 0.0}, window, 1.0, ClvConfig(discount_rate=0.0, horizon_years=1))
    assert values == {1: 100.0, 2: 0.0}


def test_retention_estimate() -> None:
    window = Window(d(2024, 1, 1), d(2025, 1, 1))
    orders = [
        OrderRecord(1, d(2023, 3, 1), 10.0),
        OrderRecord(2, d(2023, 4, 1), 10.0),
        OrderRecord(1, d(2024, 3, 1), 10.0),
        OrderRecord(3, d(2024, 3, 1), 10.0),
        OrderRecord(2, d(2024, 4, 1), -10.0),  # a refund is no purchase
    ]
    assert estimate_retention(orders, window) == 0.5
    assert estimate_retention(orders[2:], window) is None
    assert estimate_retention([], window) is None


def test_probabilistic_needs_repeat_customers() -> None:
    orders = [OrderRecord(1, d(2024, 1, 1), 10.0), OrderRecord(1, d(2024, 2, 1), 10.0)]
    with pytest.raises(ClvModelError, match="only 1 repeat customers"):
        probabilistic_clvs(orders, d(2025, 1, 1), ClvConfig(min_repeat_customers=20))
    with pytest.raises(ClvModelError, match="no purchases"):
        probabilistic_clvs([], d(2025, 1, 1), ClvConfig())


def test_probabilistic_fits_on_a_real_history() -> None:
    import random

    rng = random.Random(7)
    orders: list[OrderRecord] = []
    for cid in range(1, 201):
        start = d(2023, 1, 1) + timedelta(days=rng.randrange(0, 500))
        for k in range(1 + int(rng.expovariate(0.4))):
            when = start + timedelta(days=k * rng.randrange(10, 90))
            if when < d(2025, 1, 1):
                revenue = round(rng.uniform(20, 200), 2)
                orders.append(OrderRecord(cid, when, revenue, round(revenue * 0.6, 2), f"o{cid}-{k}"))
    clv = probabilistic_clvs(orders, d(2025, 1, 1), ClvConfig(min_repeat_customers=20))
    assert len(clv) == len({o.customer_id for o in orders})
    # margin ratio 40 %: every CLV is a non-negative margin figure, and repeat buyers are worth more
    assert all(v >= 0 for v in clv.values())
    assert max(clv.values()) > 0


def test_probabilistic_refuses_a_history_without_dropout() -> None:
    """Purchases spread uniformly over the years show no churn; BG/NBD then degenerates (a, b -> 0)."""
    import random

    rng = random.Random(1)
    end = d(2025, 1, 1)
    orders = [
        OrderRecord(c, end - timedelta(days=rng.randrange(1, 900)), round(rng.lognormvariate(4, 1), 2))
        for c in range(1, 1001)
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5]))
    ]
    with pytest.raises(ClvModelError, match="no customer dropout"):
        probabilistic_clvs(orders, end, ClvConfig())
