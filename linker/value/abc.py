"""ABC (Pareto) classification of customers by revenue or contribution margin.

Two methods, both deterministic:

``cumulative`` (value-based, the default)
    Customers are ranked by amount, highest first, ties broken by customer id (ascending). Walking
    down the ranking, a customer is **A** while the cumulative amount *before* them is below
    ``a_share`` of the total, **B** while it is below ``b_share``, and **C** after that. So the
    customer whose amount *crosses* 80 % is still A, and a customer who *starts* exactly at 80 %
    is B. Example (total 100): 50, 30, 15, 5 -> cumulative before = 0, 50, 80, 95 -> A, A, B, C.

``headcount`` (the classic German ABC-Kundenanalyse by head-count)
    The best ``ceil(n * a_headcount)`` ranked customers are A, the worst ``floor(n * c_headcount)``
    are C, the rest B (A wins where they would overlap, e.g. a single customer is A). Rounding
    favours A: with 7 customers and 20 %, the best 2 are A and the worst 1 is C.

In both methods only customers with a positive amount are ranked; customers with zero or negative
amounts (no purchase in the window, or refunds exceeding purchases) are always C, and the total
is the sum of positive amounts. Amounts are compared in whole cents and shares as exact fractions
(``Fraction('0.8')``), so boundaries are exact, not subject to float rounding.

Trade-off: the cumulative method reflects concentration (one key account can be the only A), the
head-count method gives stable class sizes that are easy to staff (key-account managers per A).

"The top 20 %" needs a base, and both are offered (:data:`SHARE_BASES`): ``customers`` counts every
customer in the head-count, also those without a purchase in the window (how concentrated is
revenue across the whole customer base?); ``buyers`` counts only customers with a positive amount,
the population the head-count classes are cut from. With many silent customers the two differ a
lot (CDNOW, 12 months: 90.8 % vs 63.5 %), so a report must say which one it shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from linker.errors import ValueConfigError

METHODS = ("cumulative", "headcount")
SHARE_BASES = ("customers", "buyers")


@dataclass(frozen=True, slots=True)
class AbcConfig:
    method: str = "cumulative"
    a_share: float = 0.80
    b_share: float = 0.95
    a_headcount: float = 0.20
    c_headcount: float = 0.20

    def validate(self) -> None:
        if self.method not in METHODS:
            raise ValueConfigError(
                f"unknown ABC method {self.method!r}; use one of {', '.join(METHODS)} (RESONANZ_VALUE__ABC_METHOD)"
            )
        if not 0 < self.a_share <= self.b_share <= 1:
            raise ValueConfigError(
                f"ABC shares must satisfy 0 < a_share <= b_share <= 1, got a={self.a_share}, b={self.b_share}; "
                "fix RESONANZ_VALUE__ABC_A_SHARE / RESONANZ_VALUE__ABC_B_SHARE"
            )
        if not (0 <= self.a_headcount <= 1 and 0 <= self.c_headcount <= 1):
            raise ValueConfigError(
                "ABC head-count shares must lie between 0 and 1; fix RESONANZ_VALUE__ABC_A_HEADCOUNT / "
                "RESONANZ_VALUE__ABC_C_HEADCOUNT"
            )


def _cents(amount: float) -> int:
    return round(amount * 100)


def _exact(share: float) -> Fraction:
    """``0.8`` as exactly 4/5 (via its shortest decimal representation), not the binary float."""
    return Fraction(repr(float(share)))


def ranking(amounts: Mapping[int, float]) -> list[int]:
    """Customer ids by amount descending, ties by customer id ascending."""
    return sorted(amounts, key=lambda cid: (-_cents(amounts[cid]), cid))


def abc_classes(amounts: Mapping[int, float], config: AbcConfig | None = None) -> dict[int, str]:
    """customer id -> 'A' | 'B' | 'C' for every customer in ``amounts`` (see module docstring)."""
    config = config or AbcConfig()
    config.validate()
    result = {cid: "C" for cid in amounts}
    ranked = [cid for cid in ranking(amounts) if _cents(amounts[cid]) > 0]
    if not ranked:
        return result
    if config.method == "cumulative":
        total = sum(_cents(amounts[cid]) for cid in ranked)
        a, b = _exact(config.a_share), _exact(config.b_share)
        before = 0
        for cid in ranked:
            # before / total < share, in integers: before * den < num * total
            if before * a.denominator < a.numerator * total:
                result[cid] = "A"
            elif before * b.denominator < b.numerator * total:
                result[cid] = "B"
            before += _cents(amounts[cid])
        return result
    n = len(ranked)
    n_a = math.ceil(n * _exact(config.a_headcount))
    n_c = math.floor(n * _exact(config.c_headcount))
    for i, cid in enumerate(ranked):
        if i < n_a:
            result[cid] = "A"
        elif i >= n - n_c:
            result[cid] = "C"
        else:
            result[cid] = "B"
    return result


def buyers(amounts: Mapping[int, float]) -> dict[int, float]:
    """The customers with a positive amount (at least one cent), the ``buyers`` base."""
    return {cid: amount for cid, amount in amounts.items() if _cents(amount) > 0}


def _based(amounts: Mapping[int, float], base: str) -> Mapping[int, float]:
    if base not in SHARE_BASES:
        raise ValueConfigError(f"unknown Pareto base {base!r}; use one of {', '.join(SHARE_BASES)}")
    return buyers(amounts) if base == "buyers" else amounts


def pareto_curve(amounts: Mapping[int, float], base: str = "customers") -> list[tuple[float, float]]:
    """The Lorenz/Pareto curve: (share of customers, share of positive amount held by them), best first.

    Starts at (0, 0); one point per customer. With ``base="customers"`` all customers count in the
    head-count (also those with zero or negative amounts), with ``"buyers"`` only those with a
    positive amount; only positive amounts count in the total. Empty input or a non-positive total
    gives ``[(0.0, 0.0)]``.
    """
    amounts = _based(amounts, base)
    ranked = ranking(amounts)
    total = sum(max(_cents(amounts[cid]), 0) for cid in ranked)
    if not ranked or total <= 0:
        return [(0.0, 0.0)]
    points = [(0.0, 0.0)]
    cum = 0
    for i, cid in enumerate(ranked, start=1):
        cum += max(_cents(amounts[cid]), 0)
        points.append((i / len(ranked), cum / total))
    return points


def top_share(amounts: Mapping[int, float], customer_share: float = 0.20, base: str = "customers") -> float | None:
    """Share of the (positive) total held by the best ``customer_share`` of the customers in ``base``.

    ``base`` is ``customers`` (everybody in ``amounts``) or ``buyers`` (positive amounts only); see
    the module docstring. Fractional head-counts are interpolated linearly on the Pareto curve: the
    top 20 % of 7 customers are 1.4 customers = the best one plus 0.4 of the second. None when the
    total is not positive (no revenue, nothing to share).
    """
    amounts = _based(amounts, base)
    ranked = ranking(amounts)
    total = sum(max(_cents(amounts[cid]), 0) for cid in ranked)
    if not ranked or total <= 0:
        return None
    k = _exact(customer_share) * len(ranked)
    whole = math.floor(k)
    held = Fraction(sum(max(_cents(amounts[cid]), 0) for cid in ranked[:whole]))
    if whole < len(ranked) and k > whole:
        held += (k - whole) * max(_cents(amounts[ranked[whole]]), 0)
    return float(held / total)


def class_summary(amounts: Mapping[int, float], classes: Mapping[int, str]) -> dict[str, dict[str, float]]:
    """Per class: number of customers, amount and share of the positive total."""
    total = sum(max(v, 0.0) for v in amounts.values())
    summary: dict[str, dict[str, float]] = {}
    for cls in ("A", "B", "C"):
        members = [cid for cid, c in classes.items() if c == cls]
        amount = round(sum(amounts.get(cid, 0.0) for cid in members), 2)
        summary[cls] = {
            "customers": float(len(members)),
            "amount": amount,
            "share": (sum(max(amounts.get(cid, 0.0), 0.0) for cid in members) / total) if total > 0 else 0.0,
        }
    return summary
