"""Bluesky: searchPosts/getAuthorFeed pagination, getPostThread replies and tombstones, login."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, timedelta

import httpx
import pytest

from collectors import AuthError, ConfigurationError, SourceSpec
from collectors import bluesky as bsky
from collectors.bluesky import BlueskyCollector
from tests.collectors.helpers import NOW, creds, json_response, options, polite, posts_of, run

SPEC = SourceSpec("bsky", "bluesky", query="Brühwerk")
ANNA = {"did": "did:plc:anna123", "handle": "anna.bsky.social", "displayName": "Anna", "avatar": "https://cdn.example/a",
        "labels": [], "createdAt": "2024-01-01T00:00:00.000Z"}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_cached_sessions() -> Iterator[None]:
    bsky._SESSIONS.clear()
    yield
    bsky._SESSIONS.clear()


def post_view(rkey: str, minutes_ago: float, text: str = "Brühwerk ist lecker", *, author: dict = ANNA,
              reply_to: tuple[str, str] | None = None, replies: int = 0) -> dict:  # fmt: skip
    created = (NOW - timedelta(minutes=minutes_ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    record: dict = {"$type": "app.bsky.feed.post", "createdAt": created, "langs": ["de"], "text": text}
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


def test_search_refused_without_login_says_what_to_do_and_keeps_the_cursor() -> None:
    """Issue 14: the public AppView answers search with 403 since 2025; the run fails with the fix, and the
    cursor of earlier runs is left as it was (the source recovers once a login is set)."""
    handler = lambda request: json_response({"error": "Forbidden", "message": "search needs auth"}, 403)  # noqa: E731
    collector = BlueskyCollector(polite(handler))
    earlier = {"streams": {"search:Brühwerk": {"high_water": NOW.isoformat(), "sweep": None}}}
    with pytest.raises(ConfigurationError, match="BLUESKY_APP_PASSWORD"):
        list(collector.collect(SPEC, earlier, options(fetch_replies=False)))
    assert earlier["streams"]["search:Brühwerk"]["sweep"] is None  # nothing pinned
