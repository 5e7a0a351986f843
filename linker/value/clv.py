"""Customer lifetime value: a simple discounted-margin model, and BG/NBD + Gamma-Gamma (lifetimes).

Every CLV here is a **contribution-margin** value (Deckungsbeitrag: revenue minus cost of goods and
service), discounted, over ``ClvConfig.horizon_years``; :func:`clv_basis` says so in words for
every report that shows a CLV.

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
    BG/NBD predicts each customer's future purchases and the probability that they are still a
    customer at all (P(alive)) from frequency, recency and age (in days); Gamma-Gamma their
    expected revenue per order. Revenue CLV = sum over the months of the horizon of (expected
    purchases in that month x expected revenue per order), discounted monthly; it is turned into
    margin with the customer's own margin ratio (net margin incl. refunds / gross revenue, clamped
    to [-1, 1]).

    Both fits are **unpenalised** maximum likelihood. lifetimes' ``penalizer_coef`` adds
    ``c * sum(params^2)`` to the mean negative log-likelihood; on unscaled money that term depends
    on the currency unit (Gamma-Gamma's ``v`` is in EUR), so the same shop in cents or with B2B
    order sizes got different - and at ~350 EUR per order absurd (q < 1, negative CLV) -
    parameters. Without the penalty both fits are scale-equivariant: BG/NBD sees no money at all
    (lifetimes rescales time to max(T) = 1 itself), and Gamma-Gamma is fitted on the order values
    divided by their mean (so the optimiser always starts near the answer) with ``v`` multiplied
    back; p and q do not depend on the currency. Trade-off: without a penalty a degenerate history
    can make the optimiser diverge instead of returning a shrunk fit; that case is caught below and
    answered with a fallback rather than with a biased number.

    Diagnostics and fallbacks (every one is recorded in :attr:`ClvFit.diagnostics`):

    * fewer than ``min_repeat_customers`` repeat buyers, a failed or non-converging BG/NBD fit, a
      fit without dropout (a or b ~ 0), a BG/NBD that misses the observed number of repeat
      purchases by more than ``max_deviation``, or non-finite values: :class:`ClvModelError`
      explains why and the caller falls back to the simple model.
    * a failed Gamma-Gamma fit, ``q <= 1`` (the population mean spend ``p v / (q - 1)`` does not
      exist; lifetimes then returns negative spend), an implied mean spend more than
      ``max_deviation`` away from the observed mean order value of repeat buyers, or any negative
      revenue CLV: the spend model falls back to each customer's own observed average order value
      (no shrinkage towards the population, so one large order is taken at face value), while the
      BG/NBD purchase predictions and P(alive) are kept.

    Trade-off: BG/NBD captures "is this customer still alive?" far better than a flat retention
    rate, but is unstable on small shops and assumes non-contractual, independent purchases.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from linker.errors import ClvModelError
from linker.value.orders import OrderRecord, Window, months_before

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

Amount = TypeVar("Amount", float, "NDArray[np.float64]")

DEFAULT_RETENTION = 0.6
"""Used when no customer bought in the previous window, so retention cannot be estimated."""

SPEND_GAMMA_GAMMA = "gamma_gamma"
SPEND_OBSERVED = "observed"


@dataclass(frozen=True, slots=True)
class ClvConfig:
    discount_rate: float = 0.10
    horizon_years: int = 3
    retention_rate: float | None = None
    model: str = "auto"
    """'auto' (probabilistic when possible, else simple) or 'simple'."""
    min_repeat_customers: int = 20
    max_deviation: float = 0.25
    """Plausibility band for the fits: the implied mean spend (Gamma-Gamma) and the predicted number
    of repeat purchases in the history (BG/NBD) may differ from the observed ones by this share."""


def clv_basis(config: ClvConfig, model: str | None = None) -> str:
    """What a CLV figure means, in words for reports: margin-based, horizon, discount rate, model."""
    years = "1 Jahr" if config.horizon_years == 1 else f"{config.horizon_years} Jahre"
    text = (
        f"CLV = erwarteter Deckungsbeitrag (Umsatz minus Kosten) der nächsten {years}, "
        f"abgezinst mit {config.discount_rate:.0%} p. a."
    )
    names = {
        "simple": "einfaches Modell (Marge x Bindungsrate)",
        "bgnbd_gg": "BG/NBD + Gamma-Gamma",
        "bgnbd_observed": "BG/NBD + beobachteter Bonwert",
    }
    if model:
        text += f"; Modell: {names.get(model, model)}"
    return text


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


# --- the probabilistic model -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BgNbdParams:
    """BG/NBD parameters; ``alpha`` is in the time unit of the data it was fitted on (days here)."""

    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b}


@dataclass(frozen=True, slots=True)
class GammaGammaParams:
    """Gamma-Gamma parameters; ``v`` is in the currency of the order values, p and q have no unit."""

    p: float
    q: float
    v: float

    @property
    def mean_spend(self) -> float | None:
        """The population mean revenue per order ``p v / (q - 1)``; None when it does not exist (q <= 1)."""
        return self.p * self.v / (self.q - 1) if self.q > 1 else None

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "v": self.v}


@dataclass(frozen=True)
class ClvFit:
    """The probabilistic CLV with everything needed to explain it (all dicts by customer id)."""

    values: dict[int, float]
    """Margin CLV over the horizon, discounted, rounded to cents."""
    p_alive: dict[int, float]
    """BG/NBD probability that the customer is still a customer at the as-of date."""
    expected_purchases: dict[int, float]
    """Expected purchases over the whole horizon (not discounted)."""
    expected_spend: dict[int, float]
    """Expected revenue per future order (Gamma-Gamma, or the observed average on fallback)."""
    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None
    """None when the Gamma-Gamma fit failed outright."""
    spend_model: str
    """``gamma_gamma`` or ``observed`` (the fallback)."""
    diagnostics: tuple[str, ...] = field(default_factory=tuple)
    """Everything worth knowing about the fit: parameters, warnings, fallbacks (English, for the log)."""
    fallback: str | None = None
    """Why the spend model fell back to the observed order values; None when Gamma-Gamma is used."""

    @property
    def model(self) -> str:
        return "bgnbd_gg" if self.spend_model == SPEND_GAMMA_GAMMA else "bgnbd_observed"

    def params(self) -> dict[str, float]:
        """All fitted parameters in one flat dict (BG/NBD alpha per day, Gamma-Gamma v in EUR)."""
        out = self.bgnbd.as_dict()
        if self.gamma_gamma is not None:
            out |= self.gamma_gamma.as_dict()
        return out


def _lifetimes() -> tuple[Any, Any]:
    with warnings.catch_warnings():  # lifetimes sets a pandas option that pandas 3 deprecates
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    return BetaGeoFitter, GammaGammaFitter


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """lifetimes prints the optimiser result when a fit does not converge: send it to the log instead."""
    buffer = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(buffer):
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            if buffer.getvalue().strip():
                log.debug("lifetimes: %s", buffer.getvalue().strip())


def _penalised_dropout(beta_geo: Any, frequency: Any, recency: Any, age: Any) -> float:
    """min(a, b) of a penalised BG/NBD fit (inf when that fails too); only to name why the real fit failed."""
    try:
        with _quiet():
            probe = beta_geo(penalizer_coef=0.001).fit(frequency, recency, age)
    except Exception:  # the probe failing as well says nothing more
        return math.inf
    return min(float(probe.params_["a"]), float(probe.params_["b"]))


def fit_bgnbd(frequency: Any, recency: Any, age: Any) -> BgNbdParams:
    """Unpenalised BG/NBD fit on repeat frequency, recency and age (``T``), any one time unit.

    Raises :class:`ClvModelError` when the fit fails or finds no dropout (a or b ~ 0).
    """
    beta_geo, _ = _lifetimes()
    no_dropout = ClvModelError(
        "the BG/NBD fit found no customer dropout in the history (a, b ~ 0); its predictions are numerically unstable"
    )
    try:
        with _quiet():
            fitter = beta_geo(penalizer_coef=0.0).fit(frequency, recency, age)
    except Exception as exc:  # lifetimes raises ConvergenceError, LinAlgError, ValueError ...
        # The usual cause is a history without dropout: a, b run off to 0. A penalised fit (only
        # used to name the cause, never for predictions: the penalty biases a and b) tells.
        if _penalised_dropout(beta_geo, frequency, recency, age) < 1e-4:
            raise no_dropout from exc
        detail = " ".join(str(exc).split())
        raise ClvModelError(f"the BG/NBD fit did not succeed ({detail})") from exc
    params = BgNbdParams(*(float(fitter.params_[k]) for k in ("r", "alpha", "a", "b")))
    if not all(math.isfinite(x) for x in params.as_dict().values()):
        raise ClvModelError(f"the BG/NBD fit returned non-finite parameters {params.as_dict()}")
    if min(params.a, params.b) < 1e-4:
        raise no_dropout
    return params


def fit_gamma_gamma(frequency: Any, monetary: Any) -> GammaGammaParams:
    """Unpenalised Gamma-Gamma fit on repeat buyers' frequency and mean order value, in any currency unit.

    The order values are divided by their mean before fitting and ``v`` is multiplied back, so the
    parameters are the same whether the shop counts in EUR, cents or thousands (p and q exactly, v
    times the factor). Raises :class:`ClvModelError` when the fit fails.
    """
    import numpy as np

    _, gamma_gamma = _lifetimes()
    money = np.asarray(monetary, dtype=float)
    scale = float(money.mean()) if len(money) else 0.0
    if not scale > 0 or not math.isfinite(scale):
        raise ClvModelError("the Gamma-Gamma fit needs positive order values of repeat buyers")
    try:
        with _quiet():
            fitter = gamma_gamma(penalizer_coef=0.0).fit(frequency, money / scale)
    except Exception as exc:
        raise ClvModelError(f"the Gamma-Gamma fit failed: {exc}".strip()) from exc
    params = GammaGammaParams(
        float(fitter.params_["p"]), float(fitter.params_["q"]), float(fitter.params_["v"]) * scale
    )
    if not all(math.isfinite(x) for x in params.as_dict().values()):
        raise ClvModelError(f"the Gamma-Gamma fit returned non-finite parameters {params.as_dict()}")
    return params


def gamma_gamma_spend(params: GammaGammaParams, frequency: Amount, mean_value: Amount) -> Amount:
    """Expected revenue per future order given ``frequency`` repeat orders of mean value ``mean_value``.

    Hardie's equation (5) in closed form: ``p (v + x m) / (p x + q - 1)``, a weighted average of
    the population mean ``p v / (q - 1)`` and the customer's own mean; with x = 0 it is the
    population mean. E.g. p = 6, q = 4, v = 15, x = 2, m = 40: 6 (15 + 80) / (12 + 3) = 38.0.
    Meaningful only for q > 1.
    """
    return params.p * (params.v + frequency * mean_value) / (params.p * frequency + params.q - 1)


def gamma_gamma_problems(params: GammaGammaParams, observed_mean: float, max_deviation: float) -> list[str]:
    """Why a Gamma-Gamma fit cannot be used (empty when it is plausible).

    ``observed_mean`` is the mean over repeat buyers of their mean order value, the quantity whose
    population mean the model estimates as ``p v / (q - 1)``.
    """
    implied = params.mean_spend
    if implied is None:
        return [f"Gamma-Gamma q = {params.q:.3g} <= 1: the population mean spend does not exist"]
    if observed_mean > 0 and abs(implied / observed_mean - 1) > max_deviation:
        return [
            f"Gamma-Gamma implies a mean spend of {implied:,.2f} per order against {observed_mean:,.2f} observed "
            f"(more than {max_deviation:.0%} off)"
        ]
    return []


def p_alive(params: BgNbdParams, frequency: Any, recency: Any, age: Any) -> Any:
    """BG/NBD probability of being alive: ``1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))``.

    One-time buyers (x = 0) are alive with probability 1 by the model's assumption (dropout
    happens only right after a repeat purchase) - a known BG/NBD artefact; the RFM segments use
    recency for them. E.g. r = 1, alpha = 10, a = 1, b = 2, x = 1, t_x = 0, T = 10: 1 / (1 + 1/2 * 2^2) = 1/3.
    """
    import numpy as np

    x = np.asarray(frequency, dtype=float)
    odds = (params.a / (params.b + np.maximum(x, 1.0) - 1)) * (
        (params.alpha + np.asarray(age, dtype=float)) / (params.alpha + np.asarray(recency, dtype=float))
    ) ** (params.r + x)
    return np.where(x > 0, 1.0 / (1.0 + odds), 1.0)


def _bgnbd_model(params: BgNbdParams) -> Any:
    import pandas as pd

    beta_geo, _ = _lifetimes()
    fitter = beta_geo()
    fitter.params_ = pd.Series(params.as_dict())
    return fitter


def _discounted_purchases(params: BgNbdParams, summary: Any, config: ClvConfig) -> tuple[Any, Any]:
    """Per customer: (discounted expected purchases over the horizon, expected purchases over the horizon).

    The same monthly computation as ``GammaGammaFitter.customer_lifetime_value`` (30-day months),
    but starting from zero purchases at t = 0 explicitly: lifetimes evaluates the BG/NBD at t = 0,
    which yields NaN for one-time buyers when the fitted dropout parameters are near zero.
    Multiplying the first by the expected spend gives the revenue CLV.
    """
    import numpy as np

    model = _bgnbd_model(params)
    monthly = (1 + config.discount_rate) ** (1 / 12) - 1
    previous = np.zeros(len(summary))
    total = np.zeros(len(summary))
    with _quiet():
        for month in range(1, config.horizon_years * 12 + 1):
            cumulative = np.asarray(
                model.conditional_expected_number_of_purchases_up_to_time(
                    month * 30, summary["frequency"], summary["recency"], summary["T"]
                ),
                dtype=float,
            )
            total += (cumulative - previous) / (1 + monthly) ** month
            previous = cumulative
    return total, previous


def bgnbd_problems(params: BgNbdParams, frequency: Any, age: Any, max_deviation: float) -> list[str]:
    """Why a BG/NBD fit cannot be used: it must reproduce the observed repeat purchases of the history.

    The model's expected repeat purchases of each customer over their own age, summed, against the
    observed repeat purchases; a maximum-likelihood fit of a fitting model lands within a few per cent.
    """
    import numpy as np

    model = _bgnbd_model(params)
    with _quiet():
        expected = float(np.sum(model.expected_number_of_purchases_up_to_time(np.asarray(age, dtype=float))))
    observed = float(np.sum(frequency))
    if not math.isfinite(expected):
        return ["the BG/NBD fit predicts non-finite purchase counts"]
    if observed > 0 and abs(expected / observed - 1) > max_deviation:
        return [
            f"the BG/NBD fit predicts {expected:,.0f} repeat purchases in the history against {observed:,.0f} "
            f"observed (more than {max_deviation:.0%} off)"
        ]
    return []


def _spend(
    summary: Any, repeat: Any, observed: NDArray[np.float64], config: ClvConfig
) -> tuple[GammaGammaParams | None, NDArray[np.float64], str, list[str]]:
    """(Gamma-Gamma parameters, expected revenue per order, spend model, notes).

    Gamma-Gamma when it is plausible, else ``observed`` (see module docstring); on fallback the last
    note says why.
    """
    import numpy as np

    fallback = "using each customer's observed average order value"
    try:
        params = fit_gamma_gamma(repeat["frequency"], repeat["monetary_value"])
    except ClvModelError as exc:
        return None, observed, SPEND_OBSERVED, [f"{exc}; {fallback}"]
    notes = [f"Gamma-Gamma p={params.p:.4g} q={params.q:.4g} v={params.v:.4g}, unpenalised (money scaled by its mean)"]
    corr = float(repeat["frequency"].corr(repeat["monetary_value"])) if len(repeat) > 2 else 0.0
    if abs(corr) > 0.3:
        notes.append(f"Gamma-Gamma assumption weak: frequency/monetary correlation {corr:.2f}")
    issues = gamma_gamma_problems(params, float(repeat["monetary_value"].mean()), config.max_deviation)
    if issues:
        return params, observed, SPEND_OBSERVED, notes + [f"{issue}; {fallback}" for issue in issues]
    x = summary["frequency"].to_numpy(dtype=float)
    m = np.where(x > 0, summary["monetary_value"].to_numpy(dtype=float), 0.0)
    modelled = gamma_gamma_spend(params, x, m)
    bad = int(np.sum(~(modelled >= 0)))  # negative or NaN
    if bad:
        return (
            params,
            observed,
            SPEND_OBSERVED,
            notes + [f"Gamma-Gamma gives a negative or non-finite spend for {bad} customers; {fallback}"],
        )
    return params, modelled, SPEND_GAMMA_GAMMA, notes


def fit_clv(orders: Sequence[OrderRecord], as_of: datetime, config: ClvConfig) -> ClvFit:
    """BG/NBD + Gamma-Gamma margin CLV, P(alive) and expected purchases for customers with purchases.

    Raises :class:`ClvModelError` with the reason when the history does not support the model
    (the caller falls back to the simple model); an implausible Gamma-Gamma fit falls back to the
    observed spend instead (see module docstring).
    """
    import numpy as np
    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = summary_data_from_transaction_data(
            frame, "customer_id", "date", monetary_value_col="revenue", observation_period_end=end, freq="D"
        )
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    if len(repeat) < config.min_repeat_customers:
        raise ClvModelError(
            f"only {len(repeat)} repeat customers (need {config.min_repeat_customers}); "
            "lower RESONANZ_VALUE__CLV_MIN_REPEAT_CUSTOMERS to try anyway"
        )
    bgnbd = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    problems = bgnbd_problems(bgnbd, summary["frequency"], summary["T"], config.max_deviation)
    if problems:
        raise ClvModelError(problems[0])
    discounted, horizon_purchases = _discounted_purchases(bgnbd, summary, config)
    if not (np.all(np.isfinite(discounted)) and np.all(np.isfinite(horizon_purchases))):
        bad = int((~np.isfinite(discounted)).sum())
        raise ClvModelError(f"the fitted model produced non-finite CLV values for {bad} customers")
    alive = p_alive(bgnbd, summary["frequency"], summary["recency"], summary["T"])

    diagnostics = [
        f"BG/NBD r={bgnbd.r:.4g} alpha={bgnbd.alpha:.4g} (days) a={bgnbd.a:.4g} b={bgnbd.b:.4g}, unpenalised"
    ]
    gross: dict[int, float] = {}
    days: dict[int, set[object]] = {}
    net_margin: dict[int, float] = {}
    for o in history:
        if o.revenue > 0:
            gross[o.customer_id] = gross.get(o.customer_id, 0.0) + o.revenue
            days.setdefault(o.customer_id, set()).add(o.ordered_at.replace(tzinfo=None).date())
        net_margin[o.customer_id] = net_margin.get(o.customer_id, 0.0) + o.margin
    # per purchase day, like the BG/NBD counts (several orders on one day are one purchase there)
    observed = np.array([gross[int(c)] / len(days[int(c)]) for c in summary.index], dtype=float)
    gamma_gamma, spend, spend_model, notes = _spend(summary, repeat, observed, config)
    diagnostics += notes
    fallback = notes[-1] if spend_model == SPEND_OBSERVED else None
    for note in diagnostics[1:]:
        log.info("CLV: %s", note)

    revenue_clv = discounted * spend
    values: dict[int, float] = {}
    alive_by_id: dict[int, float] = {}
    purchases_by_id: dict[int, float] = {}
    spend_by_id: dict[int, float] = {}
    for i, raw in enumerate(summary.index):
        cid = int(raw)
        ratio = net_margin.get(cid, 0.0) / gross[cid] if gross.get(cid) else 0.0
        ratio = max(-1.0, min(1.0, ratio))
        value = float(revenue_clv[i]) * ratio
        values[cid] = 0.0 if math.isclose(value, 0.0, abs_tol=0.005) else round(value, 2)
        alive_by_id[cid] = float(alive[i])
        purchases_by_id[cid] = float(horizon_purchases[i])
        spend_by_id[cid] = float(spend[i])
    return ClvFit(
        values=values,
        p_alive=alive_by_id,
        expected_purchases=purchases_by_id,
        expected_spend=spend_by_id,
        bgnbd=bgnbd,
        gamma_gamma=gamma_gamma,
        spend_model=spend_model,
        diagnostics=tuple(diagnostics),
        fallback=fallback,
    )


def probabilistic_clvs(orders: Sequence[OrderRecord], as_of: datetime, config: ClvConfig) -> dict[int, float]:
    """customer -> BG/NBD + Gamma-Gamma margin CLV over the horizon (:func:`fit_clv` without the details)."""
    return fit_clv(orders, as_of, config).values
