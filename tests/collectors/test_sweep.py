"""The shared sweep/thread machinery, on a tiny in-memory platform with pages of three."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from collectors import CollectedPost, CollectOptions, HttpStatusError, MalformedResponseError, SourceSpec
from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
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
        self.refreshed: list[str] = []

    def post(self, item_id: str, minutes: int) -> CollectedPost:
        return CollectedPost("fake", item_id, "post", None, item_id, NOW - timedelta(minutes=minutes))

    def fetch(self, token: str | None) -> Page:
        self.tokens.append(token)
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
        return ThreadResult(posts=[])


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
