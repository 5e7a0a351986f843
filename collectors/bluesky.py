"""Bluesky over XRPC: post search (``app.bsky.feed.searchPosts``), author feeds
(``app.bsky.feed.getAuthorFeed``) and the threads under posts (``app.bsky.feed.getPostThread``).

Source fields: ``query`` is a search string; ``account`` is a handle or DID. Without login the
public AppView (``https://public.api.bsky.app``) is asked; with
``RESONANZ_COLLECTORS__BLUESKY_HANDLE`` and ``__BLUESKY_APP_PASSWORD`` the collector logs in
(``com.atproto.server.createSession``) and asks the PDS (option ``service``, default
``https://bsky.social``). Posts are keyed on their ``at://`` URI, authors on their DID.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import AuthError, ConfigurationError, HttpStatusError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, tombstone
from collectors.text import language_code, parse_time, require_time

log = logging.getLogger(__name__)

PUBLIC_APPVIEW = "https://public.api.bsky.app"
SEARCH_NEEDS_LOGIN = (
    "Bluesky source {name!r}: the public AppView refuses post search without a login (since 2025). Set "
    "RESONANZ_COLLECTORS__BLUESKY_HANDLE and RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD (an app password from "
    "Bluesky's settings), or collect an account's posts with --account instead of --query."
)
DEFAULT_SERVICE = "https://bsky.social"
PAGE_LIMIT = 100
NOT_FOUND = "app.bsky.feed.defs#notFoundPost"
BLOCKED = "app.bsky.feed.defs#blockedPost"
REPOST = "app.bsky.feed.defs#reasonRepost"

_SESSIONS: dict[tuple[str, str], dict[str, str]] = {}  # logins are rate limited: reuse them across runs
_SESSIONS_LOCK = threading.Lock()


class BlueskyCollector(Collector):
    platform = "bluesky"
    overlap = timedelta(minutes=15)

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not spec.query and not spec.account:
            raise ConfigurationError(
                f"Bluesky source {spec.name!r} needs --query 'search words' or --account handle.bsky.social."
            )

    # -- HTTP and login -----------------------------------------------------------------------------

    def _logged_in(self) -> bool:
        return bool(self.credentials.bluesky_handle and self.credentials.bluesky_app_password)

    def _base(self, spec: SourceSpec) -> str:
        if self._logged_in():
            return str(spec.config.get("service") or DEFAULT_SERVICE).rstrip("/")
        return str(spec.config.get("appview") or PUBLIC_APPVIEW).rstrip("/")

    def _session(self, spec: SourceSpec, *, renew: bool = False) -> dict[str, str]:
        service = self._base(spec)
        handle = str(self.credentials.bluesky_handle)
        key = (service, handle)
        with _SESSIONS_LOCK:
            if renew:
                _SESSIONS.pop(key, None)
            elif key in _SESSIONS:
                return _SESSIONS[key]
        data, response = self.http.fetch_json(
            "POST",
            f"{service}/xrpc/com.atproto.server.createSession",
            json_body={"identifier": handle, "password": self.credentials.bluesky_app_password},
            allow=(400, 401),
        )
        if response.status_code != 200 or not isinstance(data, dict) or "accessJwt" not in data:
            reason = data.get("message") or data.get("error") if isinstance(data, dict) else response.status_code
            raise AuthError(
                f"Bluesky login as {handle} failed ({reason}). Check RESONANZ_COLLECTORS__BLUESKY_HANDLE and "
                "RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD (an app password, Settings > Privacy and security).",
                status=response.status_code,
                url=redact_url(response.request.url),
            )
        session = {"accessJwt": str(data["accessJwt"]), "did": str(data.get("did", ""))}
        with _SESSIONS_LOCK:
            _SESSIONS[key] = session
        return session

    def _xrpc(self, spec: SourceSpec, method: str, params: Mapping[str, Any]) -> tuple[Any, str]:
        url = f"{self._base(spec)}/xrpc/{method}"
        for attempt in range(2):
            headers = {}
            if self._logged_in():
                headers["Authorization"] = f"Bearer {self._session(spec, renew=attempt > 0)['accessJwt']}"
            data, response = self.http.fetch_json("GET", url, params=params, headers=headers, allow=(400, 401))
            shown = redact_url(response.request.url)
            if response.status_code == 200:
                return data, shown
            error = str(data.get("error", "")) if isinstance(data, dict) else ""
            message = str(data.get("message", "")) if isinstance(data, dict) else ""
            expired = error in ("ExpiredToken", "InvalidToken", "AuthenticationRequired")
            if expired and attempt == 0 and self._logged_in():
                log.info("%s: Bluesky session expired; logging in again", self.http.label)
                continue
            if error == "NotFound" or "not found" in message.lower():
                raise NotFoundError(f"{self.http.label}: {shown}: {message or error}", status=400, url=shown)
            if response.status_code == 401 or error in ("AuthenticationRequired", "ExpiredToken", "InvalidToken"):
                raise AuthError(
                    f"{self.http.label}: {shown} needs a login ({message or error}). Set "
                    "RESONANZ_COLLECTORS__BLUESKY_HANDLE and RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD.",
                    status=response.status_code,
                    url=shown,
                )
            raise HttpStatusError(
                f"{self.http.label}: {shown} answered {response.status_code} {error}: {message}",
                status=response.status_code,
                url=shown,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    # -- listings -----------------------------------------------------------------------------------

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        result: list[Listing] = []
        if spec.query:
            query = spec.query.strip()
            result.append(Listing(f"search:{query}", lambda tok: self._search(spec, query, tok)))
        if spec.account:
            actor = spec.account.strip().lstrip("@")
            result.append(Listing(f"author:{actor.lower()}", lambda tok: self._author_feed(spec, actor, tok)))
        return result

    def _search(self, spec: SourceSpec, query: str, token: str | None) -> Page:
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE_LIMIT}
        if spec.config.get("lang"):
            params["lang"] = spec.config["lang"]
        if token:
            params["cursor"] = token
        try:
            data, shown = self._xrpc(spec, "app.bsky.feed.searchPosts", params)
        except HttpStatusError as exc:
            if exc.status in (401, 403) and not self._logged_in():
                raise ConfigurationError(SEARCH_NEEDS_LOGIN.format(name=spec.name)) from None
            raise
        posts = data.get("posts") if isinstance(data, dict) else None
        if not isinstance(posts, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no list of posts", url=shown)
        return self._page(posts, data.get("cursor") if posts else None, shown, len(posts))

    def _author_feed(self, spec: SourceSpec, actor: str, token: str | None) -> Page:
        params: dict[str, Any] = {"actor": actor, "limit": PAGE_LIMIT, "filter": "posts_with_replies"}
        if token:
            params["cursor"] = token
        data, shown = self._xrpc(spec, "app.bsky.feed.getAuthorFeed", params)
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no feed list", url=shown)
        views = [
            item["post"]
            for item in feed
            if isinstance(item, dict) and isinstance(item.get("post"), dict)
            and (item.get("reason") or {}).get("$type") != REPOST
        ]  # fmt: skip
        return self._page(views, data.get("cursor") if feed else None, shown, len(feed))

    def _page(self, views: list[Any], next_token: str | None, url: str, seen: int) -> Page:
        threads: list[ThreadRef] = []

        def parse(view: Any) -> CollectedPost:
            post = self.parse_post(view)
            threads.append(ThreadRef(post.external_id, post.external_id, post.created_at, not view.get("replyCount")))
            return post

        posts, errors = self.parse_items(views, parse, url)
        return Page(posts=posts, next_token=next_token, url=url, errors=errors, threads=threads, seen=seen)

    # -- threads ------------------------------------------------------------------------------------

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        depth = int(spec.config.get("thread_depth") or 10)
        try:
            data, shown = self._xrpc(
                spec, "app.bsky.feed.getPostThread", {"uri": key, "depth": depth, "parentHeight": 0}
            )
        except NotFoundError:
            return ThreadResult(posts=[tombstone(self.platform, key, now=options.now)], gone=True)
        thread = data.get("thread") if isinstance(data, dict) else None
        if not isinstance(thread, dict):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no thread", url=shown)
        views: list[Any] = []
        gone: list[str] = []
        stack = [thread]
        while stack:
            node = stack.pop()
            if not isinstance(node, dict):
                continue
            kind = node.get("$type")
            if kind == NOT_FOUND or node.get("notFound"):
                if node.get("uri"):
                    gone.append(str(node["uri"]))
                continue
            if kind == BLOCKED or node.get("blocked"):
                continue
            if isinstance(node.get("post"), dict):
                views.append(node["post"])
            stack.extend(reversed(node.get("replies") or []))
        posts, errors = self.parse_items(views, self.parse_post, shown)
        posts.extend(tombstone(self.platform, uri, kind="comment", now=options.now) for uri in gone)
        root_gone = thread.get("$type") == NOT_FOUND or bool(thread.get("notFound"))
        return ThreadResult(posts=posts, url=shown, errors=errors, gone=root_gone)

    # -- parsing ------------------------------------------------------------------------------------

    def parse_post(self, view: Mapping[str, Any]) -> CollectedPost:
        uri = view["uri"]
        record = view["record"]
        author = view["author"]
        reply = record.get("reply") or {}
        created = require_time(record["createdAt"], "createdAt")
        indexed = parse_time(view.get("indexedAt"))
        langs = record.get("langs") or []
        handle = author.get("handle")
        rkey = str(uri).rsplit("/", 1)[-1]
        return CollectedPost(
            platform=self.platform,
            external_id=str(uri),
            kind="comment" if reply else "post",
            url=f"https://bsky.app/profile/{handle or author['did']}/post/{rkey}",
            text=str(record.get("text") or ""),
            created_at=created,
            language=language_code(langs[0]) if langs else None,
            metrics={
                "replies": int(view.get("replyCount") or 0),
                "reposts": int(view.get("repostCount") or 0),
                "likes": int(view.get("likeCount") or 0),
                "quotes": int(view.get("quoteCount") or 0),
            },
            raw=dict(view),
            identity=CollectedIdentity(
                platform=self.platform,
                account_id=str(author["did"]),
                handle=f"@{handle}" if handle else None,
                display_name=author.get("displayName") or handle,
                profile_url=f"https://bsky.app/profile/{author['did']}",
                bio=author.get("description"),
            ),
            parent_external_id=(reply.get("parent") or {}).get("uri"),
            root_external_id=(reply.get("root") or {}).get("uri"),
            listed_at=min(created, indexed) if indexed else created,
        )
