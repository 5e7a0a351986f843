"""Scoring throughput of ``resonanz backfill`` (Ray Data, 1 and 2 actors) against ``score_posts`` in one process
(issue 18, part 5).

    python -m bench.bench_backfill                   # 20,000 posts, 1 and 2 actors
    python -m bench.bench_backfill --posts 2000      # what a shared 2-core machine can take now
    python -m bench.bench_backfill --actors 1,2,4 --chunk 500 --sentiment-only

PostgreSQL: ``--pg-url`` or ``RESONANZ_BENCH_PG_URL`` (a server where databases may be created), else a throw-away
server is started with ``tests/pg.py``. Ray: a local instance with one CPU per core, started once for all runs.

Per configuration, on a fresh database with N German posts (``bench/german_posts.py``):

* in-process: :func:`resonanz.pipeline.scoring.score_posts` with ``nlp.threads`` = the cores, models loaded before
  the clock starts (what ``resonanz score`` does, the baseline of the ratios);
* Ray, k actors with cores // k CPUs each: first a warm-up backfill of k posts (ranges of one post: each actor
  starts and loads its models; ``start_and_load_s``), then the clock runs over :func:`resonanz.backfill.run_backfill`
  of the N posts, which starts the actors again. ``posts_per_s`` is end to end (actor start and model load
  included, as a user waits for them); ``steady_posts_per_s`` leaves the warm-up's time out (an estimate).

Also measured: one pass of what ``score_posts`` runs around every range (brand voice, competitors, duplicates,
rollups) on the final database, the overhead a range pays on a store of this size. Results are printed and
written to ``bench/results/bench_backfill.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_workers import LIGHT, scored  # noqa: E402
from resonanz.answers.rollup import refresh_rollups  # noqa: E402
from resonanz.backfill import import_ray, run_backfill  # noqa: E402
from resonanz.core.settings import Settings, reset_settings_cache, settings_from  # noqa: E402
from resonanz.pipeline.brand import apply_brand_voice  # noqa: E402
from resonanz.pipeline.duplicates import merge_duplicates  # noqa: E402
from resonanz.pipeline.scoring import score_posts, shared_analyzer  # noqa: E402
from resonanz.review.competitors import close_competitor_items  # noqa: E402
from store.db import open_engine  # noqa: E402
from tests.pg import create_database  # noqa: E402
from tests.workers.fleet import seed_posts  # noqa: E402

RESULTS = ROOT / "bench" / "results"
CORES = os.cpu_count() or 1


def fresh(admin_url: str) -> tuple[str, Engine]:
    url = create_database(admin_url, f"bb_{uuid.uuid4().hex[:10]}")
    return url, open_engine(url)


def run_in_process(admin_url: str, args: argparse.Namespace) -> dict[str, Any]:
    url, engine = fresh(admin_url)
    settings = settings_from(database_url=url, nlp={"threads": CORES})  # merged with RESONANZ_NLP__* variables
    analyzer = shared_analyzer(settings)
    seed_posts(engine, args.posts, seed=42)
    t0 = time.perf_counter()
    report = score_posts(engine, settings, analyzer, progress=False)
    seconds = time.perf_counter() - t0
    assert report.scored == args.posts == scored(engine), report.summary()
    t1 = time.perf_counter()  # what score_posts runs around every range, once, on the full store
    apply_brand_voice(engine)
    close_competitor_items(engine)
    merge_duplicates(engine)
    refresh_rollups(engine, voices=True)
    around = time.perf_counter() - t1
    engine.dispose()
    return {"path": "in-process", "actors": 0, "threads": CORES, "posts": args.posts, "seconds": round(seconds, 2),
            "posts_per_s": round(args.posts / seconds, 2), "per_range_passes_s": round(around, 3)}  # fmt: skip


def run_ray(admin_url: str, actors: int, args: argparse.Namespace) -> dict[str, Any]:
    url, engine = fresh(admin_url)
    settings = Settings(database_url=url)
    analyzer = shared_analyzer(settings)  # the driver's planning version (loaded once for all runs)
    cpus = max(1, CORES // actors)
    options: dict[str, Any] = {"actors": actors, "cpus_per_actor": cpus, "progress": False, "analyzer": analyzer}
    seed_posts(engine, actors, seed=7, prefix="warm")
    t0 = time.perf_counter()
    run_backfill(engine, settings, chunk=1, **options)  # every actor starts and loads its models once
    warm = time.perf_counter() - t0
    seed_posts(engine, args.posts, seed=42)
    t1 = time.perf_counter()
    report = run_backfill(engine, settings, chunk=args.chunk, **options)
    seconds = time.perf_counter() - t1
    assert report.scored == args.posts and scored(engine) == args.posts + actors, report.summary()
    engine.dispose()
    return {"path": "ray", "actors": actors, "threads": cpus, "posts": args.posts, "seconds": round(seconds, 2),
            "posts_per_s": round(args.posts / seconds, 2), "start_and_load_s": round(warm, 1),
            "steady_posts_per_s": round(args.posts / max(seconds - warm, 1e-9), 2),
            "ranges": report.ranges}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=20_000, help="posts to score (default 20000)")
    parser.add_argument("--actors", default="1,2", help="actor counts, comma-separated (default 1,2)")
    parser.add_argument("--chunk", type=int, default=250, help="posts per range (default 250)")
    parser.add_argument("--sentiment-only", action="store_true", help="the sentiment model alone (faster loads)")
    parser.add_argument("--pg-url", default=os.environ.get("RESONANZ_BENCH_PG_URL"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.sentiment_only:
        os.environ.update(LIGHT)  # the actors get the driver's RESONANZ_* variables
        reset_settings_cache()
    counts = [int(n) for n in args.actors.split(",") if n.strip()]
    workdir = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    stop_pg = None
    admin_url = args.pg_url
    if not admin_url:
        from tests.pg import PostgresUnavailable, start_postgres

        try:
            admin_url, stop_pg = start_postgres(workdir / "pg")
        except PostgresUnavailable as exc:
            print(f"no PostgreSQL: {exc}", file=sys.stderr)
            return 2
    ray = import_ray()
    rows: list[dict[str, Any]] = []
    try:
        rows.append(run_in_process(admin_url, args))
        print(f"in-process score_posts: {rows[-1]['posts_per_s']:.1f} posts/s", flush=True)
        ray.init(address="local", num_cpus=CORES, include_dashboard=False, logging_level=logging.WARNING)
        for actors in counts:
            rows.append(run_ray(admin_url, actors, args))
            print(f"ray, {actors} actor(s): {rows[-1]['posts_per_s']:.1f} posts/s", flush=True)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        if stop_pg is not None:
            stop_pg()
    base = rows[0]["posts_per_s"]
    print(f"\n{'path':>10} {'actors':>6} {'threads':>7} {'posts':>6} {'seconds':>8} {'posts/s':>8} {'x in-proc':>9} "
          f"{'start+load s':>12} {'steady/s':>8} {'x in-proc':>9}")  # fmt: skip
    for r in rows:
        steady = r.get("steady_posts_per_s")
        print(f"{r['path']:>10} {r['actors']:>6} {r['threads']:>7} {r['posts']:>6} {r['seconds']:>8.1f} "
              f"{r['posts_per_s']:>8.1f} {r['posts_per_s'] / base:>9.2f} {r.get('start_and_load_s', '-'):>12} "
              f"{steady or '-':>8} {(f'{steady / base:.2f}' if steady else '-'):>9}")  # fmt: skip
    print(f"per-range passes of score_posts on {args.posts} posts: {rows[0]['per_range_passes_s']:.3f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_backfill.json"
    meta = {"cpus": CORES, "load": os.getloadavg(), "python": platform.python_version(), "ray": ray.__version__,
            "sentiment_only": args.sentiment_only, "chunk": args.chunk}  # fmt: skip
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
