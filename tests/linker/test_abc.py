"""ABC classes and the Pareto share, with hand-computed boundaries."""

from __future__ import annotations

import pytest

from linker.errors import ValueConfigError
from linker.value.abc import AbcConfig, abc_classes, buyers, class_summary, pareto_curve, top_share

HEAD = AbcConfig(method="headcount")


def test_cumulative_basic_boundaries() -> None:
    # total 100; cumulative before each customer: 0, 50, 80, 95
    # 80 is not < 80 -> B; 95 is not < 95 -> C
    assert abc_classes({1: 50, 2: 30, 3: 15, 4: 5}) == {1: "A", 2: "A", 3: "B", 4: "C"}


def test_customer_crossing_80_percent_is_a() -> None:
    # customer 2 takes the cumulative share from 70 % to 90 %: it crosses 80 % and stays A
    assert abc_classes({1: 70, 2: 20, 3: 10}) == {1: "A", 2: "A", 3: "B"}


def test_exact_boundaries_with_decimal_amounts() -> None:
    # total 10.0: the second customer starts at exactly 80 %, the third at exactly 95 %
    assert abc_classes({1: 8.0, 2: 1.5, 3: 0.5}) == {1: "A", 2: "B", 3: "C"}
    # float sums that are not exact in binary (0.1 + 0.7 = 0.7999999999999999) are compared in cents
    # total 1.00; before: 0, 0.70, 0.80, 0.90 -> the third starts at exactly 80 %
    assert abc_classes({1: 0.7, 2: 0.1, 3: 0.1, 4: 0.1}) == {1: "A", 2: "A", 3: "B", 4: "B"}


def test_ties_broken_by_customer_id() -> None:
    # ranking 2, 7 (tie at 45, lower id first), 1, 4 (tie at 5); before: 0, 45, 90, 95
    assert abc_classes({7: 45, 2: 45, 4: 5, 1: 5}) == {2: "A", 7: "A", 1: "B", 4: "C"}


def test_zero_and_negative_customers_are_c_and_do_not_count() -> None:
    # total of positive amounts = 100; the refund-heavy customer (-20) does not shrink it
    assert abc_classes({1: 100, 2: 0, 3: -20}) == {1: "A", 2: "C", 3: "C"}
    assert abc_classes({1: 0, 2: 0}) == {1: "C", 2: "C"}


def test_empty_and_single() -> None:
    assert abc_classes({}) == {}
    assert abc_classes({1: 10}) == {1: "A"}
    assert abc_classes({1: 0}) == {1: "C"}
    assert abc_classes({1: 10}, HEAD) == {1: "A"}


def test_headcount_ten_customers() -> None:
    amounts = {i: float(11 - i) for i in range(1, 11)}  # 1 best ... 10 worst
    classes = abc_classes(amounts, HEAD)
    assert [classes[i] for i in range(1, 11)] == ["A", "A", "B", "B", "B", "B", "B", "B", "C", "C"]


def test_headcount_rounding_favours_a() -> None:
    # 7 customers: ceil(1.4) = 2 A, floor(1.4) = 1 C
    classes = abc_classes({i: float(10 - i) for i in range(1, 8)}, HEAD)
    assert [classes[i] for i in range(1, 8)] == ["A", "A", "B", "B", "B", "B", "C"]
    # 3 customers: 1 A, no C
    assert abc_classes({1: 3, 2: 2, 3: 1}, HEAD) == {1: "A", 2: "B", 3: "B"}


def test_headcount_ranks_only_positive_customers() -> None:
    # 5 positive customers -> 1 A, 1 C; the zero customer is C as well
    classes = abc_classes({1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 0}, HEAD)
    assert classes == {1: "A", 2: "B", 3: "B", 4: "B", 5: "C", 6: "C"}


def test_headcount_ties_by_id() -> None:
    classes = abc_classes({3: 10, 1: 10, 2: 10, 4: 10, 5: 10}, HEAD)
    assert classes == {1: "A", 2: "B", 3: "B", 4: "B", 5: "C"}


def test_invalid_config_says_what_to_fix() -> None:
    with pytest.raises(ValueConfigError, match="ABC_A_SHARE"):
        abc_classes({1: 1}, AbcConfig(a_share=0.9, b_share=0.8))
    with pytest.raises(ValueConfigError, match="cumulative, headcount"):
        abc_classes({1: 1}, AbcConfig(method="xyz"))


