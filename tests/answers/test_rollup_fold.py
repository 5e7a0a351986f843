"""The dashboard's topics over its whole span are its weekly topic rows added up (one query for both)."""

from __future__ import annotations

from resonanz.answers.rollup import _fold_buckets


def test_fold_buckets_by_hand() -> None:
    rows = [
        {"bucket": 0, "topic": "Lieferung", "posts": 2, "w_sum": 1.5, "a_posts": None},
        {"bucket": 3, "topic": "Lieferung", "posts": 3, "w_sum": 2.0, "a_posts": 1},
        {"bucket": 1, "topic": "Preis", "posts": 1, "w_sum": 0.5, "a_posts": 0},
    ]
    assert sorted(_fold_buckets(rows), key=lambda r: r["topic"]) == [
        {"bucket": 0, "topic": "Lieferung", "posts": 5, "w_sum": 3.5, "a_posts": 1},
        {"bucket": 0, "topic": "Preis", "posts": 1, "w_sum": 0.5, "a_posts": 0},
    ]
    assert rows[0]["posts"] == 2  # the input is left as it was
    assert _fold_buckets([]) == []
