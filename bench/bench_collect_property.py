"""Multi-run property check of the collectors (issue 14), many seeds per platform.

    .venv/bin/python -m bench.bench_collect_property [--seeds 40] [--quick]

Each seed plays one scenario of ``tests/collectors/property_world.py`` per platform (Mastodon, Bluesky,
Reddit; YouTube, RSS/Atom and App Store from ``property_world_feeds.py``; Google Business Profile, Google
Play, Trustpilot, Facebook and Instagram from ``property_world_owned.py``): a random set of items and reply
trees on the local fake platform, new items, replies and deletions between runs, injected faults on every
request (429, 500, 503, read timeouts, truncated pages), a listing refused with 403 for several runs in a
row (Bluesky: the search without a login), and runs killed (``kill -9``) after a few stored pages; then
quiet runs until the SQLite store equals the live platform (where a platform cannot signal a deletion:
none lost, none duplicated, nothing falsely marked deleted). Reported per platform: scenarios, runs, items,
live/deleted items, faults by kind, quiet runs needed, and the scenarios where the store did not converge
(with their first differences).

Writes ``bench/results/collect_property.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.collectors.property_world import WORLDS, Outcome, Scenario, run_world

for _module in ("tests.collectors.property_world_feeds", "tests.collectors.property_world_owned"):
    importlib.import_module(_module)  # each registers its worlds in WORLDS

HERE = Path(__file__).parent


def scenario(seed: int) -> Scenario:
    """The same kind of scenario hypothesis draws in the test, from a seed."""
    rng = random.Random(seed * 7919)
    fault_runs = rng.randint(6, 14)
    kills = {rng.randrange(1, fault_runs): rng.randint(1, 6) for _ in range(rng.randint(1, 3))}
    return Scenario(seed=seed, fault_runs=fault_runs, fault_rate=rng.uniform(0.05, 0.3),
                    refuse_from=rng.randrange(0, fault_runs - 1), refuse_runs=rng.randint(1, 4), kills=kills,
                    quiet_runs=8)  # fmt: skip


def summarise(platform: str, outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    faults: Counter[str] = Counter()
    for o in outcomes:
        faults.update(o.faults)
    quiet = Counter(o.quiet_runs_needed for o in outcomes if o.ok)
    statuses: Counter[str] = Counter()
    for o in outcomes:
        statuses.update(o.statuses)
    return {
        "platform": platform,
        "scenarios": len(outcomes),
        "converged": sum(o.ok for o in outcomes),
        "runs": sum(o.runs for o in outcomes),
        "run_statuses": dict(sorted(statuses.items())),
        "items": sum(o.items for o in outcomes),
        "live_at_end": sum(o.live for o in outcomes),
        "deleted": sum(o.deleted for o in outcomes),
        "hidden_never_visible": sum(o.hidden for o in outcomes),
        "faults": dict(sorted(faults.items())),
        "faults_total": sum(faults.values()),
        "quiet_runs_needed": {str(k): v for k, v in sorted(quiet.items())},
        "failures": [{"seed": o.scenario.seed, "first_differences": o.mismatches[:5]} for o in outcomes if not o.ok],
        "seconds": round(seconds, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="5 seeds per platform")
    ap.add_argument("--platform", choices=sorted(WORLDS), action="append")
    args = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    seeds = 5 if args.quick else args.seeds
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for platform in args.platform or sorted(WORLDS):
            started = time.monotonic()
            outcomes = [run_world(platform, scenario(seed), Path(tmp)) for seed in range(seeds)]
            summary = summarise(platform, outcomes, time.monotonic() - started)
            results.append(summary)
            print(f"{platform:9} scenarios {summary['scenarios']:3}  converged {summary['converged']:3}  "
                  f"runs {summary['runs']:4}  items {summary['items']:5}  deleted {summary['deleted']:4}  "
                  f"faults {summary['faults_total']:5} {summary['faults']}  quiet runs {summary['quiet_runs_needed']}"
                  f"  run statuses {summary['run_statuses']}  {summary['seconds']} s", flush=True)  # fmt: skip
            for failure in summary["failures"]:
                print(f"  seed {failure['seed']}: {failure['first_differences']}")
    out = HERE / "results" / "collect_property.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"wrote {out}")
    if any(r["failures"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
