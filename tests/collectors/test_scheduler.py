"""The scheduler: source jobs persisted in the store's database, sync, extra jobs, clean stop."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.testing import FakeMastodon, LocalServer
from resonanz.core.settings import Settings
from resonanz.pipeline.scheduler import (
    SYNC_JOB_ID,
    ExtraJob,
    build_scheduler,
    run_forever,
    start,
    sync_source_jobs,
)
from resonanz.pipeline.sources import add_source, remove_source, set_enabled
from store.db import session_scope
from store.models import CollectorRun, Source

TICKS: list[str] = []


def tick(label: str = "tick") -> None:
    TICKS.append(label)


def add(engine: Engine, name: str, interval: int = 900, instance: str = "https://a.example") -> None:
    add_source(engine, platform="mastodon", name=name, query="#x", interval_seconds=interval,
               options={"instance": instance, "replies": False})  # fmt: skip


def ids(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {name: sid for name, sid in session.execute(select(col(Source.name), col(Source.id))).all()}


def test_jobs_per_enabled_source_are_persisted_in_the_database(sqlite_engine: Engine) -> None:
    add(sqlite_engine, "a", 600)
    add(sqlite_engine, "b", 1800)
    add(sqlite_engine, "off")
    set_enabled(sqlite_engine, "off", False)
    scheduler = build_scheduler(sqlite_engine, Settings())
    start(scheduler, sqlite_engine)
    scheduler.pause()
    try:
        source_ids = ids(sqlite_engine)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {f"collect:{source_ids['a']}", f"collect:{source_ids['b']}", SYNC_JOB_ID}
        job = jobs[f"collect:{source_ids['a']}"]
        assert job.trigger.interval == timedelta(seconds=600)
        assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, None)
        assert job.args == (source_ids["a"],) and job.name == "collect a"
        assert str(scheduler.timezone) == "Europe/Berlin"
    finally:
        scheduler.shutdown(wait=False)
    with sqlite_engine.connect() as conn:
        stored = {row[0] for row in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
    assert f"collect:{source_ids['b']}" in stored

    # a restart finds its jobs (and their next run times) in the database
    again = build_scheduler(sqlite_engine, Settings())
    again.start(paused=True)
    try:
        before = {j.id: j.next_run_time for j in again.get_jobs()}
        result = sync_source_jobs(again, sqlite_engine)
        assert result.added == [] and result.removed == []
        assert {j.id: j.next_run_time for j in again.get_jobs()} == before
    finally:
        again.shutdown(wait=False)


def test_sync_follows_added_changed_and_removed_sources(sqlite_engine: Engine) -> None:
    add(sqlite_engine, "a", 600)
    add(sqlite_engine, "b", 600)
    scheduler = build_scheduler(sqlite_engine, Settings())
    start(scheduler, sqlite_engine)
    scheduler.pause()
    try:
        remove_source(sqlite_engine, "b")
        add(sqlite_engine, "c", 300)
        with session_scope(sqlite_engine) as session:
            session.execute(update(Source).where(col(Source.name) == "a").values(interval_seconds=120))
        result = sync_source_jobs(scheduler, sqlite_engine)
        assert "a" in result.changed and "b" not in result.added + result.changed
        jobs = {job.name: job for job in scheduler.get_jobs() if job.id != SYNC_JOB_ID}
        assert set(jobs) == {"collect a", "collect c"}  # (SQLite may give c the id b had)
        assert jobs["collect a"].trigger.interval == timedelta(seconds=120)
        assert jobs["collect c"].trigger.interval == timedelta(seconds=300)
        assert jobs["collect c"].args == (ids(sqlite_engine)["c"],)
    finally:
        scheduler.shutdown(wait=False)


def test_extra_jobs_are_added(sqlite_engine: Engine) -> None:
    weekly = CronTrigger(day_of_week="mon", hour=7, timezone="Europe/Berlin")
    digest = ExtraJob("digest", "tests.collectors.test_scheduler:tick", weekly, {"label": "digest"})
    scheduler = build_scheduler(sqlite_engine, Settings(), extra_jobs=[digest])
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("digest")
        assert job.kwargs == {"label": "digest"}
        assert job.next_run_time.weekday() == 0 and job.next_run_time.hour == 7
    finally:
        scheduler.shutdown(wait=False)


def test_resonanz_run_schedules_link_value_and_digest() -> None:
    from resonanz.pipeline.jobs import scheduled_jobs

    settings = Settings()
    jobs = {job.id: job for job in scheduled_jobs(settings)}
    assert set(jobs) == {"resonanz:score", "resonanz:link", "resonanz:value", "resonanz:weekly-digest",
                         "resonanz:alerts"}  # fmt: skip
    assert jobs["resonanz:link"].trigger.interval == timedelta(minutes=settings.link.interval_minutes)
    assert jobs["resonanz:alerts"].trigger.interval == timedelta(minutes=settings.alerts.interval_minutes)


def test_run_forever_collects_on_schedule_and_stops_cleanly(sqlite_engine: Engine) -> None:
    from collectors.testing import make_account, make_status, snowflake
    from store.types import utcnow

    now = utcnow()
    statuses = [make_status(snowflake(now - timedelta(minutes=i)), now - timedelta(minutes=i), f"<p>{i} #x</p>",
                            make_account("1", "a", "a.example"), tags=["x"]) for i in range(5)]  # fmt: skip
    stop = threading.Event()
    started = threading.Event()
    with LocalServer(FakeMastodon(statuses)) as server:
        add(sqlite_engine, "local", 3600, server.url)
        worker = threading.Thread(target=run_forever, args=(sqlite_engine, Settings()),
                                  kwargs={"extra_jobs": [], "stop": stop,
                                          "on_started": lambda s, r: started.set()}, daemon=True)  # fmt: skip
        worker.start()
        assert started.wait(20)
        deadline = time.time() + 30
        finished: list[CollectorRun] = []
        while time.time() < deadline and not finished:
            with Session(sqlite_engine) as session:
                finished = list(
                    session.execute(select(CollectorRun).where(col(CollectorRun.status) != "running")).scalars()
                )
            time.sleep(0.2)
        stop.set()
        worker.join(20)
    assert not worker.is_alive()
    assert finished and finished[0].status == "ok" and finished[0].new == 5
