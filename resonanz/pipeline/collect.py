"""Collecting into the store: one run per source, each page committed with its cursor.

``run_source`` records a :class:`CollectorRun` (counts, status, errors, cursor before/after),
stores every batch a collector yields in its own transaction together with the source's new
cursor -- so a crash or SIGTERM loses nothing already stored and the next run resumes from the
last stored cursor -- and never raises for a failing source (only Ctrl-C propagates).

Per-source options (``sources add --option``): ``backfill_days``, ``reply_lookback_hours``,
``max_threads``, ``max_pages``, ``replies`` (false to skip reply refreshes), plus each
platform's own (see ``collectors/<platform>.py``).
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from collectors import (
    Batch,
    CollectedPost,
    CollectionInterrupted,
    CollectOptions,
    CollectorError,
    Credentials,
    PoliteClient,
    QuotaExhaustedError,
    RateLimitedError,
    RetryPolicy,
    SourceSpec,
    make_collector,
)
from resonanz.core.settings import Settings
from store.db import session_scope
from store.ingest import IngestResult, ingest_posts, mark_missing_deleted
from store.models import CollectorRun, Source
from store.records import IdentityRecord, PostRecord
from store.types import utcnow

log = logging.getLogger(__name__)
logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs every URL at INFO; keep logs quiet and key-free

STALE_AFTER = timedelta(minutes=30)
"""A 'running' run without a heartbeat for this long belonged to a process that died."""
DEFAULT_REPLY_LOOKBACK_HOURS = 48.0
DEFAULT_MAX_THREADS = 50
DEFAULT_MAX_PAGES = 500
MAX_ERROR_TEXT = 4000


class SourceNotFoundError(LookupError):
    """No source with that name or id; ``resonanz sources list`` shows the configured ones."""


@dataclass
class RunSummary:
    source: str
    platform: str
    run_id: int | None = None
    status: str = "running"
    fetched: int = 0
    new: int = 0
    updated: int = 0
    errors: int = 0
    error: str | None = None
    duration_s: float = 0.0
    messages: list[str] = field(default_factory=list)
    pages_missing: bool = False
    """A page failed for several runs and posts behind it are missing: the run is 'failed'."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Items the platform returned and the collector did not hand out, by reason (the cursor's run report)."""


ProgressCallback = Callable[[str, Batch, RunSummary], None]


def credentials_from(settings: Settings) -> Credentials:
    cfg = settings.collectors

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    return Credentials(
        mastodon_token=secret(cfg.mastodon_token),
        bluesky_handle=cfg.bluesky_handle,
        bluesky_app_password=secret(cfg.bluesky_app_password),
        reddit_client_id=cfg.reddit_client_id,
        reddit_client_secret=secret(cfg.reddit_client_secret),
        youtube_api_key=secret(cfg.youtube_api_key),
        youtube_daily_quota=cfg.youtube_daily_quota,
        google_business_client_id=cfg.google_business_client_id,
        google_business_client_secret=secret(cfg.google_business_client_secret),
        google_business_refresh_token=secret(cfg.google_business_refresh_token),
        google_play_service_account_file=cfg.google_play_service_account_file,
        trustpilot_api_key=secret(cfg.trustpilot_api_key),
        meta_access_token=secret(cfg.meta_access_token),
        meta_app_secret=secret(cfg.meta_app_secret),
    )


def make_http(
    settings: Settings,
    label: str,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    rng: Callable[[], float] | None = None,
    backoff_base: float = 1.0,
) -> PoliteClient:
    cfg = settings.collectors
    client = httpx.Client(
        headers={"User-Agent": cfg.user_agent},
        timeout=httpx.Timeout(cfg.timeout),
        follow_redirects=True,
        transport=transport,
    )
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if rng is not None:
        kwargs["rng"] = rng
    policy = RetryPolicy(max_retries=cfg.max_retries, backoff_base=backoff_base)
    return PoliteClient(client, policy=policy, sleep=sleep or time.sleep, label=label, **kwargs)


