"""How sure a value-weighted number is: the effective sample size and a 95 % band for shares and net sentiment.

Which method, and why
---------------------

**Effective n (Kish).** A weighted figure rests on fewer voices than it has posts: one customer weighing 50
speaks for as many posts as a hundred prospects at 0.5, and one author's ten posts are one voice, not ten.
We first add up the weights of each *voice* (a linked customer; else a social account; else a single post),
``W_v``, and then take Kish's effective sample size::

    n_eff = (Σ W_v)² / Σ W_v²

It is the number of equally weighted, independent voices that would give the same precision: ``n_eff`` equals
the number of voices when they all weigh the same, and 1 when one voice holds all the weight. Worked example
(``tests/answers/test_weighting_share.py``): three posts by three authors weighing 2, 1 and 1 give
``n_eff = 4² / (4 + 1 + 1) = 2.67``; the same three posts by *one* author give ``n_eff = 1``.

**Shares: Wilson with n_eff.** A value-weighted share (negative, positive, a topic's share of the weight) gets
the Wilson score interval with ``n_eff`` in place of ``n`` (Kish's design-effect adjustment, the usual
treatment of weighted survey proportions, e.g. Korn & Graubard 1998). Wilson stays inside 0..1 and stays
honest at 0 %, 100 % and small n, where the normal ("Wald") interval collapses to a point.

**Net sentiment: MOVER.** Net = positive share - negative share of the same posts. Its band combines the two
Wilson intervals by the "method of variance estimates recovery" (Newcombe 1998, Zou & Donner 2008) with the
multinomial correlation of the two shares, ``-sqrt(p+ p- / ((1 - p+)(1 - p-)))``. One negative post gives
net -1 with the band [-1, +0.12], not the point [-1, -1].

Why not a bootstrap over authors: this is one GROUP BY in the database and a few arithmetic steps, exact to
reproduce, and a bootstrap of the 3-post segments people actually ask about is degenerate anyway.

What the band does and does not cover: sampling noise among the voices, with the weights taken as fixed. Treating
all posts of one voice as one unit is conservative when an author changes their mind between posts. Errors of the
sentiment model itself are not in the band (see ``estimated_shares`` and nlp/MODEL_CARD.md for those).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054
"""The standard normal quantile of a two-sided 95 % band."""


def effective_n(total_weight: float | None, sum_sq_voice_weights: float | None) -> float | None:
    """Kish's ``(Σ W)² / Σ W²`` over voices (``W``: a voice's summed weight); None without weight."""
    if not total_weight or not sum_sq_voice_weights or total_weight <= 0 or sum_sq_voice_weights <= 0:
        return None
    return float(total_weight) ** 2 / float(sum_sq_voice_weights)


def wilson(p: float | None, n: float | None, z: float = Z95) -> list[float] | None:
    """The Wilson score interval ``[low, high]`` of a share ``p`` observed on ``n`` (may be fractional) units."""
    if p is None or n is None or n <= 0:
        return None
    p = min(1.0, max(0.0, p))
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def net_band(positive: float | None, negative: float | None, n: float | None, z: float = Z95) -> list[float] | None:
    """The band of ``positive - negative`` (two shares of the same posts), by MOVER from their Wilson intervals."""
    pos_band, neg_band = wilson(positive, n, z), wilson(negative, n, z)
    if positive is None or negative is None or pos_band is None or neg_band is None:
        return None
    denominator = (1.0 - positive) * (1.0 - negative)
    r = -math.sqrt(positive * negative / denominator) if denominator > 0 and positive * negative > 0 else 0.0
    if positive + negative >= 1.0 and positive * negative > 0:
        r = -1.0  # no neutral posts: one share is one minus the other
    (pos_low, pos_high), (neg_low, neg_high) = pos_band, neg_band
    net = positive - negative
    down_pos, up_neg = positive - pos_low, neg_high - negative
    up_pos, down_neg = pos_high - positive, negative - neg_low
    low = net - math.sqrt(max(0.0, down_pos**2 + up_neg**2 - 2.0 * r * down_pos * up_neg))
    high = net + math.sqrt(max(0.0, up_pos**2 + down_neg**2 - 2.0 * r * up_pos * down_neg))
    return [max(-1.0, low), min(1.0, high)]


def voice_n_eff(voice_weights: Sequence[float]) -> float | None:
    """:func:`effective_n` of a list of voices' summed weights (for tests and small lists)."""
    return effective_n(sum(voice_weights), sum(w * w for w in voice_weights))
