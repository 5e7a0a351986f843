"""A fleet of real ``resonanz worker`` processes (and ``resonanz run``) on one PostgreSQL, for the worker tests
and ``bench/bench_workers.py``: posts to score, fake Mastodon sources, the processes, and what the queue holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from collectors.testing import FakeMastodon, make_account, make_status, snowflake
from store.db import session_scope
from store.ingest import ingest_posts
from store.records import PostRecord

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from resonanz.cli.main import app; app()"]
FAST = {
    "RESONANZ_WORKERS__MODE": "procrastinate",
    "RESONANZ_WORKERS__HEARTBEAT_SECONDS": "0.5",
    "RESONANZ_WORKERS__STALLED_AFTER_SECONDS": "2",
    "RESONANZ_WORKERS__STALLED_CHECK_SECONDS": "1",
    "RESONANZ_WORKERS__KEEP_FINISHED_JOBS": "true",
    "RESONANZ_NLP__THREADS": "1",
    "RESONANZ_COLLECTORS__TIMEOUT": "10",
}
"""Heartbeats every 0.5 s, a worker dead after 2 s, checked every second; finished jobs kept for the checks."""


def german_texts(n: int, seed: int = 42) -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from german_posts import make_posts

    return list(make_posts(n, seed=seed))


def seed_posts(engine: Engine, n: int, *, seed: int = 42, prefix: str = "p") -> None:
    """``n`` imported German posts (external ids ``<prefix><i>``), none scored."""
    now = datetime.now(UTC)
    texts = german_texts(n, seed)
    for start in range(0, n, 2000):
        records = [
            PostRecord(
                platform="import",
                external_id=f"{prefix}{i}",
                created_at=now - timedelta(minutes=i),
                kind="post",
                text=texts[i],
                language="de",
            )  # fmt: skip
            for i in range(start, min(n, start + 2000))
        ]
        with session_scope(engine) as session:
            ingest_posts(session, records, now=now)


def mastodon_source(k: int, n: int) -> FakeMastodon:
    """A Mastodon instance with ``n`` statuses of its own (ids and accounts differ between instances)."""
    account = make_account(str(k), f"nutzer{k}", f"inst{k}.example")
    now = datetime.now(UTC)
    texts = german_texts(n, seed=1000 + k)
    statuses = []
    for i in range(n):
        created = now - timedelta(minutes=5 + i)
        statuses.append(make_status(snowflake(created, k * 1000 + i), created, f"<p>{texts[i]} #Brühwerk</p>",
                                    account, tags=["Brühwerk"]))  # fmt: skip
    return FakeMastodon(statuses)


def queue_rows(engine: Engine, task: str | None = None) -> list[dict[str, Any]]:
    """The jobs procrastinate holds (optionally of one task), oldest first; none before the queue is installed."""
    query = "SELECT id, task_name, status::text AS status, lock, args, attempts, worker_id FROM procrastinate_jobs"
    with engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar_one() is None:
            return []  # not installed (yet)
        if task is None:
            rows = conn.execute(text(query + " ORDER BY id")).mappings().all()
        else:
            rows = conn.execute(text(query + " WHERE task_name = :t ORDER BY id"), {"t": task}).mappings().all()
    return [dict(row) for row in rows]


def busy_jobs(engine: Engine) -> int:
    """Jobs waiting or running, besides the periodic check for dead workers."""
    query = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing') AND task_name <> :t"
    with engine.connect() as conn:
        return int(conn.execute(text(query), {"t": "resonanz:retry_stalled"}).scalar_one())


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class Fleet:
    """Processes started with :meth:`start`; :meth:`stop` ends the live ones with SIGTERM (then SIGKILL)."""

    db_url: str
    logs: Path
    env: Mapping[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    _files: list[IO[bytes]] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        return {**os.environ, "RESONANZ_DATABASE_URL": self.db_url, **FAST, **self.env}

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{len(self.procs)}-{args[0]}.log").open("wb")
        self._files.append(log)
        proc = subprocess.Popen([*CLI, *args], env=self.environment(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.procs.append(proc)
        return proc

    def output(self) -> str:
        logs = sorted(self.logs.glob("*.log"))
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in self._files:
            log.close()
