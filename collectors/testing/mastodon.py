"""A fake Mastodon server (API routes the collector uses) over recorded or synthetic statuses.

``FakeMastodon(statuses)`` answers tag timelines, account lookups/statuses, single statuses and
contexts with the field names, ``Link`` pagination and ``X-RateLimit-*`` headers of the real API.
Tests change it while it runs (``edit``/``delete``/``add``) to check updates and deletions.
``SyntheticTimeline`` serves a large generated hashtag timeline without holding it in memory.
"""

from __future__ import annotations

import copy
import json
import random
import threading
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import unquote

from collectors.testing.server import Reply, Request

RATE_LIMIT = 300


def load_fixture(name: str) -> Any:
    """A JSON fixture shipped in ``collectors/fixtures``."""
    return json.loads(resources.files("collectors").joinpath("fixtures", name).read_text(encoding="utf-8"))


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def snowflake(created_at: datetime, seq: int = 0) -> str:
    """A Mastodon-style id: milliseconds since the epoch shifted left 16 bits, plus a sequence."""
    return str((int(created_at.timestamp() * 1000) << 16) + (seq & 0xFFFF))


def make_account(
    account_id: str,
    username: str,
    domain: str,
    *,
    display_name: str = "",
    note: str = "",
    fields: Iterable[tuple[str, str]] = (),
) -> dict[str, Any]:
    url = f"https://{domain}/@{username}"
    return {
        "id": account_id,
        "username": username,
        "acct": f"{username}@{domain}",
        "display_name": display_name or username,
        "locked": False,
        "bot": False,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": note,
        "url": url,
        "uri": f"https://{domain}/users/{username}",
        "avatar": f"https://{domain}/avatars/{username}.png",
        "followers_count": 10,
        "following_count": 10,
        "statuses_count": 100,
        "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields],
    }


