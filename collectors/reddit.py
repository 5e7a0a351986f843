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

import logging
import threading
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import AuthError, ConfigurationError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, tombstone
from collectors.text import from_epoch

log = logging.getLogger(__name__)

PUBLIC_BASE = "https://www.reddit.com"
OAUTH_BASE = "https://oauth.reddit.com"
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
PAGE_LIMIT = 100
GONE_TEXT = {"[deleted]", "[removed]"}

_TOKENS: dict[str, tuple[str, float]] = {}  # client id -> (token, expiry); shared by the runs of one process
_TOKENS_LOCK = threading.Lock()


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
                status=response.status_code,
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
        posts, errors = self.parse_items(items, parse, shown)
        return Page(posts=posts, next_token=after, url=shown, errors=errors, threads=threads, seen=len(children))

    # -- comment trees ------------------------------------------------------------------------------

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        try:
            data, shown = self._get(spec, f"/comments/{key}", {"limit": 500, "sort": "new"})
        except NotFoundError:
            return ThreadResult(posts=[tombstone(self.platform, f"t3_{key}", now=options.now)], gone=True)
        if not isinstance(data, list) or len(data) < 2:
            raise MalformedResponseError(f"{self.http.label}: {shown} is not a Reddit comment page", url=shown)
        submissions = [c["data"] for c in data[0]["data"]["children"] if c.get("kind") == "t3"]
        posts, errors = self.parse_items(submissions, self.parse_submission, shown)
        comments: list[Mapping[str, Any]] = []
        more: list[str] = []
        stack = list(reversed(data[1]["data"]["children"]))
        while stack:
            thing = stack.pop()
            if not isinstance(thing, dict):
                continue
            if thing.get("kind") == "t1":
                comments.append(thing["data"])
                replies = thing["data"].get("replies")
                if isinstance(replies, dict):
                    stack.extend(reversed(replies.get("data", {}).get("children", [])))
            elif thing.get("kind") == "more":
                more.extend(str(c) for c in thing.get("data", {}).get("children") or [])
        comments.extend(self._more_children(spec, f"t3_{key}", more, errors))
        parsed, comment_errors = self.parse_items(comments, self.parse_comment, shown)
        return ThreadResult(posts=posts + parsed, url=shown, errors=errors + comment_errors)

    def _more_children(
        self, spec: SourceSpec, link_id: str, ids: list[str], errors: list[str]
    ) -> list[Mapping[str, Any]]:
        """Load comments hidden behind ``more`` stubs: 100 ids a request, at most ``max_more`` requests."""
        budget = int(spec.config.get("max_more", 3))
        found: list[Mapping[str, Any]] = []
        queue = list(dict.fromkeys(ids))
        while queue and budget > 0:
            batch, queue = queue[:100], queue[100:]
            budget -= 1
            params = {"api_type": "json", "link_id": link_id, "children": ",".join(batch), "limit_children": "false"}
            data, shown = self._get(spec, "/api/morechildren", params)
            try:
                things = data["json"]["data"]["things"]
            except (KeyError, TypeError):
                errors.append(f"{self.http.label}: {shown} is not a morechildren answer; those comments are skipped")
                continue
            for thing in things:
                if thing.get("kind") == "t1":
                    found.append(thing["data"])
                elif thing.get("kind") == "more":
                    queue.extend(str(c) for c in thing.get("data", {}).get("children") or [])
        if queue:
            log.info("%s: %d more comments under %s left for a later run", self.http.label, len(queue), link_id)
        return found

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
            text="" if deleted else selftext,
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
            text="" if deleted else body,
            created_at=from_epoch(data["created_utc"]),
            edited_at=from_epoch(edited) if edited and not isinstance(edited, bool) else None,
            deleted=deleted,
            metrics={"score": int(data.get("score") or 0)},
            raw=raw,
            identity=self._identity(data),
            parent_external_id=data.get("parent_id"),
            root_external_id=data.get("link_id"),
        )