def options_for(source: Source, settings: Settings, now: datetime) -> CollectOptions:
    config = source.config or {}
    return CollectOptions(
        now=now,
        backfill_days=int(config.get("backfill_days") or settings.collectors.backfill_days),
        reply_lookback=timedelta(hours=float(config.get("reply_lookback_hours") or DEFAULT_REPLY_LOOKBACK_HOURS)),
        max_threads=int(config.get("max_threads") or DEFAULT_MAX_THREADS),
        max_pages=int(config.get("max_pages") or DEFAULT_MAX_PAGES),
        fetch_replies=str(config.get("replies", "true")).lower() not in ("false", "0", "no", "off"),
    )


def post_record(post: CollectedPost) -> PostRecord:
    """A collected post as the record ``store.ingest`` takes."""
    ident = post.identity
    identity = (
        None
        if ident is None
        else IdentityRecord(
            platform=ident.platform,
            account_id=ident.account_id,
            handle=ident.handle,
            display_name=ident.display_name,
            profile_url=ident.profile_url,
            bio=ident.bio,
            location=ident.location,
        )
    )
    return PostRecord(
        platform=post.platform,
        external_id=post.external_id,
        kind=post.kind,
        url=post.url,
        text=post.text,
        title=post.title,
        language=post.language,
        created_at=post.created_at,
        edited_at=post.edited_at,
        deleted=post.deleted,
        metrics=post.metrics,
        raw=post.raw,
        parent_external_id=post.parent_external_id,
        root_external_id=post.root_external_id,
        identity=identity,
    )


def find_source(session: Any, source: str | int) -> Source:
    column = col(Source.id) if isinstance(source, int) else col(Source.name)
    found = session.execute(select(Source).where(column == source)).scalars().first()
    if found is None:
        raise SourceNotFoundError(f"no source named {source!r}; `resonanz sources list` shows the configured ones")
    return cast(Source, found)


OWNER = f"{socket.gethostname()}:{os.getpid()}"
"""This process, as recorded in the runs it starts."""


def owner_is_gone(owner: str | None) -> bool:
    """True when ``owner`` (``host:pid``) was a process on this host that no longer runs.

    A run of a killed process (``kill -9``, a crash, a reboot) is taken over at once instead of after
    ``STALE_AFTER``; a run of another host is judged by its heartbeat only. (A reused PID keeps the
    run looking alive until its heartbeat goes stale - the safe side.)
    """
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def _begin(engine: Engine, source: str | int, now: datetime) -> tuple[Source, int, str | None]:
    """Record the run; return the source, the run id, and why it must be skipped (another live run)."""
    ended = "the collecting process ended without finishing"
    with session_scope(engine) as session:
        src = find_source(session, source)
        running = col(CollectorRun.source_id) == src.id, col(CollectorRun.status) == "running"
        session.execute(
            update(CollectorRun)
            .where(
                *running,
                func.coalesce(col(CollectorRun.heartbeat_at), col(CollectorRun.started_at)) < now - STALE_AFTER,
            )
            .values(status="interrupted", finished_at=now, error=ended)
        )
        for run_id, owner in session.execute(select(col(CollectorRun.id), col(CollectorRun.owner)).where(*running)):
            if owner_is_gone(owner):
                session.execute(
                    update(CollectorRun)
                    .where(col(CollectorRun.id) == run_id)
                    .values(status="interrupted", finished_at=now, error=f"{ended} (process {owner} is gone)")
                )
        run = CollectorRun(source_id=int(src.id or 0), started_at=now, heartbeat_at=now, status="running",
                           owner=OWNER, cursor_before=dict(src.cursor or {}))  # fmt: skip
        session.add(run)
        session.flush()
        run_id = int(run.id or 0)
    with session_scope(engine) as session:
        other = session.execute(
            select(col(CollectorRun.id)).where(
                col(CollectorRun.source_id) == src.id,
                col(CollectorRun.status) == "running",
                col(CollectorRun.id) != run_id,
            )
        ).first()
    reason = f"source {src.name!r} is already being collected (run {other[0]})" if other else None
    return src, run_id, reason


