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
import re
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import AuthError, ConfigurationError, HttpStatusError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, ThreadSnapshot, tombstone
from collectors.text import join_text, language_code, link_note, media_note, parse_time, require_time

log = logging.getLogger(__name__)

PUBLIC_APPVIEW = "https://public.api.bsky.app"
SEARCH_NEEDS_LOGIN = (
    "Bluesky-Quelle {name!r}: Die Bluesky-Suche braucht seit 2025 eine Anmeldung (die öffentliche AppView "
    "antwortet ohne Login mit 403). Setze RESONANZ_COLLECTORS__BLUESKY_HANDLE und "
    "RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD (ein App-Passwort aus Bluesky: Einstellungen > Datenschutz und "
    "Sicherheit > App-Passwörter) oder sammle mit --account die Beiträge eines Kontos statt mit --query."
)
DEFAULT_SERVICE = "https://bsky.social"
PAGE_LIMIT = 100
NOT_FOUND = "app.bsky.feed.defs#notFoundPost"
BLOCKED = "app.bsky.feed.defs#blockedPost"
REPOST = "app.bsky.feed.defs#reasonRepost"

MAX_SUBTHREADS = 5
"""Requests one thread refresh may spend on branches cut at ``thread_depth`` (``-o max_subthreads=N``)."""
GET_POSTS_LIMIT = 25
MAX_GET_POSTS = 4


class ThreadWalk:
    """The nodes of one or more ``getPostThread`` answers: post views, deleted (``notFoundPost``) and blocked
    replies, and the replies whose own replies were cut at the depth limit (no ``replies`` field although
    ``replyCount`` > 0), with how many they have."""

    def __init__(self) -> None:
        self.views: dict[str, Any] = {}
        self.gone: list[str] = []
        self.blocked: list[str] = []
        self.cut: dict[str, int] = {}
        self.expanded: set[str] = set()

    def add(self, thread: Mapping[str, Any]) -> None:
        stack: list[Any] = [thread]
        while stack:
            node = stack.pop()
            if not isinstance(node, dict):
                continue
            kind = node.get("$type")
            uri = node.get("uri") or (node.get("post") or {}).get("uri")
            if kind == NOT_FOUND or node.get("notFound"):
                if uri and uri not in self.gone:
                    self.gone.append(str(uri))
                continue
            if kind == BLOCKED or node.get("blocked"):
                if uri and uri not in self.blocked:
                    self.blocked.append(str(uri))
                continue
            post = node.get("post")
            if not isinstance(post, dict):
                continue
            uri = str(post.get("uri"))
            self.views[uri] = post
            if "replies" in node:
                self.expanded.add(uri)
                self.cut.pop(uri, None)
                stack.extend(reversed(node.get("replies") or []))
            elif int(post.get("replyCount") or 0) > 0 and uri not in self.expanded:
                self.cut[uri] = int(post.get("replyCount") or 0)


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
                status=401,  # the credentials are refused: nothing of this source can work
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
                # a refusal of this listing, not of the source: an account listing of the same source goes on,
                # and no page token is kept, so the source recovers as soon as a login is set
                raise HttpStatusError(SEARCH_NEEDS_LOGIN.format(name=spec.name), status=403, url=exc.url) from None
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
        self.skip(
            "repost", sum(1 for i in feed if isinstance(i, dict) and (i.get("reason") or {}).get("$type") == REPOST)
        )
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
        """The replies under ``key`` (``getPostThread``), with the branches cut at ``thread_depth`` loaded from their
        own thread view (at most ``max_subthreads`` requests, branches not loaded before first). The AppView leaves
        a deleted reply out together with everything under it, so replies recorded earlier but missing now are
        checked through ``getPosts`` before they count as deleted (:meth:`still_present`)."""
        depth = int(spec.config.get("thread_depth") or 10)
        try:
            thread, shown = self._thread(spec, key, depth)
        except NotFoundError:
            return ThreadResult(posts=[tombstone(self.platform, key, now=options.now)], gone=True)
        if thread.get("$type") == NOT_FOUND or thread.get("notFound"):
            return ThreadResult(posts=[tombstone(self.platform, key, now=options.now)], url=shown, gone=True)
        walk = ThreadWalk()
        walk.add(thread)
        queue = [str(u) for u in entry.get("c") or []]  # branches loaded before, least recently loaded first
        queued = set(queue)
        in_view = set(walk.expanded)  # shown whole by this view: no need to load them apart
        budget = int(spec.config.get("max_subthreads", MAX_SUBTHREADS))
        loaded: list[str] = []
        gone: set[str] = set()
        while budget > 0:  # branches never loaded first, then the least recently loaded
            fresh = [u for u in walk.cut if u not in loaded and u not in queued]
            order = fresh or [u for u in queue if u not in loaded and u not in in_view]
            if not order:
                break
            uri = order[0]
            budget -= 1
            loaded.append(uri)
            try:
                branch, _ = self._thread(spec, uri, depth)
            except NotFoundError:
                gone.add(uri)
                continue
            walk.add(branch)
        left = [u for u in walk.cut if u not in loaded]
        kept = [u for u in dict.fromkeys([u for u in queue if u not in loaded] + loaded)
                if u not in gone and u not in in_view]  # fmt: skip
        if kept:
            entry["c"] = kept
        else:
            entry.pop("c", None)
        entry.pop("o", None)
        followed = set(kept)
        self.skip("blocked", len(walk.blocked))
        self.skip("deferred", sum(walk.cut[u] for u in left if u not in followed))
        posts, errors = self.parse_items(list(walk.views.values()), self.parse_post, shown)
        posts.extend(tombstone(self.platform, uri, kind="comment", now=options.now) for uri in walk.gone)
        root = thread.get("post")
        if not isinstance(root, dict) or (root.get("record") or {}).get("reply"):
            # a reply's own thread is not the whole conversation: no snapshot
            return ThreadResult(posts=posts, url=shown, errors=errors, pending=any(u not in followed for u in left))
        members = {uri: uri for uri in [*walk.views, *walk.blocked] if uri != key}
        return ThreadResult(
            posts=posts,
            url=shown,
            errors=errors,
            snapshot=ThreadSnapshot(self.platform, key, frozenset(members)),
            members=members,
            pending=any(u not in followed for u in left),
        )

    def _thread(self, spec: SourceSpec, uri: str, depth: int) -> tuple[dict[str, Any], str]:
        data, shown = self._xrpc(spec, "app.bsky.feed.getPostThread", {"uri": uri, "depth": depth, "parentHeight": 0})
        thread = data.get("thread") if isinstance(data, dict) else None
        if not isinstance(thread, dict):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no thread", url=shown)
        return thread, shown

    def still_present(
        self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any], options: CollectOptions
    ) -> dict[str, str]:
        """Replies missing from the thread view that ``getPosts`` still returns (under a deleted parent, or in a
        branch not loaded this run); those beyond the request budget are kept unchecked."""
        uris = list(members)
        checked = uris[: GET_POSTS_LIMIT * MAX_GET_POSTS]
        keep = {u: members[u] for u in uris[len(checked) :]}
        for start in range(0, len(checked), GET_POSTS_LIMIT):
            data, shown = self._xrpc(spec, "app.bsky.feed.getPosts", {"uris": checked[start : start + GET_POSTS_LIMIT]})
            found = data.get("posts") if isinstance(data, dict) else None
            if not isinstance(found, list):
                raise MalformedResponseError(f"{self.http.label}: {shown} has no list of posts", url=shown)
            for view in found:
                uri = view.get("uri") if isinstance(view, dict) else None
                if uri in members:
                    keep[str(uri)] = members[str(uri)]
        return keep

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
            text=post_text(record),
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


