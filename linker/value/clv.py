"""Customer lifetime value: a simple discounted-margin model, and BG/NBD + Gamma-Gamma (lifetimes).

Simple model (always available, hand-computable)
    The customer's contribution margin over the window, scaled to one year, is expected again each
    year while the customer stays; they stay from one year to the next with the retention rate
    ``r``; year ``t`` is discounted by ``(1 + d)^t`` (margins arrive at the end of each year)::

        CLV = sum_{t=1..H} m * r^(t-1) / (1 + d)^t

    e.g. m = 100, r = 0.5, d = 0.1, H = 3: 90.909 + 41.322 + 18.783 = 151.01. ``r`` is either
    configured or estimated as the share of the previous window's buyers who bought again in the
    current window. A customer without purchases in the window has m = 0 and CLV 0; a customer
    with negative margin (refunds) keeps a negative CLV - they cost money.

Probabilistic model (when the history supports it)
    BG/NBD predicts each customer's future purchases from frequency, recency and age; Gamma-Gamma
    their average order revenue. The revenue CLV is turned into margin with the customer's own
    margin ratio (net margin incl. refunds / gross revenue, clamped to [-1, 1]). It needs repeat
    buyers to learn from: with fewer than ``min_repeat_customers`` repeat buyers, or when a fit
    fails or yields non-finite values, :class:`ClvModelError` explains why and the caller falls
    back to the simple model. Trade-off: BG/NBD captures "is this customer still alive?" far better
    than a flat retention rate, but is unstable on small shops and assumes non-contractual,
    independent purchases.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linker.errors import ClvModelError
from linker.value.orders import OrderRecord, Window, months_before

log = logging.getLogger(__name__)

DEFAULT_RETENTION = 0.6
"""Used when no customer bought in the previous window, so retention cannot be estimated."""


@dataclass(frozen=True, slots=True)
class ClvConfig:
    discount_rate: float = 0.10
    horizon_years: int = 3
    retention_rate: float | None = None
    model: str = "auto"
    """'auto' (probabilistic when possible, else simple) or 'simple'."""
    min_repeat_customers: int = 20


def simple_clv(annual_margin: float, retention: float, discount_rate: float, horizon_years: int) -> float:
    """Discounted margin over ``horizon_years`` with yearly retention ``retention`` (see module docstring)."""
    value = 0.0
    for t in range(1, horizon_years + 1):
        value += annual_margin * retention ** (t - 1) / (1 + discount_rate) ** t
    return value


def estimate_retention(orders: Iterable[OrderRecord], window: Window) -> float | None:
    """Share of customers who bought in the window before ``window`` and again inside it.

    None when nobody bought in the previous window (retention cannot be measured).
    """
    months = _months_between(window.start, window.end)
    previous = Window(months_before(window.start, months), window.start)
    before: set[int] = set()
    now: set[int] = set()
    for order in orders:
        if order.revenue <= 0:
            continue
        if previous.contains(order.ordered_at):
            before.add(order.customer_id)
        elif window.contains(order.ordered_at):
            now.add(order.customer_id)
    if not before:
        return None
    return len(before & now) / len(before)


def _months_between(start: datetime, end: datetime) -> int:
    return max(1, (end.year - start.year) * 12 + end.month - start.month)


def simple_clvs(margins: Mapping[int, float], window: Window, retention: float, config: ClvConfig) -> dict[int, float]:
    """customer -> simple CLV from their window margin (scaled to one year)."""
    scale = 12 / _months_between(window.start, window.end)
    return {
        cid: round(simple_clv(m * scale, retention, config.discount_rate, config.horizon_years), 2)
        for cid, m in margins.items()
    }


def _discounted_purchases(bgf: Any, summary: Any, profit: Any, config: ClvConfig) -> Any:
    """Sum over months of (expected purchases in that month x expected order value), discounted.

    The same computation as ``GammaGammaFitter.customer_lifetime_value`` (30-day months), but
    starting from zero purchases at t = 0 explicitly: lifetimes evaluates the BG/NBD at t = 0,
    which yields NaN for one-time buyers when the fitted dropout parameters are near zero.
    """
    import numpy as np

    monthly = (1 + config.discount_rate) ** (1 / 12) - 1
    previous = np.zeros(len(summary))
    total = np.zeros(len(summary))
    for month in range(1, config.horizon_years * 12 + 1):
        cumulative = bgf.conditional_expected_number_of_purchases_up_to_time(
            month * 30, summary["frequency"], summary["recency"], summary["T"]
        ).to_numpy(dtype=float)
        total += profit * (cumulative - previous) / (1 + monthly) ** month
        previous = cumulative
    return total


def probabilistic_clvs(orders: Sequence[OrderRecord], as_of: datetime, config: ClvConfig) -> dict[int, float]:
    """customer -> BG/NBD + Gamma-Gamma margin CLV over the horizon, for customers with purchases.

    Raises :class:`ClvModelError` with the reason when the history does not support the model.
    """
    import numpy as np
    import pandas as pd

    with warnings.catch_warnings():  # lifetimes sets a pandas option that pandas 3 deprecates
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
        from lifetimes.utils import summary_data_from_transaction_data

    history = [o for o in orders if o.ordered_at < as_of]
    purchases = [o for o in history if o.revenue > 0]
    if not purchases:
        raise ClvModelError("no purchases before the as-of date")
    frame = pd.DataFrame(
        {
            "customer_id": [o.customer_id for o in purchases],
            "date": pd.to_datetime([o.ordered_at.replace(tzinfo=None) for o in purchases]),
            "revenue": [o.revenue for o in purchases],
        }
    )
    end = pd.Timestamp(as_of.replace(tzinfo=None))
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "date", monetary_value_col="revenue", observation_period_end=end, freq="D"
    )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < config.min_repeat_customers:
        raise ClvModelError(
            f"only {len(repeat)} repeat customers (need {config.min_repeat_customers}); "
            "lower RESONANZ_VALUE__CLV_MIN_REPEAT_CUSTOMERS to try anyway"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bgf = BetaGeoFitter(penalizer_coef=0.001)
            bgf.fit(summary["frequency"], summary["recency"], summary["T"])
            if min(float(bgf.params_["a"]), float(bgf.params_["b"])) < 1e-4:
                raise ClvModelError(
                    "the BG/NBD fit found no customer dropout in the history (a, b ~ 0); its predictions are "
                    "numerically unstable"
                )
            ggf = GammaGammaFitter(penalizer_coef=0.001)
            ggf.fit(repeat["frequency"], repeat["monetary_value"])
            profit = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"]).to_numpy(
                dtype=float
            )
            values = _discounted_purchases(bgf, summary, profit, config)
    except ClvModelError:
        raise
    except Exception as exc:  # lifetimes raises ConvergenceError, LinAlgError, ValueError ...
        raise ClvModelError(f"BG/NBD or Gamma-Gamma fit failed: {exc}") from exc
    if not np.all(np.isfinite(values)):
        bad = int((~np.isfinite(values)).sum())
        raise ClvModelError(f"the fitted model produced non-finite CLV values for {bad} customers")
    corr = float(repeat["frequency"].corr(repeat["monetary_value"])) if len(repeat) > 2 else 0.0
    if abs(corr) > 0.3:
        log.info("Gamma-Gamma assumption weak: frequency/monetary correlation %.2f", corr)
    gross: dict[int, float] = {}
    net_margin: dict[int, float] = {}
    for o in history:
        if o.revenue > 0:
            gross[o.customer_id] = gross.get(o.customer_id, 0.0) + o.revenue
        net_margin[o.customer_id] = net_margin.get(o.customer_id, 0.0) + o.margin
    result: dict[int, float] = {}
    for cid, revenue_clv in zip(summary.index, values, strict=True):
        ratio = net_margin.get(int(cid), 0.0) / gross[int(cid)] if gross.get(int(cid)) else 0.0
        ratio = max(-1.0, min(1.0, ratio))
        value = float(revenue_clv) * ratio
        result[int(cid)] = 0.0 if math.isclose(value, 0.0, abs_tol=0.005) else round(value, 2)
    return result
