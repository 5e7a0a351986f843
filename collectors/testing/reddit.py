"""A fake Reddit (the public ``.json`` routes the collector uses) over a mutable set of submissions and comments.

Shapes follow Reddit's JSON as PRAW's recorded cassettes show it (praw-dev/praw ``tests/integration/cassettes``):
listings ``{"kind": "Listing", "data": {"after", "children"}}`` of ``t3``/``t1`` things, comment trees as
``[submission listing, comment listing]``, ``more`` stubs with the ids they hide (``count`` > 0) and
"continue this thread" stubs (``count`` 0, no ``children``, ``id`` ``_``), ``/api/morechildren`` answering
``{"json": {"errors": [], "data": {"things": [...]}}}``, ``/comments/<id>/_/<comment>`` answering with the
comment and its replies, and ``/api/info``. A deleted comment with replies stays in the tree as ``[deleted]``;
one without replies disappears, as on Reddit.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from collectors.testing.server import Reply, Request


def base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def make_submission(sid: str, created: datetime, title: str, selftext: str, *, author: str = "maxmuster",
                    subreddit: str = "de") -> dict[str, Any]:  # fmt: skip
    """A ``t3`` thing's ``data``."""
    return {"id": sid, "name": f"t3_{sid}", "subreddit": subreddit, "title": title, "selftext": selftext,
            "author": author, "author_fullname": f"t2_{author}", "created_utc": created.timestamp(), "edited": False,
            "score": 1, "upvote_ratio": 1.0, "num_comments": 0, "is_self": True, "removed_by_category": None,
            "permalink": f"/r/{subreddit}/comments/{sid}/x/", "url": f"https://www.reddit.com/r/{subreddit}/comments/"
            f"{sid}/x/", "over_18": False}  # fmt: skip


def make_comment(cid: str, link: str, parent: str, created: datetime, body: str, *, author: str = "lisa",
                 subreddit: str = "de") -> dict[str, Any]:  # fmt: skip
    """A ``t1`` thing's ``data`` (``link`` and ``parent`` are fullnames)."""
    return {
        "id": cid,
        "name": f"t1_{cid}",
        "link_id": link,
        "parent_id": parent,
        "body": body,
        "author": author,
        "author_fullname": f"t2_{author}",
        "created_utc": created.timestamp(),
        "edited": False,
        "score": 1,
        "subreddit": subreddit,
        "permalink": f"/r/{subreddit}/comments/{link[3:]}/x/{cid}/",
        "replies": "",
    }


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"after": after, "dist": len(children), "modhash": "", "geo_filter": "",
                                        "children": children, "before": None}}  # fmt: skip


