"""Writing each scored post's weight (``Score.weight``) from its author's customer value.

The rule itself is :func:`linker.value.weights.customer_weight`; this module finds, for every author,
the customer it is linked to (a status in ``LINKED_STATUSES``, a linkable customer:
:mod:`resonanz.pipeline.consent`) and that customer's latest value snapshot, and writes the weight to
every score of the author's posts.
Authors without such a link weigh ``settings.value.prospect_weight``, so a customer who withdraws
consent falls back to the prospect weight on the next :func:`apply_weights`. An author linked to
several customers (two confirmed links) takes the highest weight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from linker.value.weights import Standing, WeightConfig, customer_weight
from resonanz.core.settings import Settings
from resonanz.core.tables import CUSTOMER, LINK, POST, SCORE, VALUE, current_values
from resonanz.pipeline.consent import linkable_clause
from resonanz.pipeline.domain_config import weight_config
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from store.db import session_scope

log = logging.getLogger(__name__)

CHUNK = 900


def latest_standings(session: Any) -> dict[int, Standing]:
    """customer -> the standing recorded in their current CustomerValue row (``current_value_order``).

    Only the current row per customer is read (in SQL), however long the value history is.
    """
    v = VALUE.c
    current = current_values(v.customer_id, v.abc_class, v.clv, v.details)
    out = {}
    for cid, abc, clv, details in session.execute(select(current)).all():
        d = details or {}
        out[cid] = Standing(
            abc_class=abc,
            revenue_share=float(d.get("revenue_share", 0.0)),
            n_customers=int(d.get("n_customers", 1)),
            clv=float(clv or 0.0),
            mean_clv=float(d.get("mean_clv", 0.0)),
        )
    return out


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
            "%d linked customers have no value yet; run `resonanz value` (weighted as class C meanwhile)", len(missing)
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
    log.info("weights: %d scores updated (%d linked authors)", total, len(weights))
    return total