def test_top_share_whole_and_interpolated() -> None:
    # 5 customers: top 20 % = the best one = 50 of 100
    assert top_share({1: 50, 2: 30, 3: 15, 4: 5, 5: 0}) == pytest.approx(0.5)
    # 7 customers: top 20 % = 1.4 customers = 40 + 0.4 * 20 = 48 of 100
    assert top_share({1: 40, 2: 20, 3: 10, 4: 10, 5: 10, 6: 5, 7: 5}) == pytest.approx(0.48)
    # one customer: no concentration; the curve is linear within a customer, so 20 % hold 20 %
    assert top_share({1: 10}) == pytest.approx(0.2)
    assert top_share({}) is None
    assert top_share({1: 0, 2: -5}) is None


def test_pareto_curve_points() -> None:
    assert pareto_curve({2: 1, 1: 3}) == [(0.0, 0.0), (0.5, 0.75), (1.0, 1.0)]
    assert pareto_curve({}) == [(0.0, 0.0)]


def test_class_summary() -> None:
    amounts = {1: 50.0, 2: 30.0, 3: 15.0, 4: 5.0}
    summary = class_summary(amounts, abc_classes(amounts))
    assert summary["A"] == {"customers": 2.0, "amount": 80.0, "share": pytest.approx(0.8)}
    assert summary["C"]["share"] == pytest.approx(0.05)


def test_top_share_states_its_base() -> None:
    amounts = {1: 50.0, 2: 30.0, 3: 15.0, 4: 5.0, 5: 0.0, 6: -10.0}
    # all 6 customers: 20 % = 1.2 customers = 50 + 0.2 * 30 = 56 of 100
    assert top_share(amounts) == pytest.approx(0.56) == top_share(amounts, base="customers")
    # the 4 buyers: 20 % = 0.8 customers = 0.8 * 50 = 40 of 100 - the head-count ABC population
    assert top_share(amounts, base="buyers") == pytest.approx(0.40)
    assert buyers(amounts) == {1: 50.0, 2: 30.0, 3: 15.0, 4: 5.0}
    assert abc_classes(amounts, HEAD)[1] == "A" and sum(c == "A" for c in abc_classes(amounts, HEAD).values()) == 1
    assert pareto_curve({1: 3, 2: 1, 3: 0}, base="buyers") == [(0.0, 0.0), (0.5, 0.75), (1.0, 1.0)]
    with pytest.raises(ValueConfigError, match="customers, buyers"):
        top_share(amounts, base="everyone")


def test_snapshot_offers_both_pareto_bases() -> None:
    from datetime import UTC, datetime

    from linker.value.orders import OrderRecord
    from linker.value.snapshot import value_snapshot

    as_of = datetime(2025, 1, 1, tzinfo=UTC)
    orders = [
        OrderRecord(c, datetime(2024, 6, 1, tzinfo=UTC), amount) for c, amount in ((1, 50.0), (2, 30.0), (3, 20.0))
    ]
    snap = value_snapshot([1, 2, 3, 4, 5], orders, [], as_of)  # 4 and 5 bought nothing
    # all 5: the best one = 50 of 100; the 3 buyers: 0.6 customers = 0.6 * 50 = 30 of 100
    assert snap.pareto_top20 == pytest.approx(0.5) and snap.pareto_top20_buyers == pytest.approx(0.3)
    assert snap.n_buyers == 3
    assert snap.pareto_statement() == (
        "die besten 20 % aller 5 Kund:innen halten 50.0% (Umsatz); die besten 20 % der 3 Käufer:innen im Fenster 30.0%"
    )


def test_pareto_answer_names_both_bases() -> None:
    from resonanz.answers.pareto import combine

    voice = {"A": (2, 10.0, 1), "C": (6, 3.0, 4), "prospect": (2, 1.0, 2)}
    revenue = {"A": (2, 750.0, 2), "B": (2, 200.0, 2), "C": (6, 50.0, 1)}  # 5 of the C customers bought nothing
    result = combine(voice, revenue)
    a = result.row("A")
    assert (result.total_customers, result.total_buyers) == (10, 5)
    assert a.customer_share == pytest.approx(0.2) and a.buyer_share == pytest.approx(0.4)
    assert result.row("prospect").buyer_share is None
    assert result.verdict.startswith("A-Kunden sind 20 % aller 10 Kund:innen (40 % der 5 mit Umsatz)")
    assert result.to_dict()["total_buyers"] == 5
