"""End to end over real sockets: the local HTTP server, timeouts, retries, truncated bodies, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.testing import FakeMastodon, Fault, LocalServer, make_account, make_status, snowflake
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.collect import run_source
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from store.models import CollectorRun, Post

ANNA = make_account("1", "anna", "mastodon.social")


def statuses(n: int) -> list[dict]:
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        created = now - timedelta(minutes=5 + i * 20)
        status = make_status(snowflake(created, i), created, f"<p>Post {i} #Brühwerk</p>", ANNA, tags=["Brühwerk"])
        status["replies_count"] = 1  # makes the collector follow its thread
        out.append(status)
    return out


def count_posts(engine: Engine) -> int:
    with Session(engine) as session:
        return len(session.execute(select(col(Post.id))).all())


def test_real_sockets_with_503_slow_answer_and_truncated_body(sqlite_engine: Engine) -> None:
    settings = Settings(collectors=CollectorSettings(timeout=0.5, max_retries=3))
    with LocalServer(FakeMastodon(statuses(90))) as server:
        add_source(sqlite_engine, platform="mastodon", name="local", query="#Brühwerk",
                   options={"instance": server.url})  # fmt: skip
        server.add_fault(Fault("/api/v1/timelines/tag/", status=503, headers={"Retry-After": "0"}))
        server.add_fault(Fault("/api/v1/timelines/tag/", delay=1.5))  # the client's read timeout fires
        server.add_fault(Fault("/api/v1/statuses/", truncate=True))  # the connection closes mid-body
        summary = run_source(sqlite_engine, "local", settings, sleep=lambda s: time.sleep(min(s, 0.05)))
        paths = [r.path for r in server.requests]
    assert summary.status == "ok", summary.error
    assert summary.new == 90 and count_posts(sqlite_engine) == 90
    # 503 -> retried; timeout -> retried; then three pages; contexts for threads follow
    assert paths[:5] == ["/api/v1/timelines/tag/Br%C3%BChwerk"] * 5
    status_paths = [p for p in paths if p.startswith("/api/v1/statuses/")]
    assert status_paths[0] == status_paths[1]  # the cut-off answer was fetched again


def test_sigterm_during_a_cli_run_keeps_what_was_stored(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'sigterm.db'}"
    engine = open_engine(db_url)
    app = FakeMastodon(statuses(200))
    with LocalServer(app) as server:
        add_source(engine, platform="mastodon", name="slow", query="#Brühwerk",
                   options={"instance": server.url, "replies": False})  # fmt: skip
        for _ in range(10):  # every page after the first answers slowly
            server.add_fault(Fault("/api/v1/timelines/tag/", delay=0.0 if _ == 0 else 0.6))
        env = {**os.environ, "RESONANZ_DATABASE_URL": db_url, "RESONANZ_COLLECTORS__TIMEOUT": "5"}
        command = [sys.executable, "-c", "from resonanz.cli.main import app; app()", "collect", "slow"]
        proc = subprocess.Popen(command, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            deadline = time.time() + 60
            while count_posts(engine) == 0 and time.time() < deadline:
                time.sleep(0.1)
            assert count_posts(engine) > 0, "no page was stored"
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        stored = count_posts(engine)
        assert 0 < stored < 200, output.decode(errors="replace")
        with Session(engine) as session:
            run = session.execute(select(CollectorRun)).scalars().one()
        assert run.status == "interrupted" and run.fetched == stored
        # the next run resumes and completes
        summary = run_source(engine, "slow", Settings())
        assert summary.status == "ok" and count_posts(engine) == 200


def test_kill_9_and_an_immediate_restart_resume_at_once_and_lose_nothing(tmp_path: Path) -> None:
    """A collector process killed with SIGKILL (no clean-up at all) and restarted at once: the restart takes
    the dead run over instead of skipping for half an hour, resumes after the last stored page, and ends
    with 500 of 500 posts stored once each."""
    db_url = f"sqlite:///{tmp_path / 'kill9.db'}"
    engine = open_engine(db_url)
    app = FakeMastodon(statuses(500))
    with LocalServer(app) as server:
        add_source(engine, platform="mastodon", name="kill9", query="#Brühwerk",
                   options={"instance": server.url, "replies": False})  # fmt: skip
        for n in range(6):  # the first run's pages after the first answer slowly, so it is killed mid-run
            server.add_fault(Fault("/api/v1/timelines/tag/", delay=0.0 if n == 0 else 0.5))
        env = {**os.environ, "RESONANZ_DATABASE_URL": db_url, "RESONANZ_COLLECTORS__TIMEOUT": "5"}
        command = [sys.executable, "-c", "from resonanz.cli.main import app; app()", "collect", "kill9"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 60
            while count_posts(engine) == 0 and time.time() < deadline:
                time.sleep(0.05)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
        before = count_posts(engine)
        assert 0 < before < 500
        started = time.monotonic()
        second = subprocess.run(command, env=env, capture_output=True, timeout=120)
        took = time.monotonic() - started
    assert second.returncode == 0, second.stdout.decode(errors="replace") + second.stderr.decode(errors="replace")
    with Session(engine) as session:
        runs = session.execute(select(CollectorRun).order_by(col(CollectorRun.id))).scalars().all()
        ids = session.execute(select(col(Post.external_id))).scalars().all()
    assert len(ids) == 500 and len(set(ids)) == 500
    assert [r.status for r in runs] == ["interrupted", "ok"], [(r.status, r.error) for r in runs]
    assert "is gone" in (runs[0].error or "")
    assert runs[1].new == 500 - before and took < 60
