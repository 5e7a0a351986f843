"""YouTube: what the multi-run property test (``test_collect_property_feeds.py``) found (issue 14).

* Deleted replies were never marked deleted: a thread refresh handed out no snapshot. Now a refresh that read
  every reply does, and a stored reply missing from it is looked up (``comments?id=``) before it is marked.
* A thread with more reply pages than one refresh reads (``MAX_REPLY_PAGES``) was read from page 1 again by every
  refresh: its later replies were never collected (when listed oldest first) and its deletions never seen.
* An error answer that is not in Google's shape (``{"error": 403}`` from a gateway) crashed the run with an
  ``AttributeError`` instead of being reported as a refused listing.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import Session, col

from collectors import SourceSpec
from collectors.youtube import MAX_REPLY_PAGES, YouTubeCollector
from resonanz.pipeline.collect import run_source
from store.db import open_engine
from store.models import Post
from tests.collectors.helpers import NOW, app_handler, json_response, options, polite, posts_of, run
from tests.collectors.property_world import SOURCE, T0
from tests.collectors.property_world_feeds import YouTubeWorld
from tests.collectors.test_youtube import KEY, SPEC, error, thread_list, yt_comment, yt_thread


def test_a_reply_deleted_on_youtube_is_marked_deleted_in_the_store(tmp_path: Path) -> None:
    world = YouTubeWorld(random.Random(3))
    world.by_channel, world.queried = False, world.videos
    for _ in range(2):
        world.new_root(T0 - timedelta(hours=1))
    big, small = sorted(t for t in world.text if world.parent[t] is None)
    for n in range(8):  # more than the 5 replies a thread carries: the rest come from comments?parentId=
        world.new_reply(big, T0 - timedelta(minutes=50 - n))
    world.new_reply(small, T0 - timedelta(minutes=30))
    world.new_reply(small, T0 - timedelta(minutes=20))
    engine = open_engine(f"sqlite:///{tmp_path / 'yt.db'}")
    world.add_source(engine)
    transport = httpx.MockTransport(app_handler(world.app))

    def collect(minutes: int) -> str:
        summary = run_source(engine, SOURCE, world.settings(0, False), transport=transport,
                             now=T0 + timedelta(minutes=minutes), sleep=lambda s: None)  # fmt: skip
        return summary.status

    assert collect(0) == "ok"
    gone = {sorted(world.replies(big))[0], sorted(world.replies(small))[-1]}  # paged (oldest) and inline
    world.deleted |= gone
    assert collect(15) == "ok"
    with Session(engine) as session:
        rows = {
            r.external_id: r.deleted_at for r in session.execute(select(col(Post.external_id), col(Post.deleted_at)))
        }
    engine.dispose()
    assert set(rows) == set(world.text)
    assert {e for e, deleted_at in rows.items() if deleted_at is not None} == gone


@pytest.mark.parametrize("still_there", [True, False])
def test_a_reply_the_thread_no_longer_shows_is_looked_up_before_it_is_marked(still_there: bool) -> None:
    r1 = yt_comment("UgT.r1", 20, "Erste Antwort", parent="UgT")
    r2 = yt_comment("UgT.r2", 10, "Zweite Antwort", parent="UgT")
    state = {"later": False}
    lookups: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path.endswith("/comments"):  # comments?id=: is the reply still there?
            lookups.append(params["id"])
            return json_response({"kind": "youtube#commentListResponse", "items": [r1] if still_there else []})
        if state["later"]:  # the thread lists only r2 now (r1 deleted, or held back from the thread view)
            return json_response(thread_list([yt_thread("UgT", 30, "Frage", total=1, replies=[r2])]))
        return json_response(thread_list([yt_thread("UgT", 30, "Frage", total=2, replies=[r1, r2])]))

    _, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC)
    state["later"] = True
    batches, _ = run(YouTubeCollector(polite(handler), KEY), SPEC, cursor, options(now=NOW + timedelta(minutes=30)))
    (snapshot,) = [b.thread for b in batches if b.thread is not None]
    assert lookups == ["UgT.r1"]
    assert snapshot.root_external_id == "UgT"
    assert snapshot.present == ({"UgT.r1", "UgT.r2"} if still_there else {"UgT.r2"})


def test_an_error_body_not_in_googles_shape_is_a_refused_listing_not_a_crash() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"message": "Forbidden", "error": 403}, 403)

    batches, _ = run(YouTubeCollector(polite(handler), KEY), SourceSpec("yt", "youtube", query="dQw4w9WgXcQ"))
    (refused,) = [b for b in batches if b.failed]
    assert "403" in refused.errors[0] and "YOUTUBE_API_KEY" in refused.errors[0]


def test_a_thread_with_more_reply_pages_than_one_refresh_reads_is_read_on_by_the_next_run() -> None:
    """Every refresh used to stop after MAX_REPLY_PAGES pages and start again at page 1 the next time: with replies
    listed oldest first, the ones beyond that page and not among the 5 inline ones were never collected."""
    replies = [yt_comment(f"UgT.r{n:02d}", 60 - n, f"Antwort {n}", parent="UgT") for n in range(MAX_REPLY_PAGES * 2)]
    thread = yt_thread("UgT", 90, "Frage", total=len(replies), replies=replies[-5:])
    pages: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        if request.url.path.endswith("/commentThreads"):
            return json_response(thread_list([thread]))
        token = params.get("pageToken")
        pages.append(token)
        n = int(token[1:]) if token else 0  # one reply a page, oldest first
        more = {"nextPageToken": f"p{n + 1}"} if n + 1 < len(replies) else {}
        return json_response({"kind": "youtube#commentListResponse", "items": [replies[n]], **more})

    batches, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC)
    assert len(pages) == MAX_REPLY_PAGES and cursor["threads"]["UgT"]["more"]["token"] == f"p{MAX_REPLY_PAGES}"
    assert not [b for b in batches if b.thread is not None]  # not every reply read yet: nothing can be marked
    later, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC, cursor, options(now=NOW + timedelta(minutes=15)))
    assert pages[MAX_REPLY_PAGES] == f"p{MAX_REPLY_PAGES}"  # went on where the first run stopped
    collected = set(posts_of(batches)) | set(posts_of(later))
    assert {r["id"] for r in replies} <= collected
    (snapshot,) = [b.thread for b in later if b.thread is not None]
    assert snapshot.present == {r["id"] for r in replies} and "more" not in cursor["threads"]["UgT"]


def test_a_refused_stored_reply_page_reads_the_replies_from_the_start() -> None:
    replies = [yt_comment(f"UgT.r{n}", 30 - n, f"Antwort {n}", parent="UgT") for n in range(7)]
    thread = yt_thread("UgT", 40, "Frage", total=len(replies), replies=replies[-5:])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/commentThreads"):
            return json_response(thread_list([thread]))
        if request.url.params.get("pageToken") == "expired":
            return error("invalidPageToken", 400)
        return json_response({"kind": "youtube#commentListResponse", "items": replies})

    cursor = {"threads": {"UgT": {"t": (NOW - timedelta(minutes=40)).isoformat(), "r": None,
                                  "more": {"token": "expired", "seen": ["UgT.r0"]}}}}  # fmt: skip
    batches, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC, cursor)
    (snapshot,) = [b.thread for b in batches if b.thread is not None]
    assert snapshot.present == {r["id"] for r in replies} and "more" not in cursor["threads"]["UgT"]
    assert not [e for b in batches for e in b.errors]