def _store_batch(engine: Engine, src: Source, run_id: int, batch: Batch, summary: RunSummary) -> None:
    """Store a page's posts and advance the cursor in one transaction.

    If the page cannot be stored as a whole (a value the database refuses, a bug in one post), its posts
    are stored one by one: the good ones are kept, each refused one is reported with its id and reason
    and counted as an error, and the cursor moves on, so one bad post never blocks the source on every
    later run. A database that is unreachable or locked (``OperationalError``) is not a bad post: it
    fails the run, and the next run starts again at this page.
    """
    now = utcnow()
    records = [post_record(p) for p in batch.posts]
    refused: list[str] = []
    try:
        with session_scope(engine) as session:
            result = ingest_posts(session, records, source_id=src.id, now=now)
            _finish_page(session, src, run_id, batch, summary, result, refused, now)
        return
    except OperationalError:
        raise
    except Exception as exc:  # a value the database refuses, or a bug with one post: find the post
        log.warning("%s: page could not be stored as a whole (%s); storing its %d posts one by one",
                    src.name, _reason(exc), len(records))  # fmt: skip
    result = IngestResult()
    for record in records:
        try:
            with session_scope(engine) as session:
                result.add(ingest_posts(session, [record], source_id=src.id, now=now))
        except OperationalError:
            raise
        except Exception as exc:
            log.debug("refused post %s", record["external_id"], exc_info=True)
            refused.append(f"Beitrag {record['platform']}/{record['external_id']} nicht gespeichert: {_reason(exc)}")
    with session_scope(engine) as session:
        _finish_page(session, src, run_id, batch, summary, result, refused, now)


