"""The jobs ``resonanz worker`` runs; each calls the pipeline function ``resonanz run`` would call in-process.

| task (``resonanz:...``) | body | lock (no two run at once) | queueing lock (at most one waits) |
|---|---|---|---|
| ``collect(source_id)`` | :func:`resonanz.pipeline.collect.run_source` | ``collect:<id>`` | ``collect:<id>`` |
| ``plan_scoring()`` | :func:`.claims.next_ranges`, defers ``score_range`` jobs | ``score-plan`` | ``score-plan`` |
| ``score_range(first_id, last_id, model_version)`` | :func:`resonanz.pipeline.scoring.score_posts` (``ids=``) | - | - |
| ``alerts()`` | :func:`resonanz.alerts.job.evaluate_after_pass` | ``alerts`` | ``alerts`` |
| ``link()`` / ``value()`` / ``digest()`` | the scheduler's ``scheduled_*_job`` functions | its name | its name |
| ``scheduled(ref)`` | any other ``ExtraJob`` of :mod:`resonanz.pipeline.jobs` by reference | the job id | the job id |
| ``retry_stalled(timestamp)`` | the running jobs of dead workers back into the queue | - | ``resonanz:retry_stalled`` |

A collection that stored posts defers ``plan_scoring``; a scoring job that scored posts defers ``alerts`` (as the
scheduler evaluates after every batch) and, when few scoring jobs wait, ``plan_scoring`` again. A failing job is
tried again with growing pauses (:data:`RETRY`); scoring and collecting are idempotent, so a job run twice
(a retry after ``kill -9``) stores nothing twice. See :mod:`resonanz.workers.claims` for who scores what.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from procrastinate import App, Blueprint, JobContext, RetryStrategy, exceptions
from procrastinate.jobs import Status
from sqlalchemy.engine import Engine

from resonanz.core.settings import Settings, get_settings
from resonanz.pipeline.collect import SourceNotFoundError, run_source
from resonanz.pipeline.scoring import score_posts, shared_analyzer
from resonanz.workers.claims import next_ranges, planned_ranges, take_over_stale_runs, waiting_jobs
from resonanz.workers.errors import ModelMismatchError, SourceBusyError

log = logging.getLogger(__name__)

blueprint = Blueprint()

NS = "resonanz:"
COLLECT_TASK = NS + "collect"
PLAN_TASK = NS + "plan_scoring"
SCORE_TASK = NS + "score_range"
ALERTS_TASK = NS + "alerts"
LINK_TASK = NS + "link"
VALUE_TASK = NS + "value"
DIGEST_TASK = NS + "digest"
SCHEDULED_TASK = NS + "scheduled"

STALLED_PRIORITY = 100
PLAN_PRIORITY = 20
COLLECT_PRIORITY = 10
SCHEDULED_PRIORITY = 5
SCORE_PRIORITY = 0
"""Higher first: the check for dead workers, then the planner, collections, the other jobs, scoring."""

RETRY = RetryStrategy(max_attempts=5, wait=2, exponential_wait=3)
"""Waits 5, 11, 29, 83 s between the attempts of a failing job (a database restart, a deadlock)."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine


_RUNTIME: Runtime | None = None
_LOCK = threading.Lock()


def configure(settings: Settings, engine: Engine) -> None:
    """Set this process's settings and engine (``resonanz worker`` does, before the worker starts)."""
    global _RUNTIME
    with _LOCK:
        _RUNTIME = Runtime(settings, engine)


def runtime() -> Runtime:
    """The process's settings and engine; the configured ones when nobody called :func:`configure`."""
    global _RUNTIME
    with _LOCK:
        if _RUNTIME is None:
            from resonanz.core.db import engine_from_settings

            settings = get_settings()
            _RUNTIME = Runtime(settings, engine_from_settings(settings, migrate=False))
        return _RUNTIME


# -- deferring (one place for each job's locks) -------------------------------------------------------------------


def _defer(app: App, task: str, *, lock: str | None, priority: int, **kwargs: Any) -> int | None:
    """Defer ``task``; None when a job with the same queueing lock already waits (nothing is lost: it runs)."""
    try:
        return app.configure_task(task, lock=lock, queueing_lock=lock, priority=priority).defer(**kwargs)
    except exceptions.AlreadyEnqueued:
        log.debug("%s (%s) already waits", task, lock)
        return None


def defer_collect(app: App, source_id: int) -> int | None:
    return _defer(app, COLLECT_TASK, lock=f"collect:{source_id}", priority=COLLECT_PRIORITY, source_id=source_id)


def defer_plan(app: App) -> int | None:
    return _defer(app, PLAN_TASK, lock="score-plan", priority=PLAN_PRIORITY)


def defer_alerts(app: App) -> int | None:
    return _defer(app, ALERTS_TASK, lock="alerts", priority=SCHEDULED_PRIORITY)


def defer_score_range(app: App, first_id: int, last_id: int, model_version: str) -> int | None:
    return _defer(app, SCORE_TASK, lock=None, priority=SCORE_PRIORITY, first_id=first_id, last_id=last_id,
                  model_version=model_version)  # fmt: skip


def defer_named(app: App, task: str, lock: str, **kwargs: Any) -> int | None:
    return _defer(app, task, lock=lock, priority=SCHEDULED_PRIORITY, **kwargs)


# -- the jobs -------------------------------------------------------------------------------------------------------


