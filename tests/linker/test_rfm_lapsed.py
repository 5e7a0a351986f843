"""RFM among the active buyers; lapsed customers in Lost / Hibernating / At Risk, consistent with P(alive)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linker.errors import ValueConfigError
from linker.value.orders import OrderRecord
from linker.value.rfm import LAPSED_SEGMENTS, RfmConfig, RfmInput, lapse, rfm_scores
from linker.value.snapshot import ValueConfig, value_snapshot
from tests.linker.test_clv_fit import END, history

CONFIG = RfmConfig(min_p_alive=0.2, lost_after_days=730)

ACTIVE = {
    1: RfmInput(recency_days=5, frequency=10, monetary=1000.0),
    2: RfmInput(recency_days=50, frequency=5, monetary=500.0),
    3: RfmInput(recency_days=100, frequency=3, monetary=300.0),
    4: RfmInput(recency_days=200, frequency=2, monetary=200.0),
    5: RfmInput(recency_days=300, frequency=1, monetary=100.0),
}


def test_lapsed_customers_get_their_own_segments_and_do_not_move_the_quintiles() -> None:
    inputs = ACTIVE | {
        6: RfmInput(recency_days=400, frequency=0, monetary=0.0),  # silent in the window
        7: RfmInput(recency_days=800, frequency=0, monetary=0.0),  # silent since before the previous window
        8: RfmInput(recency_days=10, frequency=29, monetary=2900.0, p_alive=1e-8),  # the model says: gone
    }
    scores = rfm_scores(inputs, CONFIG)
    # the five active buyers score exactly as without the lapsed ones: 555 ... 111
    assert {c: scores[c] for c in ACTIVE} == rfm_scores(ACTIVE, CONFIG)
    assert [scores[c].code for c in ACTIVE] == ["555", "444", "333", "222", "111"]
    assert scores[1].segment == "Champions" and scores[1].active
    # placed against the active buyers: 400 days is worse than all five -> R 1; no purchase -> F 1, M 1
    assert (scores[6].code, scores[6].segment, scores[6].active) == ("111", "Hibernating", False)
    assert scores[7].segment == "Lost" and "mehr als 730 Tage" in (scores[7].reason or "")
    # 10 days beats 4 of 5 (p = 4/5 -> 5), 29 purchases beat all five: a "Champion" by the grid ...
    assert scores[8].code == "555"
    # ... but P(alive) ~ 0 makes it At Risk, and the reason says why
    assert scores[8].segment == "At Risk" and not scores[8].active
    assert scores[8].reason == "kauft im Fenster, aber P(aktiv) 1e-06% (Schwelle 20%)"


def test_mostly_lapsed_population_no_longer_collapses_the_scores() -> None:
    """7 of 10 silent: they used to tie at F = M = 0 and push the 3 buyers into 4 and 5 only."""
    silent = {c: RfmInput(recency_days=400 + c, frequency=0, monetary=0.0) for c in range(10, 17)}
    buyers = {1: RfmInput(30, 1, 50.0), 2: RfmInput(60, 2, 150.0), 3: RfmInput(90, 4, 400.0)}
    scores = rfm_scores(silent | buyers, CONFIG)
    # 3 distinct buyers: p = 0.5/3, 1.5/3, 2.5/3 -> 1, 3, 5 on every axis
    assert [scores[c].f for c in (1, 2, 3)] == [1, 3, 5]
    assert [scores[c].m for c in (1, 2, 3)] == [1, 3, 5]
    assert [scores[c].r for c in (1, 2, 3)] == [5, 3, 1]
    assert {scores[c].segment for c in silent} == {"Hibernating"}
    assert all(scores[c].r == 1 for c in silent)  # nobody silent for 400 days is "recent" any more


def test_p_alive_only_demotes() -> None:
    # a one-time buyer is alive by BG/NBD's assumption; recency still makes them Lost
    assert lapse(RfmInput(800, 0, 0.0, p_alive=1.0), CONFIG) == (
        "Lost",
        "seit 800 Tagen ohne Kauf (mehr als 730 Tage: verloren), P(aktiv) 100%",
    )
    # silent for a short while, but the model says gone
    assert lapse(RfmInput(400, 0, 0.0, p_alive=0.1), CONFIG) == (
        "Lost",
        "seit 400 Tagen ohne Kauf, P(aktiv) 10% (Schwelle 20%)",
    )
    assert lapse(RfmInput(400, 0, 0.0, p_alive=0.9), CONFIG) == (
        "Hibernating",
        "seit 400 Tagen ohne Kauf im Fenster, P(aktiv) 90%",
    )
    assert lapse(RfmInput(400, 0, 0.0), CONFIG) == ("Hibernating", "seit 400 Tagen ohne Kauf im Fenster")


def test_threshold_edges() -> None:
    assert lapse(RfmInput(30, 2, 80.0, p_alive=0.2), CONFIG) is None  # exactly at the threshold: active
    assert lapse(RfmInput(30, 2, 80.0, p_alive=0.19), CONFIG) is not None
    assert lapse(RfmInput(730, 0, 0.0), CONFIG) == ("Hibernating", "seit 730 Tagen ohne Kauf im Fenster")
    assert lapse(RfmInput(731, 0, 0.0), CONFIG) == ("Lost", "seit 731 Tagen ohne Kauf (mehr als 730 Tage: verloren)")
    assert lapse(RfmInput(5000, 0, 0.0), RfmConfig(lost_after_days=None)) == (
        "Hibernating",
        "seit 5000 Tagen ohne Kauf im Fenster",
    )


def test_nobody_active_scores_zero() -> None:
    scores = rfm_scores({1: RfmInput(400, 0, 0.0), 2: RfmInput(900, 0, 0.0)}, CONFIG)
    assert [(s.code, s.segment) for s in scores.values()] == [("000", "Hibernating"), ("000", "Lost")]


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


def test_snapshot_lost_means_silent_since_before_the_previous_window() -> None:
    orders = [
        OrderRecord(1, d(2024, 6, 1), 100.0, 60.0),
        OrderRecord(2, d(2024, 3, 1), 50.0, 30.0),
        OrderRecord(3, d(2023, 5, 1), 80.0, 40.0),  # in the previous window [2023-01-01, 2024-01-01)
        OrderRecord(4, d(2022, 5, 1), 80.0, 40.0),  # before it
    ]
    snap = value_snapshot([1, 2, 3, 4, 5], orders, [], d(2025, 1, 1))
    assert snap.clv_model == "simple"  # no P(alive): recency alone decides
    seg = {c: (r.rfm.segment if r.rfm else None) for c, r in snap.results.items()}
    assert seg[3] == "Hibernating" and seg[4] == "Lost" and seg[5] is None
    assert snap.results[1].rfm is not None and snap.results[1].rfm.active
    assert sum(snap.segments.values()) == 4


def test_snapshot_segments_agree_with_p_alive() -> None:
    orders = history()
    snap = value_snapshot({o.customer_id for o in orders}, orders, [], END)
    assert snap.clv_fit is not None
    scored = [r for r in snap.results.values() if r.rfm is not None]
    lapsed = [r for r in scored if r.rfm is not None and not r.rfm.active]
    assert lapsed and all(r.rfm is not None and r.rfm.segment in LAPSED_SEGMENTS for r in lapsed)
    doubtful = [r for r in scored if r.p_alive is not None and r.p_alive < 0.2]
    assert doubtful and all(r.rfm is not None and not r.rfm.active for r in doubtful)


def test_min_p_alive_is_validated() -> None:
    with pytest.raises(ValueConfigError, match="between 0 and 1"):
        value_snapshot([1], [], [], END, ValueConfig(rfm=RfmConfig(min_p_alive=20)))
