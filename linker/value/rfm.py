"""RFM: recency, frequency and monetary value, each scored 1-5 by quintiles among the active buyers, and segments.

Who is scored against whom
    Quintiles are taken among the **active buyers** only: customers with at least one purchase in
    the window whose P(alive) - where the CLV model provides one - is at least
    ``RfmConfig.min_p_alive``. Lapsed customers used to be ranked in the same population with
    frequency 0 and revenue 0; when most customers had lapsed, that tie swallowed the lower
    quintiles (F and M took only 2, 4 and 5, a customer silent for 385 days scored R = 5 and was a
    "Potential Loyalist"). Lapsed customers still get R, F and M - their position *against the
    active buyers*, so a silent customer is R 1 - but their segment follows from the lapse itself:

    * bought in the window, but P(alive) < ``min_p_alive``: **At Risk** (the calendar says active,
      the purchase rhythm says gone; e.g. 29 purchases, then silent for 311 days: P(alive) ~ 1e-8)
    * no purchase in the window, last purchase at most ``lost_after_days`` ago and P(alive) not
      below ``min_p_alive``: **Hibernating**
    * otherwise (silent for longer, or P(alive) below the threshold): **Lost**

    So no lapsed customer is ever in an active segment, and no customer the model considers gone
    is a Champion. P(alive) only ever demotes: BG/NBD gives one-time buyers P(alive) = 1 by
    construction, so for them recency alone decides. Trade-off: the active buyers' scores are
    relative to a smaller, better population (a "3" means "average among current buyers"), which
    is what campaigns act on, at the price that scores of two snapshots with very different active
    populations are not comparable one to one.

Scores are *mid-rank quintiles*: with ``n`` active buyers, a customer with ``worse`` active buyers
strictly worse than them and ``tied`` active buyers (including themselves, if active) with the same
value has the percentile ``p = (worse + tied / 2) / n`` and the score ``min(5, 1 + floor(5 p))``.
Consequences, all deliberate and tested:

* 5 distinct customers score exactly 1, 2, 3, 4, 5; 10 distinct customers two per score.
* Tied values always get the same score (no arbitrary tie-breaking by id).
* A single customer, or a population where everybody is tied, scores 3 (the middle), not 1 or 5.
* Without any active buyer, nobody can be placed: lapsed customers then score 0, 0, 0.

Recency is "days since the last purchase" (fewer is better), frequency the number of purchases in
the window and monetary the net revenue in the window (refunds subtract; more is better).
Customers who never bought before ``as_of`` get no RFM scores (0) and no segment.

Active buyers' segments follow the common R x FM grid (FM = (F + M) / 2 rounded half up), with
every one of the 25 cells assigned, so every active buyer has exactly one segment (its "Lost" and
"Hibernating" cells are the weakest active buyers, next to the lapsed ones)::

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


LAPSED_SEGMENTS = ("At Risk", "Hibernating", "Lost")
"""The only segments a lapsed customer can have."""


@dataclass(frozen=True, slots=True)
class RfmInput:
    recency_days: float
    frequency: int
    """Purchases in the window; 0 = silent in the window (lapsed)."""
    monetary: float
    p_alive: float | None = None
    """BG/NBD probability that the customer is still a customer; None when no model was fitted."""


@dataclass(frozen=True, slots=True)
class RfmConfig:
    min_p_alive: float = 0.2
    """Below this P(alive) a customer counts as lapsed even with a purchase in the window. At 0.2 the
    model is four to one that the customer has gone; lower keeps more doubtful buyers active."""
    lost_after_days: float | None = None
    """Silent customers whose last purchase is more than this many days ago are Lost, not Hibernating;
    the snapshot uses "before the previous window" (in whole days, like the recency). None: recency
    alone never makes a customer Lost."""


@dataclass(frozen=True, slots=True)
class RfmScore:
    r: int
    f: int
    m: int
    segment: str
    active: bool = True
    """False for lapsed customers: their scores place them against the active buyers, their segment is
    one of :data:`LAPSED_SEGMENTS`."""
    reason: str | None = None
    """Why a lapsed customer has their segment (German, for reports)."""

    @property
    def total(self) -> int:
        return self.r + self.f + self.m

    @property
    def code(self) -> str:
        return f"{self.r}{self.f}{self.m}"


def _score(ordered: list[float], value: float, higher_is_better: bool) -> int:
    """1..5: the mid-rank quintile of ``value`` within the sorted reference ``ordered`` (0 when it is empty)."""
    n = len(ordered)
    if n == 0:
        return 0
    below = bisect_left(ordered, value)
    tied = bisect_right(ordered, value) - below
    worse = below if higher_is_better else n - below - tied
    # 1 + floor(5 * (worse + tied/2) / n), in integers
    return min(5, 1 + (5 * (2 * worse + tied)) // (2 * n))


def quintile_scores(values: Mapping[int, float], *, higher_is_better: bool = True) -> dict[int, int]:
    """customer -> 1..5 by mid-rank quintiles within ``values`` itself (see module docstring)."""
    ordered = sorted(values.values())
    return {cid: _score(ordered, value, higher_is_better) for cid, value in values.items()}


def segment(r: int, f: int, m: int) -> str:
    """The named segment of an active buyer with scores r, f, m in 1..5."""
    for name, value in (("r", r), ("f", f), ("m", m)):
        if not 1 <= value <= 5:
            raise ValueError(f"RFM score {name}={value} is outside 1..5")
    fm = (f + m + 1) // 2
    return _GRID[r][fm - 1]


def _pct(p: float) -> str:
    """0.2 -> '20%', 1.4e-5 -> '0.001%' (one significant digit below 1 %, so a tiny P(alive) does not read as 0)."""
    return f"{p:.0%}" if p >= 0.01 or p == 0 else f"{p * 100:.1g}%"


def lapse(value: RfmInput, config: RfmConfig) -> tuple[str, str] | None:
    """(segment, reason) for a lapsed customer, None for an active buyer (see module docstring)."""
    p = value.p_alive
    threshold = _pct(config.min_p_alive)
    if value.frequency > 0:
        if p is None or p >= config.min_p_alive:
            return None
        return "At Risk", f"kauft im Fenster, aber P(aktiv) {_pct(p)} (Schwelle {threshold})"
    days = f"seit {value.recency_days:.0f} Tagen ohne Kauf"
    if p is not None and p < config.min_p_alive:
        return "Lost", f"{days}, P(aktiv) {_pct(p)} (Schwelle {threshold})"
    alive = "" if p is None else f", P(aktiv) {_pct(p)}"
    if config.lost_after_days is not None and value.recency_days > config.lost_after_days:
        return "Lost", f"{days} (mehr als {config.lost_after_days:.0f} Tage: verloren){alive}"
    return "Hibernating", f"{days} im Fenster{alive}"


def rfm_scores(inputs: Mapping[int, RfmInput], config: RfmConfig | None = None) -> dict[int, RfmScore]:
    """Score every customer in ``inputs`` (only customers who have bought should be passed).

    Active buyers get their grid segment; lapsed customers get scores against the active buyers and
    a segment from :func:`lapse`.
    """
    config = config or RfmConfig()
    lapsed = {c: lapse(v, config) for c, v in inputs.items()}
    active = [v for c, v in inputs.items() if lapsed[c] is None]
    recency = sorted(v.recency_days for v in active)
    frequency = sorted(float(v.frequency) for v in active)
    monetary = sorted(v.monetary for v in active)
    out: dict[int, RfmScore] = {}
    for cid, v in inputs.items():
        r = _score(recency, v.recency_days, higher_is_better=False)
        f = _score(frequency, float(v.frequency), higher_is_better=True)
        m = _score(monetary, v.monetary, higher_is_better=True)
        status = lapsed[cid]
        if status is None:
            out[cid] = RfmScore(r, f, m, segment(r, f, m))
        else:
            out[cid] = RfmScore(r, f, m, status[0], active=False, reason=status[1])
    return out
