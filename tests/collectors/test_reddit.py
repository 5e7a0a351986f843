"""Reddit: listings with ``after``, comment trees with ``more`` stubs, deletions, OAuth."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from collectors import SourceSpec
from collectors import reddit as reddit_module
from collectors.base import load_members
from collectors.reddit import RedditCollector
from collectors.testing.reddit import FakeReddit, base36, make_comment, make_submission
from tests.collectors.helpers import NOW, app_handler, creds, json_response, options, polite, posts_of, run

SPEC = SourceSpec("sub", "reddit", account="r/de")


@pytest.fixture(autouse=True)
def _no_cached_tokens() -> Iterator[None]:
    reddit_module._TOKENS.clear()
    yield
    reddit_module._TOKENS.clear()


def epoch(minutes_ago: float) -> float:
    return (NOW - timedelta(minutes=minutes_ago)).timestamp()


def submission(
    sid: str, minutes_ago: float, *, comments: int = 0, selftext: str = "Wie ist Brühwerk?"
) -> dict[str, Any]:
    return {"kind": "t3", "data": {
        "subreddit": "de", "selftext": selftext, "author_fullname": "t2_max", "title": f"Frage {sid}",
        "name": f"t3_{sid}", "upvote_ratio": 0.93, "score": 12, "created_utc": epoch(minutes_ago), "edited": False,
        "num_comments": comments, "id": sid, "author": "maxmuster", "permalink": f"/r/de/comments/{sid}/frage/",
        "url": f"https://www.reddit.com/r/de/comments/{sid}/frage/", "over_18": False, "removed_by_category": None,
    }}  # fmt: skip


def comment(cid: str, parent: str, minutes_ago: float, body: str, *, replies: list[Any] | None = None,
            author: str = "lisa", edited: float | bool = False) -> dict[str, Any]:  # fmt: skip
    return {"kind": "t1", "data": {
        "id": cid, "name": f"t1_{cid}", "parent_id": parent, "link_id": "t3_abc", "body": body, "author": author,
        "author_fullname": f"t2_{author}" if author != "[deleted]" else None, "created_utc": epoch(minutes_ago),
        "edited": edited, "score": 3, "permalink": f"/r/de/comments/abc/frage/{cid}/", "depth": 0,
        "replies": {"kind": "Listing", "data": {"after": None, "children": replies, "before": None}} if replies else "",
    }}  # fmt: skip


def listing(children: list[Any], after: str | None = None) -> dict[str, Any]:
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
        if path == "/comments/abc/_/c2.json":  # "continue this thread": the parent again, with its replies
            continued = comment(
                "c2", "t1_c1", 40, "Finde ich nicht", edited=epoch(30), replies=[comment("c6", "t1_c2", 5, "Doch!")]
            )
            return json_response([listing([submission("abc", 60, comments=6)]), listing([continued])])
        raise AssertionError(path)

    batches, cursor = run(RedditCollector(polite(handler)), SPEC)
    posts = posts_of(batches)
    assert {"t1_c1", "t1_c2", "t1_c3", "t1_c4", "t1_c5", "t1_c6", "t3_abc"} == set(posts)
    assert posts["t1_c6"].parent_external_id == "t1_c2"
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


def test_markdown_entities_polls_and_link_posts_become_plain_text() -> None:
    """Issue 14: comment and submission fields as in Reddit's JSON (PRAW cassettes; ``poll_data`` with
    ``options[].text`` as PRAW's PollData documents). With ``raw_json=1`` Reddit sends the Markdown source, in
    which users type entities such as ``&#3232;_&#3232;``."""
    poll = submission("p1", 5, comments=1, selftext="Was trinkt ihr **morgens**?")
    poll["data"]["poll_data"] = {"prediction_status": None, "total_stake_amount": None, "voting_end_timestamp":
                                 1790000000000, "options": [{"text": "Espresso", "id": "1", "vote_count": 3},
                                 {"text": "Filterkaffee", "id": "2", "vote_count": 5}], "total_vote_count": 8,
                                 "user_selection": None, "user_won_amount": None, "is_prediction": False}  # fmt: skip
    link = submission("l1", 6, selftext="")
    link["data"].update(is_self=False, url="https://zeitung.example/kaffeetest", domain="zeitung.example")
    body = "&#3232;_&#3232; Das ist *wirklich* [teuer](https://brand.example/preise) &amp; ~~lecker~~ langsam"
    tree = [comment("c1", "t3_p1", 4, body)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/r/de/new.json":
            return json_response(listing([poll, link]))
        if request.url.path == "/comments/p1.json":
            return json_response([listing([poll]), listing(tree)])
        return json_response([listing([link]), listing([])])

    posts = posts_of(run(RedditCollector(polite(handler)), SPEC)[0])
    assert posts["t3_p1"].text == "Was trinkt ihr morgens?\n\n[Umfrage: Espresso | Filterkaffee]"
    assert posts["t3_l1"].text == "[Link] https://zeitung.example/kaffeetest"
    assert posts["t1_c1"].text == "ಠ_ಠ Das ist wirklich teuer (https://brand.example/preise) & lecker langsam"


def big_thread(n: int, seed: int = 3) -> FakeReddit:
    """One submission with ``n`` comments: a few hundred top level, the rest nested up to 12 deep."""
    import random

    rng = random.Random(seed)
    fake = FakeReddit(tree_limit=200, depth=8, more_depth=2)
    start = NOW - timedelta(hours=20)
    fake.add_submission(make_submission("big", start, "Kaffee-Megathread", "Eure Meinung?"))
    names: list[tuple[str, int]] = []
    for i in range(n):
        parent, depth = ("t3_big", 0) if not names or rng.random() < 0.25 else rng.choice(names)
        if depth >= 12:
            parent, depth = "t3_big", 0
        cid = base36(100000 + i)
        fake.add_comment(make_comment(cid, "t3_big", parent, start + timedelta(seconds=30 * i), f"Kommentar {i}"))
        names.append((f"t1_{cid}", depth + 1))
    return fake


def test_a_huge_thread_is_completed_over_later_runs_and_deep_branches_are_followed() -> None:
    """Issue 14: on a real 1,428-comment thread 831 were stored after three runs and none added after the first.
    Now every run loads comments it never loaded before (10 requests a run by default), "continue this thread"
    stubs are followed, and the thread stays first in line until it is complete."""
    fake = big_thread(1428)
    spec = SourceSpec("sub", "reddit", account="r/de", config={"max_more": 4})
    stored: dict[str, Any] = {}
    counts: list[int] = []
    cursor: dict[str, Any] = {}
    requests: list[httpx.Request] = []
    for run_no in range(8):
        batches, cursor = run(RedditCollector(polite(app_handler(fake, requests))), spec, cursor,
                              options(now=NOW + timedelta(minutes=15 * run_no)))  # fmt: skip
        stored.update(posts_of(batches))
        counts.append(len([k for k in stored if k.startswith("t1_")]))
        if counts[-1] == 1428:
            break
    assert counts[-1] == 1428, counts
    assert all(b > a for a, b in zip(counts, counts[1:], strict=False)), counts  # every run adds
    assert len(counts) >= 3  # the budget really spreads it over runs
    assert any(r.url.path.startswith("/comments/big/_/") for r in requests)  # "continue this thread" followed
    assert "p" not in cursor["threads"]["big"] and cursor["report"]["skipped"].get("deferred", 0) == 0
    deep = [p for p in stored.values() if p.kind == "comment" and p.parent_external_id != "t3_big"]
    assert all(p.root_external_id == "t3_big" for p in deep)


def test_deleted_comments_are_detected_from_the_tree_and_checked_before_marking() -> None:
    fake = FakeReddit(tree_limit=3, depth=6)
    start = NOW - timedelta(hours=2)
    fake.add_submission(make_submission("abc", start, "Frage", "Wie ist Brühwerk?"))
    for cid, parent, minute in [("a", "t3_abc", 1), ("b", "t1_a", 2), ("c", "t3_abc", 3), ("d", "t3_abc", 4),
                                ("e", "t3_abc", 5), ("f", "t3_abc", 6)]:  # fmt: skip
        fake.add_comment(make_comment(cid, "t3_abc", parent, start + timedelta(minutes=minute), f"Text {cid}"))
    spec = SourceSpec("sub", "reddit", account="r/de", config={"max_more": 1})
    requests: list[httpx.Request] = []
    batches, cursor = run(RedditCollector(polite(app_handler(fake, requests))), spec)
    assert set(load_members(cursor["threads"]["abc"])) == {"t1_a", "t1_b", "t1_c", "t1_d", "t1_e", "t1_f"}
    fake.delete("t1_a")  # has a reply: stays as [deleted]
    fake.delete("t1_e")  # no reply: disappears
    spec = SourceSpec("sub", "reddit", account="r/de", config={"max_more": 0})  # no budget: a and b stay hidden
    requests.clear()
    batches, cursor = run(RedditCollector(polite(app_handler(fake, requests))), spec, cursor,
                          options(now=NOW + timedelta(minutes=15)))  # fmt: skip
    snapshot = next(b.thread for b in batches if b.thread)
    assert snapshot.present == {"t1_a", "t1_b", "t1_c", "t1_d", "t1_f"}  # behind a stub or checked: still there
    info = [r for r in requests if r.url.path == "/api/info.json"]
    assert len(info) == 1 and set(info[0].url.params["id"].split(",")) == {"t1_b", "t1_e"}
    spec = SourceSpec("sub", "reddit", account="r/de", config={"max_more": 1})
    batches, cursor = run(RedditCollector(polite(app_handler(fake))), spec, cursor,
                          options(now=NOW + timedelta(minutes=30)))  # fmt: skip
    posts = posts_of(batches)
    assert posts["t1_a"].deleted and posts["t1_a"].text == "" and not posts["t1_b"].deleted
