"""One valuation snapshot: every metric for every customer, as of one date, from plain data.

This is the pure core behind ``resonanz value``: the application loads customers, orders and
activities, calls :func:`value_snapshot` and stores one ``CustomerValue`` row per customer.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from linker.errors import ClvModelError, ValueConfigError
from linker.value.abc import AbcConfig, abc_classes, class_summary, pareto_curve, top_share
from linker.value.clv import DEFAULT_RETENTION, ClvConfig, estimate_retention, probabilistic_clvs, simple_clvs
from linker.value.loyalty import Activity, is_loyal, loyalty_points, unknown_activities
from linker.value.margin import CustomerTotals, customer_totals
from linker.value.orders import OrderRecord, Window, window_ending
from linker.value.rfm import RfmInput, RfmScore, rfm_scores
from linker.value.weights import Standing, WeightConfig, customer_weight

log = logging.getLogger(__name__)

BASES = ("revenue", "margin")


@dataclass(frozen=True, slots=True)
class ValueConfig:
    window_months: int = 12
    basis: str = "revenue"
    abc: AbcConfig = field(default_factory=AbcConfig)
    clv: ClvConfig = field(default_factory=ClvConfig)
    loyalty_points: Mapping[str, float] = field(
        default_factory=lambda: {"purchase": 10.0, "positive_post": 5.0, "campaign_reaction": 3.0, "app_use": 1.0}
    )
    loyalty_threshold: float = 100.0
    weights: WeightConfig = field(default_factory=WeightConfig)

    def validate(self) -> None:
        if self.basis not in BASES:
            raise ValueConfigError(
                f"unknown ABC basis {self.basis!r}; use revenue or margin (--basis or RESONANZ_VALUE__ABC_BASIS)"
            )
        if self.window_months < 1:
            raise ValueConfigError("window_months must be at least 1; fix RESONANZ_VALUE__WINDOW_MONTHS")
        self.abc.validate()
        self.weights.validate()


@dataclass(frozen=True, slots=True)
class CustomerValueResult:
    customer_id: int
    totals: CustomerTotals
    abc_class: str
    rfm: RfmScore | None
    clv: float
    loyalty_points: float
    is_loyal: bool
    revenue_share: float
    weight: float

    @property
    def revenue(self) -> float:
        return self.totals.revenue

    @property
    def margin(self) -> float:
        return round(self.totals.margin, 2)


@dataclass
class ValueSnapshot:
    as_of: datetime
    window: Window
    basis: str
    method: str
    results: dict[int, CustomerValueResult]
    pareto_top20: float | None
    pareto_curve: list[tuple[float, float]]
    classes: dict[str, dict[str, float]]
    segments: dict[str, int]
    clv_model: str
    clv_note: str | None
    retention: float
    unknown_activities: set[str] = field(default_factory=set)

    @property
    def n_loyal(self) -> int:
        return sum(1 for r in self.results.values() if r.is_loyal)


def purchase_activities(orders: Iterable[OrderRecord]) -> list[Activity]:
    """One ``purchase`` activity per positive order (refunds earn no points)."""
    return [Activity(o.customer_id, "purchase", o.ordered_at, o.order_id) for o in orders if o.revenue > 0]


def _clvs(
    ids: list[int],
    orders: Sequence[OrderRecord],
    totals: Mapping[int, CustomerTotals],
    window: Window,
    config: ClvConfig,
) -> tuple[dict[int, float], str, str | None, float]:
    measured = estimate_retention(orders, window)
    retention = config.retention_rate if config.retention_rate is not None else measured
    note: str | None = None
    if retention is None:
        retention = DEFAULT_RETENTION
        note = f"retention not measurable (no buyers in the previous window); assumed {DEFAULT_RETENTION:.0%}"
    margins = {cid: totals[cid].margin for cid in ids}
    simple = simple_clvs(margins, window, retention, config)
    if config.model == "simple":
        return simple, "simple", note, retention
    try:
        fitted = probabilistic_clvs(orders, window.end, config)
    except ClvModelError as exc:
        log.info("CLV: using the simple discounted-margin model: %s", exc)
        return simple, "simple", str(exc), retention
    values = {cid: fitted.get(cid, 0.0) for cid in ids}
    return values, "bgnbd_gg", None, retention


def value_snapshot(
    customer_ids: Iterable[int],
    orders: Sequence[OrderRecord],
    activities: Iterable[Activity],
    as_of: datetime,
    config: ValueConfig | None = None,
) -> ValueSnapshot:
    """Every metric for every customer in ``customer_ids`` as of ``as_of`` (exclusive end of the window).

    ``activities`` are the non-purchase loyalty activities (events, positive posts); purchases
    are derived from ``orders`` here.
    """
    config = config or ValueConfig()
    config.validate()
    ids = sorted(set(customer_ids))
    window = window_ending(as_of, config.window_months)
    known = set(ids)
    orders = [o for o in orders if o.customer_id in known and o.ordered_at < as_of]
    totals = customer_totals(ids, orders, window)

    amounts = {cid: (t.revenue if config.basis == "revenue" else t.margin) for cid, t in totals.items()}
    classes = abc_classes(amounts, config.abc)

    rfm_input = {
        cid: RfmInput((as_of - t.last_purchase_at).days, t.purchases, t.revenue)
        for cid, t in totals.items()
        if t.last_purchase_at is not None
    }
    rfm = rfm_scores(rfm_input)

    clv, clv_model, clv_note, retention = _clvs(ids, orders, totals, window, config.clv)

    acts = purchase_activities(orders) + [a for a in activities if a.customer_id in known]
    points = loyalty_points(acts, config.loyalty_points, window, ids)
    unknown = unknown_activities(acts, config.loyalty_points)
    if unknown:
        log.warning("loyalty: no points configured for %s; add them to RESONANZ_VALUE__LOYALTY_POINTS", sorted(unknown))

    positive_total = sum(max(t.revenue, 0.0) for t in totals.values())
    positive_clvs = [v for v in clv.values() if v > 0]
    mean_clv = sum(positive_clvs) / len(positive_clvs) if positive_clvs else 0.0
    results: dict[int, CustomerValueResult] = {}
    for cid in ids:
        share = max(totals[cid].revenue, 0.0) / positive_total if positive_total > 0 else 0.0
        standing = Standing(classes[cid], share, len(ids), clv[cid], mean_clv)
        results[cid] = CustomerValueResult(
            customer_id=cid,
            totals=totals[cid],
            abc_class=classes[cid],
            rfm=rfm.get(cid),
            clv=clv[cid],
            loyalty_points=points[cid],
            is_loyal=is_loyal(points[cid], config.loyalty_threshold),
            revenue_share=share,
            weight=customer_weight(standing, config.weights),
        )
    return ValueSnapshot(
        as_of=as_of,
        window=window,
        basis=config.basis,
        method=config.abc.method,
        results=results,
        pareto_top20=top_share(amounts, 0.20),
        pareto_curve=pareto_curve(amounts),
        classes=class_summary(amounts, classes),
        segments=dict(Counter(s.segment for s in rfm.values())),
        clv_model=clv_model,
        clv_note=clv_note,
        retention=retention,
        unknown_activities=unknown,
    )
