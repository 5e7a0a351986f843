"""Reddit: subreddit listings (``/r/<sub>/new``), search (``sort=new``) and comment trees
(``/comments/<id>``), expanding ``more`` stubs through ``/api/morechildren`` within a budget.

Source fields: ``account`` is the subreddit (``r/de`` or ``de``); ``query`` search words
(within the subreddit when both are given). With ``RESONANZ_COLLECTORS__REDDIT_CLIENT_ID`` and
``__REDDIT_CLIENT_SECRET`` the collector uses OAuth client credentials and
``https://oauth.reddit.com``; otherwise the public ``.json`` pages. The User-Agent from
settings is always sent. Posts and comments are keyed on their fullnames (``t3_``/``t1_``),
authors on ``author_fullname`` (``t2_``).
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult, load_members
from collectors.errors import AuthError, ConfigurationError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, ThreadSnapshot, tombstone
from collectors.text import from_epoch, join_text, link_note, markdown_to_text, poll_note

log = logging.getLogger(__name__)

PUBLIC_BASE = "https://www.reddit.com"
OAUTH_BASE = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
PAGE_LIMIT = 100
GONE_TEXT = {"[deleted]", "[removed]"}
MAX_MORE_REQUESTS = 10
"""Requests one thread refresh may spend on hidden comments (``-o max_more=N``); the rest waits for the next run."""
INFO_BATCH = 100
MAX_INFO_REQUESTS = 3

_TOKENS: dict[str, tuple[str, float]] = {}  # client id -> (token, expiry); shared by the runs of one process
_TOKENS_LOCK = threading.Lock()


class CommentTree:
    """Comments of one submission as they come in: the comments themselves, the ids behind "load more" stubs,
    and the comments whose replies sit behind a "continue this thread" stub (``count`` 0, no children)."""

    def __init__(self) -> None:
        self.comments: dict[str, Mapping[str, Any]] = {}
        self.hidden: dict[str, None] = {}
        self.continued: list[str] = []

    def walk(self, things: Any) -> None:
        stack = list(reversed(things)) if isinstance(things, list) else []
        while stack:
            thing = stack.pop()
            if not isinstance(thing, dict) or not isinstance(thing.get("data"), dict):
                continue
            data = thing["data"]
            if thing.get("kind") == "t1":
                self.comments[str(data.get("name") or f"t1_{data.get('id')}")] = data
                replies = data.get("replies")
                if isinstance(replies, dict):
                    stack.extend(reversed((replies.get("data") or {}).get("children") or []))
            elif thing.get("kind") == "more":
                children = [str(c) for c in data.get("children") or []]
                self.hidden.update(dict.fromkeys(children))
                parent = data.get("parent_id")
                if not children and parent and parent not in self.continued:
                    self.continued.append(str(parent))

    def waiting(self, asked: set[str]) -> list[str]:
        """Ids behind "load more" stubs that are neither loaded nor asked for."""
        return [i for i in self.hidden if i not in asked and f"t1_{i}" not in self.comments]


def subreddit(spec: SourceSpec) -> str | None:
    if not spec.account:
        return None
    name = spec.account.strip().strip("/")
    return name[2:] if name.lower().startswith("r/") else name


class RedditCollector(Collector):
    platform = "reddit"
    overlap = timedelta(minutes=10)

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not spec.query and not spec.account:
            raise ConfigurationError(
                f"Reddit source {spec.name!r} needs --account r/<subreddit> and/or --query 'words'."
            )

    # -- HTTP ---------------------------------------------------------------------------------------

    def _oauth(self) -> bool:
        return bool(self.credentials.reddit_client_id and self.credentials.reddit_client_secret)

    def _token(self, spec: SourceSpec, *, renew: bool = False) -> str:
        client_id = str(self.credentials.reddit_client_id)
        with _TOKENS_LOCK:
            cached = _TOKENS.get(client_id)
            if cached and not renew and cached[1] > self.http.clock() + 60:
                return cached[0]
        data, response = self.http.fetch_json(
            "POST",
            str(spec.config.get("token_url") or TOKEN_URL),
            data={"grant_type": "client_credentials"},
            auth=(client_id, str(self.credentials.reddit_client_secret)),
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise AuthError(
                "Reddit gave no access token. Check RESONANZ_COLLECTORS__REDDIT_CLIENT_ID and "
                "RESONANZ_COLLECTORS__REDDIT_CLIENT_SECRET (a 'script' or 'web' app at reddit.com/prefs/apps).",
                status=401,  # the credentials are refused: nothing of this source can work
                url=redact_url(response.request.url),
            )
        with _TOKENS_LOCK:
            _TOKENS[client_id] = (str(token), self.http.clock() + float(data.get("expires_in") or 3600))
        return str(token)

    def _get(self, spec: SourceSpec, path: str, params: Mapping[str, Any]) -> tuple[Any, str]:
        query = {**params, "raw_json": 1}
        if not self._oauth():
            base = str(spec.config.get("base_url") or PUBLIC_BASE).rstrip("/")
            data, response = self.http.fetch_json("GET", f"{base}{path}.json", params=query)
            return data, redact_url(response.request.url)
        base = str(spec.config.get("oauth_url") or OAUTH_BASE).rstrip("/")
        for attempt in range(2):
            headers = {"Authorization": f"bearer {self._token(spec, renew=attempt > 0)}"}
            data, response = self.http.fetch_json("GET", f"{base}{path}", params=query, headers=headers, allow=(401,))
            if response.status_code != 401:
                return data, redact_url(response.request.url)
            log.info("%s: Reddit token expired; fetching a new one", self.http.label)
        raise AuthError(
            "Reddit refused a fresh access token (401). Check the client id and secret.", status=401, url=base + path
        )

    # -- listings -----------------------------------------------------------------------------------

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        sub = subreddit(spec)
        query = (spec.query or "").strip()
        if sub and query:
            path, params = f"/r/{sub}/search", {"q": query, "restrict_sr": 1, "sort": "new", "t": "all"}
        elif sub:
            path, params = f"/r/{sub}/new", {}
        else:
            path, params = "/search", {"q": query, "sort": "new", "t": "all"}
        key = f"{path}?q={query}" if query else path
        return [Listing(key.lower(), lambda tok: self._listing(spec, path, params, tok))]

    def _listing(self, spec: SourceSpec, path: str, params: Mapping[str, Any], token: str | None) -> Page:
        query = {**params, "limit": PAGE_LIMIT}
        if token:
            query["after"] = token
        data, shown = self._get(spec, path, query)
        try:
            children = data["data"]["children"]
            after = data["data"].get("after")
        except (KeyError, TypeError) as exc:
            raise MalformedResponseError(f"{self.http.label}: {shown} is not a Reddit listing", url=shown) from exc
        threads: list[ThreadRef] = []

        def parse(child: Any) -> CollectedPost:
            post = self.parse_submission(child["data"])
            quiet = not child["data"].get("num_comments")
            threads.append(ThreadRef(str(child["data"]["id"]), post.external_id, post.created_at, quiet))
            return post

        items = [c for c in children if isinstance(c, dict) and c.get("kind") == "t3"]
        self.skip("not_a_post", len(children) - len(items))
        posts, errors = self.parse_items(items, parse, shown)
        return Page(posts=posts, next_token=after, url=shown, errors=errors, threads=threads, seen=len(children))

    # -- comment trees ------------------------------------------------------------------------------

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        """The comment tree of submission ``key``, completed over as many runs as it takes.

        ``/comments/<id>`` shows a few hundred comments; the rest sit behind "load more" stubs (ids, loaded
        100 at a time through ``/api/morechildren``) and "continue this thread" stubs (loaded through
        ``/comments/<id>/_/<comment>``). Each refresh spends at most ``max_more`` requests, comments never
        loaded before first; what is left is loaded by the next runs (the thread stays first in line), so a
        thread of any size is complete after enough runs. The comment ids the tree lists are its members;
        comments recorded earlier but missing now are checked through ``/api/info`` before they count as
        deleted."""
        link = f"t3_{key}"
        try:
            data, shown = self._get(spec, f"/comments/{key}", {"limit": 500, "sort": "new"})
        except NotFoundError:
            return ThreadResult(posts=[tombstone(self.platform, link, now=options.now)], gone=True)
        try:
            submissions = [c["data"] for c in data[0]["data"]["children"] if c.get("kind") == "t3"]
            top = data[1]["data"]["children"]
        except (KeyError, TypeError, IndexError, AttributeError) as exc:
            raise MalformedResponseError(f"{self.http.label}: {shown} is not a Reddit comment page", url=shown) from exc
        posts, errors = self.parse_items(submissions, self.parse_submission, shown)
        tree = CommentTree()
        tree.walk(top)
        known = load_members(entry)
        carried = list(entry.get("w") or [])  # ids listed in an earlier run, never loaded: asked for directly
        unvisited = list(entry.get("s") or [])  # "continue this thread" stubs found earlier, never followed
        queue = [str(k) for k in entry.get("q") or []]  # refreshes of known hidden parts, least recent first
        queued = set(queue)
        in_tree = set(tree.comments)
        budget = int(spec.config.get("max_more", MAX_MORE_REQUESTS))
        asked: set[str] = set()
        continued: set[str] = set()
        done: list[str] = []  # work keys ("m:<id>", "c:<parent>") done in this run, in order

        def never_loaded() -> list[str]:
            again = [i for i in carried if i not in asked and f"t1_{i}" not in tree.comments]
            fresh = [i for i in tree.waiting(asked) if f"t1_{i}" not in known]
            return list(dict.fromkeys(again + fresh))

        def never_followed() -> list[str]:
            stubs = dict.fromkeys(unvisited + tree.continued)
            return [p for p in stubs if p not in continued and f"c:{p}" not in queued]

        def refreshes() -> list[str]:
            hidden_known = [f"m:{i}" for i in tree.waiting(asked) if f"m:{i}" not in queued]
            return [k for k in dict.fromkeys(hidden_known + queue) if k not in done]

        while budget > 0:  # never loaded first, then never followed, then the least recently refreshed
            todo, stubs = never_loaded(), never_followed()
            if todo:
                batch = todo[:100]
            elif stubs:
                batch = []
                parent = stubs[0]
            else:
                order = refreshes()
                if not order:
                    break
                if order[0].startswith("c:"):
                    batch, parent = [], order[0][2:]
                else:
                    ids = [k[2:] for k in itertools.takewhile(lambda k: k.startswith("m:"), order)]
                    done.extend(f"m:{i}" for i in ids if f"t1_{i}" in tree.comments)  # loaded already this run
                    batch = [i for i in ids if f"t1_{i}" not in tree.comments][:100]
                    if not batch:
                        continue
            budget -= 1
            if batch:
                asked.update(batch)
                done.extend(f"m:{i}" for i in batch)
                self._more_children(spec, link, batch, tree, errors)
            else:
                continued.add(parent)
                done.append(f"c:{parent}")
                self._continue_thread(spec, key, parent, tree, errors)
        left, left_stubs = never_loaded(), never_followed()
        waiting = tree.waiting(asked)
        gone = {f"m:{i}" for i in asked if f"t1_{i}" not in tree.comments}
        kept = [k for k in dict.fromkeys([k for k in queue if k not in done] + done)
                if k not in gone and not (k.startswith("m:") and f"t1_{k[2:]}" in in_tree)]  # fmt: skip
        for name, values in (("w", left), ("s", left_stubs), ("q", kept)):
            if values:
                entry[name] = values
            else:
                entry.pop(name, None)
        entry.pop("c", None)
        entry.pop("o", None)
        pending = bool(left or left_stubs)
        hidden = list(dict.fromkeys(waiting + left))  # not loaded in this run (``left``: never loaded)
        if left or left_stubs:
            self.skip("deferred", len(left))
            log.info("%s: %d comments and %d deeper threads under %s are left for the next runs",
                     self.http.label, len(left), len(left_stubs), link)  # fmt: skip
        parsed, comment_errors = self.parse_items(list(tree.comments.values()), self.parse_comment, shown)
        members = {p.external_id: p.external_id for p in parsed if not p.deleted}
        members.update({f"t1_{i}": f"t1_{i}" for i in hidden})  # listed by Reddit and not loaded yet
        return ThreadResult(
            posts=posts + parsed,
            url=shown,
            errors=errors + comment_errors,
            snapshot=ThreadSnapshot(self.platform, link, frozenset(members.values())),
            members=members,
            pending=pending,
        )

    def _more_children(self, spec: SourceSpec, link: str, ids: list[str], tree: CommentTree, errors: list[str]) -> None:
        """Load up to 100 comments hidden behind "load more" stubs into ``tree``."""
        params = {"api_type": "json", "link_id": link, "children": ",".join(ids), "limit_children": "false",
                  "sort": "new"}  # fmt: skip
        data, shown = self._get(spec, "/api/morechildren", params)
        try:
            things = data["json"]["data"]["things"]
        except (KeyError, TypeError):
            message = (
                f"{self.http.label}: {shown} ist keine morechildren-Antwort; diese Kommentare lädt ein späterer Lauf."
            )
            log.warning("%s", message)
            errors.append(message)
            return
        tree.walk(things)

    def _continue_thread(self, spec: SourceSpec, key: str, parent: str, tree: CommentTree, errors: list[str]) -> None:
        """Load the replies behind a "continue this thread" stub under comment ``parent`` into ``tree``."""
        path = f"/comments/{key}/_/{parent.removeprefix('t1_')}"
        try:
            data, shown = self._get(spec, path, {"limit": 500, "sort": "new"})
            children = data[1]["data"]["children"]
        except NotFoundError:
            return  # the comment is gone, and with it the stub
        except (KeyError, TypeError, IndexError) as exc:
            message = (f"{self.http.label}: die Antworten unter {parent} waren nicht lesbar ({exc}); ein späterer "
                       "Lauf versucht es erneut.")  # fmt: skip
            log.warning("%s", message)
            errors.append(message)
            return
        tree.walk(children)

    def still_present(
        self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any], options: CollectOptions
    ) -> dict[str, str]:
        """Comments missing from the tree that ``/api/info`` still returns undeleted (hidden deeper than this run
        loaded); the ones beyond the request budget are kept unchecked."""
        names = list(members)
        checked = names[: INFO_BATCH * MAX_INFO_REQUESTS]
        keep = {n: members[n] for n in names[len(checked) :]}
        for start in range(0, len(checked), INFO_BATCH):
            batch = checked[start : start + INFO_BATCH]
            data, shown = self._get(spec, "/api/info", {"id": ",".join(batch)})
            try:
                things = data["data"]["children"]
            except (KeyError, TypeError) as exc:
                raise MalformedResponseError(f"{self.http.label}: {shown} is not a Reddit listing", url=shown) from exc
            for thing in things:
                item = thing.get("data") if isinstance(thing, dict) else None
                if isinstance(item, dict) and item.get("name") in members and item.get("body") not in GONE_TEXT:
                    keep[str(item["name"])] = members[str(item["name"])]
        return keep

    # -- parsing ------------------------------------------------------------------------------------

    def _identity(self, data: Mapping[str, Any]) -> CollectedIdentity | None:
        author = data.get("author")
        if not author or author in GONE_TEXT:
            return None
        return CollectedIdentity(
            platform=self.platform,
            account_id=str(data.get("author_fullname") or f"u/{author}"),
            handle=f"u/{author}",
            display_name=author,
            profile_url=f"https://www.reddit.com/user/{author}",
        )

    def parse_submission(self, data: Mapping[str, Any]) -> CollectedPost:
        selftext = str(data.get("selftext") or "")
        deleted = selftext in GONE_TEXT or bool(data.get("removed_by_category"))
        edited = data.get("edited")
        return CollectedPost(
            platform=self.platform,
            external_id=str(data.get("name") or f"t3_{data['id']}"),
            kind="post",
            url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else data.get("url"),
            text="" if deleted else submission_text(data),
            title=data.get("title"),
            created_at=from_epoch(data["created_utc"]),
            edited_at=from_epoch(edited) if edited and not isinstance(edited, bool) else None,
            deleted=deleted,
            metrics={
                "score": int(data.get("score") or 0),
                "comments": int(data.get("num_comments") or 0),
                "upvote_ratio": data.get("upvote_ratio"),
            },
            raw=dict(data),
            identity=self._identity(data),
        )

    def parse_comment(self, data: Mapping[str, Any]) -> CollectedPost:
        body = str(data.get("body") or "")
        deleted = body in GONE_TEXT
        edited = data.get("edited")
        raw = {k: v for k, v in data.items() if k != "replies"}
        return CollectedPost(
            platform=self.platform,
            external_id=str(data.get("name") or f"t1_{data['id']}"),
            kind="comment",
            url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else None,
            text="" if deleted else markdown_to_text(body),
            created_at=from_epoch(data["created_utc"]),
            edited_at=from_epoch(edited) if edited and not isinstance(edited, bool) else None,
            deleted=deleted,
            metrics={"score": int(data.get("score") or 0)},
            raw=raw,
            identity=self._identity(data),
            parent_external_id=data.get("parent_id"),
            root_external_id=data.get("link_id"),
        )


def submission_text(data: Mapping[str, Any]) -> str:
    """A submission's words: its Markdown as plain text, its poll's options, and where a link post points."""
    poll = data.get("poll_data")
    options = poll.get("options") if isinstance(poll, dict) else None
    url = str(data.get("url") or "")
    linked = url if url and not data.get("is_self", True) and "/comments/" not in url else ""
    return join_text(
        markdown_to_text(str(data.get("selftext") or "")),
        poll_note(o.get("text") for o in options or [] if isinstance(o, dict)),
        link_note(linked) if linked else "",
    )
