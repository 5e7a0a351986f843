"""A fake Meta Graph API (the routes the Facebook and Instagram collectors use) over a mutable object graph.

Shapes follow ``collectors/fixtures/meta.json`` (python-facebook's recorded test data and the Graph API
reference): ``{"data": [...], "paging": {...}}`` pages whose ``next`` link echoes ``access_token``; errors as
``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``.

* ``/{page}/feed``: the Page's posts, newest first, time-based paging (``until`` and ``__paging_token``), each
  with ``comments``/``reactions`` summaries; ``/{page-username}`` looks the Page up;
* ``/{post}/comments`` (``filter=stream``, ``order=reverse_chronological``): every comment and reply of a post in
  one list, replies with ``parent{id}`` (Facebook answers a reply to a reply under the same top comment);
* ``/{ig-user}/media`` (own media, newest first), ``/{ig-user}/tags`` (media others tagged the brand in; newest
  first page by page, but not sorted within a page, as the recorded ``tags`` answer), ``/{media}/comments`` with
  the first page of each comment's ``replies`` nested when the fields ask for them, ``/{comment}/replies``.

Cursor pages (``cursors.after``) name the last item of the page, so the next page goes on below it whatever
changed meanwhile. A page holds at most ``max_page`` items (Graph returns *up to* ``limit``). Deleting an object
deletes everything under it (a post's comments, a comment's replies), as on Facebook and Instagram; asking for it
answers error 100/33. ``refused`` edges (``"feed"``, ``"media"``) answer 403 with error #10. With ``rng``,
``throttle`` is the chance that a call answers a rate-limit error (#4 application or #32 Page limit, with an
``X-Business-Use-Case-Usage`` estimate of one or two minutes; never twice in a row, so a retry gets through) and
``busy`` the chance of an ``X-App-Usage`` header at 96 % (the collector pauses before the next call).
"""

from __future__ import annotations

import base64
import copy
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from collectors.testing.server import Reply, Request

GRAPH = "https://graph.facebook.com"


