"""Segment migration between two snapshots, with hand-counted matrices."""

from __future__ import annotations

import pytest

from linker.value.migration import ABC_ORDER, GONE, NEW, NONE, transition_matrix
from linker.value.migration import notable_moves as notable

BEFORE = {1: "A", 2: "A", 3: "A", 4: "B", 5: "C", 6: "C"}
AFTER = {1: "A", 2: "B", 3: "C", 4: "A", 5: "C", 7: "B"}
# 1 A->A, 2 A->B, 3 A->C, 4 B->A, 5 C->C, 6 C->gone, 7 new->B


def test_every_customer_is_counted_once_in_the_cell_of_both_states() -> None:
    m = transition_matrix(BEFORE, AFTER, ABC_ORDER, ranked=True)
    assert m.counts == {
        ("A", "A"): 1, ("A", "B"): 1, ("A", "C"): 1, ("B", "A"): 1, ("C", "C"): 1, ("C", GONE): 1, (NEW, "B"): 1,
    }  # fmt: skip
    assert m.total == 7 == len(set(BEFORE) | set(AFTER))
    assert (m.row_total("A"), m.row_total("C"), m.column_total("B"), m.column_total("C")) == (3, 2, 2, 2)
    assert (m.stayed, m.new, m.gone, m.changed) == (2, 1, 1, 3)
    assert (m.up, m.down) == (1, 2)  # B->A up; A->B and A->C down
    assert m.rows == ("A", "B", "C", NEW) and m.columns == ("A", "B", "C", GONE)


def test_share_is_of_the_before_state() -> None:
    m = transition_matrix(BEFORE, AFTER, ABC_ORDER, ranked=True)
    move = m.move("A", "B")
    assert (move.customers, move.of, move.direction) == (1, 3, -1)
    assert move.share == pytest.approx(1 / 3)
    assert m.move("B", "A").direction == 1 and m.move("C", GONE).direction == 0
    assert m.move("B", "C").share == 0.0 and m.move(GONE, "A").share is None  # no customer was "gone" before


def test_only_restricts_to_a_group_of_customers() -> None:
    # the complainers 2, 3 and 7: two of the three A customers fell, one complainer is new
    m = transition_matrix(BEFORE, AFTER, ABC_ORDER, only={2, 3, 7, 99}, ranked=True)
    assert m.counts == {("A", "B"): 1, ("A", "C"): 1, (NEW, "B"): 1}
    assert m.row_total("A") == 2 and m.total == 3
    # the states somebody has, before or after (B only after, C only after); all of them with all_states
    assert m.states == ("A", "B", "C")
    assert transition_matrix({1: "A"}, {1: "A"}, ABC_ORDER).states == ("A",)
    assert transition_matrix({1: "A"}, {1: "A"}, ABC_ORDER, all_states=True).states == ABC_ORDER


def test_missing_states_and_unranked_segments() -> None:
    before = {1: "Champions", 2: None, 3: "Lost"}
    after = {1: "At Risk", 2: "New", 3: None}
    m = transition_matrix(before, after, ("Champions", "New", "At Risk"))
    # states in the given order, unknown ones alphabetically, NONE last
    assert m.states == ("Champions", "New", "At Risk", "Lost", NONE)
    assert m.counts == {("Champions", "At Risk"): 1, (NONE, "New"): 1, ("Lost", NONE): 1}
    assert m.up == m.down == 0 and m.direction("Champions", "At Risk") == 0  # RFM segments have no rank


def test_notable_moves_largest_first_falls_before_rises_without_new() -> None:
    before = {1: "A", 2: "A", 3: "C", 4: "C", 5: "B", 6: "A"}
    after = {1: "B", 2: "B", 3: "B", 4: "B", 5: "C", 7: "A"}
    m = transition_matrix(before, after, ABC_ORDER, ranked=True)
    moves = notable(m)
    # A->B 2 (down) and C->B 2 (up) tie: the fall first; then B->C 1 (down), then A->gone 1
    assert [(x.before, x.after, x.customers) for x in moves] == [
        ("A", "B", 2), ("C", "B", 2), ("B", "C", 1), ("A", GONE, 1),
    ]  # fmt: skip
    assert [(x.before, x.after) for x in notable(m, min_customers=2)] == [("A", "B"), ("C", "B")]
    assert len(notable(m, limit=1)) == 1


def test_empty_snapshots() -> None:
    m = transition_matrix({}, {}, ABC_ORDER)
    assert m.total == 0 and m.rows == () and notable(m) == []
