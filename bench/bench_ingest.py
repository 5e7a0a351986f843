"""Ingest throughput: posts per second from a local fake Mastodon into SQLite and PostgreSQL,
reported beside each database's raw ``executemany`` rate for equivalent rows, measured in the
same run.

    python -m bench.bench_ingest             # 10k and 100k posts, SQLite and PostgreSQL
    python -m bench.bench_ingest --quick     # 2k and 10k posts
    python -m bench.bench_ingest --sizes 5000 --no-pg

PostgreSQL: ``--pg-url`` or ``RESONANZ_BENCH_PG_URL`` (a server where databases may be created),
else a throw-away server is started with ``tests/pg.py`` (Debian's postgresql package).

What is measured, per database and size (each on a fresh database):

- *end to end*: ``resonanz.pipeline.collect.run_source`` against a hashtag timeline of N statuses served
  by a separate process on 127.0.0.1 (real HTTP, 40 statuses a page as Mastodon serves them,
  JSON parsing, HTML to text, identity and post upserts, thread links, one commit per page
  together with the cursor and the run record);
- *fetch + parse only*: the same collector without a database (what HTTP and parsing cost);
- *raw executemany*: plain ``INSERT`` of the equivalent post rows (same columns and JSON),
  40 rows per transaction (the collector's page size) and 5,000 rows per transaction.

Results are printed as a table and written to ``bench/results/bench_ingest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from collectors import CollectOptions, SourceSpec
from collectors.http import PoliteClient
from collectors.mastodon import MastodonCollector
from collectors.testing import LocalServer, SyntheticTimeline
from resonanz.core.settings import Settings
from resonanz.pipeline.collect import post_record, run_source
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from store.models import Post
from store.types import utcnow

RESULTS = Path(__file__).parent / "results"
PAGE = 40


@dataclass
class Row:
    database: str
    posts: int
    end_to_end_per_s: float
    end_to_end_s: float
    fetch_parse_per_s: float
    raw_page_txn_per_s: float
    raw_bulk_txn_per_s: float
    stored: int
    status: str


# -- the server, in its own process so that it does not compete with the client for the GIL ----------


def serve(n: int) -> None:
    with LocalServer(SyntheticTimeline(n)) as server:
        print(server.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin


class Server:
    def __init__(self, n: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.bench_ingest", "--serve", str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            raise RuntimeError("the benchmark server did not start")

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# -- measurements -------------------------------------------------------------------------------------


def spec_for(url: str) -> SourceSpec:
    return SourceSpec("bench", "mastodon", query="#bruehwerk", config={"instance": url})


def options(n: int) -> CollectOptions:
    return CollectOptions(now=utcnow(), backfill_days=30, max_pages=n // PAGE + 10, fetch_replies=False)


def end_to_end(engine: Engine, url: str, n: int) -> tuple[float, int, str]:
    add_source(engine, platform="mastodon", name="bench", query="#bruehwerk",
               options={"instance": url, "replies": False, "max_pages": n // PAGE + 10})  # fmt: skip
    start = time.perf_counter()
    summary = run_source(engine, "bench", Settings())
    elapsed = time.perf_counter() - start
    return elapsed, summary.new, summary.status


def fetch_parse_only(url: str, n: int) -> float:
    collector = MastodonCollector(PoliteClient(httpx.Client(timeout=30), label="bench"))
    start = time.perf_counter()
    count = sum(len(batch.posts) for batch in collector.collect(spec_for(url), {}, options(n)))
    elapsed = time.perf_counter() - start
    collector.http.close()
    assert count == n, f"fetched {count} of {n}"
    return n / elapsed


def equivalent_rows(n: int, chunk: int) -> Iterator[list[dict[str, Any]]]:
    """The rows ``store.ingest`` would insert for the same statuses (built outside the timing)."""
    timeline = SyntheticTimeline(n)
    parser = MastodonCollector(PoliteClient(httpx.Client(), label="rows"))
    now = utcnow()
    for start in range(0, n, chunk):
        rows = []
        for index in range(start, min(n, start + chunk)):
            record = post_record(parser.parse_status(timeline.status(index)))
            rows.append({
                "platform": record["platform"], "external_id": record["external_id"], "kind": record["kind"],
                "url": record["url"], "text": record["text"], "title": record["title"],
                "language": record["language"], "created_at": record["created_at"], "edited_at": None,
                "deleted_at": None, "metrics": record["metrics"], "identity_id": None, "source_id": None,
                "parent_id": None, "thread_root_id": None, "parent_external_id": None, "root_external_id": None,
                "raw": record["raw"], "fetched_at": now,
            })  # fmt: skip
        yield rows


def raw_insert(engine: Engine, n: int, per_txn: int) -> float:
    """Rows per second of plain executemany INSERTs, ``per_txn`` rows per transaction."""
    statement = insert(Post.__table__)  # type: ignore[attr-defined]
    spent = 0.0
    for rows in equivalent_rows(n, per_txn):
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(statement, rows)
        spent += time.perf_counter() - start
    return n / spent


# -- databases -----------------------------------------------------------------------------------------


def sqlite_factory(workdir: Path) -> Callable[[], Engine]:
    def make() -> Engine:
        return open_engine(f"sqlite:///{workdir / f'{uuid.uuid4().hex}.db'}")

    return make


def postgres_factory(admin_url: str) -> Callable[[], Engine]:
    from tests.pg import create_database

    def make() -> Engine:
        return open_engine(create_database(admin_url, f"bench_{uuid.uuid4().hex[:10]}"))

    return make


def measure(name: str, factory: Callable[[], Engine], url: str, n: int, fetch_rate: float) -> Row:
    engine = factory()
    elapsed, stored, status = end_to_end(engine, url, n)
    engine.dispose()
    engine = factory()
    page_rate = raw_insert(engine, n, PAGE)
    engine.dispose()
    engine = factory()
    bulk_rate = raw_insert(engine, n, 5000)
    engine.dispose()
    return Row(name, n, n / elapsed, elapsed, fetch_rate, page_rate, bulk_rate, stored, status)


def print_table(rows: list[Row]) -> None:
    header = ("database", "posts", "end to end/s", "fetch+parse/s", "raw 40/txn/s", "raw 5000/txn/s", "e2e vs raw40")
    print(" | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for r in rows:
        print(f"{r.database} | {r.posts} | {r.end_to_end_per_s:,.0f} | {r.fetch_parse_per_s:,.0f} | "
              f"{r.raw_page_txn_per_s:,.0f} | {r.raw_bulk_txn_per_s:,.0f} | "
              f"{r.end_to_end_per_s / r.raw_page_txn_per_s:.0%}")  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k and 10k posts")
    parser.add_argument("--sizes", help="comma-separated post counts (default 10000,100000)")
    parser.add_argument("--pg-url", default=os.environ.get("RESONANZ_BENCH_PG_URL"))
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    sizes = (
        [int(s) for s in args.sizes.split(",")] if args.sizes else ([2000, 10000] if args.quick else [10000, 100000])
    )

    stop_pg: Callable[[], None] | None = None
    databases: list[tuple[str, Callable[[], Engine]]] = []
    workdir = Path(tempfile.mkdtemp(prefix="resonanz-bench-"))
    databases.append(("sqlite", sqlite_factory(workdir)))
    pg_version = None
    if not args.no_pg:
        admin_url = args.pg_url
        if not admin_url:
            from tests.pg import PostgresUnavailable, start_postgres

            try:
                admin_url, stop_pg = start_postgres(workdir / "pg")
            except PostgresUnavailable as exc:
                print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        if admin_url:
            databases.append(("postgresql", postgres_factory(admin_url)))
            import psycopg
            from sqlalchemy.engine import make_url

            u = make_url(admin_url)
            with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database or "postgres") as c:
                row = c.execute("SHOW server_version").fetchone()
                pg_version = row[0] if row else None

    rows: list[Row] = []
    try:
        for n in sizes:
            with Server(n) as server:
                fetch_rate = fetch_parse_only(server.url, n)
                for name, factory in databases:
                    print(f"... {name}, {n} posts", file=sys.stderr, flush=True)
                    rows.append(measure(name, factory, server.url, n, fetch_rate))
    finally:
        if stop_pg is not None:
            stop_pg()
    print_table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "bench_ingest.json"
    out.write_text(json.dumps({
        "benchmark": "ingest", "measured_at": utcnow().isoformat(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version, "postgresql": pg_version,
        "page_size": PAGE, "rows": [asdict(r) for r in rows],
    }, indent=2))  # fmt: skip
    print(f"\nwritten to {out}")
    return 0 if all(r.status == "ok" and r.stored == r.posts for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