def graph_time(value: datetime) -> str:
    """``2026-11-19T16:00:12+0000``: Graph API timestamps."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class Node:
    kind: str  # fb_post | fb_comment | ig_media | ig_tagged | ig_comment
    data: dict[str, Any]
    owner: str  # Page or Instagram user the node belongs to (posts, media), else the root post/media
    parent: str | None = None
    children: list[str] = field(default_factory=list)

    @property
    def created(self) -> str:
        return str(self.data.get("created_time") or self.data.get("timestamp"))

    @property
    def key(self) -> tuple[str, str]:
        return self.created, str(self.data["id"])


def _cursor(key: tuple[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _uncursor(value: str) -> tuple[str, str] | None:
    try:
        created, ident = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        return str(created), str(ident)
    except (ValueError, TypeError):
        return None


def graph_error(status: int, message: str, code: int, *, subcode: int | None = None, kind: str = "OAuthException",
                headers: dict[str, str] | None = None) -> Reply:  # fmt: skip
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AQt_fake" + base64.urlsafe_b64encode(message.encode()[:9]).decode()
    return Reply.json({"error": error}, status, headers)


class FakeGraph:
    """Facebook Pages and Instagram professional accounts in one Graph. Thread-safe."""

    def __init__(
        self,
        *,
        token: str,
        version: str = "v24.0",
        max_page: int = 100,
        base_url: str = GRAPH,
        rng: random.Random | None = None,
        throttle: float = 0.0,
        busy: float = 0.0,
    ) -> None:
        self._lock = threading.Lock()
        self.token = token
        self.version = version
        self.max_page = max_page
        self.base_url = base_url.rstrip("/")
        self.rng = rng or random.Random(0)
        self.throttle = throttle
        self.busy = busy
        self.pages: dict[str, dict[str, Any]] = {}  # Page id -> {"id", "name", "username"}
        self.ig_users: set[str] = set()
        self.nodes: dict[str, Node] = {}
        self.deleted: set[str] = set()
        self.refused: set[str] = set()
        self.events: Counter[str] = Counter()
        self._throttled_last = False

    # -- changing the world ---------------------------------------------------------------------------

    def add_page(self, page_id: str, name: str, username: str) -> None:
        with self._lock:
            self.pages[page_id] = {"id": page_id, "name": name, "username": username}

    def add_ig_user(self, user_id: str) -> None:
        with self._lock:
            self.ig_users.add(user_id)

    def add(self, kind: str, data: dict[str, Any], owner: str, parent: str | None = None) -> None:
        """Add a post/media (``owner``: the Page or Instagram user) or a comment (``owner``: the root post/media,
        ``parent``: what it answers)."""
        with self._lock:
            node = Node(kind, copy.deepcopy(data), owner, parent)
            self.nodes[str(data["id"])] = node
            if parent is not None:
                self.nodes[parent].children.append(str(data["id"]))

    def edit(self, object_id: str, **changes: Any) -> None:
        with self._lock:
            self.nodes[object_id].data.update(changes)

    def delete(self, object_id: str) -> set[str]:
        """Delete the object and everything under it; returns the ids that went."""
        with self._lock:
            gone: set[str] = set()
            todo = [object_id]
            while todo:
                current = todo.pop()
                if current not in self.deleted:
                    gone.add(current)
                    self.deleted.add(current)
                todo.extend(self.nodes[current].children)
            return gone

    def live(self) -> set[str]:
        with self._lock:
            return set(self.nodes) - self.deleted

    # -- serving --------------------------------------------------------------------------------------

    def _alive(self, object_id: str, *kinds: str) -> Node | None:
        node = self.nodes.get(object_id)
        if node is None or object_id in self.deleted or node.kind not in kinds:
            return None
        return node

    def _gone(self, object_id: str) -> Reply:
        return graph_error(400, f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
                           "loaded due to missing permissions, or does not support this operation. Please read the "
                           "Graph API documentation at https://developers.facebook.com/docs/graph-api", 100,
                           subcode=33, kind="GraphMethodException")  # fmt: skip

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            if request.headers.get("authorization") != f"Bearer {self.token}" or "access_token" in request.query:
                return graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)
            prefix = f"/{self.version}/"
            if not request.path.startswith(prefix):
                return graph_error(400, f"Unknown path components: {request.path}", 2500)
            if self.rng.random() < self.throttle and not self._throttled_last:
                self._throttled_last = True
                return self._throttled()
            self._throttled_last = False
            reply = self._route(request, request.path[len(prefix) :].strip("/").split("/"))
            if reply.status == 200 and self.rng.random() < self.busy:
                self.events["usage 96 %"] += 1
                reply.headers["x-app-usage"] = json.dumps({"call_count": 96, "total_time": 40, "total_cputime": 35})
            return reply

    def _throttled(self) -> Reply:
        minutes = self.rng.choice((1, 2))
        usage = {"type": "pages", "call_count": 100, "total_cputime": 25, "total_time": 25,
                 "estimated_time_to_regain_access": minutes}  # fmt: skip
        headers = {"x-business-use-case-usage": json.dumps({next(iter(self.pages), "0"): [usage]})}
        if self.rng.random() < 0.5:
            self.events["#4 application limit"] += 1
            return graph_error(403, "(#4) Application request limit reached", 4, headers=headers)
        self.events["#32 Page limit"] += 1
        return graph_error(400, "(#32) Page request limit reached", 32, headers=headers)

    def _route(self, request: Request, parts: list[str]) -> Reply:
        if len(parts) == 1:
            found = next((p for p in self.pages.values() if parts[0] in (p["id"], p["username"])), None)
            return Reply.json({"id": found["id"], "name": found["name"]}) if found else self._gone(parts[0])
        if len(parts) != 2:
            return graph_error(400, f"Unknown path components: /{'/'.join(parts[1:])}", 2500)
        target, edge = parts
        if edge == "feed" and target in self.pages:
            if "feed" in self.refused:
                return graph_error(403, "(#10) This endpoint requires the 'pages_read_engagement' permission or the "
                                   "'Page Public Content Access' feature.", 10)  # fmt: skip
            posts = [n for n in self.nodes.values() if n.kind == "fb_post" and n.owner == target]
            return self._feed(request, target, posts)
        if edge == "comments" and self.nodes.get(target) is not None and self.nodes[target].kind == "fb_post":
            if self._alive(target, "fb_post") is None:
                return self._gone(target)
            return self._fb_comments(request, target)
        if edge in ("media", "tags") and target in self.ig_users:
            if edge in self.refused:
                return graph_error(403, "(#10) Application does not have permission for this action", 10)
            kind = "ig_media" if edge == "media" else "ig_tagged"
            return self._cursor_page(request, f"{target}/{edge}", [n for n in self.nodes.values()
                                     if n.kind == kind and n.owner == target], shuffle=edge == "tags")  # fmt: skip
        if edge == "comments" and self.nodes.get(target) is not None and self.nodes[target].kind.startswith("ig_"):
            if self._alive(target, "ig_media", "ig_tagged") is None:
                return self._gone(target)
            return self._ig_comments(request, target)
        if edge == "replies" and self.nodes.get(target) is not None and self.nodes[target].kind == "ig_comment":
            if self._alive(target, "ig_comment") is None:
                return self._gone(target)
            return self._cursor_page(request, f"{target}/replies", self._live_children(target))
        return self._gone(target)

    # -- pages ----------------------------------------------------------------------------------------

    def _live_children(self, object_id: str) -> list[Node]:
        return [self.nodes[c] for c in self.nodes[object_id].children if c not in self.deleted]

    def _size(self, request: Request) -> int:
        return max(1, min(int(request.arg("limit") or 25), 100, self.max_page))

    def _next(self, path: str, request: Request, **extra: str) -> str:
        query = {"access_token": "access_token", "pretty": "0"}
        query.update({k: v[0] for k, v in request.query.items() if k not in ("after", "until", "__paging_token")})
        query.update(extra)
        return f"{self.base_url}/{self.version}/{path}?{urlencode(query)}"

    def _window(self, request: Request, nodes: list[Node], anchor: str | None) -> tuple[list[Node], bool] | None:
        ordered = sorted((n for n in nodes if n.data["id"] not in self.deleted), key=lambda n: n.key, reverse=True)
        if anchor:
            key = _uncursor(anchor)
            if key is None:
                return None
            ordered = [n for n in ordered if n.key < key]
        size = self._size(request)
        return ordered[:size], len(ordered) > size

    def _feed(self, request: Request, page_id: str, posts: list[Node]) -> Reply:
        token = request.arg("__paging_token")
        window = self._window(request, posts, token.removeprefix("enc_") if token else None)
        if window is None:
            return graph_error(400, "Invalid paging token", 100)
        page, more = window
        body: dict[str, Any] = {"data": [self._post(n) for n in page]}
        if page:
            first, last = page[0], page[-1]
            since = int(datetime.fromisoformat(first.created).timestamp())
            until = int(datetime.fromisoformat(last.created).timestamp())
            previous = self._next(f"{page_id}/feed", request, since=str(since),
                                  __paging_token=f"enc_{_cursor(first.key)}", __previous="1")  # fmt: skip
            body["paging"] = {"previous": previous}
            if more:
                body["paging"]["next"] = self._next(f"{page_id}/feed", request, until=str(until),
                                                    __paging_token=f"enc_{_cursor(last.key)}")  # fmt: skip
        return Reply.json(body)

    def _post(self, node: Node) -> dict[str, Any]:
        data = copy.deepcopy(node.data)
        comments = self._subtree(str(data["id"]))
        data["comments"] = {"data": [], "summary": {"order": "ranked", "total_count": len(comments),
                                                    "can_comment": True}}  # fmt: skip
        data["reactions"] = {"data": [], "summary": {"total_count": data.pop("reaction_count", 0),
                                                     "viewer_reaction": "NONE"}}  # fmt: skip
        return data

    def _subtree(self, object_id: str) -> list[Node]:
        found: list[Node] = []
        for child in self._live_children(object_id):
            found.append(child)
            found.extend(self._subtree(str(child.data["id"])))
        return found

    def _fb_comments(self, request: Request, post_id: str) -> Reply:
        stream = request.arg("filter") == "stream"
        nodes = self._subtree(post_id) if stream else self._live_children(post_id)
        body = self._paged(request, f"{post_id}/comments", nodes, chronological=request.arg("order") !=
                           "reverse_chronological")  # fmt: skip
        if body is None:
            return graph_error(400, "Invalid cursor", 100)
        for item in body["data"]:
            node = self.nodes[item["id"]]
            if node.parent != post_id:
                item["parent"] = {"id": node.parent}
            item["comment_count"] = len(self._live_children(item["id"]))
        return Reply.json(body)

    def _ig_comments(self, request: Request, media_id: str) -> Reply:
        body = self._paged(request, f"{media_id}/comments", self._live_children(media_id))
        if body is None:
            return graph_error(400, "Invalid cursor", 100)
        if "replies{" in (request.arg("fields") or ""):
            for item in body["data"]:
                replies = self._paged(Request("GET", "", {"limit": [str(self.max_page)]}, {}),
                                      f"{item['id']}/replies", self._live_children(item["id"]))  # fmt: skip
                if replies is not None and replies["data"]:
                    item["replies"] = replies
        return Reply.json(body)

    def _cursor_page(self, request: Request, path: str, nodes: list[Node], *, shuffle: bool = False) -> Reply:
        body = self._paged(request, path, nodes, shuffle=shuffle)
        return Reply.json(body) if body is not None else graph_error(400, "Invalid cursor", 100)

    def _paged(self, request: Request, path: str, nodes: list[Node], *, chronological: bool = False,
               shuffle: bool = False) -> dict[str, Any] | None:  # fmt: skip
        """One cursor page (newest first, or oldest first when ``chronological``)."""
        alive = [n for n in nodes if n.data["id"] not in self.deleted]
        ordered = sorted(alive, key=lambda n: n.key, reverse=not chronological)
        after = request.arg("after")
        if after:
            key = _uncursor(after)
            if key is None:
                return None
            ordered = [n for n in ordered if (n.key > key if chronological else n.key < key)]
        size = self._size(request)
        page, more = ordered[:size], len(ordered) > size
        shown = sorted(page, key=lambda n: hash_of(str(n.data["id"]))) if shuffle else page
        body: dict[str, Any] = {"data": [copy.deepcopy(n.data) for n in shown]}
        if page:
            body["paging"] = {"cursors": {"before": _cursor(page[0].key), "after": _cursor(page[-1].key)}}
            if more:
                body["paging"]["next"] = self._next(path, request, after=_cursor(page[-1].key))
        return body


def hash_of(text: str) -> int:
    """A stable order that is not the time order (``tags`` pages)."""
    value = 0
    for char in text:
        value = (value * 131 + ord(char)) % 1_000_003
    return value
