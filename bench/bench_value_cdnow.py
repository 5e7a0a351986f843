"""Customer value on CDNOW: CLV fits against the published lifetimes numbers, currency scale, RFM, Pareto bases.

    .venv/bin/python -m bench.bench_value_cdnow      # ~30 s on 2 cores; results in bench/results/bench_value_cdnow.json

Data: the CDNOW files that ship with ``lifetimes`` (read straight from the package folder, because
``lifetimes.datasets`` needs ``pkg_resources``):

* ``cdnow_customers_summary.csv`` / ``..._with_transactions.csv``: the 1/10 sample (2,357 customers,
  weeks) of the lifetimes Quickstart, whose published parameters are BG/NBD r 0.243, alpha 4.414,
  a 0.793, b 2.426 and Gamma-Gamma p 6.25, q 3.74, v 15.45.
* ``CDNOW_master.txt``: all 69,659 transactions of 23,570 customers, 1997-01-01 .. 1998-06-30,
  valued as of 1998-07-01 with a 12-month window (about 65 % of the customers are silent in it).
  CDNOW has no costs, so the margin CLV equals the revenue CLV here.

Measured, each with "before" = the old fits (lifetimes ``penalizer_coef=0.001`` on unscaled money):

1. parameters of :func:`linker.value.clv.fit_bgnbd` / :func:`fit_gamma_gamma` against the published
   numbers and against lifetimes' own unpenalised fit (target: within 2 %), money x1, x10, x100;
2. total CLV of :func:`linker.value.clv.fit_clv` on the full history with every amount x1, x10,
   x100 (targets: no negative CLV, total scaling with the amounts within 5 %);
3. the snapshot: RFM segment counts (target: all 11 reachable, every lapsed customer in Lost /
   Hibernating / At Risk, nobody with P(alive) < min_p_alive in an active segment), both "top 20 %"
   shares and the head-count A share.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
import time
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from linker.value import clv as clv_module  # noqa: E402
from linker.value.abc import AbcConfig  # noqa: E402
from linker.value.clv import ClvConfig, fit_bgnbd, fit_clv, fit_gamma_gamma  # noqa: E402
from linker.value.orders import OrderRecord  # noqa: E402
from linker.value.rfm import LAPSED_SEGMENTS, SEGMENTS, RfmConfig, quintile_scores, segment  # noqa: E402
from linker.value.snapshot import ValueConfig, value_snapshot  # noqa: E402

log = logging.getLogger("bench.value_cdnow")
RESULTS = Path(__file__).parent / "results"
AS_OF = datetime(1998, 7, 1, tzinfo=UTC)
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GG = {"p": 6.25, "q": 3.74, "v": 15.45}
FACTORS = (1, 10, 100)


def dataset(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise SystemExit("lifetimes is not installed; install the project's dependencies first")
    return Path(spec.origin).parent / "datasets" / name


def rel(got: float, want: float) -> float:
    return got / want - 1


def lifetimes_fitters() -> tuple[Any, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    return BetaGeoFitter, GammaGammaFitter


def params(fitter: Any, keys: tuple[str, ...]) -> dict[str, float]:
    return {k: float(fitter.params_[k]) for k in keys}


def quickstart() -> dict[str, Any]:
    """Parameters on the Quickstart sample: ours, lifetimes unpenalised, lifetimes penalised (the old fit)."""
    beta_geo, gamma_gamma = lifetimes_fitters()
    s = pd.read_csv(dataset("cdnow_customers_summary.csv"))
    ours = fit_bgnbd(s["frequency"], s["recency"], s["T"]).as_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        free = params(beta_geo(penalizer_coef=0.0).fit(s["frequency"], s["recency"], s["T"]), tuple(ours))
        old = params(beta_geo(penalizer_coef=0.001).fit(s["frequency"], s["recency"], s["T"]), tuple(ours))
    out: dict[str, Any] = {
        "bgnbd": {
            "ours": ours,
            "lifetimes_unpenalised": free,
            "old_penalised": old,
            "published": PUBLISHED_BGNBD,
            "max_rel_dev_published": max(abs(rel(ours[k], PUBLISHED_BGNBD[k])) for k in ours),
            "max_rel_dev_lifetimes": max(abs(rel(ours[k], free[k])) for k in ours),
            "old_rel_dev_published": {k: rel(old[k], PUBLISHED_BGNBD[k]) for k in ours},
        },
        "gamma_gamma": {},
    }
    m = pd.read_csv(dataset("cdnow_customers_summary_with_transactions.csv"))
    repeat = m[m["x"] > 0]
    for factor in FACTORS:
        money = repeat["zbar"] * factor
        gg = fit_gamma_gamma(repeat["x"], money).as_dict()
        published = {"p": PUBLISHED_GG["p"], "q": PUBLISHED_GG["q"], "v": PUBLISHED_GG["v"] * factor}
        row: dict[str, Any] = {"ours": gg, "published_scaled": published}
        for name, coef in (("lifetimes_unpenalised", 0.0), ("old_penalised", 0.001)):
            try:
                with warnings.catch_warnings(), clv_module._quiet():
                    warnings.simplefilter("ignore")
                    row[name] = params(gamma_gamma(penalizer_coef=coef).fit(repeat["x"], money), ("p", "q", "v"))
            except Exception as exc:  # the unscaled unpenalised fit may not converge at large amounts
                row[name] = {"error": " ".join(str(exc).split())}
        row["max_rel_dev_published"] = max(abs(rel(gg[k], published[k])) for k in gg)
        if "error" not in row["lifetimes_unpenalised"]:
            row["max_rel_dev_lifetimes"] = max(abs(rel(gg[k], row["lifetimes_unpenalised"][k])) for k in gg)
        out["gamma_gamma"][f"x{factor}"] = row
    return out


def load_orders(factor: float = 1.0) -> list[OrderRecord]:
    df = pd.read_csv(
        dataset("CDNOW_master.txt"), sep=r"\s+", header=0, names=["cid", "date", "cds", "value"], dtype={"date": str}
    )
    dates = pd.to_datetime(df["date"], format="%Y%m%d")
    return [
        OrderRecord(int(c), d.to_pydatetime().replace(tzinfo=UTC), round(float(v) * factor, 2), 0.0, f"o{i}")
        for i, (c, d, v) in enumerate(zip(df["cid"], dates, df["value"], strict=True))
    ]


def old_clv(orders: list[OrderRecord], config: ClvConfig) -> tuple[float, int, dict[str, float]]:
    """The previous implementation's numbers: penalised fits on unscaled money, lifetimes' own spend formula."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes.utils import summary_data_from_transaction_data
    beta_geo, gamma_gamma = lifetimes_fitters()
    frame = pd.DataFrame(
        {
            "customer_id": [o.customer_id for o in orders if o.revenue > 0],
            "date": pd.to_datetime([o.ordered_at.replace(tzinfo=None) for o in orders if o.revenue > 0]),
            "revenue": [o.revenue for o in orders if o.revenue > 0],
        }
    )
    with warnings.catch_warnings(), clv_module._quiet():
        warnings.simplefilter("ignore")
        summary = summary_data_from_transaction_data(
            frame, "customer_id", "date", monetary_value_col="revenue", observation_period_end=pd.Timestamp(1998, 7, 1)
        )
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        bgf = beta_geo(penalizer_coef=0.001).fit(summary["frequency"], summary["recency"], summary["T"])
        ggf = gamma_gamma(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
        profit = ggf.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
    bg = clv_module.BgNbdParams(*(float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")))
    discounted, _ = clv_module._discounted_purchases(bg, summary, config)
    values = np.round(discounted * profit.to_numpy(dtype=float), 2)
    fitted = params(bgf, ("r", "alpha", "a", "b")) | params(ggf, ("p", "q", "v"))
    return float(values.sum()), int((values < 0).sum()), fitted


def full_history() -> dict[str, Any]:
    config = ClvConfig()
    out: dict[str, Any] = {"as_of": AS_OF.date().isoformat(), "horizon_years": config.horizon_years, "scales": {}}
    base_total: float | None = None
    for factor in FACTORS:
        orders = load_orders(factor)
        start = time.perf_counter()
        fit = fit_clv(orders, AS_OF, config)
        seconds = time.perf_counter() - start
        values = np.array(list(fit.values.values()))
        total = float(values.sum())
        base_total = total if base_total is None else base_total
        old_total, old_negative, old_params = old_clv(orders, config)
        out["scales"][f"x{factor}"] = {
            "customers": len(values),
            "params": fit.params(),
            "spend_model": fit.spend_model,
            "diagnostics": list(fit.diagnostics),
            "total_clv": round(total, 2),
            "total_per_factor_vs_x1": total / factor / base_total - 1,
            "negative_clv": int((values < 0).sum()),
            "fit_seconds": round(seconds, 2),
            "old_total_clv": round(old_total, 2),
            "old_negative_clv": old_negative,
            "old_params": old_params,
            "old_vs_new_total": old_total / total - 1,
        }
        if factor == 1:
            beta_geo, gamma_gamma = lifetimes_fitters()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                from lifetimes.utils import summary_data_from_transaction_data

                frame = pd.DataFrame(
                    {
                        "id": [o.customer_id for o in orders if o.revenue > 0],
                        "date": [o.ordered_at.replace(tzinfo=None) for o in orders if o.revenue > 0],
                        "revenue": [o.revenue for o in orders if o.revenue > 0],
                    }
                )
                s = summary_data_from_transaction_data(
                    frame, "id", "date", monetary_value_col="revenue", observation_period_end=pd.Timestamp(1998, 7, 1)
                )
                r = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
                free = params(beta_geo(0.0).fit(s["frequency"], s["recency"], s["T"]), ("r", "alpha", "a", "b"))
                free |= params(gamma_gamma(0.0).fit(r["frequency"], r["monetary_value"]), ("p", "q", "v"))
            ours = fit.params()
            out["lifetimes_unpenalised_x1"] = free
            out["max_rel_dev_lifetimes_x1"] = max(abs(rel(ours[k], free[k])) for k in free)
            out["old_rel_dev_lifetimes_x1"] = {k: rel(old_params[k], free[k]) for k in free}
    return out


def snapshot_checks() -> dict[str, Any]:
    orders = load_orders()
    ids = sorted({o.customer_id for o in orders})
    start = time.perf_counter()
    snap = value_snapshot(ids, orders, [], AS_OF, ValueConfig(abc=AbcConfig(method="headcount")))
    seconds = time.perf_counter() - start
    min_p = RfmConfig().min_p_alive
    scored = [r for r in snap.results.values() if r.rfm is not None]
    lapsed = [r for r in scored if r.rfm is not None and not r.rfm.active]
    active = [r for r in scored if r.rfm is not None and r.rfm.active]
    # the previous scoring: everybody who ever bought in one quintile population, grid segment for all
    inputs = {r.customer_id: r for r in scored}
    assert all(r.totals.last_purchase_at is not None for r in scored)
    rec = {c: float((AS_OF - r.totals.last_purchase_at).days) for c, r in inputs.items()}  # type: ignore[operator]
    old_r = quintile_scores(rec, higher_is_better=False)
    old_f = quintile_scores({c: float(r.totals.purchases) for c, r in inputs.items()})
    old_m = quintile_scores({c: r.totals.revenue for c, r in inputs.items()})
    old_segments = Counter(segment(old_r[c], old_f[c], old_m[c]) for c in inputs)
    silent = [c for c, r in inputs.items() if r.totals.purchases == 0]
    old_silent_outside = sum(1 for c in silent if segment(old_r[c], old_f[c], old_m[c]) not in LAPSED_SEGMENTS)
    examples = sorted(
        (r for r in scored if r.p_alive is not None and r.p_alive < 0.01 and r.totals.purchases >= 10),
        key=lambda r: -r.totals.purchases,
    )[:3]
    return {
        "seconds": round(seconds, 2),
        "customers": len(snap.results),
        "buyers_in_window": snap.n_buyers,
        "silent_in_window_share": 1 - snap.n_buyers / len(snap.results),
        "pareto_top20_all_customers": snap.pareto_top20,
        "pareto_top20_buyers": snap.pareto_top20_buyers,
        "headcount_class_a_share": snap.classes["A"]["share"],
        "pareto_statement": snap.pareto_statement(),
        "clv_model": snap.clv_model,
        "clv_basis": snap.clv_basis,
        "segments": dict(sorted(snap.segments.items(), key=lambda kv: -kv[1])),
        "segments_reachable": sorted(set(SEGMENTS) - set(snap.segments)) == [],
        "active_buyers": len(active),
        "active_score_values": {
            axis: sorted({getattr(r.rfm, axis) for r in active if r.rfm is not None}) for axis in ("r", "f", "m")
        },
        "lapsed": len(lapsed),
        "lapsed_outside_lost_hibernating_at_risk": sum(
            1 for r in lapsed if r.rfm is not None and r.rfm.segment not in LAPSED_SEGMENTS
        ),
        "active_with_low_p_alive": sum(1 for r in active if r.p_alive is not None and r.p_alive < min_p),
        "old_segments": dict(sorted(old_segments.items(), key=lambda kv: -kv[1])),
        "old_silent_outside_lapsed_segments": old_silent_outside,
        "old_f_values": sorted(set(old_f.values())),
        "old_m_values": sorted(set(old_m.values())),
        "examples": [
            {
                "customer": r.customer_id,
                "purchases_in_window": r.totals.purchases,
                "days_silent": (AS_OF - r.totals.last_purchase_at).days if r.totals.last_purchase_at else None,
                "old_segment": segment(old_r[r.customer_id], old_f[r.customer_id], old_m[r.customer_id]),
                "segment": r.rfm.segment if r.rfm else None,
                "reason": r.rfm.reason if r.rfm else None,
                "p_alive": r.p_alive,
                "clv": r.clv,
                "abc": r.abc_class,
            }
            for r in examples
        ],
    }


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_known_args(argv)  # --quick etc. are ignored
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    result: dict[str, Any] = {
        "quickstart": quickstart(),
        "full_history": full_history(),
        "snapshot": snapshot_checks(),
    }
    q, full, snap = result["quickstart"], result["full_history"], result["snapshot"]
    scales = full["scales"].values()
    result["checks"] = {
        "bgnbd_within_2pct_of_published": q["bgnbd"]["max_rel_dev_published"] <= 0.02,
        "gamma_gamma_within_2pct_of_published_all_scales": all(
            r["max_rel_dev_published"] <= 0.02 for r in q["gamma_gamma"].values()
        ),
        "within_2pct_of_lifetimes_unpenalised": q["bgnbd"]["max_rel_dev_lifetimes"] <= 0.02
        and full["max_rel_dev_lifetimes_x1"] <= 0.02,
        "no_negative_clv": all(s["negative_clv"] == 0 for s in scales),
        "total_clv_scales_within_5pct": all(abs(s["total_per_factor_vs_x1"]) <= 0.05 for s in scales),
        "all_segments_reachable": snap["segments_reachable"],
        "lapsed_only_lost_hibernating_at_risk": snap["lapsed_outside_lost_hibernating_at_risk"] == 0,
        "no_active_segment_with_low_p_alive": snap["active_with_low_p_alive"] == 0,
    }
    result["seconds"] = round(time.perf_counter() - start, 1)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "bench_value_cdnow.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=float), encoding="utf-8")
    bg = q["bgnbd"]
    print(
        f"Quickstart BG/NBD ours {fmt(bg['ours'])} | published {fmt(bg['published'])} | old {fmt(bg['old_penalised'])}"
    )
    for key, row in q["gamma_gamma"].items():
        print(f"Quickstart Gamma-Gamma {key}: ours {fmt(row['ours'])} | old {fmt(row['old_penalised'])}")
    for key, s in full["scales"].items():
        print(
            f"CDNOW {key}: total CLV {s['total_clv']:,.2f} ({s['total_per_factor_vs_x1']:+.2%} per unit vs x1), "
            f"negative {s['negative_clv']}, {s['spend_model']}; old {s['old_total_clv']:,.2f} "
            f"({s['old_vs_new_total']:+.1%}), old negative {s['old_negative_clv']}"
        )
    print(f"Pareto: {snap['pareto_statement']}; head-count A holds {snap['headcount_class_a_share']:.1%}")
    print(f"RFM segments: {snap['segments']}")
    print(f"old RFM segments: {snap['old_segments']}")
    for name, ok in result["checks"].items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    print(f"results: {path} ({result['seconds']} s)")
    return 0 if all(result["checks"].values()) else 1


def fmt(values: dict[str, float]) -> str:
    return " ".join(f"{k}={v:.4g}" for k, v in values.items() if isinstance(v, float))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
