"""RFM: recency, frequency and monetary value, each scored 1-5 by quintiles, and named segments.

Scores are *mid-rank quintiles*: with ``n`` customers, a customer with ``worse`` customers strictly
worse than them and ``tied`` customers (including themselves) with the same value has the
percentile ``p = (worse + tied / 2) / n`` and the score ``min(5, 1 + floor(5 p))``. Consequences,
all deliberate and tested:

* 5 distinct customers score exactly 1, 2, 3, 4, 5; 10 distinct customers two per score.
* Tied values always get the same score (no arbitrary tie-breaking by id).
* A single customer, or a population where everybody is tied, scores 3 (the middle), not 1 or 5.

Recency is "days since the last purchase" (fewer is better), frequency the number of purchases in
the window and monetary the net revenue in the window (refunds subtract; more is better).
Customers who never bought before ``as_of`` get no RFM scores (0) and no segment.

Segments follow the common R x FM grid (FM = (F + M) / 2 rounded half up), with every one of the
25 cells assigned, so every scored customer has exactly one segment::

    R \\ FM   1              2                   3                   4                 5
    5        New            Potential Loyalist  Potential Loyalist  Champions         Champions
    4        Promising      Potential Loyalist  Loyal               Loyal             Champions
    3        About to Sleep About to Sleep      Need Attention      Loyal             Loyal
    2        Hibernating    Hibernating         At Risk             At Risk           Can't Lose Them
    1        Lost           Hibernating         At Risk             Can't Lose Them   Can't Lose Them
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

SEGMENTS = (
    "Champions",
    "Loyal",
    "Potential Loyalist",
    "New",
    "Promising",
    "Need Attention",
    "About to Sleep",
    "At Risk",
    "Can't Lose Them",
    "Hibernating",
    "Lost",
)

_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: ("New", "Potential Loyalist", "Potential Loyalist", "Champions", "Champions"),
    4: ("Promising", "Potential Loyalist", "Loyal", "Loyal", "Champions"),
    3: ("About to Sleep", "About to Sleep", "Need Attention", "Loyal", "Loyal"),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Hibernating", "At Risk", "Can't Lose Them", "Can't Lose Them"),
}


@dataclass(frozen=True, slots=True)
class RfmInput:
    recency_days: float
    frequency: int
    monetary: float


@dataclass(frozen=True, slots=True)
class RfmScore:
    r: int
    f: int
    m: int
    segment: str

    @property
    def total(self) -> int:
        return self.r + self.f + self.m

    @property
    def code(self) -> str:
        return f"{self.r}{self.f}{self.m}"


def quintile_scores(values: Mapping[int, float], *, higher_is_better: bool = True) -> dict[int, int]:
    """customer -> 1..5 by mid-rank quintiles (see module docstring)."""
    n = len(values)
    if n == 0:
        return {}
    ordered = sorted(values.values())
    scores: dict[int, int] = {}
    for cid, value in values.items():
        below = bisect_left(ordered, value)
        tied = bisect_right(ordered, value) - below
        worse = below if higher_is_better else n - below - tied
        # 1 + floor(5 * (worse + tied/2) / n), in integers
        scores[cid] = min(5, 1 + (5 * (2 * worse + tied)) // (2 * n))
    return scores


def segment(r: int, f: int, m: int) -> str:
    """The named segment for scores r, f, m in 1..5."""
    for name, value in (("r", r), ("f", f), ("m", m)):
        if not 1 <= value <= 5:
            raise ValueError(f"RFM score {name}={value} is outside 1..5")
    fm = (f + m + 1) // 2
    return _GRID[r][fm - 1]


def rfm_scores(inputs: Mapping[int, RfmInput]) -> dict[int, RfmScore]:
    """Score every customer in ``inputs`` (only customers who have bought should be passed)."""
    r = quintile_scores({c: v.recency_days for c, v in inputs.items()}, higher_is_better=False)
    f = quintile_scores({c: float(v.frequency) for c, v in inputs.items()})
    m = quintile_scores({c: v.monetary for c, v in inputs.items()})
    return {c: RfmScore(r[c], f[c], m[c], segment(r[c], f[c], m[c])) for c in inputs}
