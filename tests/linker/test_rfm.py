"""RFM quintiles and segments, hand-computed."""

from __future__ import annotations

import pytest

from linker.value.rfm import SEGMENTS, RfmInput, quintile_scores, rfm_scores, segment


def test_five_distinct_values_score_one_to_five() -> None:
    assert quintile_scores({1: 10, 2: 20, 3: 30, 4: 40, 5: 50}) == {1: 1, 2: 2, 3: 3, 4: 4, 5: 5}


def test_ten_distinct_values_two_per_quintile() -> None:
    scores = quintile_scores({i: float(i) for i in range(10)})
    assert [scores[i] for i in range(10)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_share_a_score() -> None:
    # values 1, 2, 2, 3: p = 0.5/4, (1 + 1)/4, (1 + 1)/4, (3 + 0.5)/4 -> 1, 3, 3, 5
    assert quintile_scores({1: 1, 2: 2, 3: 2, 4: 3}) == {1: 1, 2: 3, 3: 3, 4: 5}


def test_single_and_all_tied_score_three() -> None:
    assert quintile_scores({1: 100}) == {1: 3}
    assert quintile_scores({1: 5, 2: 5, 3: 5, 4: 5}) == {1: 3, 2: 3, 3: 3, 4: 3}
    assert quintile_scores({}) == {}


def test_recency_fewer_days_is_better() -> None:
    # n = 2: the recent customer has one worse -> 1 + floor(5 * 1.5 / 2) = 4; the other 1 + floor(1.25) = 2
    assert quintile_scores({1: 1, 2: 100}, higher_is_better=False) == {1: 4, 2: 2}


@pytest.mark.parametrize(
    ("r", "f", "m", "name"),
    [
        (5, 5, 5, "Champions"),
        (1, 1, 1, "Lost"),
        (5, 1, 1, "New"),
        (4, 1, 1, "Promising"),
        (1, 5, 5, "Can't Lose Them"),
        (3, 3, 3, "Need Attention"),
        (2, 3, 3, "At Risk"),
        (2, 1, 2, "Hibernating"),  # FM = (1 + 2 + 1) // 2 = 2
        (4, 3, 4, "Loyal"),  # FM = 4
        (5, 2, 3, "Potential Loyalist"),  # FM = 3
        (3, 1, 2, "About to Sleep"),
    ],
)
def test_segments(r: int, f: int, m: int, name: str) -> None:
    assert segment(r, f, m) == name


def test_every_segment_is_reachable_and_every_cell_named() -> None:
    names = {segment(r, f, f) for r in range(1, 6) for f in range(1, 6)}
    assert names == set(SEGMENTS)


def test_segment_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="outside 1..5"):
        segment(0, 1, 1)


def test_rfm_scores_end_to_end() -> None:
    inputs = {
        1: RfmInput(recency_days=5, frequency=10, monetary=1000.0),
        2: RfmInput(recency_days=50, frequency=5, monetary=500.0),
        3: RfmInput(recency_days=100, frequency=3, monetary=300.0),
        4: RfmInput(recency_days=200, frequency=2, monetary=200.0),
        5: RfmInput(recency_days=300, frequency=1, monetary=-50.0),  # refunds exceed purchases
    }
    scores = rfm_scores(inputs)
    assert scores[1].code == "555" and scores[1].segment == "Champions" and scores[1].total == 15
    assert scores[3].code == "333" and scores[3].segment == "Need Attention"
    assert scores[5].code == "111" and scores[5].segment == "Lost"