def make_status(
    status_id: str,
    created_at: datetime,
    content: str,
    account: dict[str, Any],
    *,
    in_reply_to: dict[str, Any] | None = None,
    tags: Iterable[str] = (),
    language: str | None = "de",
    edited_at: datetime | None = None,
    spoiler_text: str = "",
    replies: int = 0,
    reblogs: int = 0,
    favourites: int = 0,
    instance: str = "social.example",
) -> dict[str, Any]:
    domain = account["uri"].split("/")[2]
    username = account["username"]
    return {
        "id": status_id,
        "created_at": iso_z(created_at),
        "in_reply_to_id": in_reply_to["id"] if in_reply_to else None,
        "in_reply_to_account_id": in_reply_to["account"]["id"] if in_reply_to else None,
        "sensitive": bool(spoiler_text),
        "spoiler_text": spoiler_text,
        "visibility": "public",
        "language": language,
        "uri": f"https://{domain}/users/{username}/statuses/{status_id}",
        "url": f"https://{domain}/@{username}/{status_id}",
        "replies_count": replies,
        "reblogs_count": reblogs,
        "favourites_count": favourites,
        "edited_at": iso_z(edited_at) if edited_at else None,
        "content": content,
        "reblog": None,
        "application": None,
        "account": account,
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": t.lower(), "url": f"https://{instance}/tags/{t.lower()}"} for t in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def _link_header(base: str, statuses: list[dict[str, Any]]) -> str:
    if not statuses:
        return ""
    return f'<{base}?max_id={statuses[-1]["id"]}>; rel="next", <{base}?min_id={statuses[0]["id"]}>; rel="prev"'


def _window(items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
    """Mastodon's max_id/since_id/min_id/limit semantics over items sorted newest first."""
    limit = min(int(request.arg("limit") or 20), 40)
    max_id, since_id, min_id = (request.arg(n) for n in ("max_id", "since_id", "min_id"))
    chosen = [s for s in items if (not max_id or int(s["id"]) < int(max_id))]
    chosen = [s for s in chosen if (not since_id or int(s["id"]) > int(since_id))]
    if min_id:
        newer = [s for s in chosen if int(s["id"]) > int(min_id)]
        return newer[-limit:]
    return chosen[:limit]


class FakeMastodon:
    """Mastodon API routes over a mutable set of statuses. Thread-safe."""

    def __init__(self, statuses: Iterable[dict[str, Any]], *, rebase_to: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._statuses: dict[str, dict[str, Any]] = {s["id"]: copy.deepcopy(s) for s in statuses}
        self._deleted: set[str] = set()
        self._calls = 0
        if rebase_to is not None and self._statuses:
            newest = max(datetime.fromisoformat(s["created_at"]) for s in self._statuses.values())
            shift = rebase_to - timedelta(minutes=2) - newest
            for status in self._statuses.values():
                for key in ("created_at", "edited_at"):
                    if status.get(key):
                        status[key] = iso_z(datetime.fromisoformat(status[key]) + shift)

    # -- changing the world ---------------------------------------------------------------------------

    def add(self, status: dict[str, Any]) -> None:
        with self._lock:
            self._statuses[status["id"]] = copy.deepcopy(status)

    def edit(self, status_id: str, content: str, edited_at: datetime) -> None:
        with self._lock:
            self._statuses[status_id]["content"] = content
            self._statuses[status_id]["edited_at"] = iso_z(edited_at)

    def delete(self, status_id: str) -> None:
        with self._lock:
            self._deleted.add(status_id)

    def statuses(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(s) for k, s in self._statuses.items() if k not in self._deleted]

    # -- serving --------------------------------------------------------------------------------------

    def _live(self) -> list[dict[str, Any]]:
        live = [s for k, s in self._statuses.items() if k not in self._deleted]
        return sorted(live, key=lambda s: int(s["id"]), reverse=True)

    def _headers(self) -> dict[str, str]:
        self._calls += 1
        reset = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(max(1, RATE_LIMIT - self._calls % RATE_LIMIT)),
            "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z"),
        }

    def __call__(self, request: Request) -> Reply:
        parts = [unquote(p) for p in request.path.strip("/").split("/")]
        with self._lock:
            headers = self._headers()
            if parts[:4] == ["api", "v1", "timelines", "tag"] and len(parts) == 5:
                tag = parts[4].lower()
                items = [s for s in self._live() if any(t["name"] == tag for t in s["tags"])]
                page = _window(items, request)
                base = request.headers.get("host", "")
                link = _link_header(f"http://{base}{request.path}", page)
                return Reply.json(self._counted(page), headers={**headers, **({"Link": link} if link else {})})
            if parts[:3] == ["api", "v1", "statuses"] and len(parts) in (4, 5):
                status = self._statuses.get(parts[3])
                if status is None or parts[3] in self._deleted:
                    return Reply.json({"error": "Record not found"}, 404, headers)
                if len(parts) == 4:
                    return Reply.json(self._counted([status])[0], headers=headers)
                if parts[4] == "context":
                    return Reply.json(self._context(status), headers=headers)
            if parts[:4] == ["api", "v1", "accounts", "lookup"]:
                acct = (request.arg("acct") or "").lstrip("@").lower()
                for status in self._live():
                    account = status["account"]
                    if acct in (account["acct"].lower(), account["username"].lower()):
                        return Reply.json(account, headers=headers)
                return Reply.json({"error": "Record not found"}, 404, headers)
            if parts[:3] == ["api", "v1", "accounts"] and len(parts) == 5 and parts[4] == "statuses":
                items = [s for s in self._live() if s["account"]["id"] == parts[3]]
                page = _window(items, request)
                link = _link_header(f"http://{request.headers.get('host', '')}{request.path}", page)
                return Reply.json(self._counted(page), headers={**headers, **({"Link": link} if link else {})})
        return Reply.json({"error": "Not found"}, 404)

    def _counted(self, statuses: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``replies_count`` as the server keeps it: at least the live direct replies."""
        children: dict[str, int] = {}
        for item in self._live():
            if item.get("in_reply_to_id"):
                children[item["in_reply_to_id"]] = children.get(item["in_reply_to_id"], 0) + 1
        return [{**s, "replies_count": max(int(s.get("replies_count") or 0), children.get(s["id"], 0))}
                for s in statuses]  # fmt: skip

    def _context(self, status: dict[str, Any]) -> dict[str, Any]:
        ancestors: list[dict[str, Any]] = []
        parent_id = status.get("in_reply_to_id")
        while parent_id and parent_id in self._statuses and parent_id not in self._deleted:
            parent = self._statuses[parent_id]
            ancestors.insert(0, parent)
            parent_id = parent.get("in_reply_to_id")
        children: dict[str, list[dict[str, Any]]] = {}
        for item in sorted(self._live(), key=lambda s: int(s["id"])):
            if item.get("in_reply_to_id"):
                children.setdefault(item["in_reply_to_id"], []).append(item)
        descendants: list[dict[str, Any]] = []
        stack = list(reversed(children.get(status["id"], [])))
        while stack:
            item = stack.pop()
            descendants.append(item)
            stack.extend(reversed(children.get(item["id"], [])))
        return {"ancestors": self._counted(ancestors), "descendants": self._counted(descendants)}


WORDS = (
    "Kaffee", "Bohnen", "Röstung", "Lieferung", "Paket", "Bestellung", "App", "Filiale", "Espresso", "Milchschaum",
    "Service", "Preis", "Abo", "Kundenservice", "Rückerstattung", "Geschmack", "Aroma", "Verpackung", "pünktlich",
    "lecker", "teuer", "freundlich", "langsam", "schnell", "super", "leider", "wieder", "gerne", "immer", "heute",
    "morgen", "endlich", "wirklich", "sehr", "ziemlich", "total",
)  # fmt: skip


class SyntheticTimeline:
    """A hashtag timeline of ``n`` generated German statuses, newest first, built page by page."""

    def __init__(self, n: int, *, tag: str = "bruehwerk", seed: int = 7, accounts: int = 2000) -> None:
        self.n = n
        self.tag = tag
        self.seed = seed
        self.newest = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        self.base_id = int(snowflake(self.newest))
        self.accounts = [
            make_account(str(100000 + i), f"nutzer{i}", f"instanz{i % 25}.example", display_name=f"Nutzer {i}")
            for i in range(accounts)
        ]

    def status(self, index: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + index)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
        created = self.newest - timedelta(seconds=index * 2)
        link = f'<a href="https://social.example/tags/{self.tag}" class="mention hashtag">#<span>{self.tag}</span></a>'
        content = f"<p>{words} {link}</p>"
        account = self.accounts[rng.randrange(len(self.accounts))]
        return make_status(str(self.base_id - index), created, content, account, tags=[self.tag],
                           replies=0, favourites=rng.randint(0, 20))  # fmt: skip

    def __call__(self, request: Request) -> Reply:
        if not request.path.startswith("/api/v1/timelines/tag/"):
            return Reply.json({"error": "Not found"}, 404)
        limit = min(int(request.arg("limit") or 20), 40)
        max_id = request.arg("max_id")
        start = self.base_id - int(max_id) + 1 if max_id else 0
        page = [self.status(i) for i in range(max(0, start), min(self.n, start + limit))]
        link = _link_header(f"http://{request.headers.get('host', '')}{request.path}", page)
        return Reply.json(page, headers={"Link": link} if link else {})