@blueprint.task(name="collect", pass_context=True, retry=RETRY)
def collect(context: JobContext, source_id: int) -> str:
    """Collect one source once (the job holds the source's lock)."""
    rt = runtime()
    take_over_stale_runs(rt.engine, source_id, timedelta(seconds=rt.settings.workers.stale_run_seconds))
    try:
        summary = run_source(rt.engine, source_id, rt.settings)
    except SourceNotFoundError:
        log.info("source %s is gone; nothing to collect", source_id)
        return "gone"
    log.info("collected %s: %s, %d fetched, %d new, %d updated, %d errors in %.1f s", summary.source, summary.status,
             summary.fetched, summary.new, summary.updated, summary.errors, summary.duration_s)  # fmt: skip
    if summary.status == "skipped":  # a run of a worker that died moments ago: try again (then it is taken over)
        raise SourceBusyError(f"{summary.error}; der Job wird später wiederholt")
    if summary.new:
        defer_plan(context.app)
    return summary.status


@blueprint.task(name="plan_scoring", pass_context=True, retry=RETRY)
def plan_scoring(context: JobContext) -> int:
    """Defer scoring jobs for the unscored posts not yet in one (see :mod:`resonanz.workers.claims`)."""
    rt = runtime()
    workers = rt.settings.workers
    if not rt.settings.score.enabled:
        return 0
    analyzer = shared_analyzer(rt.settings)
    name, version = analyzer.name, analyzer.version
    room = workers.score_queue - waiting_jobs(rt.engine, SCORE_TASK)
    if room <= 0:
        return 0
    planned = planned_ranges(rt.engine, SCORE_TASK, version)
    ranges = next_ranges(rt.engine, name, version, planned, chunk=workers.score_chunk, max_ranges=room)
    for first, last in ranges:
        defer_score_range(context.app, first, last, version)
    if ranges:
        log.info("planned %d scoring job(s) for posts %d-%d", len(ranges), ranges[0][0], ranges[-1][1])
    return len(ranges)


@blueprint.task(name="score_range", pass_context=True, retry=RETRY)
def score_range(context: JobContext, first_id: int, last_id: int, model_version: str) -> int:
    """Score the unscored posts with ids from ``first_id`` to ``last_id``; returns how many were scored."""
    rt = runtime()
    analyzer = shared_analyzer(rt.settings)
    if analyzer.version != model_version:
        raise ModelMismatchError(
            f"Dieser Worker bewertet mit {analyzer.name} {analyzer.version}, der Job ist für {model_version} geplant. "
            "Alle Worker brauchen dieselben [nlp]-Einstellungen (auch nlp.precision: fp32 oder bf16 fest setzen, "
            "wenn die Rechner verschiedene CPUs haben)."
        )
    report = score_posts(rt.engine, rt.settings, analyzer, ids=(first_id, last_id),
                         chunk_size=rt.settings.workers.score_chunk, progress=False)  # fmt: skip
    if report.scored:
        defer_alerts(context.app)
    if waiting_jobs(rt.engine, SCORE_TASK) < max(1, rt.settings.workers.score_queue // 2):
        defer_plan(context.app)
    return report.scored


@blueprint.task(name="alerts", pass_context=True, retry=RETRY)
def alerts(context: JobContext) -> int | None:
    """One alert pass over what came in since the last one."""
    from resonanz.alerts.job import evaluate_after_pass

    rt = runtime()
    report = evaluate_after_pass(rt.engine, rt.settings)
    return len(report.incidents.raised) if report is not None else None


@blueprint.task(name="link", pass_context=True, retry=RETRY)
def link(context: JobContext) -> int:
    """Link new identities, then re-weight the posts."""
    from resonanz.pipeline.linking import scheduled_link_job

    scheduled_link_job(runtime().settings)
    return 0


@blueprint.task(name="value", pass_context=True, retry=RETRY)
def value(context: JobContext) -> int:
    """Recompute customer values, then re-weight the posts."""
    from resonanz.pipeline.valuation import scheduled_value_job

    scheduled_value_job(runtime().settings)
    return 0


@blueprint.task(name="digest", pass_context=True, retry=RETRY)
def digest(context: JobContext) -> str | None:
    """Build (and send) the weekly digest."""
    from resonanz.digest.job import weekly_digest_job

    return weekly_digest_job()


@blueprint.task(name="scheduled", pass_context=True, retry=RETRY)
def scheduled(context: JobContext, ref: str) -> None:
    """Any other job of :func:`resonanz.pipeline.jobs.scheduled_jobs`, by its ``"module:function"`` reference."""
    module, _, function = ref.partition(":")
    getattr(importlib.import_module(module), function)()


@blueprint.task(name="retry_stalled", pass_context=True)
async def retry_stalled(context: JobContext, timestamp: int) -> int:
    """Put the running jobs of workers without a heartbeat for ``workers.stalled_after_seconds`` back into the
    queue (procrastinate 3 notices dead workers by their heartbeats but leaves their jobs ``doing``)."""
    settings = runtime().settings
    manager = context.app.job_manager
    stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=settings.workers.stalled_after_seconds)
    retried = 0
    for job in stalled:
        try:
            await manager.retry_job(job)
            retried += 1
            log.warning("job %s (%s) of a dead worker goes back into the queue", job.id, job.task_name)
        except exceptions.UniqueViolation:  # a newer job with the same queueing lock waits: that one runs
            assert job.id is not None
            await manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
            log.warning("job %s (%s) of a dead worker dropped: the same job waits already", job.id, job.task_name)
    return retried