class FakeReddit:
    """``/r/<sub>/new``, ``/comments/<id>``, ``/api/morechildren``, ``/comments/<id>/_/<comment>``, ``/api/info``.

    ``tree_limit`` comments are shown per comment page, ``depth`` levels deep (deeper: "continue this thread");
    the rest of each level goes behind a ``more`` stub. ``/api/morechildren`` returns the asked comments with
    ``more_depth`` levels of their replies (deeper ones behind new stubs)."""

    def __init__(self, *, tree_limit: int = 200, depth: int = 6, more_depth: int = 2) -> None:
        self._lock = threading.Lock()
        self.submissions: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()  # fullnames
        self.tree_limit = tree_limit
        self.depth = depth
        self.more_depth = more_depth
        self._by_parent: dict[str, list[dict[str, Any]]] = {}
        self._changed()

    # -- changing the world ---------------------------------------------------------------------------

    def add_submission(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.submissions[data["id"]] = copy.deepcopy(data)

    def add_comment(self, data: dict[str, Any]) -> None:
        with self._lock:
            self.comments[data["id"]] = copy.deepcopy(data)
            self._by_parent.setdefault(data["parent_id"], []).append(self.comments[data["id"]])
            self._changed()

    def delete(self, fullname: str) -> None:
        with self._lock:
            self.deleted.add(fullname)
            self._changed()

    # -- views ----------------------------------------------------------------------------------------

    def _kids(self, parent: str) -> list[dict[str, Any]]:
        if parent not in self._kids_memo:
            kids = [c for c in self._by_parent.get(parent, []) if self._visible(c["name"])]
            self._kids_memo[parent] = sorted(kids, key=lambda c: c["created_utc"], reverse=True)  # sort=new
        return self._kids_memo[parent]

    def _visible(self, name: str) -> bool:
        """Live, or deleted but with visible replies (then shown as ``[deleted]``)."""
        return name not in self.deleted or bool(self._kids(name))

    def _size(self, name: str) -> int:
        if name not in self._size_memo:
            self._size_memo[name] = sum(1 + self._size(k["name"]) for k in self._kids(name))
        return self._size_memo[name]

    def _depth(self, name: str) -> int:
        """0 for a top-level comment."""
        depth = 0
        parent = self.comments[name.removeprefix("t1_")]["parent_id"]
        while parent.startswith("t1_"):
            depth += 1
            parent = self.comments[parent.removeprefix("t1_")]["parent_id"]
        return depth

    def _changed(self) -> None:
        self._kids_memo: dict[str, list[dict[str, Any]]] = {}
        self._size_memo: dict[str, int] = {}

    def _comment(self, data: dict[str, Any], replies: list[dict[str, Any]] | None) -> dict[str, Any]:
        out = copy.deepcopy(data)
        if data["name"] in self.deleted:
            out.update(body="[deleted]", author="[deleted]", author_fullname=None)
        out["replies"] = listing(replies) if replies else ""
        return {"kind": "t1", "data": out}

    @staticmethod
    def _more(parent: str, ids: list[str], count: int) -> dict[str, Any]:
        return {"kind": "more", "data": {"count": count, "name": f"t1_{ids[0]}" if ids else "t1__",
                                         "id": ids[0] if ids else "_", "parent_id": parent, "depth": 0,
                                         "children": ids}}  # fmt: skip

    def _render(self, parent: str, level: int, budget: list[int], max_depth: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        kids = self._kids(parent)
        for index, kid in enumerate(kids):
            if budget[0] <= 0:
                rest = kids[index:]
                out.append(self._more(parent, [k["id"] for k in rest], sum(1 + self._size(k["name"]) for k in rest)))
                break
            budget[0] -= 1
            if not self._kids(kid["name"]):
                out.append(self._comment(kid, None))
            elif level + 1 >= max_depth:  # "continue this thread"
                out.append(self._comment(kid, [self._more(kid["name"], [], 0)]))
            else:
                out.append(self._comment(kid, self._render(kid["name"], level + 1, budget, max_depth)))
        return out

    def _submission(self, sid: str) -> dict[str, Any]:
        data = copy.deepcopy(self.submissions[sid])
        data["num_comments"] = self._size(data["name"])
        if data["name"] in self.deleted:
            data.update(selftext="[deleted]", author="[deleted]", author_fullname=None, removed_by_category="deleted")
        return {"kind": "t3", "data": data}

    # -- serving --------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        path = unquote(request.path).removesuffix(".json")
        parts = path.strip("/").split("/")
        with self._lock:
            if len(parts) == 3 and parts[0] == "r" and parts[2] == "new":
                live = sorted((s for s in self.submissions.values() if s["name"] not in self.deleted
                               and s["subreddit"].lower() == parts[1].lower()),
                              key=lambda s: s["created_utc"], reverse=True)  # fmt: skip
                after = request.arg("after")
                start = next((i + 1 for i, s in enumerate(live) if s["name"] == after), 0) if after else 0
                limit = min(int(request.arg("limit") or 25), 100)
                page = live[start : start + limit]
                more = start + limit < len(live)
                return Reply.json(listing([self._submission(s["id"]) for s in page],
                                          page[-1]["name"] if page and more else None))  # fmt: skip
            if parts[0] == "comments" and len(parts) in (2, 4) and parts[1] in self.submissions:
                sid = parts[1]
                head = listing([self._submission(sid)])
                if len(parts) == 2:
                    return Reply.json([head, listing(self._render(f"t3_{sid}", 0, [self.tree_limit], self.depth))])
                focus = self.comments.get(parts[3])
                if focus is None or not self._visible(focus["name"]):
                    return Reply.json([head, listing([])])
                replies = self._render(focus["name"], 1, [self.tree_limit], self.depth)
                return Reply.json([head, listing([self._comment(focus, replies)])])
            if path == "/api/morechildren":
                things: list[dict[str, Any]] = []
                for cid in (request.arg("children") or "").split(","):
                    data = self.comments.get(cid)
                    if data is None or not self._visible(data["name"]):
                        continue
                    self._flat(data, 0, things)
                return Reply.json({"json": {"errors": [], "data": {"things": things}}})
            if path == "/api/info":
                found = []
                for name in (request.arg("id") or "").split(","):
                    data = self.comments.get(name.removeprefix("t1_"))
                    if name.startswith("t1_") and data is not None:
                        found.append(self._comment(data, None))
                return Reply.json(listing(found))
        return Reply.json({"message": "Not Found", "error": 404}, 404)

    def _flat(self, data: dict[str, Any], level: int, things: list[dict[str, Any]]) -> None:
        """morechildren's flat answer: the comment, then its replies down to ``more_depth`` (deeper behind stubs)."""
        things.append(self._comment(data, None))
        kids = self._kids(data["name"])
        if not kids:
            return
        if self._depth(data["name"]) + 1 >= self.depth:  # "continue this thread", as in the tree
            things.append(self._more(data["name"], [], 0))
            return
        if level + 1 > self.more_depth:
            things.append(self._more(data["name"], [k["id"] for k in kids], self._size(data["name"])))
            return
        for kid in kids:
            self._flat(kid, level + 1, things)

    def live_names(self) -> set[str]:
        with self._lock:
            return {s["name"] for s in self.submissions.values() if s["name"] not in self.deleted} | {
                c["name"] for c in self.comments.values() if c["name"] not in self.deleted
            }

    def all_names(self) -> Iterable[str]:
        return [s["name"] for s in self.submissions.values()] + [c["name"] for c in self.comments.values()]
