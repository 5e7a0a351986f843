"""What every collector shares: incremental sweeps over newest-first listings, thread refreshes,
and the cursor that makes both resumable.

A *listing* (hashtag timeline, subreddit, search, feed ...) is read newest first, page by page,
until it reaches what the previous run already covered (``high_water`` minus an overlap) or,
on the first run, the backfill horizon. Each page becomes one :class:`Batch` whose cursor
records where the sweep stands, so a run that dies mid-sweep resumes at the next page, and
afterwards sweeps again from the top so nothing that arrived meanwhile is skipped.

Posts seen in listings are remembered as *threads* for ``reply_lookback``; each run refreshes
up to ``max_threads`` of them (never-refreshed first, then least recently refreshed) to pick up
replies, edits, metric changes and deletions.

Cursor layout (JSON)::

    {"v": 1,
     "streams": {"<listing key>": {"high_water": iso, "sweep": {"token", "newest", "stop", "failures"} | null}},
     "threads": {"<thread key>": {"t": created iso, "r": refreshed iso | null, ...}},
     "last_success": iso,  ... platform extras ("http", "quota")}
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors.errors import AuthError, HttpStatusError, MalformedResponseError, NotFoundError
from collectors.http import PoliteClient
from collectors.items import Batch, CollectedPost, CollectOptions, SourceSpec, ThreadSnapshot
from collectors.text import parse_time

log = logging.getLogger(__name__)

CURSOR_VERSION = 1
MAX_PAGE_FAILURES = 3
"""After this many runs in a row, a failing page is set aside (``stuck``) and retried with backoff while
new sweeps go on from the top; every run until it succeeds is a failed run."""
STUCK_BACKOFF = timedelta(hours=1)
STUCK_BACKOFF_MAX = timedelta(hours=24)


@dataclass(frozen=True)
class Credentials:
    """Platform credentials, taken from settings; never logged (``repr`` hides the secrets)."""

    mastodon_token: str | None = field(default=None, repr=False)
    bluesky_handle: str | None = None
    bluesky_app_password: str | None = field(default=None, repr=False)
    reddit_client_id: str | None = None
    reddit_client_secret: str | None = field(default=None, repr=False)
    youtube_api_key: str | None = field(default=None, repr=False)
    youtube_daily_quota: int = 10000


@dataclass
class ThreadRef:
    """A post whose replies should be followed. ``complete=True`` when the listing already
    carried all of its replies (or it has none yet), so no immediate refresh is needed."""

    key: str
    external_id: str
    created_at: datetime
    complete: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    """One listing page. ``seen`` counts the items the platform returned (``None``: ``len(posts)``);
    a page of only skipped items (reposts) is not an empty page."""

    posts: list[CollectedPost]
    next_token: str | None
    url: str
    errors: list[str] = field(default_factory=list)
    threads: list[ThreadRef] = field(default_factory=list)
    seen: int | None = None


@dataclass
class ThreadResult:
    posts: list[CollectedPost]
    url: str | None = None
    errors: list[str] = field(default_factory=list)
    snapshot: ThreadSnapshot | None = None
    gone: bool = False


@dataclass
class Listing:
    """One newest-first stream of a source. ``fetch(token)`` returns a page and the next token.

    ``sorted_by_time=False`` (relevance-ranked search) reads on until a page has nothing newer
    than the stop time instead of stopping at the first older item."""

    key: str
    fetch: Callable[[str | None], Page]
    sorted_by_time: bool = True


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def snapshot(state: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(state))


class Collector(ABC):
    """Base class: subclasses provide ``listings`` and optionally ``refresh_thread``."""

    platform: ClassVar[str]
    overlap: ClassVar[timedelta] = timedelta(minutes=10)
    """Re-read this much before the previous high-water mark (late federation, index lag)."""

    def __init__(self, http: PoliteClient, credentials: Credentials | None = None) -> None:
        self.http = http
        self.credentials = credentials or Credentials()

    # -- to implement ---------------------------------------------------------------------------

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        """Raise :class:`ConfigurationError` if ``spec`` cannot work (called by ``sources add``)."""
        return None

    @abstractmethod
    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        """The source's listings; may use ``state`` for platform extras."""

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        """Fetch the current replies under thread ``key`` (``entry`` holds what was recorded)."""
        return ThreadResult(posts=[])

    # -- shared machinery -----------------------------------------------------------------------

    def parse_items(
        self, items: Iterable[Any], parse: Callable[[Any], CollectedPost | None], url: str
    ) -> tuple[list[CollectedPost], list[str]]:
        """Parse each item; a malformed one is logged with the source and URL, and skipped."""
        posts: list[CollectedPost] = []
        errors: list[str] = []
        for item in items:
            try:
                post = parse(item)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                message = f"{self.http.label}: skipped a malformed item on {url}: {type(exc).__name__}: {exc}"
                log.warning("%s", message)
                errors.append(message)
                continue
            if post is not None:
                posts.append(post)
        return posts, errors

    def overlap_for(self, spec: SourceSpec) -> timedelta:
        minutes = spec.config.get("overlap_minutes")
        return timedelta(minutes=float(minutes)) if minutes is not None else self.overlap

    def collect(self, spec: SourceSpec, cursor: Mapping[str, Any], options: CollectOptions) -> Iterator[Batch]:
        """Yield batches until the source is caught up; the last batch carries the final cursor."""
        state: dict[str, Any] = copy.deepcopy(dict(cursor))
        state["v"] = CURSOR_VERSION
        for listing in self.listings(spec, state, options):
            yield from self._sweep(spec, listing, state, options)
        if options.fetch_replies:
            yield from self._refresh_threads(spec, state, options)
        state["last_success"] = iso(options.now)
        yield Batch(posts=[], cursor=snapshot(state))

    def _new_sweep(self, spec: SourceSpec, stream: dict[str, Any], options: CollectOptions) -> dict[str, Any]:
        high_water = parse_time(stream.get("high_water"))
        stop = max(high_water - self.overlap_for(spec), options.horizon) if high_water else options.horizon
        return {"token": None, "newest": None, "stop": iso(stop), "failures": 0}

    def _sweep(
        self, spec: SourceSpec, listing: Listing, state: dict[str, Any], options: CollectOptions
    ) -> Iterator[Batch]:
        stream = state.setdefault("streams", {}).setdefault(listing.key, {})
        stuck = stream.get("stuck")
        if stuck and not stream.get("sweep"):
            retry_at = parse_time(stuck.get("retry_at"))
            if retry_at is None or options.now >= retry_at:  # retry the set-aside page as the pending sweep
                stream["sweep"] = {k: v for k, v in stuck.items() if k not in ("retry_at", "since")}
                stream["retrying"] = stuck
                del stream["stuck"]
            else:
                yield self._stuck_report(listing, stuck, state)
        rounds = 2 if stream.get("sweep") else 1  # finish an interrupted (or set-aside) sweep, then from the top
        for _ in range(rounds):
            sweep = stream.get("sweep") or self._new_sweep(spec, stream, options)
            stream["sweep"] = sweep
            restarted = False
            pages = 0
            while True:
                if pages >= options.max_pages:
                    log.info("%s: %s: page limit (%d) reached; the next run continues", self.http.label,
                             listing.key, options.max_pages)  # fmt: skip
                    return
                try:
                    page = listing.fetch(sweep.get("token"))
                except MalformedResponseError as exc:
                    yield self._page_failed(stream, sweep, state, str(exc), exc.url, options)
                    if stream.get("sweep") is None:  # set aside: sweep from the top in this run
                        break
                    return
                except HttpStatusError as exc:
                    if sweep.get("token") and not restarted and exc.status == 400 and not isinstance(exc, AuthError):
                        log.warning("%s: %s: the stored page token was refused; restarting the sweep from the top",
                                    self.http.label, listing.key)  # fmt: skip
                        sweep["token"] = None
                        restarted = True
                        continue
                    if isinstance(exc, NotFoundError | AuthError):
                        raise
                    yield self._page_failed(stream, sweep, state, str(exc), exc.url, options)
                    if stream.get("sweep") is None:  # set aside: sweep from the top in this run
                        break
                    return
                pages += 1
                yield self._take_page(listing, stream, sweep, page, state, options)
                if stream.get("sweep") is None:
                    break

    def _take_page(
        self,
        listing: Listing,
        stream: dict[str, Any],
        sweep: dict[str, Any],
        page: Page,
        state: dict[str, Any],
        options: CollectOptions,
    ) -> Batch:
        stop = parse_time(sweep["stop"]) or options.horizon
        keep = [p for p in page.posts if p.sort_time >= stop]
        times = [p.sort_time for p in page.posts]
        newest = parse_time(sweep.get("newest"))
        if times and (newest is None or max(times) > newest):
            sweep["newest"] = iso(max(times))
        empty = not (page.seen if page.seen is not None else page.posts)
        if listing.sorted_by_time:
            done = empty or not page.next_token or len(keep) < len(page.posts)
        else:
            done = empty or not page.next_token or (bool(page.posts) and not keep)
        sweep["failures"] = 0
        stream.pop("retrying", None)  # a set-aside page came through
        kept_ids = {p.external_id for p in keep}
        self._track(state, [t for t in page.threads if t.external_id in kept_ids], options)
        if done:
            self._finish_sweep(stream, sweep)
        else:
            sweep["token"] = page.next_token
        return Batch(posts=keep, cursor=snapshot(state), url=page.url, errors=list(page.errors))

    @staticmethod
    def _finish_sweep(stream: dict[str, Any], sweep: dict[str, Any]) -> None:
        newest = parse_time(sweep.get("newest"))
        high_water = parse_time(stream.get("high_water"))
        if newest is not None and (high_water is None or newest > high_water):
            stream["high_water"] = iso(newest)
        stream["sweep"] = None

    def _page_failed(
        self,
        stream: dict[str, Any],
        sweep: dict[str, Any],
        state: dict[str, Any],
        message: str,
        url: str,
        options: CollectOptions,
    ) -> Batch:
        retrying = stream.pop("retrying", None)
        sweep["failures"] = int(sweep.get("failures") or 0) + 1
        if sweep["failures"] < MAX_PAGE_FAILURES:
            log.warning("%s The next run tries this page again.", message)
            return Batch(
                posts=[], cursor=snapshot(state), url=url, errors=[message + " The next run tries this page again."]
            )
        # set the page aside and retry it with backoff; new sweeps from the top go on meanwhile
        attempts = sweep["failures"] - MAX_PAGE_FAILURES
        wait = min(STUCK_BACKOFF * (2**attempts), STUCK_BACKOFF_MAX)
        since = (retrying or {}).get("since") or iso(options.now)
        stuck = {**sweep, "retry_at": iso(options.now + wait), "since": since}
        self._finish_sweep(stream, sweep)
        stream["stuck"] = stuck
        message += (
            f" This page has failed {sweep['failures']} runs in a row (since {since}); posts older than it in "
            f"this listing are not collected until it loads. Retrying from {stuck['retry_at']}."
        )
        log.error("%s", message)
        return Batch(posts=[], cursor=snapshot(state), url=url, errors=[message], failed=True)

    @staticmethod
    def _stuck_report(listing: Listing, stuck: dict[str, Any], state: dict[str, Any]) -> Batch:
        """The reminder of a set-aside page in every run until it loads (the run counts as failed)."""
        message = (
            f"{listing.key}: a page has failed {stuck.get('failures')} runs in a row (since {stuck.get('since')}); "
            f"older posts are missing until it loads; next retry {stuck.get('retry_at')}."
        )
        return Batch(posts=[], cursor=snapshot(state), errors=[message], failed=True)

    def _track(self, state: dict[str, Any], refs: list[ThreadRef], options: CollectOptions) -> None:
        if not options.fetch_replies or not refs:
            return
        threads = state.setdefault("threads", {})
        cutoff = options.now - options.reply_lookback
        for ref in refs:
            if ref.created_at < cutoff:
                continue
            entry = threads.get(ref.key)
            if entry is None:
                entry = {"t": iso(ref.created_at), "r": iso(options.now) if ref.complete else None}
                threads[ref.key] = entry
            entry.update(ref.extra)

    def _refresh_threads(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> Iterator[Batch]:
        threads: dict[str, dict[str, Any]] = state.setdefault("threads", {})
        cutoff = options.now - options.reply_lookback
        for key in [k for k, e in threads.items() if (parse_time(e.get("t")) or cutoff) < cutoff]:
            del threads[key]
        fresh = iso(options.now - options.thread_min_age)
        due = [k for k, e in threads.items() if e.get("r") is None or str(e["r"]) <= fresh]
        order = sorted(due, key=lambda k: (threads[k].get("r") is not None, threads[k].get("r") or ""))
        for key in order[: options.max_threads]:
            entry = threads[key]
            try:
                result = self.refresh_thread(spec, key, entry, state, options)
            except (MalformedResponseError, HttpStatusError) as exc:
                if isinstance(exc, AuthError):
                    raise
                entry["r"] = iso(options.now)
                message = f"{exc} (thread {key}; tried again in a later run)"
                log.warning("%s", message)
                yield Batch(posts=[], cursor=snapshot(state), url=getattr(exc, "url", None), errors=[message])
                continue
            if result.gone:
                threads.pop(key, None)
            else:
                entry["r"] = iso(options.now)
            yield Batch(
                posts=result.posts,
                cursor=snapshot(state),
                url=result.url,
                errors=list(result.errors),
                thread=result.snapshot,
            )
