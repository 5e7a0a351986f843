"""One valuation snapshot: every metric for every customer, as of one date, from plain data.

This is the pure core behind ``resonanz value``: the application loads customers, orders and
activities, calls :func:`value_snapshot` and stores one ``CustomerValue`` row per customer.

Two bases for "the top 20 %" are reported side by side, because they answer different questions:
``pareto_top20`` ranks **all customers** (also those without a purchase in the window - "how
concentrated is our revenue across the customer base?"), ``pareto_top20_buyers`` ranks only the
**buyers** (positive amount in the window), the same population the head-count ABC classes use.
With many silent customers the first is much higher (CDNOW: 90.8 % vs 63.5 %); a report that shows
one of them says which (:meth:`ValueSnapshot.pareto_statement`).

Every CLV is a contribution-margin value over the configured horizon; :attr:`ValueSnapshot.clv_basis`
says so in words for the reports.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from linker.errors import ClvModelError, ValueConfigError
from linker.value.abc import AbcConfig, abc_classes, buyers, class_summary, pareto_curve, top_share
from linker.value.clv import DEFAULT_RETENTION, ClvConfig, ClvFit, clv_basis, estimate_retention, fit_clv, simple_clvs
from linker.value.loyalty import Activity, is_loyal, loyalty_points, unknown_activities
from linker.value.margin import CustomerTotals, customer_totals
from linker.value.orders import OrderRecord, Window, months_before, window_ending
from linker.value.rfm import RfmConfig, RfmInput, RfmScore, rfm_scores
from linker.value.weights import Standing, WeightConfig, customer_weight

log = logging.getLogger(__name__)

BASES = ("revenue", "margin")


@dataclass(frozen=True, slots=True)
class ValueConfig:
    window_months: int = 12
    basis: str = "revenue"
    abc: AbcConfig = field(default_factory=AbcConfig)
    clv: ClvConfig = field(default_factory=ClvConfig)
    rfm: RfmConfig = field(default_factory=RfmConfig)
    """``lost_after_days`` None (the default) means "silent since before the previous window"."""
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
        if not 0 <= self.rfm.min_p_alive <= 1:
            raise ValueConfigError(
                f"RFM min_p_alive must lie between 0 and 1, got {self.rfm.min_p_alive}; "
                "0.2 means lapsed below a 20 % chance of still being a customer"
            )
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
    p_alive: float | None = None
    """BG/NBD probability of still being a customer; None with the simple model or without purchases."""
    expected_purchases: float | None = None
    """BG/NBD expected purchases over the CLV horizon; None with the simple model or without purchases."""

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
    pareto_top20_buyers: float | None = None
    """Share held by the best 20 % of the buyers (positive amount); ``pareto_top20`` ranks all customers."""
    n_buyers: int = 0
    clv_basis: str = ""
    """What the CLV figures mean (margin, horizon, discount, model), German, for every report."""
    clv_fit: ClvFit | None = None
    """The BG/NBD + Gamma-Gamma fit (parameters, diagnostics); None with the simple model."""

    @property
    def n_loyal(self) -> int:
        return sum(1 for r in self.results.values() if r.is_loyal)

    def pareto_statement(self, basis_label: str = "Umsatz") -> str:
        """Both "top 20 %" shares with their bases, German, e.g. for the CLI and the digest."""

        def pct(share: float | None) -> str:
            return "n/a (kein positiver Betrag)" if share is None else f"{share:.1%}"

        return (
            f"die besten 20 % aller {len(self.results)} Kund:innen halten {pct(self.pareto_top20)} ({basis_label}); "
            f"die besten 20 % der {self.n_buyers} Käufer:innen im Fenster {pct(self.pareto_top20_buyers)}"
        )


def purchase_activities(orders: Iterable[OrderRecord]) -> list[Activity]:
    """One ``purchase`` activity per positive order (refunds earn no points)."""
    return [Activity(o.customer_id, "purchase", o.ordered_at, o.order_id) for o in orders if o.revenue > 0]


def _clvs(
    ids: list[int],
    orders: Sequence[OrderRecord],
    totals: Mapping[int, CustomerTotals],
    window: Window,
    config: ClvConfig,
) -> tuple[dict[int, float], str, str | None, float, ClvFit | None]:
    measured = estimate_retention(orders, window)
    retention = config.retention_rate if config.retention_rate is not None else measured
    note: str | None = None
    if retention is None:
        retention = DEFAULT_RETENTION
        note = f"retention not measurable (no buyers in the previous window); assumed {DEFAULT_RETENTION:.0%}"
    margins = {cid: totals[cid].margin for cid in ids}
    simple = simple_clvs(margins, window, retention, config)
    if config.model == "simple":
        return simple, "simple", note, retention, None
    try:
        fit = fit_clv(orders, window.end, config)
    except ClvModelError as exc:
        log.info("CLV: using the simple discounted-margin model: %s", exc)
        return simple, "simple", str(exc), retention, None
    values = {cid: fit.values.get(cid, 0.0) for cid in ids}
    return values, fit.model, fit.fallback, retention, fit


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

    clv, clv_model, clv_note, retention, fit = _clvs(ids, orders, totals, window, config.clv)
    alive = fit.p_alive if fit else {}

    rfm_config = config.rfm
    if rfm_config.lost_after_days is None:  # silent since before the previous window
        previous_start = months_before(window.start, config.window_months)
        rfm_config = RfmConfig(min_p_alive=rfm_config.min_p_alive, lost_after_days=(as_of - previous_start).days)
    rfm_input = {
        cid: RfmInput((as_of - t.last_purchase_at).days, t.purchases, t.revenue, alive.get(cid))
        for cid, t in totals.items()
        if t.last_purchase_at is not None
    }
    rfm = rfm_scores(rfm_input, rfm_config)

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
            p_alive=alive.get(cid),
            expected_purchases=fit.expected_purchases.get(cid) if fit else None,
        )
    return ValueSnapshot(
        as_of=as_of,
        window=window,
        basis=config.basis,
        method=config.abc.method,
        results=results,
        pareto_top20=top_share(amounts, 0.20),
        pareto_top20_buyers=top_share(amounts, 0.20, base="buyers"),
        n_buyers=len(buyers(amounts)),
        clv_basis=clv_basis(config.clv, clv_model),
        clv_fit=fit,
        pareto_curve=pareto_curve(amounts),
        classes=class_summary(amounts, classes),
        segments=dict(Counter(s.segment for s in rfm.values())),
        clv_model=clv_model,
        clv_note=clv_note,
        retention=retention,
        unknown_activities=unknown,
    )
