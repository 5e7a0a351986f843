"""The BG/NBD + Gamma-Gamma fit: unpenalised, scale-free, checked, with a fallback and its details exposed."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from linker.errors import ClvModelError
from linker.value import clv as clv_module
from linker.value.clv import (
    BgNbdParams,
    ClvConfig,
    GammaGammaParams,
    clv_basis,
    fit_bgnbd,
    fit_clv,
    fit_gamma_gamma,
    gamma_gamma_problems,
    gamma_gamma_spend,
    p_alive,
)
from linker.value.orders import OrderRecord
from linker.value.snapshot import value_snapshot

END = datetime(2025, 1, 1, tzinfo=UTC)


def lifetimes_dataset(name: str) -> Path:
    """A file shipped with lifetimes (``lifetimes.datasets`` itself needs pkg_resources, which may be missing)."""
    spec = importlib.util.find_spec("lifetimes")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "datasets" / name


def history(n: int = 300, seed: int = 3, factor: float = 1.0, cost_ratio: float = 0.6) -> list[OrderRecord]:
    """A BG/NBD-like shop: Poisson purchases with a dropout chance after each one, gamma order values."""
    rng = random.Random(seed)
    orders: list[OrderRecord] = []
    for cid in range(1, n + 1):
        when = datetime(2023, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 600))
        rate, drop, spend = rng.gammavariate(0.8, 1 / 40), rng.betavariate(1, 3), rng.gammavariate(5, 10)
        k = 0
        while when < END:
            revenue = round(factor * rng.gammavariate(8, spend / 8), 2)
            orders.append(OrderRecord(cid, when, revenue, round(revenue * cost_ratio, 2), f"{cid}-{k}"))
            k += 1
            if rng.random() < drop:
                break
            when += timedelta(days=1 + int(rng.expovariate(rate)))
    return orders


def test_gamma_gamma_spend_hand_computed() -> None:
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0)
    # 6 (15 + 2 * 40) / (6 * 2 + 4 - 1) = 570 / 15
    assert gamma_gamma_spend(params, 2.0, 40.0) == pytest.approx(38.0)
    # no repeat purchase: the population mean p v / (q - 1) = 90 / 3
    assert gamma_gamma_spend(params, 0.0, 0.0) == pytest.approx(30.0) == params.mean_spend
    assert GammaGammaParams(p=12.0, q=0.35, v=12.0).mean_spend is None


def test_gamma_gamma_plausibility() -> None:
    params = GammaGammaParams(p=6.0, q=4.0, v=15.0)  # implied mean spend 30
    assert gamma_gamma_problems(params, 40.0, 0.25) == []  # 30 / 40 - 1 = -25 %: on the edge, still fine
    assert "more than 25% off" in gamma_gamma_problems(params, 50.0, 0.25)[0]  # -40 %
    assert "q = 0.35 <= 1" in gamma_gamma_problems(GammaGammaParams(12.0, 0.35, 12.0), 30.0, 0.25)[0]


def test_p_alive_hand_computed_and_as_lifetimes() -> None:
    params = BgNbdParams(r=1.0, alpha=10.0, a=1.0, b=2.0)
    # x = 1, t_x = 0, T = 10: 1 / (1 + 1 / (2 + 1 - 1) * (20 / 10)^(1 + 1)) = 1 / 3; x = 0: alive by assumption
    assert list(p_alive(params, [1, 0], [0.0, 0.0], [10.0, 10.0])) == pytest.approx([1 / 3, 1.0])
    model = clv_module._bgnbd_model(BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4))
    import numpy as np

    freq, rec, age = np.array([0, 1, 5, 29]), np.array([0.0, 3.0, 20.0, 10.0]), np.array([30.0, 30.0, 38.0, 55.0])
    expected = model.conditional_probability_alive(freq, rec, age)
    assert list(p_alive(BgNbdParams(0.24, 4.4, 0.79, 2.4), freq, rec, age)) == pytest.approx(list(expected))


def test_published_cdnow_parameters() -> None:
    """The lifetimes Quickstart numbers (CDNOW sample, weeks): BG/NBD 0.243 4.414 0.793 2.426, GG 6.25 3.74 15.45."""
    import pandas as pd

    summary = pd.read_csv(lifetimes_dataset("cdnow_customers_summary.csv"))
    bg = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    for got, published in zip((bg.r, bg.alpha, bg.a, bg.b), (0.243, 4.414, 0.793, 2.426), strict=True):
        assert got == pytest.approx(published, rel=0.02)
    money = pd.read_csv(lifetimes_dataset("cdnow_customers_summary_with_transactions.csv"))
    repeat = money[money["x"] > 0]
    for factor in (1, 10, 100):  # the same shop in dollars, in "B2B" sizes, in cents
        gg = fit_gamma_gamma(repeat["x"], repeat["zbar"] * factor)
        assert (gg.p, gg.q, gg.v / factor) == pytest.approx((6.25, 3.74, 15.45), rel=0.02)
        assert gamma_gamma_problems(gg, float(repeat["zbar"].mean()) * factor, 0.25) == []


def test_clv_scales_with_the_currency_and_is_never_negative() -> None:
    fits = {k: fit_clv(history(factor=k), END, ClvConfig()) for k in (1, 10, 100)}
    base = fits[1]
    assert base.spend_model == "gamma_gamma" and base.model == "bgnbd_gg" and base.fallback is None
    total = sum(base.values.values())
    assert total > 0
    for k, fit in fits.items():
        assert fit.spend_model == "gamma_gamma", fit.diagnostics
        assert min(fit.values.values()) >= 0
        assert sum(fit.values.values()) == pytest.approx(k * total, rel=0.01)
        # the purchase model does not see money at all; Gamma-Gamma's p, q are unit-free, v is in EUR
        assert fit.bgnbd == base.bgnbd
        assert fit.gamma_gamma is not None and base.gamma_gamma is not None
        assert (fit.gamma_gamma.p, fit.gamma_gamma.q) == pytest.approx(
            (base.gamma_gamma.p, base.gamma_gamma.q), rel=1e-3
        )
        assert fit.gamma_gamma.v == pytest.approx(k * base.gamma_gamma.v, rel=1e-3)


def test_fit_exposes_p_alive_expected_purchases_and_parameters() -> None:
    orders = history()
    fit = fit_clv(orders, END, ClvConfig())
    buyers = {o.customer_id for o in orders}
    assert set(fit.values) == set(fit.p_alive) == set(fit.expected_purchases) == buyers
    assert all(0.0 <= p <= 1.0 for p in fit.p_alive.values())
    assert all(e >= 0.0 for e in fit.expected_purchases.values())
    assert set(fit.params()) == {"r", "alpha", "a", "b", "p", "q", "v"}
    # CLV is margin: cost is 60 % of revenue, so each CLV is 40 % of revenue CLV (purchases x spend, discounted)
    cid = max(fit.values, key=lambda c: fit.values[c])
    assert fit.values[cid] < 0.4 * fit.expected_purchases[cid] * fit.expected_spend[cid] + 0.01
    # a customer the model considers gone is worth little, one who just bought much more
    gone = min(fit.p_alive, key=lambda c: fit.p_alive[c])
    assert fit.p_alive[gone] < 0.2 and fit.expected_purchases[gone] < fit.expected_purchases[cid]


def test_implausible_gamma_gamma_falls_back_to_observed_spend(monkeypatch: pytest.MonkeyPatch) -> None:
    """What penalised fits did with B2B amounts: q < 1, so lifetimes' spend (and CLV) turns negative."""

    def broken(frequency: Any, monetary: Any) -> GammaGammaParams:
        return GammaGammaParams(p=12.1, q=0.35, v=12.0)

    monkeypatch.setattr(clv_module, "fit_gamma_gamma", broken)
    orders = history(factor=10)
    fit = fit_clv(orders, END, ClvConfig())
    assert fit.spend_model == "observed" and fit.model == "bgnbd_observed"
    assert fit.fallback is not None and "q = 0.35 <= 1" in fit.fallback
    assert min(fit.values.values()) >= 0
    # the fallback spend is the customer's own revenue per purchase day
    first = orders[0].customer_id
    own = [o for o in orders if o.customer_id == first]
    assert fit.expected_spend[first] == pytest.approx(sum(o.revenue for o in own) / len({o.ordered_at for o in own}))
    # and the snapshot reports it
    snap = value_snapshot({o.customer_id for o in orders}, orders, [], END)
    assert snap.clv_model == "bgnbd_observed" and "q = 0.35" in (snap.clv_note or "")
    assert snap.clv_fit is not None and "BG/NBD + beobachteter Bonwert" in snap.clv_basis


