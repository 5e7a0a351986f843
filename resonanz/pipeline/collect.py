"""Collecting into the store: one run per source, each page committed with its cursor.

``run_source`` records a :class:`CollectorRun` (counts, status, errors, cursor before/after),
stores the batches (pages) a collector yields together with the source's new cursor -- the pages
already fetched while the previous ones were stored go into one transaction (``prefetched_groups``,
``store_pages``: one bulk write per table, ``store.ingest``), so a crash or SIGTERM loses nothing
already stored and the next run resumes from the last stored cursor -- and never raises for a
failing source (only Ctrl-C propagates).

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
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


def store_pages(engine: Engine, src: Source, run_id: int, pages: Sequence[Batch], summary: RunSummary) -> None:
    """Store the posts of ``pages`` and advance the cursor to the last page's, in one transaction.

    The pages come in order from one collector (:func:`prefetched_groups`): whatever is stored is exactly
    what the stored cursor covers, so a crash or SIGTERM loses nothing already stored and the next run
    resumes after the last stored page. ``summary`` changes only once the transaction is committed.

    If the pages cannot be stored together (a value the database refuses, a bug with one post), each page
    is stored on its own, and a page that fails as a whole has its posts stored one by one: the good ones
    are kept, each refused one is reported with its id and reason and counted as an error, and the cursor
    moves on, so one bad post never blocks the source on every later run. A database that is unreachable
    or locked (``OperationalError``) is not a bad post: it fails the run, and the next run starts again at
    the first page not stored.
    """
    now = utcnow()
    records = [post_record(p) for page in pages for p in page.posts]
    try:
        with session_scope(engine) as session:
            result = ingest_posts(session, records, source_id=src.id, now=now)
            after = _finish_pages(session, src, run_id, pages, summary, result, [], now)
        _adopt(summary, after)
        return
    except OperationalError:
        raise
    except Exception as exc:  # a value the database refuses, or a bug with one post: find the post
        if len(pages) > 1:
            log.warning("%s: %d pages could not be stored together (%s); storing them one by one",
                        src.name, len(pages), _reason(exc))  # fmt: skip
            for page in pages:
                store_pages(engine, src, run_id, [page], summary)
            return
        log.warning("%s: page could not be stored as a whole (%s); storing its %d posts one by one",
                    src.name, _reason(exc), len(records))  # fmt: skip
    result = IngestResult()
    refused: list[str] = []
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
        after = _finish_pages(session, src, run_id, pages, summary, result, refused, now)
    _adopt(summary, after)


def _reason(exc: BaseException) -> str:
    """The first line of a database or value error, without SQLAlchemy's statement dump."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0] if text else ''}"[:300]


def _finish_pages(
    session: Session,
    src: Source,
    run_id: int,
    pages: Sequence[Batch],
    summary: RunSummary,
    result: IngestResult,
    refused: list[str],
    now: datetime,
) -> RunSummary:
    """Mark vanished replies, advance the source's cursor and update the run's counters (in the caller's
    transaction); return the summary as it is once that transaction commits."""
    after = replace(summary, messages=list(summary.messages), skipped=dict(summary.skipped))
    vanished = 0
    for page in pages:
        if page.thread is not None:
            thread = page.thread
            vanished += mark_missing_deleted(session, thread.platform, thread.root_external_id, thread.present, now)
        after.fetched += len(page.posts)
        after.errors += len(page.errors)
        after.messages.extend(page.errors)
        after.pages_missing = after.pages_missing or page.failed
        report = page.cursor.get("report") if isinstance(page.cursor, dict) else None
        if isinstance(report, dict) and isinstance(report.get("skipped"), dict):  # cumulative for this run
            after.skipped = {str(k): int(v) for k, v in report["skipped"].items() if int(v)}
    cursor = pages[-1].cursor
    after.new += result.new
    after.updated += result.updated + vanished
    after.errors += len(refused)
    after.messages.extend(refused)
    session.execute(update(Source).where(col(Source.id) == src.id).values(cursor=cursor))
    session.execute(
        update(CollectorRun)
        .where(col(CollectorRun.id) == run_id)
        .values(
            fetched=after.fetched,
            new=after.new,
            updated=after.updated,
            errors=after.errors,
            cursor_after=cursor,
            heartbeat_at=now,
        )  # fmt: skip
    )
    return after


def _adopt(summary: RunSummary, after: RunSummary) -> None:
    for item in fields(RunSummary):
        setattr(summary, item.name, getattr(after, item.name))


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
        for pages in prefetched_groups(batches, quit_fetching):
            store_pages(engine, src, run_id, pages, summary)
            if progress is not None:
                for batch in pages:
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
NOTHING = object()
"""What ``ready`` of :func:`take_group` returns when no page is waiting."""
GROUP_PAGES = 32
"""At most this many pages are stored in one transaction ..."""
GROUP_POSTS = 2000
"""... and at most about this many posts."""


def prefetched_groups(
    batches: Iterator[Batch], quit: threading.Event, *, max_pages: int = GROUP_PAGES, max_posts: int = GROUP_POSTS
) -> Iterator[list[Batch]]:
    """Fetch the next pages in a thread while the caller stores the current ones; hand them out in groups
    to be stored in one transaction each.

    A group is the pages already fetched when the caller asks (it never waits for more): one page while
    storing keeps up with the platform, up to ``max_pages`` pages or ``max_posts`` posts when the platform
    is faster. The first group is one page and each later one may be twice as large as the one before, so
    the first pages of a run are stored (and a stop request honoured) as soon as they arrive. A group ends
    with a thread snapshot (its vanished replies are marked after its posts are stored) and before a page
    that repeats a post of the group (stored in order, as if page by page). Pages arrive in order; an
    exception of the collector is raised once the pages fetched before it are handed out; when the caller
    stops early (``quit`` set, or the generator closed) the fetching thread ends after its current request.
    """
    pending: queue.Queue[Any] = queue.Queue(maxsize=max_pages)

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

    def ready() -> Any:
        try:
            return pending.get_nowait()
        except queue.Empty:
            return NOTHING

    worker = threading.Thread(target=produce, name="collector-fetch", daemon=True)
    worker.start()
    limit = 1
    carried: Any = NOTHING
    try:
        while True:
            item = carried if carried is not NOTHING else pending.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            group, carried = take_group(item, ready, max_pages=limit, max_posts=max_posts)
            yield group
            limit = min(2 * limit, max_pages)
    finally:
        quit.set()
        worker.join(timeout=30)


def take_group(first: Batch, ready: Callable[[], Any], *, max_pages: int, max_posts: int) -> tuple[list[Batch], Any]:
    """The pages to store in one transaction: ``first`` and the pages ``ready()`` hands out without waiting.

    Stops at ``max_pages`` pages or ``max_posts`` posts, after a page with a thread snapshot, and before a
    page that repeats a post of the group or anything that is not a page (the end, an error). Returns the
    group and that next item (``NOTHING`` when ``ready()`` had none), which the caller handles next."""
    group = [first]
    keys = {(p.platform, p.external_id) for p in first.posts}
    posts = len(first.posts)
    while group[-1].thread is None and len(group) < max_pages and posts < max_posts:
        item = ready()
        if item is NOTHING:
            break
        page_keys = {(p.platform, p.external_id) for p in item.posts} if isinstance(item, Batch) else set()
        if not isinstance(item, Batch) or not keys.isdisjoint(page_keys):
            return group, item
        group.append(item)
        keys |= page_keys
        posts += len(item.posts)
    return group, NOTHING


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
