"""Three real ``resonanz worker`` processes on one real PostgreSQL score the stored posts and collect ten local fake
Mastodon sources while one of them is killed with SIGKILL in the middle of a collection (issue 18, item 4)."""

from __future__ import annotations

import contextlib
import signal
import socket
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.testing import Fault, LocalServer
from resonanz.core.settings import Settings
from resonanz.pipeline.sources import add_source
from resonanz.workers.app import build_app, queue_conninfo
from resonanz.workers.schema import ensure_queue_schema
from resonanz.workers.tasks import COLLECT_TASK, SCORE_TASK, defer_collect, defer_plan
from store.db import open_engine
from store.models import CollectorRun, Post, Source
from tests.workers.fleet import Fleet, busy_jobs, mastodon_source, queue_rows, seed_posts, wait_for

pytestmark = pytest.mark.postgres

SEEDED = 100
SLOW = {0: 60, 1: 60}
"""Two sources of two pages (40 + 20 statuses) whose second page answers after 4 s: one of them is killed there."""
QUICK = 12
SOURCES = 10
ENV = {
    "RESONANZ_WORKERS__SCORE_CHUNK": "20",
    # the sentiment model alone (the real one): three processes load it at once on a shared 2-core machine
    "RESONANZ_NLP__OFFENSIVE_MODEL": "",
    "RESONANZ_NLP__EMBEDDING_MODEL": "",
    "RESONANZ_NLP__FLAG_MODEL": "",
}


def _runs(engine: Engine) -> dict[int, list[CollectorRun]]:
    with Session(engine) as session:
        runs = session.execute(select(CollectorRun).order_by(col(CollectorRun.started_at))).scalars().all()
    by_source: dict[int, list[CollectorRun]] = defaultdict(list)
    for run in runs:
        by_source[run.source_id].append(run)
    return by_source


def _running(engine: Engine, source_ids: set[int]) -> tuple[str, int] | None:
    """``host:pid`` of a worker in the middle of a slow source's run (a page stored, the next one pending), and
    the source."""
    with Session(engine) as session:
        row = session.execute(
            select(col(CollectorRun.owner), col(CollectorRun.source_id)).where(
                col(CollectorRun.status) == "running",
                col(CollectorRun.fetched) > 0,
                col(CollectorRun.source_id).in_(source_ids),
            )  # fmt: skip
        ).first()
    return (str(row[0]), int(row[1])) if row else None


def _scored(engine: Engine) -> tuple[int, int, int]:
    """Posts, posts with at least one score, score rows."""
    with engine.connect() as conn:
        posts = conn.execute(text("SELECT count(*) FROM post")).scalar_one()
        scored = conn.execute(text("SELECT count(DISTINCT post_id) FROM score")).scalar_one()
        rows = conn.execute(text("SELECT count(*) FROM score")).scalar_one()
    return int(posts), int(scored), int(rows)


def test_three_workers_one_killed_mid_collection_lose_nothing_and_do_nothing_twice(pg_url: str, tmp_path: Path) -> None:
    engine = open_engine(pg_url)
    seed_posts(engine, SEEDED)
    settings = Settings(database_url=pg_url)
    ensure_queue_schema(queue_conninfo(settings))
    sizes = [SLOW.get(k, QUICK) for k in range(SOURCES)]
    fleet = Fleet(pg_url, tmp_path / "logs", env=ENV)
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(LocalServer(mastodon_source(k, n))) for k, n in enumerate(sizes)]
        ids = []
        for k, server in enumerate(servers):
            source = add_source(engine, platform="mastodon", name=f"quelle-{k}", query="#Brühwerk",
                                options={"instance": server.url, "replies": False})  # fmt: skip
            ids.append(int(source.id or 0))
            if k in SLOW:
                server.add_fault(Fault("/api/v1/timelines/tag/", delay=0.0))
                server.add_fault(Fault("/api/v1/timelines/tag/", delay=4.0))
        app = build_app(settings)
        with app.open():  # what `resonanz run` defers at start
            for source_id in ids:
                defer_collect(app, source_id)
            defer_plan(app)
        stack.callback(fleet.stop)
        workers = [fleet.start("worker") for _ in range(3)]
        slow_ids = {ids[k] for k in SLOW}
        try:
            wait_for(lambda: _running(engine, slow_ids) is not None, 90, "a slow source half collected")
            owner, killed_source = _running(engine, slow_ids) or ("", 0)
            host, _, pid = owner.rpartition(":")
            victim = next(p for p in workers if p.pid == int(pid))
            assert host == socket.gethostname()
            victim.send_signal(signal.SIGKILL)
            victim.wait()  # reaped, as systemd or docker would
            with app.open():  # the next interval of `resonanz run`: the other sources are due again
                for source_id in ids:
                    if source_id != killed_source:  # (its job is still `doing`: it goes back into the queue)
                        defer_collect(app, source_id)
            expected = SEEDED + sum(sizes)
            wait_for(lambda: _scored(engine)[1] == expected and busy_jobs(engine) == 0, 240,
                     "every post stored and scored, no job left", every=0.5)  # fmt: skip
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{fleet.output()}") from None
        finally:
            fleet.stop()

    # nothing lost: every status of every source stored, once; every post scored, once
    posts, scored, rows = _scored(engine)
    assert posts == scored == rows == SEEDED + sum(sizes)
    with Session(engine) as session:
        per_source = dict(
            session.execute(select(col(Post.source_id), text("count(*)")).group_by(col(Post.source_id))).all()
        )
        names = dict(session.execute(select(col(Source.id), col(Source.name))).all())
    assert {names[s]: per_source.get(s, 0) for s in ids} == {f"quelle-{k}": n for k, n in enumerate(sizes)}

    # no post in two scoring jobs: the planned id ranges are disjoint and cover every post
    ranges = sorted((job["args"]["first_id"], job["args"]["last_id"]) for job in queue_rows(engine, SCORE_TASK))
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False)), ranges
    with engine.connect() as conn:
        post_ids = [int(i) for i in conn.execute(text("SELECT id FROM post ORDER BY id")).scalars()]
    assert all(any(a <= i <= b for a, b in ranges) for i in post_ids)

    # no source collected by two workers at once: per source, each run ended before the next began
    runs = _runs(engine)
    for source_id in ids:
        source_runs = runs[source_id]
        assert all(r.finished_at is not None for r in source_runs), [(r.status, r.error) for r in source_runs]
        for a, b in zip(source_runs, source_runs[1:], strict=False):
            assert a.finished_at is not None and a.finished_at <= b.started_at, (names[source_id], a, b)
        assert "skipped" not in {r.status for r in source_runs}
    # the killed worker's run was taken over, and its job ran again on another worker
    first, *later = runs[killed_source]
    assert (first.owner, first.status) == (owner, "interrupted") and "is gone" in (first.error or ""), first
    assert later and later[0].owner != owner and later[0].status == "ok"
    collects = queue_rows(engine, COLLECT_TASK)
    assert {job["status"] for job in collects} == {"succeeded"}, collects
    retried = [job["args"]["source_id"] for job in collects if job["attempts"] > 1]
    assert retried == [killed_source], collects
