"""From scored candidates to one decision per identity: exclusivity, thresholds.

An author is at most one customer. If Splink finds two customers named "Max Müller" in Köln for
the same author, each pair alone may look certain, but together they cannot both be right. With
``o_j = 2^w_j`` the posterior odds of candidate ``j`` (prior included, see :mod:`linker.identity.model`),
the probability that the author is candidate ``c`` is::

    p_c = o_c / (1 + sum_j o_j)

(the ``1`` is "the author is none of them"). One candidate: ``p = o / (1 + o)``, Splink's own
match probability. Two equal candidates with odds 3 each: 3 / 7 = 0.43 each -> neither is
auto-linked, the better one (lower customer id on ties) goes to review if above the review
threshold. Only the best candidate per identity becomes a decision; pairs a human has rejected
are removed before normalising (they are known not to be the author), and a pair the profile
itself rules out ("wir sind NICHT das Hotel Rheinblick") has odds 0.

The probability alone does not decide (:meth:`linker.identity.records.LinkThresholds.status`):

* **Contradicted** (another known place, another own e-mail domain, and no shared contact that
  outweighs it): at most review. A namesake in another city keeps most of the name's weight, and
  its probability can stay above 0.95 for rare names; the contradiction is the only sign.
* **Name only** (no matching place, no shared contact) and the name **plausibly shared**
  (:func:`linker.identity.namefreq.plausibly_shared`): at most review. Nothing tells the owner of
  "Romuald Junken" from another Romuald Junken who names no place. On a benchmark where 30 % of
  the non-customers are such namesakes, auto-link precision falls to 0.70 without this rule.

The cost is recall of the automatic links: an owner who shows only their name waits for a
person. ``bench/bench_link.py`` reports both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from linker.identity.namefreq import plausibly_shared
from linker.identity.probabilistic import Candidate
from linker.identity.records import LinkStatus, LinkThresholds


def _odds(candidate: Candidate) -> float:
    if candidate.ruled_out:
        return 0.0
    weight = candidate.match_weight
    return math.pow(2.0, min(weight, 1000.0)) if weight < 1000 else math.inf


def exclusive_probabilities(candidates: Iterable[Candidate]) -> dict[int, list[tuple[Candidate, float]]]:
    """identity -> its candidates with normalised probabilities, best first (ties by customer id)."""
    by_identity: dict[int, list[Candidate]] = {}
    for cand in candidates:
        by_identity.setdefault(cand.identity_id, []).append(cand)
    result: dict[int, list[tuple[Candidate, float]]] = {}
    for iid, cands in by_identity.items():
        odds = [_odds(c) for c in cands]
        total = 1.0 + sum(odds)
        ranked = sorted(zip(cands, odds, strict=True), key=lambda co: (-co[1], co[0].customer_id))
        result[iid] = [(c, (o / total) if math.isfinite(total) else 1.0) for c, o in ranked]
    return result


def corroborated(candidate: Candidate) -> bool:
    """Is there evidence beyond the name: the same place, or a shared contact key?"""
    return candidate.levels.get("city") == "exact" or candidate.levels.get("contact") == "shared"


def contradicted(candidate: Candidate) -> bool:
    """Is there evidence against the match (another known place, another own domain) and no shared
    contact key to outweigh it? (Somebody who moved keeps their e-mail address.)"""
    against = candidate.levels.get("city") == "contradicts" or bool(candidate.contradictions)
    return against and candidate.levels.get("contact") != "shared"


def status_of(candidate: Candidate, probability: float, thresholds: LinkThresholds) -> LinkStatus:
    """The decision for an identity's best candidate (see the module docstring)."""
    return thresholds.status(
        probability,
        corroborated(candidate),
        name_shared=plausibly_shared(candidate.expected_namesakes),
        contradicted=contradicted(candidate),
    )


def best_per_identity(
    candidates: Iterable[Candidate],
    thresholds: LinkThresholds,
    excluded: frozenset[tuple[int, int]] = frozenset(),
) -> dict[int, tuple[Candidate, float, LinkStatus, int]]:
    """identity -> (best candidate, its probability, status, number of other candidates)."""
    kept = [c for c in candidates if (c.identity_id, c.customer_id) not in excluded]
    out: dict[int, tuple[Candidate, float, LinkStatus, int]] = {}
    for iid, ranked in exclusive_probabilities(kept).items():
        best, p = ranked[0]
        out[iid] = (best, p, status_of(best, p, thresholds), len(ranked) - 1)
    return out
