"""The shared sweep/thread machinery, on a tiny in-memory platform with pages of three."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from collectors import (
    AuthError,
    CollectedPost,
    CollectOptions,
    FetchError,
    HttpStatusError,
    MalformedResponseError,
    NotFoundError,
    SourceSpec,
    ThreadSnapshot,
)
from collectors.base import MAX_THREAD_FAILURES, Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.text import parse_time
from tests.collectors.helpers import NOW, json_response, options, polite, posts_of

SPEC = SourceSpec("fake", "fake")


class FakePlatform(Collector):
    platform = "fake"
    overlap = timedelta(minutes=0)

    def __init__(self, items: list[tuple[str, int]]) -> None:
        super().__init__(polite(lambda r: json_response([])))
        self.items = items  # (id, minutes ago), newest first
        self.tokens: list[str | None] = []
        self.fail_tokens: set[str] = set()
        self.refuse_tokens: set[str] = set()
        self.status_for: dict[str | None, HttpStatusError | FetchError] = {}  # persistent errors by page token
        self.refreshed: list[str] = []
        self.thread_errors: dict[str, HttpStatusError] = {}
        self.replies: dict[str, list[str]] = {}  # thread key -> reply ids it shows now
        self.exists: set[str] = set()  # replies that still exist (hidden or not)
        self.checked: list[set[str]] = []
        self.gone_threads: set[str] = set()

    def post(self, item_id: str, minutes: int) -> CollectedPost:
        return CollectedPost("fake", item_id, "post", None, item_id, NOW - timedelta(minutes=minutes))

    def fetch(self, token: str | None) -> Page:
        self.tokens.append(token)
        if token in self.status_for:
            raise self.status_for[token]
        if token in self.fail_tokens:
            raise MalformedResponseError(f"page {token} is broken", url=f"fake://page/{token}")
        if token in self.refuse_tokens:
            self.refuse_tokens.discard(token)
            raise HttpStatusError("expired cursor", status=400, url="fake://page")
        start = int(token or 0)
        chunk = self.items[start : start + 3]
        posts = [self.post(i, m) for i, m in chunk]
        refs = [ThreadRef(p.external_id, p.external_id, p.created_at) for p in posts]
        nxt = str(start + 3) if start + 3 < len(self.items) else None
        return Page(posts=posts, next_token=nxt, url=f"fake://page/{token}", threads=refs)

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        return [Listing("all", self.fetch)]

    def refresh_thread(self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any],
                       options: CollectOptions) -> ThreadResult:  # fmt: skip
        self.refreshed.append(key)
        if key in self.thread_errors:
            raise self.thread_errors[key]
        if key in self.gone_threads:
            return ThreadResult(posts=[], gone=True)
        if key not in self.replies:
            return ThreadResult(posts=[])
        shown = self.replies[key]
        return ThreadResult(posts=[], snapshot=ThreadSnapshot("fake", key, frozenset(shown)),
                            members={r: r for r in shown})  # fmt: skip

    def still_present(self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any],
                      options: CollectOptions) -> dict[str, str]:  # fmt: skip
        self.checked.append(set(members))
        return {k: v for k, v in members.items() if k in self.exists}


def items(n: int, offset: int = 0) -> list[tuple[str, int]]:
    return [(f"p{offset + i}", (offset + i) * 10) for i in range(n)]


def no_replies(**kw: Any) -> CollectOptions:
    return options(fetch_replies=False, **kw)


def test_a_run_cut_short_resumes_at_the_next_page_and_then_sweeps_the_top_again() -> None:
    platform = FakePlatform(items(9))
    batches = platform.collect(SPEC, {}, no_replies())
    first = next(batches)  # the process dies after storing the first page
    assert [p.external_id for p in first.posts] == ["p0", "p1", "p2"]
    assert first.cursor["streams"]["all"]["sweep"]["token"] == "3"
    # meanwhile two new posts arrive on top
    resumed = FakePlatform([("n1", -20), ("n0", -10), *items(9)])
    resumed.items = [("n1", -20), ("n0", -10), *[(i, m) for i, m in items(9)]]
    got = list(resumed.collect(SPEC, first.cursor, no_replies()))
    assert resumed.tokens[0] == "3"  # continue where the dead run stopped
    seen = set(posts_of(got))
    assert {"n0", "n1"} <= seen  # the fresh sweep from the top catches what arrived meanwhile
    assert {f"p{i}" for i in range(9)} - {"p0", "p1", "p2"} <= seen
    assert got[-1].cursor["streams"]["all"]["sweep"] is None


def test_a_page_that_keeps_failing_is_set_aside_retried_and_never_silently_lost() -> None:
    """Issue 13: after three failing runs the page is set aside (not given up): new posts on top are still
    collected, every run reports the gap as failed, and a later retry fetches everything behind it."""
    platform = FakePlatform(items(9))
    platform.fail_tokens = {"3"}
    cursor: dict[str, Any] = {}
    for run_no in range(1, 4):
        got = list(platform.collect(SPEC, cursor, no_replies()))
        cursor = got[-1].cursor
        errors = [e for b in got for e in b.errors]
        assert len(errors) == 1
        if run_no < 3:
            assert "next run tries this page again" in errors[0] and not any(b.failed for b in got)
            assert cursor["streams"]["all"]["sweep"]["failures"] == run_no
    assert "failed 3 runs in a row" in errors[0] and any(b.failed for b in got)
    stream = cursor["streams"]["all"]
    assert stream["stuck"]["token"] == "3" and stream["sweep"] is None
    assert parse_time(stream["high_water"]) == NOW  # the top is current; the gap is tracked apart

    # before the retry time: new posts on top are collected, the gap is reported again (a failed run)
    platform.items = [("n0", -5), *items(9)]
    got = list(platform.collect(SPEC, cursor, no_replies(now=NOW + timedelta(minutes=10))))
    cursor = got[-1].cursor
    assert "n0" in posts_of(got) and any(b.failed for b in got) and "next retry" in got[0].errors[0]

    # the page loads again at the retry: everything behind it comes in, and the gap is closed
    platform.fail_tokens = set()
    platform.items = items(9)
    got = list(platform.collect(SPEC, cursor, no_replies(now=NOW + timedelta(hours=2))))
    assert {f"p{i}" for i in range(3, 9)} <= set(posts_of(got))
    assert not any(b.failed for b in got) and "stuck" not in got[-1].cursor["streams"]["all"]


def test_a_refused_page_token_restarts_the_sweep_from_the_top() -> None:
    platform = FakePlatform(items(9))
    first = next(platform.collect(SPEC, {}, no_replies()))
    platform.refuse_tokens = {"3"}
    platform.tokens.clear()
    got = list(platform.collect(SPEC, first.cursor, no_replies()))
    assert platform.tokens[:2] == ["3", None]
    assert not [e for b in got for e in b.errors]


def test_page_limit_leaves_the_sweep_for_the_next_run() -> None:
    platform = FakePlatform(items(12))
    got = list(platform.collect(SPEC, {}, no_replies(max_pages=2)))
    assert len(posts_of(got)) == 6
    assert got[-1].cursor["streams"]["all"]["sweep"]["token"] == "6"
    got2 = list(platform.collect(SPEC, got[-1].cursor, no_replies(max_pages=2)))
    assert {"p6", "p7", "p8", "p9", "p10", "p11"} <= set(posts_of(got2))


def test_threads_never_refreshed_come_first_and_the_cap_is_respected() -> None:
    platform = FakePlatform(items(6))
    got = list(platform.collect(SPEC, {}, options(max_threads=4)))
    assert platform.refreshed == ["p0", "p1", "p2", "p3"]
    cursor = got[-1].cursor
    assert {k for k, e in cursor["threads"].items() if e["r"] is None} == {"p4", "p5"}
    platform.refreshed.clear()
    later = NOW + timedelta(minutes=15)
    list(platform.collect(SPEC, cursor, options(now=later, max_threads=4)))
    assert platform.refreshed[:2] == ["p4", "p5"]


def test_old_items_are_not_followed_as_threads() -> None:
    platform = FakePlatform([("young", 10), ("old", 60 * 50)])
    got = list(platform.collect(SPEC, {}, options(reply_lookback=timedelta(hours=48))))
    assert set(got[-1].cursor["threads"]) == {"young"}


@pytest.mark.parametrize("days", [1, 3])
def test_first_run_stops_at_the_backfill_horizon(days: int) -> None:
    platform = FakePlatform([(f"d{i}", i * 60 * 12) for i in range(10)])  # every 12 hours
    got = list(platform.collect(SPEC, {}, no_replies(backfill_days=days)))
    assert len(posts_of(got)) == days * 2 + 1


# -- issue 14: a persistent 4xx never pins a source; skipped items are counted ------------------------------------


class TwoListings(FakePlatform):
    """A refused first listing must not stop the second one."""

    def __init__(self, items: list[tuple[str, int]]) -> None:
        super().__init__(items)
        self.other: list[str | None] = []

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        def second(token: str | None) -> Page:
            self.other.append(token)
            return Page(posts=[self.post("b0", 1)], next_token=None, url="fake://b")

        return [Listing("all", self.fetch), Listing("b", second)]


@pytest.mark.parametrize("status", [403, 404, 410, 422])
def test_a_refused_stored_page_restarts_from_the_top_and_a_refused_listing_keeps_no_token(status: int) -> None:
    platform = TwoListings(items(9))
    first = next(platform.collect(SPEC, {}, no_replies()))  # a run died after its first page: token "3" stored
    assert first.cursor["streams"]["all"]["sweep"]["token"] == "3"
    error = NotFoundError if status in (404, 410) else HttpStatusError
    refused = error(f"fake: refused ({status}). Ask the platform.", status=status, url="fake://page")
    platform.status_for = {"3": refused, None: refused}
    platform.tokens.clear()
    got = list(platform.collect(SPEC, first.cursor, no_replies()))
    assert platform.tokens == ["3", None]  # the stored token, then once from the top; no loop, no pin
    failed = [b for b in got if b.failed]
    assert len(failed) == 1 and "Ask the platform" in failed[0].errors[0] and f"({status})" in failed[0].errors[0]
    assert "b0" in posts_of(got)  # the other listing went on
    stream = got[-1].cursor["streams"]["all"]
    assert stream["sweep"]["token"] is None and stream["refused"]["runs"] == 1
    assert parse_time(stream["sweep"]["stop"]) == parse_time(first.cursor["streams"]["all"]["sweep"]["stop"])
    # refused again: counted, still nothing pinned
    got = list(platform.collect(SPEC, got[-1].cursor, no_replies()))
    assert got[-1].cursor["streams"]["all"]["refused"]["runs"] == 2
    # the platform answers again: the whole range is collected and the refusal is forgotten
    platform.status_for = {}
    got = list(platform.collect(SPEC, got[-1].cursor, no_replies()))
    assert {f"p{i}" for i in range(9)} <= set(posts_of(got))
    assert not any(b.failed for b in got) and "refused" not in got[-1].cursor["streams"]["all"]


def test_credentials_refused_with_401_stop_the_run() -> None:
    platform = TwoListings(items(3))
    platform.status_for = {None: AuthError("fake: login refused (401). Set the token.", status=401, url="fake://")}
    with pytest.raises(AuthError, match="Set the token"):
        list(platform.collect(SPEC, {}, no_replies()))
    assert platform.other == []


def test_a_stored_page_that_keeps_timing_out_is_set_aside_instead_of_pinning_the_source() -> None:
    platform = FakePlatform(items(9))
    cursor = next(platform.collect(SPEC, {}, no_replies())).cursor
    platform.status_for = {"3": FetchError("fake: GET page 3 failed 4 times (ReadTimeout).")}
    for run_no in (1, 2):
        batches = platform.collect(SPEC, cursor, no_replies())
        with pytest.raises(FetchError):
            for batch in batches:
                cursor = batch.cursor
        assert cursor["streams"]["all"]["sweep"]["failures"] == run_no
    platform.items = [("n0", -5), *items(9)]
    got = list(platform.collect(SPEC, cursor, no_replies()))  # third failure: set aside, the top is read
    assert "n0" in posts_of(got) and any(b.failed for b in got)
    assert got[-1].cursor["streams"]["all"]["stuck"]["token"] == "3"


def test_a_thread_that_keeps_failing_is_dropped_and_a_403_does_not_stop_the_run() -> None:
    platform = FakePlatform(items(2))
    platform.thread_errors = {"p0": AuthError("fake: thread p0 refused (403).", status=403, url="fake://t")}
    cursor: dict[str, Any] = {}
    for run_no in range(1, MAX_THREAD_FAILURES + 1):
        when = NOW + timedelta(minutes=15 * run_no)
        got = list(platform.collect(SPEC, cursor, options(now=when)))
        cursor = got[-1].cursor
        assert any("p0" in e for b in got for e in b.errors)
    assert "p0" not in cursor["threads"] and "p1" in cursor["threads"]
    assert "nicht mehr verfolgt" in [e for b in got for e in b.errors][0]


def test_replies_that_vanished_from_the_thread_view_are_checked_before_they_count_as_deleted() -> None:
    platform = FakePlatform(items(1))
    platform.replies = {"p0": ["r1", "r2", "r3"]}
    got = list(platform.collect(SPEC, {}, options()))
    assert next(b.thread for b in got if b.thread).present == {"r1", "r2", "r3"}
    assert got[-1].cursor["threads"]["p0"]["m"] == ["r1", "r2", "r3"]
    # r2 is hidden now (its parent was deleted) but exists; r3 is gone
    platform.replies = {"p0": ["r1"]}
    platform.exists = {"r2"}
    got = list(platform.collect(SPEC, got[-1].cursor, options(now=NOW + timedelta(minutes=15))))
    assert platform.checked == [{"r2", "r3"}]
    assert next(b.thread for b in got if b.thread).present == {"r1", "r2"}
    assert got[-1].cursor["threads"]["p0"]["m"] == ["r1", "r2"]


class Sloppy(FakePlatform):
    def __init__(self, items: list[tuple[str, int]], bad: int) -> None:
        super().__init__(items)
        self.bad = bad

    def fetch(self, token: str | None) -> Page:
        raw: list[Any] = [{"id": i, "m": m} for i, m in self.items] + [{"broken": True}] * self.bad
        posts, errors = self.parse_items(raw, lambda r: self.post(r["id"], r["m"]), "fake://page")
        self.skip("repost", 2)
        return Page(posts=posts, next_token=None, url="fake://page", errors=errors, seen=len(raw) + 2)


def test_every_skipped_item_is_counted_with_its_reason_and_a_run_that_skipped_everything_failed() -> None:
    got = list(Sloppy(items(3), bad=2).collect(SPEC, {}, no_replies()))
    report = got[-1].cursor["report"]
    assert report["skipped"] == {"malformed": 2, "repost": 2} and report["kept"] == 3 and report["items"] == 7
    assert not any(b.failed for b in got)
    got = list(Sloppy([], bad=4).collect(SPEC, got[-1].cursor, no_replies()))
    report = got[-1].cursor["report"]
    assert report["skipped"] == {"malformed": 4, "repost": 2} and report["kept"] == 0  # counted per run
    assert got[-1].failed and "alle 6 Einträge" in got[-1].errors[0] and "4 × unlesbare" in got[-1].errors[0]
    only_reposts = list(Sloppy([], bad=0).collect(SPEC, {}, no_replies()))
    assert not any(b.failed for b in only_reposts)  # skipped by design is not a failure


def test_when_a_thread_root_is_removed_its_replies_that_are_gone_too_are_marked() -> None:
    platform = FakePlatform(items(1))
    platform.replies = {"p0": ["r1", "r2"]}
    got = list(platform.collect(SPEC, {}, options()))
    platform.gone_threads, platform.exists = {"p0"}, {"r2"}
    got = list(platform.collect(SPEC, got[-1].cursor, options(now=NOW + timedelta(minutes=15))))
    marked = {p.external_id for b in got for p in b.posts if p.deleted}
    assert marked == {"r1"} and platform.checked == [{"r1", "r2"}]
    assert "p0" not in got[-1].cursor["threads"]
