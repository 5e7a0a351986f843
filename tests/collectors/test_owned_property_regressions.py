"""Regressions the owned-channel property check (``tests/collectors/test_collect_property_owned.py``) found.

Each test runs the collector through ``run_source`` (what ``resonanz collect`` does) against the fakes of
``collectors.testing`` and reads the store.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors import Batch
from collectors.testing.meta import FakeGraph, graph_time
from collectors.testing.trustpilot import FakeTrustpilot
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.collect import RunSummary, run_source
from resonanz.pipeline.sources import add_source
from store.models import Post, Source
from tests.collectors.helpers import NOW, app_handler

TOKEN = "EAAGm0PX4ZCpsBAtest-page-token"
SETTINGS = Settings(collectors=CollectorSettings(max_retries=1, meta_access_token=TOKEN))  # type: ignore[arg-type]
PAGE, IG = "104857392019283", "17841405822304914"


def stored(engine: Engine) -> dict[str, bool]:
    """external id -> marked deleted."""
    with Session(engine) as session:
        rows = session.execute(select(col(Post.external_id), col(Post.deleted_at))).all()
    return {row.external_id: row.deleted_at is not None for row in rows}


def collect(engine: Engine, graph: FakeGraph, run_no: int) -> str:
    summary = run_source(engine, "meta", SETTINGS, transport=httpx.MockTransport(app_handler(graph)),
                         now=NOW + timedelta(minutes=15 * run_no), sleep=lambda s: None)  # fmt: skip
    return summary.status


def facebook_page() -> FakeGraph:
    graph = FakeGraph(token=TOKEN)
    graph.add_page(PAGE, "Lindenhof Kaffee", "lindenhofkaffee")
    at = NOW - timedelta(hours=1)
    for number in (1, 2):
        post = f"{PAGE}_{number}"
        graph.add("fb_post", {"id": post, "message": f"Beitrag {number}", "created_time": graph_time(at),
                              "from": {"id": PAGE, "name": "Lindenhof Kaffee"}}, PAGE)  # fmt: skip
        graph.add("fb_comment", {"id": f"{number}_10", "message": "Kommentar", "created_time": graph_time(at),
                                 "from": {"id": "5820193847561234", "name": "Jana"}}, post, parent=post)  # fmt: skip
        graph.add("fb_comment", {"id": f"{number}_11", "message": "Antwort", "created_time": graph_time(at),
                                 "from": {"id": "6612093847562211", "name": "Murat"}}, post,
                  parent=f"{number}_10")  # fmt: skip
    return graph


def test_a_deleted_facebook_post_takes_its_comments_and_replies_with_it(sqlite_engine: Engine) -> None:
    """Facebook deletes a post's comments with it; the refresh that finds the post gone (error 100/33) used to
    mark only the post, so its comments stayed in the store as live comments for good."""
    graph = facebook_page()
    add_source(sqlite_engine, platform="facebook", name="meta", account=PAGE)
    assert collect(sqlite_engine, graph, 0) == "ok"
    assert stored(sqlite_engine) == {f"{PAGE}_1": False, "1_10": False, "1_11": False,
                                     f"{PAGE}_2": False, "2_10": False, "2_11": False}  # fmt: skip
    graph.delete(f"{PAGE}_1")
    assert collect(sqlite_engine, graph, 1) == "ok"
    assert stored(sqlite_engine) == {f"{PAGE}_1": True, "1_10": True, "1_11": True,
                                     f"{PAGE}_2": False, "2_10": False, "2_11": False}  # fmt: skip


def test_deleted_instagram_media_takes_its_comments_and_replies_with_it(sqlite_engine: Engine) -> None:
    graph = FakeGraph(token=TOKEN)
    graph.add_ig_user(IG)
    at = NOW - timedelta(hours=1)
    for media in ("17895731045244887", "17896622936197745"):
        graph.add("ig_media", {"id": media, "caption": "Herbstmischung", "timestamp": graph_time(at),
                               "comments_count": 2, "username": "lindenhof.kaffee"}, IG)  # fmt: skip
        graph.add("ig_comment", {"id": f"{media}1", "text": "Wo?", "timestamp": graph_time(at),
                                 "username": "anna_k"}, media, parent=media)  # fmt: skip
        graph.add("ig_comment", {"id": f"{media}2", "text": "Im Shop", "timestamp": graph_time(at),
                                 "username": "lindenhof.kaffee", "parent_id": f"{media}1"}, media,
                  parent=f"{media}1")  # fmt: skip
    add_source(sqlite_engine, platform="instagram", name="meta", account=IG)
    assert collect(sqlite_engine, graph, 0) == "ok"
    assert set(stored(sqlite_engine)) == {"17895731045244887", "178957310452448871", "178957310452448872",
                                          "17896622936197745", "178966229361977451", "178966229361977452"}  # fmt: skip
    graph.delete("17895731045244887")
    assert collect(sqlite_engine, graph, 1) == "ok"
    assert stored(sqlite_engine) == {"17895731045244887": True, "178957310452448871": True,
                                     "178957310452448872": True, "17896622936197745": False,
                                     "178966229361977451": False, "178966229361977452": False}  # fmt: skip


class Crash(Exception):
    """The collecting process dies after a stored page."""


def test_a_trustpilot_sweep_resumed_after_removals_loses_no_review(sqlite_engine: Engine) -> None:
    """Trustpilot pages by number: when a run ends after page 1 and a review above the stored page-2 link is removed
    before the next run, every later review moves up one place, and the first of the old page 2 was skipped for
    good (older than the next sweep's stop, never followed as a thread). Now a resumed link steps back until its
    page reaches the last review handed out before."""
    unit, key = "5f2a8c1e9b3d4e0001a7c9d2", "tp-test-api-key"
    fake = FakeTrustpilot(unit, "lindenhof-kaffee.de", "Lindenhof Kaffee", api_key=key, max_page=3)
    ids = [f"673c9a1f4e2b8d00{number:08x}" for number in range(9)]
    for number, review_id in enumerate(ids):  # ids[8] is the newest
        review = fake.make_review(review_id, NOW - timedelta(hours=10 - number), "Titel", f"Bewertung {number}",
                                  stars=4, consumer_id=f"5d343e748c9ca112{number:08x}", consumer_name="K")  # fmt: skip
        fake.add(review)
    settings = Settings(collectors=CollectorSettings(max_retries=1, trustpilot_api_key=key))  # type: ignore[arg-type]
    add_source(sqlite_engine, platform="trustpilot", name="tp", query=unit, options={"overlap_minutes": 0})

    def crash_after_first_page(name: str, batch: Batch, summary: RunSummary) -> None:
        raise Crash

    first = run_source(sqlite_engine, "tp", settings, transport=httpx.MockTransport(app_handler(fake)), now=NOW,
                       sleep=lambda s: None, progress=crash_after_first_page)  # fmt: skip
    assert first.status == "failed" and set(stored(sqlite_engine)) == set(ids[6:])
    fake.delete(ids[7])  # removed on page 1: the reviews of page 2 and below move up one place
    second = run_source(sqlite_engine, "tp", settings, transport=httpx.MockTransport(app_handler(fake)),
                        now=NOW + timedelta(minutes=15), sleep=lambda s: None)  # fmt: skip
    assert second.status == "ok"
    assert stored(sqlite_engine) == {**{review_id: False for review_id in ids}, ids[7]: True}


def giveaway(graph: FakeGraph, kind: str, owner: str, post: str, comments: int) -> list[str]:
    """A post (medium) with ``comments`` comments, each second one answered; returns the comment ids."""
    at = NOW - timedelta(hours=2)
    if kind == "fb":
        graph.add("fb_post", {"id": post, "message": "Gewinnspiel!", "created_time": graph_time(at),
                              "from": {"id": PAGE, "name": "Lindenhof Kaffee"}}, owner)  # fmt: skip
    else:
        graph.add("ig_media", {"id": post, "caption": "Gewinnspiel!", "timestamp": graph_time(at),
                               "comments_count": comments, "username": "lindenhof.kaffee"}, owner)  # fmt: skip
    ids: list[str] = []
    for number in range(comments):
        when = graph_time(at + timedelta(minutes=number + 1))
        comment, reply = f"{post}_c{number:02d}", f"{post}_r{number:02d}"
        text = {"message" if kind == "fb" else "text": f"Ich will gewinnen {number}"}
        author = {"from": {"id": "5820193847561234", "name": "Jana"}} if kind == "fb" else {"username": "anna_k"}
        graph.add(f"{kind}_comment", {"id": comment, "created_time" if kind == "fb" else "timestamp": when,
                                      **text, **author}, post, parent=post)  # fmt: skip
        ids.append(comment)
        if number % 2:
            graph.add(f"{kind}_comment", {"id": reply, "created_time" if kind == "fb" else "timestamp": when,
                                          **text, **author}, post, parent=comment)  # fmt: skip
            ids.append(reply)
    return ids


@pytest.mark.parametrize("kind", ["fb", "ig"])
def test_a_thread_longer_than_ten_pages_is_completed_over_the_next_runs(sqlite_engine: Engine, kind: str) -> None:
    """A refresh reads at most ten pages of comments (``MAX_THREAD_PAGES``). It used to start at the first page
    again in every run, so the comments beyond ten pages of a giveaway post were never stored and no deletion in
    it was ever marked. Now the next run goes on where the last one stopped, and the snapshot at the end of the
    pass covers the whole thread."""
    graph = FakeGraph(token=TOKEN, max_page=3)  # Graph returns up to ``limit`` per page; here 3
    if kind == "fb":
        graph.add_page(PAGE, "Lindenhof Kaffee", "lindenhofkaffee")
        add_source(sqlite_engine, platform="facebook", name="meta", account=PAGE)
        post, owner = f"{PAGE}_7", PAGE
    else:
        graph.add_ig_user(IG)
        add_source(sqlite_engine, platform="instagram", name="meta", account=IG)
        post, owner = "17895731045240000", IG
    comments = giveaway(graph, kind, owner, post, 40)  # 60 comments and replies: 20 pages of comments
    statuses = [collect(sqlite_engine, graph, run_no) for run_no in range(4)]
    assert statuses == ["ok"] * 4
    assert stored(sqlite_engine) == {post: False, **{c: False for c in comments}}
    removed = graph.delete(comments[0]) | graph.delete(comments[-2])  # the oldest one, and one with its reply
    assert len(removed) == 3
    for run_no in range(4, 8):
        collect(sqlite_engine, graph, run_no)
    assert stored(sqlite_engine) == {post: False, **{c: c in removed for c in comments}}


def test_a_set_aside_trustpilot_page_is_retried_one_page_earlier(sqlite_engine: Engine) -> None:
    """A page set aside after failing (``stuck``) is retried hours later, when newer sweeps have replaced the page
    anchor: without knowing the last review handed out, the retry reads one page earlier (a page of removals)."""
    unit, key = "5f2a8c1e9b3d4e0001a7c9d2", "tp-test-api-key"
    fake = FakeTrustpilot(unit, "lindenhof-kaffee.de", "Lindenhof Kaffee", api_key=key, max_page=3)
    ids = [f"673c9a1f4e2b8d00{number:08x}" for number in range(9)]
    for number, review_id in enumerate(ids):
        review = fake.make_review(review_id, NOW - timedelta(hours=10 - number), "Titel", f"Bewertung {number}",
                                  stars=4, consumer_id=f"5d343e748c9ca112{number:08x}", consumer_name="K")  # fmt: skip
        fake.add(review)
    link = f"https://api.trustpilot.com/v1/business-units/{unit}/reviews?page=2&perPage=100&orderBy=createdat.desc"
    stuck = {
        "token": link,
        "newest": (NOW - timedelta(hours=2)).isoformat(),
        "failures": 3,
        "stop": (NOW - timedelta(days=30)).isoformat(),
        "retry_at": NOW.isoformat(),
        "since": NOW.isoformat(),
    }
    cursor = {"v": 1, "streams": {f"trustpilot:{unit}": {"high_water": stuck["newest"], "sweep": None, "stuck": stuck}}}
    settings = Settings(collectors=CollectorSettings(max_retries=1, trustpilot_api_key=key))  # type: ignore[arg-type]
    add_source(sqlite_engine, platform="trustpilot", name="tp", query=unit, options={"replies": False})
    with Session(sqlite_engine) as session:
        session.execute(update(Source).where(col(Source.name) == "tp").values(cursor=cursor))
        session.commit()
    fake.delete(ids[8])  # removed since the page failed: page 2 now starts one review later
    requests: list[httpx.Request] = []
    summary = run_source(sqlite_engine, "tp", settings, transport=httpx.MockTransport(app_handler(fake, requests)),
                         now=NOW, sleep=lambda s: None)  # fmt: skip
    assert summary.status == "ok"
    assert requests[0].url.params["page"] == "1"  # the retry of page 2, one page earlier
    assert set(stored(sqlite_engine)) == set(ids[:8])
