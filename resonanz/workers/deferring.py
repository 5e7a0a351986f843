"""``resonanz run`` in the distributed mode: the same triggers as the single-process scheduler, but each only
defers a job into PostgreSQL; ``resonanz worker`` processes run them.

* one interval trigger per enabled source (``source.interval_seconds``), re-read every minute, like
  :func:`resonanz.pipeline.scheduler.sync_source_jobs`: defers ``collect(source_id)``;
* every job of :func:`resonanz.pipeline.jobs.scheduled_jobs` with its own trigger: the scoring job defers the
  planner, link / value / alerts / digest their task, any other its reference (``scheduled``).

The triggers live in memory: at start every source and the planner are deferred once (what came in while
``resonanz run`` was down is caught up), a daily or weekly time missed while it was down is not (keep it running:
deploy/README.md). Queueing locks keep at most one waiting job per source and per job, so a second
``resonanz run`` by mistake, or a slow worker fleet, never piles up jobs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from procrastinate import App
from sqlalchemy.engine import Engine

from resonanz.core.settings import Settings
from resonanz.digest.job import JOB_ID as DIGEST_JOB_ID
from resonanz.pipeline.jobs import scheduled_jobs
from resonanz.pipeline.scheduler import (
    SCORE_JOB_ID,
    SYNC_JOB_ID,
    SYNC_SECONDS,
    ExtraJob,
    stop_on_signals,
    sync_source_jobs,
)
from resonanz.workers.app import build_app, queue_conninfo
from resonanz.workers.schema import ensure_queue_schema
from resonanz.workers.tasks import (
    ALERTS_TASK,
    DIGEST_TASK,
    LINK_TASK,
    SCHEDULED_TASK,
    VALUE_TASK,
    defer_collect,
    defer_named,
    defer_plan,
)
from store.types import utcnow

log = logging.getLogger(__name__)

TASK_OF_JOB = {
    "resonanz:link": LINK_TASK,
    "resonanz:value": VALUE_TASK,
    "resonanz:alerts": ALERTS_TASK,
    f"resonanz:{DIGEST_JOB_ID}": DIGEST_TASK,
}
"""``ExtraJob.id`` -> the task that does its work on a worker (the scoring job is the planner)."""


def defer_extra(app: App, job: ExtraJob) -> int | None:
    """Defer the worker job for one of :func:`resonanz.pipeline.jobs.scheduled_jobs`."""
    if job.id == SCORE_JOB_ID:
        return defer_plan(app)
    task = TASK_OF_JOB.get(job.id)
    if task is not None:
        return defer_named(app, task, lock=job.id)
    if not isinstance(job.func, str):
        log.error("job %s has no module:function reference; a worker cannot run it", job.id)
        return None
    return defer_named(app, SCHEDULED_TASK, lock=job.id, ref=job.func)


def sync_sources(scheduler: BackgroundScheduler, engine: Engine, app: App) -> None:
    """One deferring trigger per enabled source (added, re-timed, renamed, removed as the sources table changes)."""
    sync_source_jobs(scheduler, engine, func=defer_collect, args=lambda source: [app, source.id], name="defer collect")


def run_deferring(
    engine: Engine,
    settings: Settings,
    *,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Defer the jobs on their triggers until SIGTERM/SIGINT (or ``stop``). Raises
    :class:`~resonanz.workers.errors.NeedsPostgresError` on SQLite, ``QueueSchemaError`` without queue tables."""
    ensure_queue_schema(queue_conninfo(settings))
    stop = stop or threading.Event()
    app = build_app(settings)
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    scheduler = BackgroundScheduler(timezone=settings.digest.timezone, job_defaults=defaults)
    try:
        with stop_on_signals(stop, "stopping"), app.open():
            scheduler.add_job(sync_sources, IntervalTrigger(seconds=SYNC_SECONDS), args=[scheduler, engine, app],
                              id=SYNC_JOB_ID, name="sync deferring source triggers")  # fmt: skip
            for job in scheduled_jobs(settings):
                start_now = {"next_run_time": utcnow()} if job.run_at_start else {}
                scheduler.add_job(defer_extra, job.trigger, args=[app, job], id=job.id, name=f"defer {job.name}",
                                  **start_now)  # fmt: skip
            scheduler.start(paused=True)
            try:
                sync_sources(scheduler, engine, app)
                scheduler.resume()
                if on_started is not None:
                    on_started()
                while not stop.wait(1.0):
                    pass
            finally:
                stop.set()
                scheduler.shutdown(wait=True)  # before the app (its connection pool) closes
    finally:
        log.info("deferring stopped")