def test_implied_mean_spend_far_from_observed_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clv_module, "fit_gamma_gamma", lambda f, m: GammaGammaParams(p=6.0, q=4.0, v=1.0))
    fit = fit_clv(history(), END, ClvConfig())
    assert fit.spend_model == "observed" and "mean spend of 2.00" in (fit.fallback or "")


def test_failed_gamma_gamma_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(frequency: Any, monetary: Any) -> GammaGammaParams:
        raise ClvModelError("the Gamma-Gamma fit failed: did not converge")

    monkeypatch.setattr(clv_module, "fit_gamma_gamma", fails)
    fit = fit_clv(history(), END, ClvConfig())
    assert fit.gamma_gamma is None and fit.spend_model == "observed" and "did not converge" in (fit.fallback or "")


def test_snapshot_exposes_the_fit_per_customer() -> None:
    orders = history()
    snap = value_snapshot(list(range(1, 302)), orders, [], END)  # 301 never bought
    assert snap.clv_model == "bgnbd_gg" and snap.clv_note is None and snap.clv_fit is not None
    buyer, never = snap.results[1], snap.results[301]
    assert buyer.p_alive == snap.clv_fit.p_alive[1] and buyer.expected_purchases == snap.clv_fit.expected_purchases[1]
    assert never.p_alive is None and never.expected_purchases is None and never.clv == 0.0


def test_clv_basis_says_margin_and_horizon() -> None:
    assert clv_basis(ClvConfig()) == (
        "CLV = erwarteter Deckungsbeitrag (Umsatz minus Kosten) der nächsten 3 Jahre, abgezinst mit 10% p. a."
    )
    text = clv_basis(ClvConfig(horizon_years=1, discount_rate=0.05), "simple")
    assert "nächsten 1 Jahr," in text and "5% p. a." in text and "einfaches Modell" in text
