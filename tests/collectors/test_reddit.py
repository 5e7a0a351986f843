"""Reddit: listings with ``after``, comment trees with ``more`` stubs, deletions, OAuth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs

import httpx
import pytest

from collectors import SourceSpec
from collectors import reddit as reddit_module
from collectors.reddit import RedditCollector
from tests.collectors.helpers import NOW, creds, json_response, options, polite, posts_of, run

SPEC = SourceSpec("sub", "reddit", account="r/de")


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    reddit_module._TOKENS.clear()
    yield
    reddit_module._TOKENS.clear()


def epoch(minutes_ago: float) -> float:
    return (NOW - timedelta(minutes=minutes_ago)).timestamp()


def submission(sid: str, minutes_ago: float, *, comments: int = 0, selftext: str = "Wie ist Brühwerk?") -> dict:
    return {"kind": "t3", "data": {
        "subreddit": "de", "selftext": selftext, "author_fullname": "t2_max", "title": f"Frage {sid}",
        "name": f"t3_{sid}", "upvote_ratio": 0.93, "score": 12, "created_utc": epoch(minutes_ago), "edited": False,
        "num_comments": comments, "id": sid, "author": "maxmuster", "permalink": f"/r/de/comments/{sid}/frage/",
        "url": f"https://www.reddit.com/r/de/comments/{sid}/frage/", "over_18": False, "removed_by_category": None,
    }}  # fmt: skip


def comment(cid: str, parent: str, minutes_ago: float, body: str, *, replies: list | None = None,
            author: str = "lisa", edited: float | bool = False) -> dict:  # fmt: skip
    return {"kind": "t1", "data": {
        "id": cid, "name": f"t1_{cid}", "parent_id": parent, "link_id": "t3_abc", "body": body, "author": author,
        "author_fullname": f"t2_{author}" if author != "[deleted]" else None, "created_utc": epoch(minutes_ago),
        "edited": edited, "score": 3, "permalink": f"/r/de/comments/abc/frage/{cid}/", "depth": 0,
        "replies": {"kind": "Listing", "data": {"after": None, "children": replies, "before": None}} if replies else "",
    }}  # fmt: skip


def listing(children: list, after: str | None = None) -> dict:
    return {"kind": "Listing", "data": {"after": after, "dist": len(children), "modhash": "", "geo_filter": None,
                                        "children": children, "before": None}}  # fmt: skip


def test_subreddit_new_pages_with_after_and_stops_at_the_horizon() -> None:
    subs = [submission(f"s{i:03d}", i * 60 * 4) for i in range(250)]  # every 4 hours
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        after = request.url.params.get("after")
        start = 0 if after is None else next(i for i, s in enumerate(subs) if s["data"]["name"] == after) + 1
        page = subs[start : start + 100]
        return json_response(listing(page, page[-1]["data"]["name"] if start + 100 < len(subs) else None))

    batches, _ = run(RedditCollector(polite(handler)), SPEC, opts=options(backfill_days=30, fetch_replies=False))
    assert len(posts_of(batches)) == 181  # 0..180 x 4 h within 30 days
    assert len(seen) == 2
    assert seen[0].url.path == "/r/de/new.json" and seen[0].url.host == "www.reddit.com"
    assert seen[0].url.params["raw_json"] == "1" and seen[0].url.params["limit"] == "100"
    assert seen[0].headers["User-Agent"].startswith("Resonanz")
    assert seen[1].url.params["after"] == "t3_s099"
    post = posts_of(batches)["t3_s000"]
    assert (post.title, post.text, post.identity.account_id) == ("Frage s000", "Wie ist Brühwerk?", "t2_max")
    assert post.url == "https://www.reddit.com/r/de/comments/s000/frage/"


def test_search_within_a_subreddit_is_sorted_by_new() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(listing([submission("a1", 5)]))

    spec = SourceSpec("q", "reddit", account="de", query="Brühwerk")
    run(RedditCollector(polite(handler)), spec, opts=options(fetch_replies=False))
    assert seen[0].url.path == "/r/de/search.json"
    assert (seen[0].url.params["q"], seen[0].url.params["restrict_sr"], seen[0].url.params["sort"]) == (
        "Brühwerk", "1", "new")  # fmt: skip


def test_comment_tree_more_stubs_and_deleted_comments() -> None:
    tree = [
        comment("c1", "t3_abc", 50, "Super Kaffee", replies=[
            comment("c2", "t1_c1", 40, "Finde ich nicht", edited=epoch(30)),
            comment("c3", "t1_c1", 35, "[deleted]", author="[deleted]"),
        ]),
        {"kind": "more", "data": {"count": 2, "name": "t1_m1", "id": "m1", "parent_id": "t3_abc", "depth": 0,
                                  "children": ["c4", "c5"]}},
        {"kind": "more", "data": {"count": 0, "name": "t1__", "id": "_", "parent_id": "t1_c2", "depth": 10,
                                  "children": []}},
    ]  # fmt: skip
    more_calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/r/de/new.json":
            return json_response(listing([submission("abc", 60, comments=5)]))
        if path == "/comments/abc.json":
            return json_response([listing([submission("abc", 60, comments=5)]), listing(tree)])
        if path == "/api/morechildren.json":
            more_calls.append(request)
            things = [comment("c4", "t3_abc", 20, "Lieferung war schnell")["data"] | {"replies": ""},
                      comment("c5", "t1_c4", 10, "Bei mir nicht")["data"] | {"replies": ""}]  # fmt: skip
            return json_response({"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": t}
                                                                              for t in things]}}})  # fmt: skip
        raise AssertionError(path)

    batches, cursor = run(RedditCollector(polite(handler)), SPEC)
    posts = posts_of(batches)
    assert {"t1_c1", "t1_c2", "t1_c3", "t1_c4", "t1_c5", "t3_abc"} == set(posts)
    assert posts["t1_c2"].parent_external_id == "t1_c1" and posts["t1_c2"].root_external_id == "t3_abc"
    assert posts["t1_c5"].parent_external_id == "t1_c4"
    assert posts["t1_c2"].edited_at is not None
    assert posts["t1_c3"].deleted and posts["t1_c3"].text == "" and posts["t1_c3"].identity is None
    assert len(more_calls) == 1
    assert parse_qs(more_calls[0].url.query.decode())["children"] == ["c4,c5"]
    assert more_calls[0].url.params["link_id"] == "t3_abc"
    assert "abc" in cursor["threads"]


def test_oauth_client_credentials_and_token_renewal() -> None:
    calls: list[httpx.Request] = []
    tokens = iter(["tok-1", "tok-2"])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path == "/api/v1/access_token":
            user = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
            assert user == "cid:csecret"
            assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}
            return json_response({"access_token": next(tokens), "token_type": "bearer", "expires_in": 86400,
                                  "scope": "*"})  # fmt: skip
        assert request.url.host == "oauth.reddit.com" and request.url.path == "/r/de/new"
        if request.headers["Authorization"] == "bearer tok-1":
            return json_response({"message": "Unauthorized", "error": 401}, 401)
        return json_response(listing([submission("a1", 5)]))

    c = creds(reddit_client_id="cid", reddit_client_secret="csecret")
    batches, _ = run(RedditCollector(polite(handler), c), SPEC, opts=options(fetch_replies=False))
    assert list(posts_of(batches)) == ["t3_a1"]
    assert [r.url.path for r in calls] == ["/api/v1/access_token", "/r/de/new", "/api/v1/access_token", "/r/de/new"]


def test_removed_submission_is_marked_deleted() -> None:
    removed = submission("gone", 5, selftext="[removed]")
    removed["data"]["removed_by_category"] = "moderator"
    batches, _ = run(RedditCollector(polite(lambda r: json_response(listing([removed])))), SPEC,
                     opts=options(fetch_replies=False))  # fmt: skip
    post = posts_of(batches)["t3_gone"]
    assert post.deleted and post.text == ""