# -- text ---------------------------------------------------------------------------------------------------

LINK_FACET = "app.bsky.richtext.facet#link"
_SCHEME = re.compile(r"^https?://(www\.)?", re.I)


def post_text(record: Mapping[str, Any]) -> str:
    """What the post says: its text with every link facet's full address (the app shows ``example.de/artik...``),
    then the alt text of its images or video and the link card it carries (``app.bsky.embed.*`` in the record)."""
    text = expand_links(str(record.get("text") or ""), record.get("facets"))
    notes = [n for n in embed_notes(record.get("embed")) if not (n.startswith("[Link") and n.split()[-1] in text)]
    return join_text(text, *notes)


def expand_links(text: str, facets: Any) -> str:
    """Replace each link facet's shown text by its URI (byte offsets into the UTF-8 text, as the lexicon says)."""
    if not text or not isinstance(facets, list):
        return text
    data = text.encode("utf-8")
    spans: list[tuple[int, int, str]] = []
    for facet in facets:
        try:
            start, end = int(facet["index"]["byteStart"]), int(facet["index"]["byteEnd"])
            uri = next(str(f["uri"]) for f in facet.get("features") or [] if f.get("$type") == LINK_FACET)
        except (KeyError, TypeError, ValueError, AttributeError, StopIteration):
            continue
        if 0 <= start < end <= len(data):
            spans.append((start, end, uri))
    out: list[str] = []
    pos = 0
    for start, end, uri in sorted(spans):
        if start < pos:  # overlapping facets: keep the first
            continue
        out.append(data[pos:start].decode("utf-8", "replace"))
        out.append(_link_text(data[start:end].decode("utf-8", "replace"), uri))
        pos = end
    out.append(data[pos:].decode("utf-8", "replace"))
    return "".join(out)


def _link_text(shown: str, uri: str) -> str:
    short = _SCHEME.sub("", shown.strip()).rstrip("….").rstrip("/")
    if not short or _SCHEME.sub("", uri).startswith(short):
        return uri  # the shortened form of the address
    return f"{shown} ({uri})"  # a link on other words


def embed_notes(embed: Any) -> list[str]:
    """Alt texts and link cards of a record's embed (a quoted post is its own post and is not copied in)."""
    if not isinstance(embed, dict):
        return []
    kind = str(embed.get("$type") or "")
    if kind == "app.bsky.embed.recordWithMedia":
        return embed_notes(embed.get("media"))
    if kind == "app.bsky.embed.images":
        return [media_note("image", i.get("alt")) for i in embed.get("images") or [] if isinstance(i, dict)]
    if kind == "app.bsky.embed.video":
        return [media_note("video", embed.get("alt"))]
    if kind == "app.bsky.embed.external":
        external = embed.get("external") or {}
        uri = external.get("uri") if isinstance(external, dict) else None
        return [link_note(str(uri), external.get("title"))] if uri else []
    return []
