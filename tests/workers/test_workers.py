"""The distributed mode's parts: the scoring plan, the queue schema, what ``resonanz run`` defers, the check that
puts a dead worker's job back, taking over a dead worker's collection run, and the refusal on SQLite."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import timedelta
from types import SimpleNamespace

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from typer.testing import CliRunner

from resonanz.cli.main import app as cli
from resonanz.core.settings import Settings, reset_settings_cache
from resonanz.pipeline.sources import add_source
from resonanz.workers.app import build_app, queue_conninfo, stalled_cron
from resonanz.workers.claims import plan_ranges, take_over_stale_runs
from resonanz.workers.deferring import run_deferring
from resonanz.workers.schema import MARKER, ensure_queue_schema
from resonanz.workers.tasks import COLLECT_TASK, PLAN_TASK, defer_collect, defer_plan, retry_stalled
from store.db import open_engine, session_scope
from store.models import CollectorRun
from store.types import utcnow
from tests.workers.fleet import queue_rows, wait_for

runner = CliRunner()


# -- the scoring plan (pure) ----------------------------------------------------------------------------------------


def _check_plan(ids: list[int], planned: list[tuple[int, int]], chunk: int, max_ranges: int) -> None:
    ranges = plan_ranges(ids, planned, chunk, max_ranges)
    covered = [i for i in ids if any(a <= i <= b for a, b in planned)]
    mine = [[i for i in ids if a <= i <= b] for a, b in ranges]
    assert len(ranges) <= max_ranges
    assert all(1 <= len(m) <= chunk for m in mine)
    every = sorted(planned + ranges)
    assert all(x[1] < y[0] for x, y in zip(every, every[1:], strict=False)), (planned, ranges)  # disjoint
    assert not set(covered) & {i for m in mine for i in m}
    if len(ranges) < max_ranges:  # nothing left out
        assert sorted(covered + [i for m in mine for i in m]) == ids


def test_plan_ranges_leaves_out_planned_posts_and_never_spans_a_planned_range() -> None:
    ids = [1, 2, 3, 5, 8, 9, 10, 11, 12, 20, 21, 22]
    assert plan_ranges(ids, [], 4, 10) == [(1, 5), (8, 11), (12, 22)]
    assert plan_ranges(ids, [(4, 8)], 4, 10) == [(1, 3), (9, 12), (20, 22)]
    assert plan_ranges(ids, [(4, 8), (13, 19)], 10, 10) == [(1, 3), (9, 12), (20, 22)]
    assert plan_ranges(ids, [(1, 22)], 4, 10) == []
    assert plan_ranges(ids, [], 4, 2) == [(1, 5), (8, 11)]


def test_plan_ranges_random_cases() -> None:
    rng = random.Random(18)
    for _ in range(300):
        ids = sorted(rng.sample(range(1, 200), rng.randint(0, 80)))
        planned: list[tuple[int, int]] = []
        start = rng.randint(1, 20)
        while start < 200:
            end = start + rng.randint(0, 15)
            if rng.random() < 0.5:
                planned.append((start, end))
            start = end + rng.randint(1, 20)
        _check_plan(ids, planned, rng.randint(1, 12), rng.randint(1, 30))


def test_stalled_cron_has_a_seconds_column_below_a_minute() -> None:
    assert stalled_cron(60) == "* * * * *"
    assert stalled_cron(5) == "* * * * * */5"


# -- SQLite: a clear refusal ----------------------------------------------------------------------------------------


def test_worker_on_sqlite_says_it_needs_postgresql(db_url: str) -> None:
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 2, result.output
    assert "Mehrere Worker brauchen PostgreSQL" in result.output and "sqlite" in result.output


def test_run_in_worker_mode_on_sqlite_refuses_instead_of_scheduling(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESONANZ_WORKERS__MODE", "procrastinate")
    reset_settings_cache()
    result = runner.invoke(cli, ["run"])
    assert result.exit_code == 2, result.output
    assert "Mehrere Worker brauchen PostgreSQL" in result.output
    assert 'mode = "scheduler"' in result.output


def test_take_over_only_the_quiet_running_runs_of_that_source(sqlite_engine: Engine) -> None:
    one = add_source(sqlite_engine, platform="rss", name="eins", query="https://a.example/feed")
    two = add_source(sqlite_engine, platform="rss", name="zwei", query="https://b.example/feed")
    now = utcnow()
    with session_scope(sqlite_engine) as session:
        for source, age, status in (
            (one, 600, "running"),
            (one, 5, "running"),
            (two, 600, "running"),
            (one, 900, "ok"),
        ):
            at = now - timedelta(seconds=age)
            session.add(CollectorRun(source_id=int(source.id or 0), started_at=at, heartbeat_at=at, status=status))
    assert take_over_stale_runs(sqlite_engine, int(one.id or 0), timedelta(seconds=120)) == 1
    with Session(sqlite_engine) as session:
        runs = session.execute(select(CollectorRun).order_by(col(CollectorRun.id))).scalars().all()
    assert [r.status for r in runs] == ["interrupted", "running", "running", "ok"]
    assert "is gone" in (runs[0].error or "") and runs[0].finished_at is not None


# -- PostgreSQL --------------------------------------------------------------------------------------------------


@pytest.fixture
def queue_db(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("RESONANZ_DATABASE_URL", pg_url)
    reset_settings_cache()
    return open_engine(pg_url)


@pytest.mark.postgres
def test_schema_only_installs_the_queue_once_and_records_its_version(queue_db: Engine, pg_url: str) -> None:
    first = runner.invoke(cli, ["worker", "--schema-only"])
    again = runner.invoke(cli, ["worker", "--schema-only"])
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert "angelegt" in first.output and "aktuell" in again.output
    with queue_db.connect() as conn:
        comment = conn.execute(text("SELECT obj_description('procrastinate_jobs'::regclass)")).scalar_one()
        tables = set(
            conn.execute(text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%'")).scalars()
        )
    assert comment.startswith(MARKER) and {"procrastinate_jobs", "procrastinate_workers"} <= tables


@pytest.mark.postgres
def test_a_hand_made_queue_schema_is_not_overwritten(queue_db: Engine, pg_url: str) -> None:
    settings = Settings(database_url=pg_url)
    with psycopg.connect(queue_conninfo(settings), autocommit=True) as conn:
        conn.execute("CREATE TABLE procrastinate_jobs (id bigint)")
    result = runner.invoke(cli, ["worker", "--schema-only"])
    assert result.exit_code == 2 and "nicht von Resonanz angelegt" in result.output, result.output


@pytest.mark.postgres
def test_resonanz_run_defers_one_locked_collection_per_source_and_the_planner(queue_db: Engine, pg_url: str) -> None:
    for name in ("eins", "zwei"):
        add_source(queue_db, platform="rss", name=name, query=f"https://{name}.example/feed")
    add_source(queue_db, platform="rss", name="aus", query="https://aus.example/feed", enabled=False)
    settings = Settings(database_url=pg_url)
    stop = threading.Event()
    thread = threading.Thread(target=run_deferring, args=(queue_db, settings), kwargs={"stop": stop})
    thread.start()
    try:
        wait_for(lambda: len(queue_rows(queue_db, COLLECT_TASK)) == 2 and bool(queue_rows(queue_db, PLAN_TASK)), 30,
                 "the first deferrals")  # fmt: skip
    finally:
        stop.set()
        thread.join(timeout=30)
    collects = queue_rows(queue_db, COLLECT_TASK)
    with queue_db.connect() as conn:
        ids = dict(conn.execute(text("SELECT name, id FROM source")).all())
        locks = dict(conn.execute(text("SELECT lock, queueing_lock FROM procrastinate_jobs")).all())
    assert sorted(job["args"]["source_id"] for job in collects) == sorted([ids["eins"], ids["zwei"]])
    assert {job["lock"] for job in collects} == {f"collect:{ids['eins']}", f"collect:{ids['zwei']}"}
    assert all(locks[job["lock"]] == job["lock"] for job in collects)  # at most one waits per source, too
    app = build_app(settings)
    with app.open():  # the next interval while the first still waits: nothing piles up
        assert defer_collect(app, ids["eins"]) is None
    assert len(queue_rows(queue_db, COLLECT_TASK)) == 2


@pytest.mark.postgres
def test_the_job_of_a_dead_worker_goes_back_into_the_queue(queue_db: Engine, pg_url: str) -> None:
    """What ``kill -9`` leaves: a ``doing`` job whose worker stopped sending heartbeats. The periodic check puts it
    back (``todo``); a job whose successor already waits (same queueing lock) is closed instead."""
    one = add_source(queue_db, platform="rss", name="eins", query="https://eins.example/feed")
    two = add_source(queue_db, platform="rss", name="zwei", query="https://zwei.example/feed")
    settings = Settings(database_url=pg_url)
    ensure_queue_schema(queue_conninfo(settings))
    app = build_app(settings)
    with app.open():
        killed = defer_collect(app, int(one.id or 0))
        doubled = defer_collect(app, int(two.id or 0))
    with queue_db.begin() as conn:  # the second source's job was picked up before its next interval
        conn.execute(text("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = :j"), {"j": doubled})
    with app.open():
        waiting = defer_collect(app, int(two.id or 0))  # the second source's next interval, while its job runs
        live = defer_plan(app)
    with queue_db.begin() as conn:
        dead = conn.execute(
            text("INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id")
        ).scalar_one()
        alive = conn.execute(text("INSERT INTO procrastinate_workers DEFAULT VALUES RETURNING id")).scalar_one()
        doing = "UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :j"
        for job, worker in ((killed, dead), (doubled, dead), (live, alive)):
            conn.execute(text(doing), {"w": worker, "j": job})

    async def check() -> int:
        async with app.open_async():
            return await retry_stalled.func(SimpleNamespace(app=app), timestamp=0)  # type: ignore[arg-type]

    assert asyncio.run(check()) == 1
    status = {row["id"]: row["status"] for row in queue_rows(queue_db)}
    assert (status[killed], status[doubled], status[waiting], status[live]) == ("todo", "failed", "todo", "doing")
