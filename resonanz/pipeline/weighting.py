"""Writing each scored post's weight (``Score.weight``) from its author's customer value.

The rule itself is :func:`linker.value.weights.customer_weight` (the linker holds the arithmetic on plain
records); this module is where the application applies it: it finds, for every author, the customer it is linked
to (a status in ``LINKED_STATUSES``, a linkable customer: :mod:`resonanz.pipeline.consent`) and that customer's
latest value snapshot, and writes the weight to every score of the author's posts (:func:`apply_weights`, run by
``resonanz value``, ``resonanz link``, ``resonanz demo``, erasure and the scheduled value job), then queues the
posts of customers who became key customers (:mod:`resonanz.pipeline.key_customers`).
Authors without such a link weigh ``settings.value.prospect_weight``, so a customer who withdraws
consent falls back to the prospect weight on the next :func:`apply_weights`. An author linked to
several customers (two confirmed links) takes the highest weight. :func:`explain_weight` says how one weight
came about (the item view).

The default: weight by revenue share (``value.weight_mode = "revenue_share"``)
------------------------------------------------------------------------------

A linked customer's post weighs the customer's revenue in the value window relative to the average customer::

    weight = clamp(revenue / mean revenue, prospect_weight, max_weight)
           = clamp(revenue_share * n_customers, 0.5, 50)        (the defaults)

with ``revenue_share`` the customer's share of the positive revenue of all customers and ``n_customers`` all
customers (also those without revenue in the window). Prospects (no linked customer) weigh ``prospect_weight``,
and so does a linked customer not valued yet.

Why this definition:

* **It follows the money.** Fixed class weights make a 32,000 € hotel and a 1,200 € subscriber, both A, count the
  same (5 each), so the value-weighted and plain columns of an A-segment come out identical. With revenue share
  the demo's hotel (33,800 €) weighs 50 (its cap) and the subscriber (1,270 €) 1.9: their revenue ratio.
* **It reads as "average customers".** The average customer weighs 1, so "weight 19" means "counts like 19
  average customers"; weighted figures stay on the same scale as unweighted ones, and the numbers do not change
  with the currency or the size of the business.
* **It is robust.** The cap ``max_weight`` (default 50) keeps one key account from outvoting everyone else on its
  own (at most as much as 100 prospect posts); the floor ``prospect_weight`` (0.5) means a linked customer never
  counts less than a stranger, also with no revenue in the window. How concentrated the weight of a figure is
  shows as its effective n (:mod:`resonanz.answers.uncertainty`).

Worked example (``tests/answers/test_weighting_share.py``): four customers with 600 €, 300 €, 100 € and 0 € in the
window (1,000 € in all, 250 € on average): 600 € -> 600 / 250 = 2.4; 300 € -> 1.2; 100 € -> 0.4, raised to the
floor 0.5; 0 € -> 0.5; a prospect 0.5. With ``max_weight = 2`` the first is capped at 2.

The options: ``clv`` (also ``clv_share``) is the same with the customer lifetime value (relative to the mean
positive CLV): forward-looking, but a model's estimate. ``abc`` (also ``class``) uses the fixed class weights
``abc_weights`` (A 5, B 2, C 1): coarse, but easy to explain and stable when a big order comes in.
After changing the mode, ``resonanz value`` (or ``resonanz link``) re-weights the stored posts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from linker.value.weights import Standing, WeightConfig, customer_weight
from resonanz.answers.rollup import refresh
from resonanz.core.settings import Settings
from resonanz.core.tables import CUSTOMER, LINK, POST, SCORE, VALUE, current_values
from resonanz.pipeline.consent import linkable_clause
from resonanz.pipeline.domain_config import weight_config
from resonanz.pipeline.duplicates import merge_duplicates
from resonanz.pipeline.key_customers import watch_key_customers
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from resonanz.review.standing import refresh_standing
from store.db import session_scope

log = logging.getLogger(__name__)

CHUNK = 900


def standing_of(abc_class: str | None, clv: float | None, details: Mapping[str, Any] | None) -> Standing:
    """What the weight rule needs from one CustomerValue row (its class, CLV and ``details``)."""
    d = details or {}
    return Standing(
        abc_class=abc_class or "C",
        revenue_share=float(d.get("revenue_share", 0.0)),
        n_customers=int(d.get("n_customers", 1)),
        clv=float(clv or 0.0),
        mean_clv=float(d.get("mean_clv", 0.0)),
    )


def latest_standings(session: Any) -> dict[int, Standing]:
    """customer -> the standing recorded in their current CustomerValue row (``current_value_order``).

    Only the current row per customer is read (in SQL), however long the value history is.
    """
    v = VALUE.c
    current = current_values(v.customer_id, v.abc_class, v.clv, v.details)
    return {cid: standing_of(abc, clv, details) for cid, abc, clv, details in session.execute(select(current)).all()}


@dataclass(frozen=True)
class WeightExplanation:
    """How one post's weight comes about, for the item view."""

    stored: float | None
    """``Score.weight``: what ``ask``, the dashboard and the queue count."""
    rule: float
    """What the rule gives now, from the customer's current value row and the settings (equals ``stored`` once
    the posts were re-weighted after the last value run or settings change)."""
    mode: str
    linked: bool
    valued: bool
    abc_class: str | None = None
    relative: float | None = None
    """Revenue (``revenue_share``) or CLV (``clv``) relative to the average customer, before floor and cap."""
    revenue_share: float | None = None
    n_customers: int | None = None
    floor: float = 0.0
    cap: float = 0.0
    bound: str | None = None
    """``"cap"``/``"floor"`` when the relative value was cut to ``max_weight``/raised to ``prospect_weight``."""


