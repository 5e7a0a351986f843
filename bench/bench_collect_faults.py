"""Collector fault runs over real sockets (issue 13): a page that keeps failing, and kill -9 with an immediate restart.

    .venv/bin/python -m bench.bench_collect_faults [--posts 500]

Both runs use the fake Mastodon server of ``collectors.testing`` on 127.0.0.1 and a temporary SQLite file.

* **Persistent bad page**: the page behind the first 200 posts answers 500 for the first three runs. Every
  run that cannot reach what lies behind it must say so (status ``failed``, never ``ok``); once the page
  loads again (the retry after the back-off), the rest comes in. Reported: runs needed, the statuses, posts
  stored, duplicates.
* **kill -9**: ``resonanz collect`` is killed with SIGKILL mid-run and started again at once. Reported: posts
  stored before the kill, the restart's status and time to finish, posts stored, duplicates.

Writes ``bench/results/collect_faults.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from collectors.testing import FakeMastodon, Fault, LocalServer, make_account, make_status, snowflake
from collectors.testing.server import Reply, Request
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.collect import run_source
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from store.models import CollectorRun, Post

HERE = Path(__file__).parent
ANNA = make_account("1", "anna", "mastodon.social")


def statuses(n: int, now: datetime) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        created = now - timedelta(minutes=5 + i * 7)
        out.append(make_status(snowflake(created, i), created, f"<p>Beitrag {i} #Brühwerk</p>", ANNA,
                               tags=["Brühwerk"]))  # fmt: skip
    return out


def stored(engine: Any) -> tuple[int, int]:
    """(rows, distinct external ids)"""
    with Session(engine) as session:
        rows = session.execute(select(func.count(col(Post.id)))).scalar_one()
        distinct = session.execute(select(func.count(func.distinct(col(Post.external_id))))).scalar_one()
    return int(rows), int(distinct)


def persistent_bad_page(tmp: Path, n: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    items = statuses(n, now)
    bad_max_id = items[199]["id"]
    fake = FakeMastodon(items)
    state = {"run": 0}

    def app(request: Request) -> Reply:
        if request.arg("max_id") == bad_max_id and state["run"] <= 3:
            return Reply(500, b"internal error")
        return fake(request)

    engine = open_engine(f"sqlite:///{tmp / 'bad_page.db'}")
    settings = Settings(collectors=CollectorSettings(timeout=5, max_retries=1))
    statuses_seen: list[str] = []
    with LocalServer(app) as server:
        add_source(engine, platform="mastodon", name="bad", query="#Brühwerk",
                   options={"instance": server.url, "replies": False})  # fmt: skip
        when = now
        for run in range(1, 9):
            state["run"] = run
            summary = run_source(engine, "bad", settings, now=when, sleep=lambda s: None)
            statuses_seen.append(summary.status)
            rows, _ = stored(engine)
            if rows == n and summary.status == "ok":
                break
            when += timedelta(hours=2)  # past any back-off
    rows, distinct = stored(engine)
    silent = sum(1 for s in statuses_seen[:-1] if s == "ok")
    return {"posts": n, "stored": rows, "duplicates": rows - distinct, "runs": len(statuses_seen),
            "statuses": statuses_seen, "ok_runs_with_a_gap": silent}  # fmt: skip


def kill_9(tmp: Path, n: int) -> dict[str, Any]:
    db_url = f"sqlite:///{tmp / 'kill9.db'}"
    engine = open_engine(db_url)
    with LocalServer(FakeMastodon(statuses(n, datetime.now(UTC)))) as server:
        add_source(engine, platform="mastodon", name="kill9", query="#Brühwerk",
                   options={"instance": server.url, "replies": False})  # fmt: skip
        for k in range(8):
            server.add_fault(Fault("/api/v1/timelines/tag/", delay=0.0 if k == 0 else 0.5))
        env = {**os.environ, "RESONANZ_DATABASE_URL": db_url, "RESONANZ_COLLECTORS__TIMEOUT": "5",
               "RESONANZ_LOG_LEVEL": "WARNING"}  # fmt: skip
        command = [sys.executable, "-c", "from resonanz.cli.main import app; app()", "collect", "kill9"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while stored(engine)[0] == 0 and time.time() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        before = stored(engine)[0]
        started = time.monotonic()
        second = subprocess.run(command, env=env, capture_output=True, timeout=300)
        seconds = time.monotonic() - started
    with Session(engine) as session:
        runs = [
            (r.status, r.error) for r in session.execute(select(CollectorRun).order_by(col(CollectorRun.id))).scalars()
        ]
    rows, distinct = stored(engine)
    return {"posts": n, "stored_before_kill": before, "stored": rows, "duplicates": rows - distinct,
            "restart_rc": second.returncode, "restart_seconds": round(seconds, 2),
            "runs": [status for status, _ in runs], "first_run_error": runs[0][1]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=500)
    ap.add_argument("--quick", action="store_true", help="(accepted for `python -m bench -- --quick`)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {"persistent_bad_page": persistent_bad_page(Path(tmp), args.posts),
                   "kill_9_restart": kill_9(Path(tmp), args.posts)}  # fmt: skip
    for name, r in results.items():
        print(name, json.dumps(r, ensure_ascii=False), flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "collect_faults.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
