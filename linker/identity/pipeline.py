"""Linking end to end on plain records: deterministic first, then probabilistic, then decisions.

:func:`link_records` is what ``resonanz link`` runs after loading the linkable customers and the
undecided identities; the benchmark and the quality test call it directly.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from linker.identity.contradictions import annotate
from linker.identity.decide import best_per_identity, contradicted, corroborated
from linker.identity.deterministic import KeyIndex, deterministic_links
from linker.identity.evidence import text
from linker.identity.explain import explain
from linker.identity.features import city_note, customer_features, identity_features, personal_domains
from linker.identity.namefreq import plausibly_shared
from linker.identity.names import NameLexicon, ParsedName
from linker.identity.probabilistic import Candidate, score_pairs
from linker.identity.records import (
    AUTO,
    PENDING,
    REJECTED,
    CustomerRecord,
    IdentityRecord,
    LinkDecision,
    LinkThresholds,
)

log = logging.getLogger(__name__)

ProgressHook = Callable[[str, int, int], None]
"""Called as ``hook(stage, done, total)`` while the linker works."""


@dataclass(frozen=True, slots=True)
class LinkConfig:
    thresholds: LinkThresholds = field(default_factory=LinkThresholds)
    expected_customer_share: float = 0.3
    """Prior: the share of social authors who are customers at all (see :mod:`linker.identity.model`)."""


@dataclass
class LinkResult:
    decisions: list[LinkDecision] = field(default_factory=list)
    """Auto, pending and rejected decisions (rejected: best candidate below the review threshold)."""
    identities: int = 0
    deterministic: int = 0
    probabilistic: int = 0
    no_candidate: int = 0
    candidate_pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for d in self.decisions if d.status == status)


def _noop(_stage: str, _done: int, _total: int) -> None:
    return None


def _why_review(cand: Candidate, name_only_auto: float) -> str:
    """Why a candidate above the auto threshold waits for a person (German, for the evidence)."""
    if contradicted(cand):
        return text("review_contradicted")
    if not corroborated(cand) and plausibly_shared(cand.expected_namesakes):
        many = (
            f"{cand.expected_namesakes:,.0f}".replace(",", ".")
            if math.isfinite(cand.expected_namesakes)
            else text("namesakes_many")
        )
        return text("review_namesakes", many=many)
    return text("review_name_only", threshold=f"{name_only_auto:.2f}")


def link_records(
    customers: Sequence[CustomerRecord],
    identities: Sequence[IdentityRecord],
    config: LinkConfig | None = None,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    progress: ProgressHook | None = None,
) -> LinkResult:
    """Link ``identities`` to ``customers`` (pass only customers with consent).

    ``excluded`` are (identity, customer) pairs a human rejected; they are never proposed again.
    """
    config = config or LinkConfig()
    hook = progress or _noop
    result = LinkResult(identities=len(identities))
    started = time.perf_counter()

    index = KeyIndex(customers)
    hook("deterministic", 0, len(identities))
    det = deterministic_links(customers, identities, config.thresholds, excluded, index)
    hook("deterministic", len(identities), len(identities))
    for decisions in det.values():
        result.decisions.extend(decisions)
    result.deterministic = sum(1 for ds in det.values() if any(d.status != REJECTED for d in ds))
    t1 = time.perf_counter()
    result.seconds["deterministic"] = t1 - started

    rest = [i for i in identities if i.identity_id not in det or all(d.status == REJECTED for d in det[i.identity_id])]
    lexicon = NameLexicon.build(
        (c.first_name for c in customers), (c.last_name for c in customers), (c.city for c in customers)
    )
    personal = personal_domains(customers)
    customer_rows = []
    step = max(1, len(customers) // 20)
    for n, customer in enumerate(customers, start=1):
        customer_rows.append(customer_features(customer, personal, lexicon.cities))
        if n % step == 0:
            hook("features", n, len(customers) + len(rest))
    identity_rows = []
    names: dict[int, ParsedName] = {}
    city_notes: dict[int, str] = {}
    for n, identity in enumerate(rest, start=1):
        row, name = identity_features(identity, lexicon)
        names[identity.identity_id] = name
        if row["city"]:
            city_notes[identity.identity_id] = city_note(identity, row["city"])
        if not name.empty or row["contact_keys"] or row["city"]:
            identity_rows.append(row)
        if n % step == 0:
            hook("features", len(customers) + n, len(customers) + len(rest))
    t2 = time.perf_counter()
    result.seconds["features"] = t2 - t1

    hook("scoring", 0, 1)
    candidates = score_pairs(customer_rows, identity_rows, config.expected_customer_share)
    by_customer = {c.customer_id: c for c in customers}
    by_identity = {i.identity_id: i for i in rest}
    rows_by_customer = {row["unique_id"]: row for row in customer_rows}
    candidates = annotate(candidates, by_customer, by_identity, rows_by_customer)
    hook("scoring", 1, 1)
    result.candidate_pairs = len(candidates)
    t3 = time.perf_counter()
    result.seconds["scoring"] = t3 - t2

    customer_keys = {row["unique_id"]: set(row["contact_keys"]) for row in customer_rows}
    identity_keys = {row["unique_id"]: set(row["contact_keys"]) for row in identity_rows}
    best = best_per_identity(candidates, config.thresholds, excluded)
    for iid, (cand, p, status, others) in sorted(best.items()):
        identity = by_identity[iid]
        customer = by_customer[cand.customer_id]
        shared = sorted(customer_keys[cand.customer_id] & identity_keys[iid])
        evidence = explain(cand, p, customer, identity, names[iid], others, shared, city_notes.get(iid))
        if status == PENDING and p >= config.thresholds.auto:
            evidence.append(_why_review(cand, config.thresholds.name_only_auto))
        result.decisions.append(LinkDecision(iid, cand.customer_id, "probabilistic", round(p, 4), status, evidence))
        if status != REJECTED:
            result.probabilistic += 1
    result.no_candidate = len(rest) - len(best)
    result.seconds["decisions"] = time.perf_counter() - t3
    result.seconds["total"] = time.perf_counter() - started
    log.info(
        "linked %d identities: %d auto, %d pending, %d rejected, %d without candidate (%.1fs)",
        len(identities),
        result.count(AUTO),
        result.count(PENDING),
        result.count(REJECTED),
        result.no_candidate,
        result.seconds["total"],
    )
    return result