def explain_weight(
    config: WeightConfig, *, linked: bool, standing: Standing | None, stored: float | None
) -> WeightExplanation:
    """Why a post weighs what it weighs: ``linked`` (its author is linked to a linkable customer), that
    customer's ``standing`` (None: not valued yet) and the weight ``stored`` on the post's score."""
    valued = linked and standing is not None
    rule = customer_weight(standing if valued else (Standing() if linked else None), config)
    out = WeightExplanation(
        stored=stored, rule=rule, mode=config.mode, linked=linked, valued=valued,
        floor=config.prospect_weight, cap=config.max_weight,
    )  # fmt: skip
    if not valued or standing is None:
        return out
    relative: float | None = None
    if config.mode == "revenue_share":
        relative = standing.revenue_share * standing.n_customers
    elif config.mode == "clv":
        relative = standing.clv / standing.mean_clv if standing.mean_clv > 0 else 1.0
    bound = None
    if relative is not None and relative > config.max_weight:
        bound = "cap"
    elif relative is not None and relative < config.prospect_weight:
        bound = "floor"
    return replace(
        out, abc_class=standing.abc_class, relative=relative, revenue_share=standing.revenue_share,
        n_customers=standing.n_customers, bound=bound,
    )  # fmt: skip


def identity_weights(session: Any, config: WeightConfig) -> dict[int, float]:
    """identity -> weight, for every identity linked to a consenting customer."""
    links = session.execute(
        select(LINK.c.identity_id, LINK.c.customer_id)
        .join(CUSTOMER, CUSTOMER.c.id == LINK.c.customer_id)
        .where(LINK.c.status.in_(LINKED_STATUSES), linkable_clause())
    ).all()
    standings = latest_standings(session)
    missing = {cid for _, cid in links if cid not in standings}
    if missing:
        log.info(
            "%d linked customers have no value yet; run `resonanz value` (weighted as a class-C customer without "
            "revenue meanwhile)",
            len(missing),
        )
    weights: dict[int, float] = {}
    for iid, cid in links:
        w = customer_weight(standings.get(cid, Standing()), config)
        weights[iid] = max(w, weights.get(iid, w))
    return weights


def _chunks(ids: list[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def apply_weights(engine: Engine, settings: Settings) -> int:
    """Write ``Score.weight`` for every score; returns the number of scores whose weight changed."""
    config = weight_config(settings)
    config.validate()
    prospect = config.prospect_weight
    changed: dict[float, list[int]] = {}
    with session_scope(engine) as session:
        weights = identity_weights(session, config)
        rows = session.execute(
            select(SCORE.c.id, SCORE.c.weight, POST.c.identity_id).join(POST, POST.c.id == SCORE.c.post_id)
        )
        for score_id, current, identity_id in rows:
            target = weights.get(identity_id, prospect) if identity_id is not None else prospect
            if current is None or abs(current - target) > 1e-9:
                changed.setdefault(target, []).append(score_id)
        total = 0
        for weight, ids in changed.items():
            for chunk in _chunks(ids):
                session.execute(
                    update(SCORE).where(SCORE.c.id.in_(chunk)).values(weight=weight),
                    execution_options={"synchronize_session": False},
                )
                total += len(chunk)
        refresh(session, score_ids=[i for ids in changed.values() for i in ids], drift=True)  # answer rollups
        refresh_standing(session)  # the queue orders by the same standing (resonanz.review.standing)
    log.info("weights: %d scores updated (%d linked authors)", total, len(weights))
    # who is a key customer follows the same links and values (resonanz.pipeline.key_customers)
    if watch_key_customers(engine, settings).created:
        merge_duplicates(engine)  # a key customer's cross-posts: one item
        with session_scope(engine) as session:
            refresh_standing(session, missing_only=True)
    return total