def _reason(exc: BaseException) -> str:
    """The first line of a database or value error, without SQLAlchemy's statement dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"[:300]


def _finish_page(
    session: Session,
    src: Source,
    run_id: int,
    batch: Batch,
    summary: RunSummary,
    result: IngestResult,
    refused: list[str],
    now: datetime,
) -> None:
    """Mark vanished replies, advance the source's cursor and update the run's counters (one transaction)."""
    vanished = 0
    if batch.thread is not None:
        thread = batch.thread
        vanished = mark_missing_deleted(session, thread.platform, thread.root_external_id, thread.present, now)
    session.execute(update(Source).where(col(Source.id) == src.id).values(cursor=batch.cursor))
    summary.fetched += len(batch.posts)
    summary.new += result.new
    summary.updated += result.updated + vanished
    summary.errors += len(batch.errors) + len(refused)
    summary.messages.extend(batch.errors)
    summary.messages.extend(refused)
    summary.pages_missing = summary.pages_missing or batch.failed
    report = batch.cursor.get("report") if isinstance(batch.cursor, dict) else None
    if isinstance(report, dict) and isinstance(report.get("skipped"), dict):  # cumulative for this run
        summary.skipped = {str(k): int(v) for k, v in report["skipped"].items() if int(v)}
    session.execute(
        update(CollectorRun)
        .where(col(CollectorRun.id) == run_id)
        .values(
            fetched=summary.fetched,
            new=summary.new,
            updated=summary.updated,
            errors=summary.errors,
            cursor_after=batch.cursor,
            heartbeat_at=now,
        )  # fmt: skip
    )


def _finish(engine: Engine, run_id: int, summary: RunSummary) -> None:
    error = summary.error
    if summary.messages:
        shown = "\n".join(summary.messages[:5])
        more = f"\n(and {len(summary.messages) - 5} more)" if len(summary.messages) > 5 else ""
        error = f"{error}\n{shown}{more}" if error else shown + more
    with session_scope(engine) as session:
        session.execute(
            update(CollectorRun)
            .where(col(CollectorRun.id) == run_id)
            .values(
                status=summary.status,
                finished_at=utcnow(),
                error=(error or None) and error[:MAX_ERROR_TEXT],
                fetched=summary.fetched,
                new=summary.new,
                updated=summary.updated,
                errors=summary.errors,
            )  # fmt: skip
        )


def run_source(
    engine: Engine,
    source: str | int,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    rng: Callable[[], float] | None = None,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    progress: ProgressCallback | None = None,
) -> RunSummary:
    """Collect one source once (enabled or not). Returns the run's summary; never raises for
    collection problems (they land in the run record), only for an unknown source or Ctrl-C."""
    started = time.monotonic()
    now = now or utcnow()
    src, run_id, skip = _begin(engine, source, now)
    summary = RunSummary(source=src.name, platform=src.platform, run_id=run_id)
    if skip:
        summary.status, summary.error = "skipped", skip
        log.warning("%s", skip)
        _finish(engine, run_id, summary)
        return summary

    def interruptible(seconds: float) -> None:
        if (stop is not None and stop.is_set()) or quit_fetching.is_set():
            raise CollectionInterrupted("stop requested")
        if sleep is not None:
            sleep(seconds)
        elif stop is not None:
            if stop.wait(seconds):
                raise CollectionInterrupted("stop requested while waiting")
        else:
            time.sleep(seconds)
        if stop is not None and stop.is_set():
            raise CollectionInterrupted("stop requested")

    quit_fetching = threading.Event()  # set when this run ends early, so the fetching thread stops too
    http = make_http(settings, src.name, transport=transport, sleep=interruptible, clock=clock, rng=rng)
    spec = SourceSpec(name=src.name, platform=src.platform, query=src.query, account=src.account,
                      config=dict(src.config or {}))  # fmt: skip
    try:
        collector = make_collector(src.platform, http, credentials_from(settings))
        batches = collector.collect(spec, dict(src.cursor or {}), options_for(src, settings, now))
        for batch in prefetched(batches, quit_fetching):
            _store_batch(engine, src, run_id, batch, summary)
            if progress is not None:
                progress(src.name, batch, summary)
            if stop is not None and stop.is_set():
                raise CollectionInterrupted("stop requested")
        summary.status = "failed" if summary.pages_missing else "partial" if summary.errors else "ok"
    except CollectionInterrupted:
        summary.status, summary.error = "interrupted", "stopped on request; the next run resumes from here"
    except (QuotaExhaustedError, RateLimitedError) as exc:
        summary.status, summary.error = "partial", str(exc)
        log.warning("%s", exc)
    except CollectorError as exc:
        summary.status, summary.error = "failed", str(exc)
        log.error("%s", exc)
    except KeyboardInterrupt:
        summary.status, summary.error = "interrupted", "interrupted (Ctrl-C); the next run resumes from here"
        raise
    except Exception as exc:  # a bug or a database problem: record it, keep other sources going
        summary.status, summary.error = "failed", f"unexpected {type(exc).__name__}: {exc}"
        log.exception("collecting %s failed unexpectedly", src.name)
    finally:
        quit_fetching.set()
        http.close()
        summary.duration_s = time.monotonic() - started
        _finish(engine, run_id, summary)
    return summary


_DONE = object()


def prefetched(batches: Iterator[Batch], quit: threading.Event, depth: int = 2) -> Iterator[Batch]:
    """Fetch the next pages in a thread while the caller stores the current one.

    Batches arrive in order; an exception of the collector is re-raised here; when the
    caller stops early (``quit`` set, or the generator closed) the fetching thread ends
    after its current request."""
    pending: queue.Queue[Any] = queue.Queue(maxsize=depth)

    def put(item: Any) -> bool:
        while not quit.is_set():
            try:
                pending.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    break
            else:
                put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(exc)
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="collector-fetch", daemon=True)
    worker.start()
    try:
        while True:
            item = pending.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        quit.set()
        worker.join(timeout=30)


def collect(engine: Engine, settings: Settings, names: Iterable[str] | None = None, **kwargs: Any) -> list[RunSummary]:
    """Run the named sources (or every enabled one) once, one after another."""
    with session_scope(engine) as session:
        if names:
            wanted = [find_source(session, name).name for name in names]
        else:
            query = select(col(Source.name)).where(col(Source.enabled).is_(True)).order_by(col(Source.name))
            rows = session.execute(query)
            wanted = [row[0] for row in rows]
    return [run_source(engine, name, settings, **kwargs) for name in wanted]
