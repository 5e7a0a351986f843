"""A fake Bluesky (the XRPC routes the collector uses) over a mutable set of posts.

Shapes follow the ``app.bsky.feed.*`` lexicons and the AppView's own view snapshots
(bluesky-social/atproto ``packages/bsky/tests/views/__snapshots__``): a post view carries ``uri``,
``cid``, ``author``, ``record``, counts and ``indexedAt``; ``getPostThread`` nests
``app.bsky.feed.defs#threadViewPost`` nodes, leaves the ``replies`` field out at the depth limit, and
drops a deleted reply together with everything under it; asking for a deleted post answers 400
``NotFound``. Like the public AppView since 2025, ``searchPosts`` answers 403 without a login.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from collectors.testing.server import Reply, Request

THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"


def iso_ms(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def make_author(did: str, handle: str, display_name: str = "") -> dict[str, Any]:
    return {"did": did, "handle": handle, "displayName": display_name or handle.split(".")[0].title(),
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/bafkrei@jpeg", "labels": [],
            "createdAt": "2024-01-01T00:00:00.000Z", "viewer": {"muted": False, "blockedBy": False}}  # fmt: skip


def make_post(
    author: dict[str, Any],
    rkey: str,
    created_at: datetime,
    text: str,
    *,
    parent: dict[str, Any] | None = None,
    root: dict[str, Any] | None = None,
    langs: Iterable[str] = ("de",),
) -> dict[str, Any]:
    """A post view (``app.bsky.feed.defs#postView``); ``parent``/``root`` are the views it replies to."""
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "createdAt": iso_ms(created_at), "langs": list(langs),
                              "text": text}  # fmt: skip
    if parent is not None:
        top = root or parent
        record["reply"] = {"parent": {"uri": parent["uri"], "cid": parent["cid"]},
                           "root": {"uri": top["uri"], "cid": top["cid"]}}  # fmt: skip
    return {"uri": f"at://{author['did']}/app.bsky.feed.post/{rkey}", "cid": f"bafyrei{rkey}", "author": author,
            "record": record, "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
            "indexedAt": iso_ms(created_at), "viewer": {}, "labels": []}  # fmt: skip


def _error(status: int, error: str, message: str) -> Reply:
    return Reply.json({"error": error, "message": message}, status)


class FakeBluesky:
    """XRPC routes over a mutable set of post views. Thread-safe; ``add``/``delete`` change the world."""

    def __init__(
        self,
        posts: Iterable[dict[str, Any]] = (),
        *,
        handle: str = "brand.bsky.social",
        password: str = "app-pass-1234",
        search_needs_login: bool = True,
    ) -> None:
        self._lock = threading.Lock()
        self._posts: dict[str, dict[str, Any]] = {}
        self._deleted: set[str] = set()
        self.handle = handle
        self.password = password
        self.search_needs_login = search_needs_login
        self.sessions = 0
        for post in posts:
            self.add(post)

    # -- changing the world ---------------------------------------------------------------------------

    def add(self, post: dict[str, Any]) -> None:
        with self._lock:
            self._posts[post["uri"]] = copy.deepcopy(post)

    def delete(self, uri: str) -> None:
        with self._lock:
            self._deleted.add(uri)

    def live(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(p) for u, p in self._posts.items() if u not in self._deleted]

    # -- serving --------------------------------------------------------------------------------------

    def _alive(self, uri: str | None) -> bool:
        return bool(uri) and uri in self._posts and uri not in self._deleted

    def _children(self, uri: str) -> list[dict[str, Any]]:
        kids = [p for u, p in self._posts.items() if u not in self._deleted
                and ((p["record"].get("reply") or {}).get("parent") or {}).get("uri") == uri]  # fmt: skip
        return sorted(kids, key=lambda p: p["indexedAt"])

    def _view(self, post: dict[str, Any]) -> dict[str, Any]:
        view = copy.deepcopy(post)
        view["replyCount"] = len(self._children(post["uri"]))
        return view

    def _node(self, post: dict[str, Any], depth: int) -> dict[str, Any]:
        node: dict[str, Any] = {"$type": THREAD_VIEW, "post": self._view(post)}
        if depth > 0:
            node["replies"] = [self._node(child, depth - 1) for child in self._children(post["uri"])]
        return node

    def _newest_first(self, posts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(posts, key=lambda p: (p["indexedAt"], p["uri"]), reverse=True)

    @staticmethod
    def _window(items: list[Any], request: Request) -> tuple[list[Any], str | None]:
        start = int(request.arg("cursor") or 0)
        limit = min(int(request.arg("limit") or 25), 100)
        page = items[start : start + limit]
        return page, str(start + limit) if start + limit < len(items) else None

    def __call__(self, request: Request) -> Reply:
        method = request.path.rsplit("/", 1)[-1]
        with self._lock:
            if method == "com.atproto.server.createSession":
                login = json.loads(request.body or b"{}")
                if login.get("identifier") != self.handle or login.get("password") != self.password:
                    return _error(401, "AuthenticationRequired", "Invalid identifier or password")
                self.sessions += 1
                return Reply.json({"did": "did:plc:brand", "handle": self.handle, "active": True,
                                   "accessJwt": f"jwt-{self.sessions}", "refreshJwt": "refresh"})  # fmt: skip
            logged_in = request.headers.get("authorization", "").startswith("Bearer jwt-")
            if method == "app.bsky.feed.searchPosts":
                if self.search_needs_login and not logged_in:
                    return _error(403, "Forbidden", "Forbidden")
                q = (request.arg("q") or "").lower()
                hits = self._newest_first(p for u, p in self._posts.items()
                                          if u not in self._deleted and q in p["record"]["text"].lower())  # fmt: skip
                page, cursor = self._window(hits, request)
                body: dict[str, Any] = {"posts": [self._view(p) for p in page], "hitsTotal": len(hits)}
                if cursor:
                    body["cursor"] = cursor
                return Reply.json(body)
            if method == "app.bsky.feed.getAuthorFeed":
                actor = request.arg("actor") or ""
                own = self._newest_first(p for u, p in self._posts.items() if u not in self._deleted
                                         and actor in (p["author"]["did"], p["author"]["handle"]))  # fmt: skip
                page, cursor = self._window(own, request)
                body = {"feed": [{"post": self._view(p)} for p in page]}
                if cursor:
                    body["cursor"] = cursor
                return Reply.json(body)
            if method == "app.bsky.feed.getPostThread":
                uri = request.arg("uri") or ""
                if not self._alive(uri):
                    return _error(400, "NotFound", f"Post not found: {uri}")
                depth = int(request.arg("depth") or 6)
                return Reply.json({"thread": self._node(self._posts[uri], depth)})
            if method == "app.bsky.feed.getPosts":
                uris = request.query.get("uris") or []
                return Reply.json({"posts": [self._view(self._posts[u]) for u in uris[:25] if self._alive(u)]})
        return _error(404, "MethodNotImplemented", f"Method Not Implemented: {method}")
