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

Failure policy (one rule for every platform):

* a page that cannot be read (malformed, 5xx after retries) is retried by the next runs and set aside
  after :data:`MAX_PAGE_FAILURES` (``stuck``), so new posts on top keep coming;
* a 4xx on a stored page token restarts that sweep from the top (same stop: nothing is skipped);
  a 4xx on the top page means the platform refuses the listing itself: the run reports it (failed)
  with what to do, the other listings and threads go on, and no token is kept that could pin the
  source -- the next run simply asks again. Only 401 (credentials) stops the whole run;
* a thread that answers 4xx/malformed is retried in later runs and dropped after
  :data:`MAX_THREAD_FAILURES` runs in a row.

Deletions: a thread refresh that sees every reply hands out a :class:`ThreadSnapshot`; stored replies
missing from it are marked deleted. Replies the platform stopped *showing* (hidden behind a deleted
parent, beyond a depth or request budget) are checked one by one (:meth:`Collector.still_present`)
before anything is marked, against the members recorded in the thread's cursor entry.

Skips: every item the platform returned but the collector did not hand out is counted with its reason
in the cursor's ``report`` (per run); a run whose every item was skipped as unreadable is failed.

Cursor layout (JSON)::

    {"v": 1,
     "streams": {"<listing key>": {"high_water": iso, "sweep": {"token", "newest", "stop", "failures"} | null,
                                   "stuck": {...}, "refused": {"status", "since", "runs"}}},
     "threads": {"<thread key>": {"t": created iso, "r": refreshed iso | null, "u": external id,
                                  "m": members, "f": failures, "p": pending work, ...}},
     "report": {"items", "kept", "skipped": {reason: n}, "refused": [...]},
     "last_success": iso,  ... platform extras ("http", "quota")}
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from collectors.errors import AuthError, FetchError, HttpStatusError, MalformedResponseError
from collectors.http import PoliteClient
from collectors.items import Batch, CollectedPost, CollectOptions, SourceSpec, ThreadSnapshot, tombstone
from collectors.text import parse_time

log = logging.getLogger(__name__)

CURSOR_VERSION = 1
MAX_PAGE_FAILURES = 3
"""After this many runs in a row, a failing page is set aside (``stuck``) and retried with backoff while
new sweeps go on from the top; every run until it succeeds is a failed run."""
STUCK_BACKOFF = timedelta(hours=1)
STUCK_BACKOFF_MAX = timedelta(hours=24)
MAX_THREAD_FAILURES = 3
"""A thread that failed (4xx, malformed answer) this many runs in a row is no longer followed."""

