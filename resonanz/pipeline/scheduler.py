"""The scheduler behind ``resonanz run``: one interval job per enabled source (APScheduler 3).

Jobs live in the store's own database (``SQLAlchemyJobStore``, table ``apscheduler_jobs``), so
their next run times survive restarts; a run missed while the process was down is caught up
once (``coalesce``), and a source never runs twice at the same time (``max_instances=1``).
A housekeeping job re-reads the sources table every minute, so ``resonanz sources add`` in
another terminal is picked up without a restart.

Other areas add their own jobs (the weekly digest, ...) with :class:`ExtraJob`: pass them to
:func:`build_scheduler`/:func:`run_forever`. ``resonanz run`` passes the list that
:func:`resonanz.pipeline.jobs.scheduled_jobs` names explicitly (no file-name scan).

Scoring (:func:`score_job`) follows the collection: a source run that stored new posts calls
:func:`request_scoring`, which moves the scoring job's next run to now, or, while a scoring pass is running,
makes that pass go round once more (so a request is never lost and never starts a second pass). After each
batch that scored posts the alerts are evaluated (:func:`resonanz.alerts.job.evaluate_after_pass`).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from nlp.errors import NlpError
from resonanz.alerts.job import evaluate_after_pass
from resonanz.core.errors import AnswersError
from resonanz.core.settings import Settings, get_settings
from resonanz.pipeline.collect import SourceNotFoundError, run_source
from resonanz.pipeline.scoring import score_in_batches, shared_analyzer
from store.db import session_scope
from store.errors import StoreError
from store.models import Source
from store.types import utcnow

log = logging.getLogger(__name__)

JOBSTORE_TABLE = "apscheduler_jobs"
SOURCE_JOB_PREFIX = "collect:"
SYNC_JOB_ID = "resonanz:sync-sources"
SYNC_SECONDS = 60
SCORE_JOB_ID = "resonanz:score"


@dataclass(frozen=True)
class ExtraJob:
    """A job another area adds. ``func`` is a ``"module:function"`` reference (or a module-level
    function) so that it can be stored in the job store; ``trigger`` any APScheduler trigger."""

    id: str
    func: str | Callable[..., Any]
    trigger: BaseTrigger
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    run_at_start: bool = False
    """Also run once as soon as the scheduler starts (e.g. to score what a stopped process left behind)."""


@dataclass
class _Runtime:
    engine: Engine
    settings: Settings
    stop: threading.Event
    scheduler: BackgroundScheduler | None = None


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def _runtime() -> _Runtime:
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:  # a job started by a scheduler that this process did not build
            from resonanz.core.db import engine_from_settings

            settings = get_settings()
            _RUNTIME = _Runtime(engine_from_settings(settings), settings, threading.Event())
        return _RUNTIME


def run_source_job(source_id: int) -> None:
    """The job function of every source (referenced by name in the job store)."""
    rt = _runtime()
    try:
        summary = run_source(rt.engine, source_id, rt.settings, stop=rt.stop)
    except SourceNotFoundError:
        log.info("source %s is gone; its job is removed at the next sync", source_id)
        return
    log.info("collected %s: %s, %d fetched, %d new, %d updated, %d errors in %.1f s", summary.source, summary.status,
             summary.fetched, summary.new, summary.updated, summary.errors, summary.duration_s)  # fmt: skip
    if summary.new:
        request_scoring()


_SCORING = threading.Lock()
"""Held while a scoring pass runs in this process."""
_SCORE_AGAIN = threading.Event()
"""Set by :func:`request_scoring`; the running pass (or the next) scores once more."""


def request_scoring() -> None:
    """Posts were stored: score them soon (see the module docstring). A no-op without the scoring job."""
    _SCORE_AGAIN.set()
    rt = _RUNTIME
    if rt is None or rt.scheduler is None or _SCORING.locked():
        return
    with contextlib.suppress(JobLookupError):  # no scoring job: score.enabled = false
        rt.scheduler.modify_job(SCORE_JOB_ID, next_run_time=utcnow())


def score_job() -> int:
    """The scoring job of ``resonanz run``: score every pending post in batches of ``score.batch_size``,
    evaluating the alerts after each batch; returns how many posts were scored. Errors are logged."""
    rt = _runtime()
    if not rt.settings.score.enabled:
        return 0
    total = 0
    while not rt.stop.is_set():
        if not _SCORING.acquire(blocking=False):
            _SCORE_AGAIN.set()  # a pass is running: it goes round once more
            return total
        try:
            _SCORE_AGAIN.clear()  # before reading: whatever is stored from now on is read by this pass or the next
            scored = _score_pass(rt)
        finally:
            _SCORING.release()
        if scored is None:
            break
        total += scored
        if not _SCORE_AGAIN.is_set():
            break
    return total


def _score_pass(rt: _Runtime) -> int | None:
    def evaluate(_batch: object) -> None:
        evaluate_after_pass(rt.engine, rt.settings)

    try:
        analyzer = shared_analyzer(rt.settings)
        report = score_in_batches(rt.engine, rt.settings, analyzer, batch_size=rt.settings.score.batch_size,
                                  stop=rt.stop, after_batch=evaluate)  # fmt: skip
    except (NlpError, StoreError, SQLAlchemyError, AnswersError, OSError) as exc:
        log.error("scoring failed: %s; the next collection or the next interval tries again", exc)
        return None
    if report.scored:
        log.info("scored %d new posts (%d flagged) in %.1f s", report.scored, report.flagged, report.seconds)
    return report.scored


def sync_sources_job() -> None:
    rt = _runtime()
    if rt.scheduler is not None:
        sync_source_jobs(rt.scheduler, rt.engine)


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_source_jobs(
    scheduler: BackgroundScheduler,
    engine: Engine,
    *,
    func: Callable[..., Any] | str = "resonanz.pipeline.scheduler:run_source_job",
    args: Callable[[Source], list[Any]] = lambda source: [source.id],
    name: str = "collect",
) -> SyncResult:
    """Make the source jobs match the enabled sources (add, re-time, rename, remove): one job per source calling
    ``func(*args(source))`` every ``interval_seconds``, named "``name`` <source>". The defaults collect in this
    process; ``resonanz run`` in the workers' mode passes a function that defers the collection instead."""
    result = SyncResult()
    with session_scope(engine) as session:
        sources = session.execute(select(Source).where(col(Source.enabled).is_(True))).scalars().all()
    wanted = {f"{SOURCE_JOB_PREFIX}{s.id}": s for s in sources}
    for job in scheduler.get_jobs():
        if job.id.startswith(SOURCE_JOB_PREFIX) and job.id not in wanted:
            scheduler.remove_job(job.id)
            result.removed.append(job.name)
    for job_id, source in wanted.items():
        interval = timedelta(seconds=source.interval_seconds)
        job = scheduler.get_job(job_id)
        if job is None:
            scheduler.add_job(
                func,
                IntervalTrigger(seconds=source.interval_seconds),
                args=args(source),
                id=job_id,
                name=f"{name} {source.name}",
                next_run_time=utcnow(),
                replace_existing=True,
            )
            result.added.append(source.name)
        elif getattr(job.trigger, "interval", None) != interval or job.name != f"{name} {source.name}":
            job.modify(name=f"{name} {source.name}")
            if getattr(job.trigger, "interval", None) != interval:
                job.reschedule(IntervalTrigger(seconds=source.interval_seconds))
            result.changed.append(source.name)
    if result.added or result.changed or result.removed:
        log.info("source jobs: added %s, changed %s, removed %s", result.added, result.changed, result.removed)
    return result


