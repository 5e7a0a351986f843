"""Scoring throughput of 1, 2 and 3 ``resonanz worker`` processes on one PostgreSQL (issue 18, item 4).

    python -m bench.bench_workers                     # 20,000 posts, 1 2 3 workers
    python -m bench.bench_workers --posts 1500        # what a shared 2-core machine can take now
    python -m bench.bench_workers --workers 1,2 --chunk 128 --sentiment-only

PostgreSQL: ``--pg-url`` or ``RESONANZ_BENCH_PG_URL`` (a server where databases may be created), else a throw-away
server is started with ``tests/pg.py``.

Per worker count, on a fresh database: the workers are started (real ``resonanz worker`` processes, the configured
analyzer unless ``--sentiment-only``), each scores one warm-up post (so every model is loaded before the clock
starts), then N German posts (``bench/german_posts.py``) are stored and the planner is deferred; the clock runs
until every post has its score. Also measured in the same run: one process scoring the same N posts in-process
with ``resonanz.pipeline.scoring.score_posts`` (what ``resonanz score`` does), the baseline of the ratios.

Results are printed and written to ``bench/results/bench_workers.json``. On a machine with C cores a worker uses
``nlp.threads`` threads: by default the cores shared out (C // workers, at least 1; the baseline C), ``--threads``
sets one number for all.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from resonanz.core.settings import AlertSettings, Settings  # noqa: E402
from resonanz.pipeline.scoring import score_posts, shared_analyzer  # noqa: E402
from resonanz.workers.app import build_app, queue_conninfo  # noqa: E402
from resonanz.workers.schema import ensure_queue_schema  # noqa: E402
from resonanz.workers.tasks import defer_plan, defer_score_range  # noqa: E402
from store.db import open_engine  # noqa: E402
from tests.pg import create_database  # noqa: E402
from tests.workers.fleet import Fleet, busy_jobs, seed_posts, wait_for  # noqa: E402

RESULTS = ROOT / "bench" / "results"
LIGHT = {"RESONANZ_NLP__OFFENSIVE_MODEL": "", "RESONANZ_NLP__EMBEDDING_MODEL": "", "RESONANZ_NLP__FLAG_MODEL": ""}


def scored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(DISTINCT post_id) FROM score")).scalar_one())


def threads_per_worker(args: argparse.Namespace, workers: int) -> int:
    """``--threads``, else the cores shared out: 1 worker x 2 threads on 2 cores, 2 x 1, 3 x 1."""
    return int(args.threads or max(1, (os.cpu_count() or 1) // max(workers, 1)))


def nlp_env(args: argparse.Namespace, workers: int) -> dict[str, str]:
    env = dict(LIGHT) if args.sentiment_only else {}
    env["RESONANZ_NLP__THREADS"] = str(threads_per_worker(args, workers))
    return env


def run_workers(admin_url: str, workers: int, args: argparse.Namespace, version: str, logs: Path) -> dict[str, Any]:
    url = create_database(admin_url, f"bw_{uuid.uuid4().hex[:10]}")
    engine = open_engine(url)
    settings = Settings(database_url=url)
    ensure_queue_schema(queue_conninfo(settings))
    queue = {"SCORE_CHUNK": str(args.chunk), "KEEP_FINISHED_JOBS": "false", "HEARTBEAT_SECONDS": "5",
             "STALLED_AFTER_SECONDS": "30", "STALLED_CHECK_SECONDS": "60"}  # fmt: skip
    env = {**nlp_env(args, workers), **{f"RESONANZ_WORKERS__{k}": v for k, v in queue.items()},
           "RESONANZ_ALERTS__ENABLED": "false"}  # fmt: skip
    fleet = Fleet(url, logs / f"{workers}-workers", env=env)
    app = build_app(settings)
    try:
        seed_posts(engine, workers, seed=7, prefix="warm")  # one warm-up post per worker: models load before the clock
        started = time.perf_counter()
        for _ in range(workers):
            fleet.start("worker")
        with app.open():
            for post_id in range(1, workers + 1):
                defer_score_range(app, post_id, post_id, version)
        wait_for(lambda: scored(engine) == workers and busy_jobs(engine) == 0, 900, "the warm-up", every=0.5)
        warm = time.perf_counter() - started
        seed_posts(engine, args.posts, seed=42)
        t0 = time.perf_counter()
        with app.open():
            defer_plan(app)
        wait_for(lambda: scored(engine) == workers + args.posts and busy_jobs(engine) == 0, 3600, "the posts",
                 every=0.25)  # fmt: skip
        seconds = time.perf_counter() - t0
    except AssertionError as exc:
        raise SystemExit(f"{exc}\n{fleet.output()}") from None
    finally:
        fleet.stop()
        engine.dispose()
    return {"workers": workers, "threads": threads_per_worker(args, workers), "posts": args.posts,
            "seconds": round(seconds, 2), "posts_per_s": round(args.posts / seconds, 2),
            "start_and_load_s": round(warm, 1)}  # fmt: skip


def nlp_settings(args: argparse.Namespace) -> dict[str, Any]:
    nlp: dict[str, Any] = {"threads": threads_per_worker(args, 1)}
    if args.sentiment_only:
        nlp.update(offensive_model=None, embedding_model=None, flag_model=None)
    return {"nlp": nlp}


def run_in_process(admin_url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The baseline: the same posts scored by one process with ``score_posts`` (models loaded before the clock)."""
    url = create_database(admin_url, f"bw_{uuid.uuid4().hex[:10]}")
    engine = open_engine(url)
    settings = Settings(database_url=url, alerts=AlertSettings(enabled=False), **nlp_settings(args))
    analyzer = shared_analyzer(settings)
    seed_posts(engine, args.posts, seed=42)
    t0 = time.perf_counter()
    report = score_posts(engine, settings, analyzer, chunk_size=args.chunk, progress=False)
    seconds = time.perf_counter() - t0
    engine.dispose()
    assert report.scored == args.posts, report.summary()
    return {"workers": 0, "threads": threads_per_worker(args, 1), "posts": args.posts, "seconds": round(seconds, 2),
            "posts_per_s": round(args.posts / seconds, 2)}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts to score (default 20000)")
    parser.add_argument("--quick", action="store_true", help="1500 posts")
    parser.add_argument("--workers", default="1,2,3", help="worker counts, comma-separated (default 1,2,3)")
    parser.add_argument("--chunk", type=int, default=256, help="posts per scoring job (workers.score_chunk)")
    parser.add_argument("--threads", type=int, default=0, help="nlp.threads per process (default: one per core)")
    parser.add_argument("--sentiment-only", action="store_true", help="the sentiment model alone (faster loads)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the in-process baseline")
    parser.add_argument("--pg-url", default=os.environ.get("RESONANZ_BENCH_PG_URL"))
    args = parser.parse_args(argv)
    if args.quick:
        args.posts = 1500
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    stop_pg = None
    admin_url = args.pg_url
    if not admin_url:
        from tests.pg import PostgresUnavailable, start_postgres

        try:
            admin_url, stop_pg = start_postgres(workdir / "pg")
        except PostgresUnavailable as exc:
            print(f"no PostgreSQL: {exc}", file=sys.stderr)
            return 2
    rows: list[dict[str, Any]] = []
    version = shared_analyzer(Settings(**nlp_settings(args))).version  # what the workers will score with
    try:
        if not args.no_baseline:
            rows.append(run_in_process(admin_url, args))
            print(f"in-process score_posts: {rows[-1]['posts_per_s']:.1f} posts/s", flush=True)
        for workers in counts:
            rows.append(run_workers(admin_url, workers, args, version, workdir / "logs"))
            print(f"{workers} worker(s): {rows[-1]['posts_per_s']:.1f} posts/s", flush=True)
    finally:
        if stop_pg is not None:
            stop_pg()
    one = next((r["posts_per_s"] for r in rows if r["workers"] == 1), None)
    base = next((r["posts_per_s"] for r in rows if r["workers"] == 0), None)
    print(f"\n{'workers':>8} {'posts':>7} {'seconds':>8} {'posts/s':>8} {'x 1 worker':>11} {'x in-process':>13}")
    for r in rows:
        vs_one = f"{r['posts_per_s'] / one:.2f}" if one else "-"
        vs_base = f"{r['posts_per_s'] / base:.2f}" if base else "-"
        label = "in-proc" if r["workers"] == 0 else str(r["workers"])
        print(f"{label:>8} {r['posts']:>7} {r['seconds']:>8.1f} {r['posts_per_s']:>8.1f} {vs_one:>11} {vs_base:>13}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_workers.json"
    meta = {"cpus": os.cpu_count(), "load": os.getloadavg(), "python": platform.python_version(),
            "sentiment_only": args.sentiment_only, "chunk": args.chunk, "threads": args.threads or None}  # fmt: skip
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
