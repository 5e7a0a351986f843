"""Scale: import 350,000 customers and 1,000,000 orders from CSV and value them, as a user would.

    .venv/bin/python -m bench.bench_value_scale            # full size (several minutes on 2 cores)
    .venv/bin/python -m bench.bench_value_scale --quick    # 35,000 customers, 100,000 orders
    .venv/bin/python -m bench.bench_value_scale --customers 100000 --orders 300000

Generates ``customers.csv`` and ``orders.csv`` (the columns of ``resonanz import customers`` /
``resonanz import orders``) in a temporary folder, then runs the real command line as subprocesses
against a fresh SQLite database there (``RESONANZ_DATA_DIR``, ``RESONANZ_DATABASE_URL``, and
``RESONANZ_CONFIG`` pointing to a file that does not exist, so the defaults apply):

1. ``resonanz import customers customers.csv``
2. ``resonanz import orders orders.csv``
3. ``resonanz import orders orders.csv`` again (every row unchanged: the idempotent re-import)
4. ``resonanz value --as-of <as_of - 90 days>`` and ``resonanz value --as-of <as_of>`` (two snapshots)
5. ``resonanz value migration --format json`` and ``resonanz value cohorts --format json``

For each: wall time and the peak resident memory of that one process (``os.wait4``'s ``ru_maxrss``,
so one step's peak never hides behind an earlier one's). Writes ``bench/results/bench_value_scale.json``
(``..._quick.json`` with ``--quick``; ``--output`` changes that) and prints a table. ``--skip-journey``
leaves out the back-dated value run and the journey commands (steps 4a and 5).

The data: customers with gamma-distributed purchase rates (a few buy often, most rarely, some never),
first purchases spread over three years before the analysis date and a lifetime after which they stop;
net revenue log-normal per customer, cost 40-80 % of it, 2 % refunds. Seeded (``--seed``), so two runs
see the same files.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

log = logging.getLogger("bench.value_scale")
RESULTS = Path(__file__).parent / "results"
AS_OF = date(2026, 6, 30)
YEARS = 3
FULL = (350_000, 1_000_000)
QUICK = (35_000, 100_000)
BASIS = "Art. 6(1)(a) consent"


# --- data ------------------------------------------------------------------------------------------------


def write_customers(path: Path, n: int) -> None:
    firsts = ("Anna", "Max", "Lena", "Paul", "Mia", "Felix", "Emma", "Jonas", "Sophie", "Lukas")
    lasts = ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann")
    cities = ("Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Leipzig", "Dresden", "Bonn")
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("crm_id,first_name,last_name,emails,city,consent_status,consent_basis\n")
        lines = []
        for i in range(n):
            first, last = firsts[i % 10], lasts[(i // 10) % 10]
            granted = i % 3 != 0
            lines.append(
                f"K{i:07d},{first},{last},{first.lower()}.{i}@example.de,{cities[i % 8]},"
                f"{'granted' if granted else 'unknown'},{BASIS if granted else ''}\n"
            )
            if len(lines) >= 50_000:
                fh.writelines(lines)
                lines = []
        fh.writelines(lines)


def write_orders(path: Path, n_customers: int, n_orders: int, as_of: date, seed: int) -> None:
    """``n_orders`` orders of a gamma-mixed purchase rate over the ``YEARS`` before ``as_of``."""
    rng = np.random.default_rng(seed)
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=UTC).timestamp()
    span = YEARS * 365 * 86400.0
    start = rng.uniform(end - span, end - 86400.0, n_customers)
    lifetime = rng.exponential(1.5 * 365 * 86400.0, n_customers)
    stop = np.minimum(start + lifetime, end - 1.0)
    rate = rng.gamma(0.6, 1.0, n_customers) * (stop - start + 86400.0)  # orders ~ rate x active time
    who = rng.choice(n_customers, size=n_orders, p=rate / rate.sum())
    when = start[who] + rng.uniform(0.0, 1.0, n_orders) * (stop[who] - start[who])
    mean = rng.lognormal(3.8, 0.8, n_customers)  # ~45 EUR median basket, long tail
    revenue = np.round(mean[who] * rng.lognormal(0.0, 0.4, n_orders), 2)
    refund = rng.random(n_orders) < 0.02
    revenue = np.where(refund, -np.round(revenue * 0.5, 2), revenue)
    cost = np.round(revenue * rng.uniform(0.4, 0.8, n_orders), 2)
    order = np.argsort(when, kind="stable")
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("order_id,crm_id,ordered_at,revenue,cost\n")
        chunk = 50_000
        for lo in range(0, n_orders, chunk):
            idx = order[lo : lo + chunk]
            stamps = [datetime.fromtimestamp(float(t), UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00") for t in when[idx]]
            fh.writelines(
                f"O{lo + j:08d},K{int(c):07d},{s},{r:.2f},{k:.2f}\n"
                for j, (c, s, r, k) in enumerate(zip(who[idx], stamps, revenue[idx], cost[idx], strict=True))
            )


# --- running the command line ------------------------------------------------------------------------------


def resonanz_command() -> list[str]:
    script = Path(sys.executable).parent / "resonanz"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from resonanz.cli import app; app()"]


def run_step(name: str, args: list[str], env: dict[str, str], workdir: Path) -> dict[str, Any]:
    """Run one command; wall time and this process's own peak RSS (``wait4``), output kept in a log file."""
    log_path = workdir / f"{name}.log"
    started = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen([*resonanz_command(), *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak_mib = usage.ru_maxrss / 1024  # KiB on Linux
    text = log_path.read_text(encoding="utf-8", errors="replace")
    step = {
        "step": name,
        "command": "resonanz " + " ".join(args),
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(peak_mib, 1),
        "user_cpu_s": round(usage.ru_utime, 2),
        "exit_code": proc.returncode,
        "output_tail": text[-1500:],
    }
    log.info("%-18s %8.1f s  %8.0f MiB  rc=%d", name, seconds, peak_mib, proc.returncode)
    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None, help=f"default {FULL[0]:,} ({QUICK[0]:,} with --quick)")
    parser.add_argument("--orders", type=int, default=None, help=f"default {FULL[1]:,} ({QUICK[1]:,} with --quick)")
    parser.add_argument("--quick", action="store_true", help="35,000 customers and 100,000 orders")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--as-of", default=AS_OF.isoformat(), help="analysis date (YYYY-MM-DD)")
    parser.add_argument("--skip-journey", action="store_true", help="no back-dated value run, migration, cohorts")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument(
        "--output", type=Path, default=None,
        help="default bench/results/bench_value_scale.json (bench_value_scale_quick.json with --quick)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    base = QUICK if args.quick else FULL
    output = args.output or RESULTS / ("bench_value_scale_quick.json" if args.quick else "bench_value_scale.json")
    n_customers = args.customers or base[0]
    n_orders = args.orders or base[1]
    as_of = date.fromisoformat(args.as_of)
    earlier = as_of - timedelta(days=90)

    tmp = Path(tempfile.mkdtemp(prefix="resonanz-scale-"))
    env = {
        **os.environ,
        "RESONANZ_DATA_DIR": str(tmp / "data"),
        "RESONANZ_DATABASE_URL": f"sqlite:///{tmp / 'scale.db'}",
        "RESONANZ_CONFIG": str(tmp / "no-config.toml"),
        "PYTHONUNBUFFERED": "1",
    }
    log.info("%s customers, %s orders in %s", f"{n_customers:,}", f"{n_orders:,}", tmp)
    started = time.perf_counter()
    write_customers(tmp / "customers.csv", n_customers)
    write_orders(tmp / "orders.csv", n_customers, n_orders, as_of, args.seed)
    generate_s = time.perf_counter() - started
    log.info("CSV files written in %.1f s", generate_s)

    plan: list[tuple[str, list[str]]] = [
        ("import_customers", ["import", "customers", str(tmp / "customers.csv")]),
        ("import_orders", ["import", "orders", str(tmp / "orders.csv")]),
        ("reimport_orders", ["import", "orders", str(tmp / "orders.csv")]),
    ]
    if not args.skip_journey:
        plan.append(("value_earlier", ["value", "--as-of", earlier.isoformat()]))
    plan.append(("value", ["value", "--as-of", as_of.isoformat()]))
    if not args.skip_journey:
        plan += [
            ("migration", ["value", "migration", "--format", "json"]),
            ("cohorts", ["value", "cohorts", "--months", "12", "--as-of", as_of.isoformat(), "--format", "json"]),
        ]
    steps = []
    for name, cmd in plan:
        step = run_step(name, cmd, env, tmp)
        steps.append(step)
        if step["exit_code"] != 0:
            log.error("%s failed:\n%s", name, step["output_tail"])
            break

    db_file = tmp / "scale.db"
    result = {
        "benchmark": "value_scale",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "customers": n_customers,
        "orders": n_orders,
        "as_of": as_of.isoformat(),
        "seed": args.seed,
        "csv_bytes": {p.name: p.stat().st_size for p in (tmp / "customers.csv", tmp / "orders.csv")},
        "generate_seconds": round(generate_s, 2),
        "database_bytes": db_file.stat().st_size if db_file.exists() else None,
        "steps": steps,
        "ok": all(s["exit_code"] == 0 for s in steps) and len(steps) == len(plan),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\n{n_customers:,} customers, {n_orders:,} orders (SQLite)")
    print(f"{'step':<18} {'seconds':>9} {'peak MiB':>9}  rc")
    for s in steps:
        print(f"{s['step']:<18} {s['seconds']:>9.1f} {s['peak_rss_mib']:>9.0f}  {s['exit_code']}")
    print(f"results: {output}")
    if args.keep:
        print(f"kept: {tmp}")
    else:
        for p in sorted(tmp.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        tmp.rmdir()
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