def build_scheduler(
    engine: Engine,
    settings: Settings,
    *,
    extra_jobs: Iterable[ExtraJob] = (),
    stop: threading.Event | None = None,
    max_workers: int = 4,
    timezone: str | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) whose jobs are stored in ``engine``'s database.

    ``stop`` is handed to every collector run: once set, runs stop after their current page."""
    global _RUNTIME
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=timezone or settings.digest.timezone,
    )
    with _RUNTIME_LOCK:
        _RUNTIME = _Runtime(engine, settings, stop or threading.Event(), scheduler)
    scheduler.add_job(sync_sources_job, IntervalTrigger(seconds=SYNC_SECONDS), id=SYNC_JOB_ID,
                      name="sync source jobs", replace_existing=True)  # fmt: skip
    for job in extra_jobs:
        add_extra_job(scheduler, job)
    return scheduler


def add_extra_job(scheduler: BackgroundScheduler, job: ExtraJob) -> None:
    """Add (or replace) a job of another area."""
    start_now = {"next_run_time": utcnow()} if job.run_at_start else {}
    scheduler.add_job(job.func, job.trigger, id=job.id, name=job.name or job.id, kwargs=dict(job.kwargs),
                      replace_existing=True, **start_now)  # fmt: skip


def start(scheduler: BackgroundScheduler, engine: Engine) -> SyncResult:
    """Start ``scheduler`` with its source jobs in line with the sources table."""
    scheduler.start(paused=True)
    result = sync_source_jobs(scheduler, engine)
    scheduler.resume()
    return result


def run_forever(
    engine: Engine,
    settings: Settings,
    *,
    extra_jobs: Iterable[ExtraJob] = (),
    stop: threading.Event | None = None,
    on_started: Callable[[BackgroundScheduler, SyncResult], None] | None = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or ``stop``); then let running
    collections finish their current page and shut down cleanly."""
    stop = stop or threading.Event()
    scheduler = build_scheduler(engine, settings, extra_jobs=list(extra_jobs), stop=stop)
    with stop_on_signals(stop, "finishing the current pages and stopping"):
        try:
            result = start(scheduler, engine)
            if on_started is not None:
                on_started(scheduler, result)
            while not stop.wait(1.0):
                pass
        finally:
            stop.set()
            if scheduler.running:
                scheduler.shutdown(wait=True)
    log.info("scheduler stopped")


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event, doing: str) -> Iterator[threading.Event]:
    """Set ``stop`` on SIGTERM/SIGINT while the block runs (logging "received SIGTERM; ``doing``"), then put the
    previous handlers back. Outside the main thread (tests) signals cannot be caught: nothing is installed."""
    previous: dict[signal.Signals, Any] = {}

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s; %s", signal.Signals(signum).name, doing)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, request_stop)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
