"""Bluesky: searchPosts/getAuthorFeed pagination, getPostThread replies and tombstones, login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import httpx
import pytest

from collectors import AuthError, SourceSpec
from collectors import bluesky as bsky
from collectors.bluesky import BlueskyCollector
from collectors.testing.bluesky import FakeBluesky, make_author, make_post
from tests.collectors.helpers import NOW, app_handler, creds, json_response, options, polite, posts_of, run

SPEC = SourceSpec("bsky", "bluesky", query="Brühwerk")
ANNA = {"did": "did:plc:anna123", "handle": "anna.bsky.social", "displayName": "Anna", "avatar": "https://cdn.example/a",
        "labels": [], "createdAt": "2024-01-01T00:00:00.000Z"}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_cached_sessions() -> Iterator[None]:
    bsky._SESSIONS.clear()
    yield
    bsky._SESSIONS.clear()


def post_view(rkey: str, minutes_ago: float, text: str = "Brühwerk ist lecker", *, author: dict[str, Any] = ANNA,
              reply_to: tuple[str, str] | None = None, replies: int = 0) -> dict[str, Any]:  # fmt: skip
    created = (NOW - timedelta(minutes=minutes_ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": created, "langs": ["de"], "text": text}
    if reply_to:
        parent, root = reply_to
        record["reply"] = {"parent": {"uri": parent, "cid": "bafyp"}, "root": {"uri": root, "cid": "bafyr"}}
    return {"uri": f"at://{author['did']}/app.bsky.feed.post/{rkey}", "cid": f"bafy{rkey}", "author": author,
            "record": record, "replyCount": replies, "repostCount": 1, "likeCount": 4, "quoteCount": 0,
            "indexedAt": created, "viewer": {}, "labels": []}  # fmt: skip


def test_search_pages_with_the_cursor_until_the_horizon() -> None:
    views = [post_view(f"3k{i:03d}", minutes_ago=i * 60 * 7) for i in range(150)]  # every 7 hours
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.url.path == "/xrpc/app.bsky.feed.searchPosts"
        start = int(request.url.params.get("cursor", 0))
        page = views[start : start + 100]
        body = {"posts": page, "hitsTotal": len(views)}
        if start + 100 < len(views):
            body["cursor"] = str(start + 100)
        return json_response(body)

    batches, cursor = run(BlueskyCollector(polite(handler)), SPEC, opts=options(backfill_days=30, fetch_replies=False))
    posts = posts_of(batches)
    assert len(posts) == len([v for v in views if int(v["uri"][-3:]) * 7 <= 30 * 24])
    assert seen[0].url.host == "public.api.bsky.app"
    assert seen[0].url.params["sort"] == "latest" and seen[0].url.params["limit"] == "100"
    assert seen[1].url.params["cursor"] == "100"
    first = posts[views[0]["uri"]]
    assert first.identity.account_id == "did:plc:anna123" and first.identity.handle == "@anna.bsky.social"
    assert first.url == "https://bsky.app/profile/anna.bsky.social/post/3k000"
    assert first.language == "de" and first.metrics["likes"] == 4
    assert cursor["streams"]["search:Brühwerk"]["sweep"] is None


def test_thread_replies_with_parents_roots_and_deleted_replies() -> None:
    root = post_view("root", 60, replies=3)
    reply = post_view("r1", 50, "Finde ich auch", reply_to=(root["uri"], root["uri"]))
    nested = post_view("r2", 40, "Ja!", reply_to=(reply["uri"], root["uri"]))
    gone = "at://did:plc:x/app.bsky.feed.post/deleted1"
    thread = {"$type": "app.bsky.feed.defs#threadViewPost", "post": root, "replies": [
        {"$type": "app.bsky.feed.defs#threadViewPost", "post": reply, "replies": [
            {"$type": "app.bsky.feed.defs#threadViewPost", "post": nested, "replies": []}]},
        {"$type": "app.bsky.feed.defs#notFoundPost", "uri": gone, "notFound": True},
        {"$type": "app.bsky.feed.defs#blockedPost", "uri": "at://did:plc:y/app.bsky.feed.post/b", "blocked": True,
         "author": {"did": "did:plc:y"}},
    ]}  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("searchPosts"):
            return json_response({"posts": [root]})
        assert request.url.params["uri"] == root["uri"]
        return json_response({"thread": thread})

    batches, cursor = run(BlueskyCollector(polite(handler)), SPEC)
    posts = posts_of(batches)
    assert posts[reply["uri"]].parent_external_id == root["uri"]
    assert posts[nested["uri"]].parent_external_id == reply["uri"]
    assert posts[nested["uri"]].root_external_id == root["uri"]
    assert posts[nested["uri"]].kind == "comment"
    assert posts[gone].deleted
    assert "at://did:plc:y/app.bsky.feed.post/b" not in posts
    assert root["uri"] in cursor["threads"]


def test_a_deleted_root_is_a_tombstone_and_no_longer_followed() -> None:
    root = post_view("root", 60, replies=1)
    state = {"deleted": False}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("searchPosts"):
            return json_response({"posts": [] if state["deleted"] else [root]})
        if state["deleted"]:
            return json_response({"error": "NotFound", "message": f"Post not found: {root['uri']}"}, 400)
        return json_response({"thread": {"$type": "app.bsky.feed.defs#threadViewPost", "post": root, "replies": []}})

    _, cursor = run(BlueskyCollector(polite(handler)), SPEC)
    state["deleted"] = True
    batches, cursor2 = run(BlueskyCollector(polite(handler)), SPEC, cursor, options(now=NOW + timedelta(minutes=10)))
    assert posts_of(batches)[root["uri"]].deleted
    assert root["uri"] not in cursor2["threads"]


def test_login_uses_an_app_password_and_bearer_tokens_and_renews_expired_ones() -> None:
    calls: list[httpx.Request] = []
    tokens = iter(["jwt-1", "jwt-2"])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path == "/xrpc/com.atproto.server.createSession":
            body = json.loads(request.content)
            assert body == {"identifier": "brand.bsky.social", "password": "app-pass-1234"}
            return json_response({"did": "did:plc:brand", "handle": "brand.bsky.social", "accessJwt": next(tokens),
                                  "refreshJwt": "r", "active": True})  # fmt: skip
        if request.headers["Authorization"] == "Bearer jwt-1":
            return json_response({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        return json_response({"posts": [post_view("a", 5)]})

    c = creds(bluesky_handle="brand.bsky.social", bluesky_app_password="app-pass-1234")
    batches, _ = run(BlueskyCollector(polite(handler), c), SPEC, opts=options(fetch_replies=False))
    assert len(posts_of(batches)) == 1
    assert [r.url.path.rsplit("/", 1)[-1] for r in calls] == [
        "com.atproto.server.createSession", "app.bsky.feed.searchPosts",
        "com.atproto.server.createSession", "app.bsky.feed.searchPosts",
    ]  # fmt: skip
    assert calls[1].url.host == "bsky.social"
    # the session is reused by the next run (logins are rate limited)
    calls.clear()
    run(BlueskyCollector(polite(handler), c), SPEC, opts=options(fetch_replies=False))
    assert [r.url.path.rsplit("/", 1)[-1] for r in calls] == ["app.bsky.feed.searchPosts"]


def test_failed_login_explains_and_hides_the_password() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response({"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, 401)

    c = creds(bluesky_handle="brand.bsky.social", bluesky_app_password="s3cret-pass")
    with pytest.raises(AuthError) as info:
        run(BlueskyCollector(polite(handler), c), SPEC)
    assert "BLUESKY_APP_PASSWORD" in str(info.value) and "s3cret-pass" not in str(info.value)
    assert "s3cret-pass" not in repr(c)


def test_author_feed_skips_reposts_without_ending_the_sweep_early() -> None:
    reposts = [{"post": post_view(f"x{i}", 10, author={**ANNA, "did": "did:plc:other"}),
                "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": ANNA, "indexedAt": "2026-11-20T08:00:00Z"}}
               for i in range(3)]  # fmt: skip
    own = [{"post": post_view("own1", 20)}, {"post": post_view("own2", 30)}]
    pages = {None: {"feed": reposts, "cursor": "p2"}, "p2": {"feed": own}}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["actor"] == "anna.bsky.social"
        assert request.url.params["filter"] == "posts_with_replies"
        return json_response(pages[request.url.params.get("cursor")])

    spec = SourceSpec("anna", "bluesky", account="@anna.bsky.social")
    batches, _ = run(BlueskyCollector(polite(handler)), spec, opts=options(fetch_replies=False))
    assert {p.external_id.rsplit("/", 1)[-1] for p in posts_of(batches).values()} == {"own1", "own2"}


def test_search_refused_without_login_gives_the_advice_and_never_pins_the_source() -> None:
    """Issue 14: the public AppView answers search with 403 since 2025. A source with a stored search cursor must
    not fail the same way forever: the run reports the advice (failed), the account listing of the same source
    goes on, no page token is kept, and the first run with a login collects from the top."""
    forbidden = {"error": "Forbidden", "message": "Forbidden"}  # what public.api.bsky.app answers
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if request.url.path.endswith("createSession"):
            return json_response({"did": "did:plc:brand", "handle": "brand.bsky.social", "accessJwt": "jwt",
                                  "refreshJwt": "r"})  # fmt: skip
        if request.url.path.endswith("getAuthorFeed"):
            return json_response({"feed": [{"post": post_view("own1", 20)}]})
        if "Authorization" not in request.headers:
            return json_response(forbidden, 403)
        return json_response({"posts": [post_view("s1", 5)]})

    spec = SourceSpec("bsky", "bluesky", query="Brühwerk", account="anna.bsky.social")
    earlier = {"streams": {"search:Brühwerk": {"high_water": (NOW - timedelta(hours=3)).isoformat(),
                                               "sweep": {"token": "page-2", "newest": None, "failures": 0,
                                                         "stop": (NOW - timedelta(hours=4)).isoformat()}}}}  # fmt: skip
    batches, cursor = run(BlueskyCollector(polite(handler)), spec, earlier, options(fetch_replies=False))
    searches = [r for r in calls if r.url.path.endswith("searchPosts")]
    assert [r.url.params.get("cursor") for r in searches] == ["page-2", None]  # the stored token, once the top
    (failed,) = [b for b in batches if b.failed]
    assert "braucht seit 2025 eine Anmeldung" in failed.errors[0] and "BLUESKY_APP_PASSWORD" in failed.errors[0]
    assert {p.external_id.rsplit("/", 1)[-1] for p in posts_of(batches).values()} == {"own1"}
    stream = cursor["streams"]["search:Brühwerk"]
    assert stream["sweep"]["token"] is None and stream["refused"] == {"status": 403, "since": stream["refused"][
        "since"], "runs": 1}  # fmt: skip
    # with a login the search works again, from the top, and the refusal is forgotten
    calls.clear()
    c = creds(bluesky_handle="brand.bsky.social", bluesky_app_password="app-pass-1234")
    batches, cursor = run(BlueskyCollector(polite(handler), c), spec, cursor, options(fetch_replies=False))
    searches = [r for r in calls if r.url.path.endswith("searchPosts")]
    assert searches[0].url.params.get("cursor") is None
    assert not any(b.failed for b in batches) and "refused" not in cursor["streams"]["search:Brühwerk"]
    assert any(p.endswith("/s1") for p in posts_of(batches))


def test_link_facets_embeds_and_alt_text_reach_the_text() -> None:
    """Issue 14: record shapes as in app.bsky.feed.post / app.bsky.richtext.facet / app.bsky.embed.* (atproto
    lexicons; the posts view snapshot in bluesky-social/atproto packages/bsky/tests/views carries the same)."""
    text = "Neu im Blog 👉 brauhaus.example/blog/2026/herbst... und hier ☕"
    start = len("Neu im Blog 👉 ".encode())
    end = start + len(b"brauhaus.example/blog/2026/herbst...")
    linked = post_view("l1", 5, text)
    linked["record"]["facets"] = [
        {"index": {"byteStart": start, "byteEnd": end},
         "features": [{"$type": "app.bsky.richtext.facet#link",
                       "uri": "https://brauhaus.example/blog/2026/herbst-roestung"}]},
        {"index": {"byteStart": len(text.encode()) - len("hier ☕".encode()), "byteEnd": len(text.encode()) - 4},
         "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://shop.example/kaffee"}]},
    ]  # fmt: skip
    linked["record"]["embed"] = {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://brauhaus.example/blog/2026/herbst-roestung",
            "title": "Herbströstung",
            "description": "…",
        },
    }
    media_only = post_view("m1", 6, "")
    media_only["record"]["embed"] = {"$type": "app.bsky.embed.recordWithMedia",
        "record": {"record": {"uri": "at://did:plc:x/app.bsky.feed.post/q", "cid": "bafyq"}},
        "media": {"$type": "app.bsky.embed.images", "images": [
            {"alt": "Latte-Art-Herz im Brühwerk-Becher", "image": {"$type": "blob", "ref": {"$link": "bafyimg"},
                                                                  "mimeType": "image/jpeg", "size": 4114}},
            {"alt": "", "image": {"$type": "blob", "ref": {"$link": "bafyimg2"}, "mimeType": "image/jpeg",
                                  "size": 12736}}]}}  # fmt: skip
    card = post_view("c1", 7, "Lesenswert")
    card["record"]["embed"] = {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://zeitung.example/kaffee-test",
            "title": "Der große Kaffeetest",
            "description": "Zwölf Röster",
        },
    }
    video = post_view("v1", 8, "")
    video["record"]["embed"] = {
        "$type": "app.bsky.embed.video",
        "alt": "Röstmaschine in Betrieb",
        "video": {"$type": "blob", "ref": {"$link": "bafyv"}, "mimeType": "video/mp4"},
    }
    handler = lambda request: json_response({"posts": [linked, media_only, card, video]})  # noqa: E731
    posts = posts_of(run(BlueskyCollector(polite(handler)), SPEC, opts=options(fetch_replies=False))[0])
    assert posts[linked["uri"]].text == (
        "Neu im Blog 👉 https://brauhaus.example/blog/2026/herbst-roestung und hier (https://shop.example/kaffee) ☕"
    )  # the card repeats a link of the text: not added again
    assert posts[media_only["uri"]].text == "[Bild: Latte-Art-Herz im Brühwerk-Becher]\n\n[Bild]"
    assert posts[card["uri"]].text == "Lesenswert\n\n[Link: Der große Kaffeetest] https://zeitung.example/kaffee-test"
    assert posts[video["uri"]].text == "[Video: Röstmaschine in Betrieb]"


def test_deleted_replies_are_detected_and_replies_hidden_under_them_are_kept() -> None:
    """Issue 14: the AppView drops a deleted reply together with everything under it (atproto's thread view
    snapshot "handles deleted posts correctly"); only the deleted one may be marked deleted."""
    anna, ben = make_author("did:plc:anna", "anna.bsky.social"), make_author("did:plc:ben", "ben.bsky.social")
    start = NOW - timedelta(hours=2)
    root = make_post(anna, "root", start, "Brühwerk hat neue Bohnen")
    a = make_post(ben, "a", start + timedelta(minutes=1), "Welche denn?", parent=root)
    a1 = make_post(anna, "a1", start + timedelta(minutes=2), "Äthiopien!", parent=a, root=root)
    a2 = make_post(ben, "a2", start + timedelta(minutes=3), "Lecker", parent=a1, root=root)
    b = make_post(ben, "b", start + timedelta(minutes=4), "Endlich", parent=root)
    fake = FakeBluesky([root, a, a1, a2, b], search_needs_login=False)
    spec = SourceSpec("bsky", "bluesky", query="Brühwerk", config={"thread_depth": 2})
    requests: list[httpx.Request] = []
    batches, cursor = run(BlueskyCollector(polite(app_handler(fake, requests))), spec)
    assert {a2["uri"]} <= set(posts_of(batches))  # cut at depth 2, loaded from its own thread view
    assert any(r.url.params.get("uri") == a1["uri"] for r in requests)
    first = next(bt.thread for bt in batches if bt.thread)
    assert first.present == {a["uri"], a1["uri"], a2["uri"], b["uri"]}
    fake.delete(a["uri"])
    requests.clear()
    spec = SourceSpec("bsky", "bluesky", query="Brühwerk", config={"thread_depth": 2, "max_subthreads": 0})
    batches, cursor = run(BlueskyCollector(polite(app_handler(fake, requests))), spec, cursor,
                          options(now=NOW + timedelta(minutes=15)))  # fmt: skip
    snapshot = next(bt.thread for bt in batches if bt.thread)
    assert snapshot.present == {a1["uri"], a2["uri"], b["uri"]}  # a is gone; a1 and a2 only hidden
    (check,) = [r for r in requests if r.url.path.endswith("getPosts")]
    assert set(check.url.params.get_list("uris")) == {a["uri"], a1["uri"], a2["uri"]}