SKIP_REASONS: dict[str, str] = {
    "malformed": "unlesbare Einträge (fehlende oder falsche Felder)",
    "repost": "Reposts/Boosts (nicht vom Konto selbst geschrieben)",
    "blocked": "blockierte oder ausgeblendete Antworten",
    "not_a_post": "andere Objektarten in der Liste (keine Beiträge)",
    "deferred": "Antworten, die ein späterer Lauf lädt (Anfragebudget des Threads erschöpft)",
}
"""Why an item the platform returned was not handed out, in words for the user (``report.skipped`` keys)."""
FAULT_SKIPS = frozenset({"malformed"})
"""Skips that mean something went wrong (a run that skipped everything for these reasons is failed)."""


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
    google_business_client_id: str | None = None
    google_business_client_secret: str | None = field(default=None, repr=False)
    google_business_refresh_token: str | None = field(default=None, repr=False)
    google_play_service_account_file: str | None = None
    trustpilot_api_key: str | None = field(default=None, repr=False)
    meta_access_token: str | None = field(default=None, repr=False)
    meta_app_secret: str | None = field(default=None, repr=False)


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
    """One refreshed thread. With ``snapshot``, ``members`` maps the platform's own key of every reply shown
    (what :meth:`Collector.still_present` can look up) to its external id; ``pending`` says that work was left
    for a later run (more replies to load), so the thread is refreshed again before the others."""

    posts: list[CollectedPost]
    url: str | None = None
    errors: list[str] = field(default_factory=list)
    snapshot: ThreadSnapshot | None = None
    gone: bool = False
    members: dict[str, str] | None = None
    pending: bool = False


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
        self._skips: Counter[str] = Counter()

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

    def still_present(
        self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any], options: CollectOptions
    ) -> dict[str, str]:
        """Of replies a thread refresh no longer showed (``members``: platform key -> external id), those to keep:
        the ones that still exist, and any not checked in this run. Without a way to check: all of them."""
        return dict(members)

    def member_key(self, post: CollectedPost) -> str:
        """The platform's own key of ``post`` (what :meth:`still_present` looks up); the external id by default."""
        return post.external_id

    # -- shared machinery -----------------------------------------------------------------------

    def skip(self, reason: str, count: int = 1) -> None:
        """Count ``count`` items the platform returned but this run does not hand out (see :data:`SKIP_REASONS`)."""
        if count > 0:
            self._skips[reason] += count

    def parse_items(
        self, items: Iterable[Any], parse: Callable[[Any], CollectedPost | None], url: str
    ) -> tuple[list[CollectedPost], list[str]]:
        """Parse each item; a malformed one is logged with the source and URL, counted, and skipped."""
        posts: list[CollectedPost] = []
        errors: list[str] = []
        for item in items:
            try:
                post = parse(item)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                message = f"{self.http.label}: skipped a malformed item on {url}: {type(exc).__name__}: {exc}"
                log.warning("%s", message)
                errors.append(message)
                self.skip("malformed")
                continue
            if post is not None:
                posts.append(post)
        return posts, errors

    def _cursor(self, state: dict[str, Any], handed_out: int = 0) -> dict[str, Any]:
        """The cursor to store with a batch: the skips counted since the last batch go into the run's report."""
        report = state.setdefault("report", {})
        skipped = report.setdefault("skipped", {})
        for reason, count in self._skips.items():
            skipped[reason] = int(skipped.get(reason, 0)) + count
            report["items"] = int(report.get("items", 0)) + count
        self._skips.clear()
        report["kept"] = int(report.get("kept", 0)) + handed_out
        report["items"] = int(report.get("items", 0)) + handed_out
        return snapshot(state)

    def overlap_for(self, spec: SourceSpec) -> timedelta:
        minutes = spec.config.get("overlap_minutes")
        return timedelta(minutes=float(minutes)) if minutes is not None else self.overlap

    def collect(self, spec: SourceSpec, cursor: Mapping[str, Any], options: CollectOptions) -> Iterator[Batch]:
        """Yield batches until the source is caught up; the last batch carries the final cursor."""
        state: dict[str, Any] = copy.deepcopy(dict(cursor))
        state["v"] = CURSOR_VERSION
        state["report"] = {"started": iso(options.now), "items": 0, "kept": 0, "skipped": {}, "refused": []}
        self._skips.clear()
        for listing in self.listings(spec, state, options):
            yield from self._sweep(spec, listing, state, options)
        if options.fetch_replies:
            yield from self._refresh_threads(spec, state, options)
        state["last_success"] = iso(options.now)
        final = self._cursor(state)
        report = final["report"]
        faults = sum(int(n) for reason, n in report["skipped"].items() if reason in FAULT_SKIPS)
        if report["items"] and not report["kept"] and faults:
            message = (
                f"{self.http.label}: alle {report['items']} Einträge dieses Laufs wurden übersprungen "
                f"({skip_summary(report['skipped'])}); gespeichert wurde nichts. Die Plattform liefert Daten in "
                "einer Form, die Resonanz nicht lesen kann: bitte die Fehlermeldungen dieses Laufs melden."
            )
            log.error("%s", message)
            yield Batch(posts=[], cursor=final, errors=[message], failed=True)
            return
        yield Batch(posts=[], cursor=final)

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
                except FetchError:
                    # the platform or the network failed after all retries: the run ends, but a stored page that
                    # keeps failing is counted, so that it is set aside and cannot pin the source for good
                    if not sweep.get("token"):
                        raise
                    failed = self._page_failed(stream, sweep, state, "", "", options, quiet=True)
                    if stream.get("sweep") is not None:
                        yield Batch(posts=[], cursor=failed.cursor)
                        raise
                    yield failed
                    break
                except HttpStatusError as exc:  # a 4xx: 429 and 5xx were retried by the client
                    if credentials_refused(exc):  # 401: nothing of this source can work
                        raise
                    if sweep.get("token") and not restarted:
                        log.warning("%s: %s: the stored page token was refused (%d); restarting the sweep from the top",
                                    self.http.label, listing.key, exc.status)  # fmt: skip
                        sweep["token"] = None
                        restarted = True
                        continue
                    yield self._listing_refused(listing, stream, sweep, state, exc, options)
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
        stream.pop("refused", None)
        kept_ids = {p.external_id for p in keep}
        self._track(state, [t for t in page.threads if t.external_id in kept_ids], options)
        self._note_members(state, keep)
        if done:
            self._finish_sweep(stream, sweep)
        else:
            sweep["token"] = page.next_token
        return Batch(posts=keep, cursor=self._cursor(state, len(keep)), url=page.url, errors=list(page.errors))

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
        *,
        quiet: bool = False,
    ) -> Batch:
        retrying = stream.pop("retrying", None)
        sweep["failures"] = int(sweep.get("failures") or 0) + 1
        if not message:
            message = f"{self.http.label}: eine Seite dieser Liste ließ sich nicht laden."
        if sweep["failures"] < MAX_PAGE_FAILURES and quiet:
            return Batch(posts=[], cursor=self._cursor(state))
        if sweep["failures"] < MAX_PAGE_FAILURES:
            log.warning("%s The next run tries this page again.", message)
            return Batch(
                posts=[], cursor=self._cursor(state), url=url, errors=[message + " The next run tries this page again."]
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
        return Batch(posts=[], cursor=self._cursor(state), url=url, errors=[message], failed=True)

    def _listing_refused(
        self,
        listing: Listing,
        stream: dict[str, Any],
        sweep: dict[str, Any],
        state: dict[str, Any],
        exc: HttpStatusError,
        options: CollectOptions,
    ) -> Batch:
        """The platform refuses the listing itself (4xx on its first page): report it as a failed run with the
        platform's message (which says what to do), keep no page token, and leave the other listings running."""
        sweep["token"] = None  # never pinned: the next run asks from the top again, down to the same stop
        refused = stream.get("refused") or {}
        since = refused.get("since") or iso(options.now)
        runs = int(refused.get("runs") or 0) + 1
        stream["refused"] = {"status": exc.status, "since": since, "runs": runs}
        state.setdefault("report", {}).setdefault("refused", []).append(listing.key)
        message = (
            f"{exc} [{listing.key}: die Plattform verweigert diese Liste ({exc.status}) seit {since}, {runs}. Lauf "
            "in Folge; die übrigen Listen und Threads laufen weiter, der nächste Lauf fragt neu an.]"
        )
        log.error("%s", message)
        return Batch(posts=[], cursor=self._cursor(state), url=exc.url, errors=[message], failed=True)

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
                if ref.external_id != ref.key:
                    entry["u"] = ref.external_id
                threads[ref.key] = entry
            entry.update(ref.extra)

    def _note_members(self, state: dict[str, Any], posts: list[CollectedPost]) -> None:
        """Replies handed out by a listing or by another thread (a reply's own thread) are members of the thread
        of their root, so that one the root's thread view does not show (under a deleted parent) is checked
        before it is marked deleted."""
        threads: dict[str, dict[str, Any]] = state.get("threads") or {}
        replies = [p for p in posts if p.root_external_id and not p.deleted]
        if not threads or not replies:
            return
        by_external = {str(e.get("u") or k): k for k, e in threads.items()}
        for post in replies:
            key = by_external.get(str(post.root_external_id))
            if key is not None:
                members = load_members(threads[key])
                members[self.member_key(post)] = post.external_id
                store_members(threads[key], members)

    def _refresh_threads(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> Iterator[Batch]:
        threads: dict[str, dict[str, Any]] = state.setdefault("threads", {})
        cutoff = options.now - options.reply_lookback
        for key in [k for k, e in threads.items() if (parse_time(e.get("t")) or cutoff) < cutoff]:
            del threads[key]
        fresh = iso(options.now - options.thread_min_age)
        due = [k for k, e in threads.items() if e.get("p") or e.get("r") is None or str(e["r"]) <= fresh]
        # work left over from an earlier run first, then never refreshed, then the least recently refreshed
        order = sorted(due, key=lambda k: (not threads[k].get("p"), threads[k].get("r") is not None,
                                           threads[k].get("r") or ""))  # fmt: skip
        for key in order[: options.max_threads]:
            entry = threads[key]
            try:
                result = self.refresh_thread(spec, key, entry, state, options)
                thread = self._confirmed_snapshot(spec, entry, result, state, options)
                root = thread.root_external_id if thread is not None else None
                self._note_members(state, [p for p in result.posts if p.root_external_id != root])
            except (MalformedResponseError, HttpStatusError) as exc:
                if isinstance(exc, HttpStatusError) and credentials_refused(exc):
                    raise
                entry["r"] = iso(options.now)
                entry["f"] = failures = int(entry.get("f") or 0) + 1
                if failures >= MAX_THREAD_FAILURES:
                    threads.pop(key, None)
                    message = (f"{exc} (Thread {key}: {failures} Läufe in Folge fehlgeschlagen; er wird nicht mehr "
                               "verfolgt, neue Antworten darunter fehlen)")  # fmt: skip
                else:
                    message = f"{exc} (thread {key}; tried again in a later run)"
                log.warning("%s", message)
                yield Batch(posts=[], cursor=self._cursor(state), url=getattr(exc, "url", None), errors=[message])
                continue
            if result.gone:
                result.posts.extend(self._gone_members(spec, key, entry, state, options))
                threads.pop(key, None)
            else:
                entry["r"] = iso(options.now)
                entry.pop("f", None)
                if result.pending:
                    entry["p"] = 1
                else:
                    entry.pop("p", None)
            yield Batch(
                posts=result.posts,
                cursor=self._cursor(state, len(result.posts)),
                url=result.url,
                errors=list(result.errors),
                thread=thread,
            )

    def _gone_members(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> list[CollectedPost]:
        """The thread's root is gone and it is no longer followed: its recorded replies that are gone too, as
        deletion markers (the ones still there stay as they are)."""
        members = load_members(entry)
        if not members:
            return []
        try:
            kept = self.still_present(spec, members, state, options)
        except (MalformedResponseError, HttpStatusError) as exc:
            if isinstance(exc, HttpStatusError) and credentials_refused(exc):
                raise
            log.warning("%s: could not check the replies of removed thread %s (%s)", self.http.label, key, exc)
            return []
        return [tombstone(self.platform, external, kind="comment", now=options.now)
                for native, external in members.items() if native not in kept]  # fmt: skip

    def _confirmed_snapshot(
        self, spec: SourceSpec, entry: dict[str, Any], result: ThreadResult, state: dict[str, Any],
        options: CollectOptions,
    ) -> ThreadSnapshot | None:  # fmt: skip
        """The refresh's snapshot, with replies it no longer showed but that still exist added back.

        Members recorded in earlier runs that are missing now are looked up (:meth:`still_present`): a reply
        hidden behind a deleted parent or beyond the refresh's budget is kept; only the ones that are really
        gone stay missing (and get marked deleted by the store)."""
        if result.snapshot is None or result.members is None:
            return result.snapshot
        known = load_members(entry)
        vanished = {k: v for k, v in known.items() if k not in result.members}
        try:
            kept = self.still_present(spec, vanished, state, options) if vanished else {}
        except (MalformedResponseError, HttpStatusError) as exc:
            if isinstance(exc, HttpStatusError) and credentials_refused(exc):
                raise
            log.warning("%s: could not check %d vanished replies (%s); no deletions from this refresh",
                        self.http.label, len(vanished), exc)  # fmt: skip
            store_members(entry, {**known, **result.members})
            return None
        members = {**result.members, **kept}
        store_members(entry, members)
        present = result.snapshot.present | frozenset(kept.values())
        return ThreadSnapshot(result.snapshot.platform, result.snapshot.root_external_id, present)


def credentials_refused(exc: HttpStatusError) -> bool:
    """401: the credentials are missing or wrong -- nothing of this source can work, so the run stops."""
    return isinstance(exc, AuthError) and exc.status == 401


def load_members(entry: Mapping[str, Any]) -> dict[str, str]:
    """A thread entry's recorded replies: platform key -> external id (stored as a list when both are equal)."""
    raw = entry.get("m")
    if isinstance(raw, dict):
        return {str(k): str(v or k) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(k): str(k) for k in raw}
    return {}


def store_members(entry: dict[str, Any], members: Mapping[str, str]) -> None:
    if not members:
        entry.pop("m", None)
    elif all(k == v for k, v in members.items()):
        entry["m"] = sorted(members)
    else:
        entry["m"] = {k: ("" if k == v else v) for k, v in sorted(members.items())}


def skip_summary(skipped: Mapping[str, Any]) -> str:
    """``3 × unlesbare Einträge …, 2 × Reposts …`` for messages."""
    parts = [f"{int(n)} × {SKIP_REASONS.get(reason, reason)}" for reason, n in sorted(skipped.items()) if int(n)]
    return ", ".join(parts) or "keine"
