"""Meta Graph API: a brand's own Facebook Page and Instagram professional account.

Credentials: ``RESONANZ_COLLECTORS__META_ACCESS_TOKEN``, a Page access token (or a System User token
from the Business Manager with the Page and its Instagram account assigned; neither expires), sent
as ``Authorization: Bearer``, never in URLs. Permissions: ``pages_read_engagement`` and
``pages_read_user_content`` (Page posts and comments), ``instagram_basic`` and
``instagram_manage_comments`` (Instagram). Optional ``RESONANZ_COLLECTORS__META_APP_SECRET`` adds
``appsecret_proof`` to every call (required when the app has "Require App Secret" switched on).
Option ``graph_version`` (default :data:`GRAPH_VERSION`).

**Facebook** (platform ``facebook``): ``account`` is the Page id (or its username, resolved once).
The listing is ``GET /{page}/feed`` (the Page's posts and visitors' posts, newest first,
``paging.next``); every post is then followed as a thread for ``reply_lookback``: ``GET
/{post}/comments?filter=stream&order=reverse_chronological`` returns comments and replies in one
list (``parent`` points to the comment answered). A complete refresh hands out a snapshot, so
deleted comments are marked deleted; a deleted post (error 100/33) becomes a tombstone, and its comments
(Facebook deletes them with it) are marked deleted too. The same holds for Instagram media.

**Instagram** (platform ``instagram``): ``account`` is the Instagram professional account id
(``17841...``). Listings: ``GET /{ig-user}/media`` (own media, newest first) and ``GET
/{ig-user}/tags`` (media others published and tagged the brand in: the *mentions*; not strictly
sorted, so read until a page holds nothing new). Own media are followed as threads: ``GET
/{media}/comments`` with the ``replies`` of each comment (further reply pages are followed).
@mentions in captions or comments without a tag reach apps only through webhooks
(``mentioned_media``/``mentioned_comment``) and are not collected here.

Owned channels see most comments days after a post: raise ``--option reply_lookback_hours=336``
to follow posts for two weeks.

Pagination: ``paging.next`` (cursor ``after`` or time-based ``until``/``__paging_token``) is the
page token, stored without ``access_token``/``appsecret_proof`` and followed only on
graph.facebook.com. Errors come as ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}``: code 190 (token expired or revoked) stops the run with what to do; codes 4, 17,
32, 613 and 80001-80009 (app, user, Page and business-use-case rate limits) back off and retry,
waiting as long as ``X-Business-Use-Case-Usage`` estimates (``estimated_time_to_regain_access``,
minutes) -- beyond the client's ``max_wait`` the run ends cleanly and the next one resumes. Usage
headers (``X-App-Usage``, ``X-Page-Usage``, ``X-Business-Use-Case-Usage``) at 95 % or more pause
the run before the limit is hit. Permission errors (10, 200-299) are reported with the permissions
needed; the other listings go on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import Any

import httpx

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import (
    AuthError,
    ConfigurationError,
    HttpStatusError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from collectors.http import redact_url
from collectors.items import (
    CollectedIdentity,
    CollectedPost,
    CollectOptions,
    SourceSpec,
    ThreadSnapshot,
    tombstone,
)
from collectors.text import normalise_whitespace, require_time

log = logging.getLogger(__name__)

GRAPH = "https://graph.facebook.com"
GRAPH_VERSION = "v24.0"
TOKEN_ENV = "RESONANZ_COLLECTORS__META_ACCESS_TOKEN"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80001, 80010)})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TOKEN_CODES = frozenset({102, 190})
RATE_LIMIT_RETRIES = 3
RATE_LIMIT_WAIT = 60.0
"""Seconds to wait after a rate-limit error without an estimate (doubling per retry)."""
USAGE_PAUSE_AT = 95.0
"""Percent of an app/Page/business-use-case budget at which the run pauses before the next call."""
USAGE_PAUSE = 300.0
MAX_THREAD_PAGES = 10
"""Comment pages per thread refresh. A thread with more is read on where it stopped by the next runs (the ids
seen so far stay in its cursor entry), so the snapshot at the end of the pass covers the whole thread."""
PASS_KEYS = ("c", "cs", "ce")
"""A thread entry's pass over its comments that a later run goes on with: where to continue (``c``), the ids seen
so far (``cs``), whether a page had unreadable items (``ce``: then the pass ends without a snapshot)."""
STRIPPED = frozenset({"access_token", "appsecret_proof"})
_USAGE_HEADERS = ("x-app-usage", "x-page-usage", "x-ad-account-usage")
_TOKEN_ADVICE = {
    463: "ist abgelaufen",
    460: "gilt nicht mehr, weil das Passwort des Kontos geändert wurde",
    458: "gilt nicht mehr, weil die App entfernt wurde",
    467: "ist ungültig",
}

FB_POST_FIELDS = ("id,message,story,created_time,updated_time,permalink_url,from{id,name},"
                  "comments.summary(true).limit(0),reactions.summary(true).limit(0),shares")  # fmt: skip
FB_COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id},like_count,comment_count,permalink_url"
IG_MEDIA_FIELDS = "id,caption,timestamp,permalink,media_type,media_product_type,like_count,comments_count,username"
IG_TAG_FIELDS = "id,caption,timestamp,permalink,media_type,like_count,comments_count,username"
IG_REPLY_FIELDS = "id,text,timestamp,username,like_count,from{id,username},parent_id"
IG_COMMENT_FIELDS = f"{IG_REPLY_FIELDS},replies{{{IG_REPLY_FIELDS}}}"


def _usage_percent(raw: str | None) -> float:
    try:
        data = json.loads(raw) if raw else None
    except ValueError:
        return 0.0
    if not isinstance(data, dict):
        return 0.0
    values = [
        float(v) for k, v in data.items() if k != "estimated_time_to_regain_access" and isinstance(v, int | float)
    ]
    return max(values, default=0.0)


def usage(headers: Mapping[str, str]) -> tuple[float, float]:
    """``(highest usage in percent, seconds until access is regained)`` from Graph API usage headers."""
    percent = max((_usage_percent(headers.get(h)) for h in _USAGE_HEADERS), default=0.0)
    regain = 0.0
    try:
        buc = json.loads(headers.get("x-business-use-case-usage") or "{}")
    except ValueError:
        buc = {}
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                if not isinstance(entry, dict):
                    continue
                percent = max(percent, _usage_percent(json.dumps(entry)))
                regain = max(regain, float(entry.get("estimated_time_to_regain_access") or 0) * 60.0)
    return percent, regain


class MetaCollector(Collector):
    """Graph API calls shared by the Facebook and Instagram collectors."""

    overlap = timedelta(minutes=30)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pause_until = 0.0

    def _token(self) -> str:
        if not self.credentials.meta_access_token:
            raise ConfigurationError(
                f"Facebook und Instagram brauchen einen Zugriffstoken: setze {TOKEN_ENV} auf einen Page-Token "
                "(Graph API: langlebiger Nutzer-Token, dann /me/accounts) oder den Token eines System-Users im "
                "Business Manager, dem die Seite und das Instagram-Konto zugewiesen sind."
            )
        return self.credentials.meta_access_token

    def _base(self, spec: SourceSpec) -> str:
        root = str(spec.config.get("api_url") or GRAPH).rstrip("/")
        return f"{root}/{spec.config.get('graph_version') or GRAPH_VERSION}"

    def _wait(self, seconds: float, why: str) -> None:
        if seconds > self.http.policy.max_wait:
            raise RateLimitedError(
                f"{self.http.label}: {why}; Meta gibt erst in {seconds / 60:.0f} Minuten wieder Daten heraus. Der Lauf "
                "endet hier, der nächste macht an derselben Stelle weiter.",
                retry_at=self.http.clock() + seconds,
            )
        log.info("%s: %s; waiting %.0f s", self.http.label, why, seconds)
        self.http.sleep(seconds)

    def _request_url(
        self, spec: SourceSpec, target: str, params: Mapping[str, Any] | None
    ) -> tuple[str, dict[str, Any]]:
        """The URL without query and the parameters to send, for a path or a stored ``paging.next`` URL."""
        if target.startswith(("https://", "http://")):
            parsed = httpx.URL(target)
            if parsed.host != httpx.URL(self._base(spec)).host:
                raise MalformedResponseError(
                    f"{self.http.label}: ein Weiter-Link zeigt auf einen anderen Host ({redact_url(target)}); "
                    "nicht gefolgt.",
                    url=redact_url(target),
                )
            query = {k: v for k, v in parsed.params.multi_items() if k not in STRIPPED}
            url = str(parsed.copy_with(query=None))
        else:
            query, url = {}, f"{self._base(spec)}/{target.lstrip('/')}"
        query.update(params or {})
        if self.credentials.meta_app_secret:
            key = self.credentials.meta_app_secret.encode()
            query["appsecret_proof"] = hmac.new(key, self._token().encode(), hashlib.sha256).hexdigest()
        return url, query

    def graph(self, spec: SourceSpec, target: str, params: Mapping[str, Any] | None, what: str) -> tuple[Any, str]:
        """GET a Graph API path (or a stored ``paging.next`` URL); raise a collector error for Graph errors."""
        url, query = self._request_url(spec, target, params)
        headers = {"Authorization": f"Bearer {self._token()}"}
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            pause = self._pause_until - self.http.clock()
            if pause > 0:
                self._wait(pause, "das Nutzungskontingent der Graph API ist fast aufgebraucht")
            data, response = self.http.fetch_json("GET", url, params=query, headers=headers,
                                                  allow=(400, 401, 403, 404))  # fmt: skip
            shown = redact_url(response.request.url)
            percent, regain = usage(response.headers)
            if regain > 0 or percent >= USAGE_PAUSE_AT:
                self._pause_until = self.http.clock() + max(regain, USAGE_PAUSE if percent >= USAGE_PAUSE_AT else 0.0)
            if response.status_code < 300:
                if not isinstance(data, dict):
                    raise MalformedResponseError(f"{self.http.label}: {shown} ist kein JSON-Objekt.", url=shown)
                return data, shown
            error = data.get("error") if isinstance(data, dict) else None
            error = error if isinstance(error, dict) else {}
            code = int(error.get("code") or 0)
            subcode = int(error.get("error_subcode") or 0)
            message = str(error.get("message") or response.status_code)
            detail = f"{message} (code {code}" + (f", subcode {subcode}" if subcode else "") + ")"
            if code in RATE_LIMIT_CODES:
                if attempt == RATE_LIMIT_RETRIES:
                    raise RateLimitedError(
                        f"{self.http.label}: {what}: Meta drosselt weiterhin ({detail}). Der Lauf endet hier, der "
                        "nächste macht an derselben Stelle weiter; bei Dauerdrosselung ein längeres Intervall wählen.",
                        retry_at=self.http.clock() + RATE_LIMIT_WAIT,
                    )
                self._pause_until = 0.0
                self._wait(regain or RATE_LIMIT_WAIT * 2**attempt, f"{what}: Meta drosselt ({detail})")
                continue
            if code in TOKEN_CODES:
                state = _TOKEN_ADVICE.get(subcode, "ist abgelaufen oder ungültig")
                raise AuthError(
                    f"{self.http.label}: der Meta-Zugriffstoken {state} ({detail}). Erzeuge einen neuen, der nicht "
                    f"abläuft -- Page-Token über einen langlebigen Nutzer-Token (/me/accounts) oder System-User-Token "
                    f"im Business Manager -- und trage ihn in {TOKEN_ENV} ein.",
                    status=401,
                    url=shown,
                    body=message,
                )
            if code in PERMISSION_CODES or response.status_code in (401, 403):
                raise AuthError(
                    f"{self.http.label}: {what}: keine Berechtigung ({detail}). Der Token braucht "
                    "pages_read_engagement und pages_read_user_content (Facebook) bzw. instagram_basic und "
                    "instagram_manage_comments (Instagram), und die Seite/das Konto muss ihm zugewiesen sein.",
                    status=403,
                    url=shown,
                    body=message,
                )
            if (code == 100 and subcode == 33) or response.status_code == 404:
                raise NotFoundError(f"{self.http.label}: {what} gibt es nicht (mehr) ({detail}).", status=404,
                                    url=shown, body=message)  # fmt: skip
            raise HttpStatusError(f"{self.http.label}: {what}: {shown} antwortete {response.status_code} ({detail}).",
                                  status=response.status_code, url=shown, body=message)  # fmt: skip
        raise AssertionError("unreachable")  # pragma: no cover

    def end_pass(self, key: str, entry: dict[str, Any], result: ThreadResult, later: str | list[list[str]] | None,
                 seen: set[str]) -> ThreadResult:  # fmt: skip
        """A refresh that stopped at :data:`MAX_THREAD_PAGES`: keep where to go on (``later``) and what was seen in
        the entry; a refresh that reached the end: the snapshot of the whole pass (unless a page was unreadable)."""
        faulty = bool(entry.get("ce")) or bool(result.errors)
        if later:
            entry.update(c=later, cs=sorted(seen), ce=faulty)
            result.pending = True
            return result
        for name in PASS_KEYS:
            entry.pop(name, None)
        if not faulty:
            result.snapshot = ThreadSnapshot(self.platform, key, frozenset(seen))
        return result

    def gone(self, key: str, options: CollectOptions) -> ThreadResult:
        """The post (media) is gone (error 100/33), and with it every comment and reply under it: its tombstone,
        and an empty snapshot of the thread, so that the store marks the stored comments deleted too."""
        return ThreadResult(posts=[tombstone(self.platform, key, now=options.now)], gone=True,
                            snapshot=ThreadSnapshot(self.platform, key, frozenset()))  # fmt: skip

    def page_of(self, spec: SourceSpec, target: str, params: Mapping[str, Any] | None, what: str,
                parse: Callable[[Any], CollectedPost | None]) -> tuple[Page, list[Any]]:  # fmt: skip
        """One listing page: its parsed posts, the next-page token (stored without credentials) and the items."""
        data, shown = self.graph(spec, target, params, what)
        items = data.get("data")
        if not isinstance(items, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} enthält keine Liste 'data'.", url=shown)
        posts, errors = self.parse_items(items, parse, shown)
        return Page(posts=posts, next_token=clean_next(data), url=shown, errors=errors, seen=len(items)), items


def clean_next(data: Mapping[str, Any]) -> str | None:
    """``paging.next`` without the credentials Meta echoes into it."""
    link = (data.get("paging") or {}).get("next")
    if not link:
        return None
    parsed = httpx.URL(str(link))
    return str(parsed.copy_with(params=[(k, v) for k, v in parsed.params.multi_items() if k not in STRIPPED]))


def _summary_count(value: Any) -> int:
    return int(((value or {}).get("summary") or {}).get("total_count") or 0) if isinstance(value, Mapping) else 0


# -- Facebook --------------------------------------------------------------------------------------


class FacebookPageCollector(MetaCollector):
    platform = "facebook"

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not (spec.account or "").strip():
            raise ConfigurationError(
                f"Die Facebook-Quelle {spec.name!r} braucht --account mit der ID (oder dem Nutzernamen) der Seite."
            )

    def _page_id(self, spec: SourceSpec, state: dict[str, Any]) -> str:
        account = str(spec.account).strip().strip("/").rsplit("/", 1)[-1]
        if account.isdigit():
            return account
        known = state.get("page") or {}
        if known.get("name") == account and known.get("id"):
            return str(known["id"])
        data, _ = self.graph(spec, account, {"fields": "id,name"}, f"die Seite {account!r}")
        state["page"] = {"name": account, "id": str(data["id"]), "title": data.get("name")}
        return str(data["id"])

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        self._token()
        page_id = self._page_id(spec, state)
        return [Listing(f"fb:{page_id}:feed", partial(self._feed, spec, page_id))]

    def _feed(self, spec: SourceSpec, page_id: str, token: str | None) -> Page:
        params = None if token else {"fields": FB_POST_FIELDS, "limit": 100}
        page, _ = self.page_of(spec, token or f"{page_id}/feed", params, f"die Beiträge der Seite {page_id}",
                               self.parse_post)  # fmt: skip
        page.threads = [ThreadRef(p.external_id, p.external_id, p.created_at, complete=not p.metrics["comments"])
                        for p in page.posts]  # fmt: skip
        return page

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        params = {"fields": FB_COMMENT_FIELDS, "filter": "stream", "order": "reverse_chronological", "limit": 100}
        resume = entry.get("c")  # a pass an earlier run stopped at MAX_THREAD_PAGES: go on there
        target: str | None = str(resume) if resume else f"{key}/comments"
        seen = set(entry.get("cs") or []) if resume else set()
        posts: list[CollectedPost] = []
        errors: list[str] = []
        url: str | None = None
        for number in range(MAX_THREAD_PAGES):
            assert target is not None
            try:
                page, _ = self.page_of(spec, target, params if number == 0 and not resume else None,
                                       f"die Kommentare zu {key}", lambda c: self.parse_comment(c, key))  # fmt: skip
            except NotFoundError:
                return self.gone(key, options)
            except HttpStatusError:
                for name in PASS_KEYS:  # the stored next link may be stale: the next run starts the pass again
                    entry.pop(name, None)
                raise
            posts.extend(page.posts)
            errors.extend(page.errors)
            url = url or page.url
            target = page.next_token
            if not target:
                break
        seen |= {p.external_id for p in posts}
        return self.end_pass(key, entry, ThreadResult(posts=posts, url=url, errors=errors), target, seen)

    @staticmethod
    def _identity(author: Any) -> CollectedIdentity | None:
        if not isinstance(author, Mapping) or not author.get("id"):
            return None
        return CollectedIdentity(platform="facebook", account_id=str(author["id"]), display_name=author.get("name"),
                                 profile_url=f"https://www.facebook.com/{author['id']}")  # fmt: skip

    def parse_post(self, post: Mapping[str, Any]) -> CollectedPost:
        """A Page post; one without ``message`` (a photo, "... updated their cover photo") is kept with empty text
        (not scored, the ``story`` stays in ``raw``) so that the comments under it are still followed."""
        text = normalise_whitespace(str(post.get("message") or ""))
        return CollectedPost(
            platform=self.platform,
            external_id=str(post["id"]),
            kind="post",
            url=post.get("permalink_url"),
            text=text,
            created_at=require_time(post["created_time"], "created_time"),
            metrics={
                "comments": _summary_count(post.get("comments")),
                "reactions": _summary_count(post.get("reactions")),
                "shares": int((post.get("shares") or {}).get("count") or 0),
            },
            raw=dict(post),
            identity=self._identity(post.get("from")),
        )

    def parse_comment(self, comment: Mapping[str, Any], post_id: str) -> CollectedPost:
        parent = (comment.get("parent") or {}).get("id")
        return CollectedPost(
            platform=self.platform,
            external_id=str(comment["id"]),
            kind="comment",
            url=comment.get("permalink_url"),
            text=normalise_whitespace(str(comment.get("message") or "")),
            created_at=require_time(comment["created_time"], "created_time"),
            metrics={"likes": int(comment.get("like_count") or 0), "replies": int(comment.get("comment_count") or 0)},
            raw=dict(comment),
            identity=self._identity(comment.get("from")),
            parent_external_id=str(parent) if parent else post_id,
            root_external_id=post_id,
        )


# -- Instagram -------------------------------------------------------------------------------------


def _ig_identity(account: Any, username: Any) -> CollectedIdentity | None:
    if not account:
        return None
    profile = f"https://www.instagram.com/{username}/" if username else None
    return CollectedIdentity(platform="instagram", account_id=str(account), handle=username, profile_url=profile)


class InstagramCollector(MetaCollector):
    platform = "instagram"

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not re.fullmatch(r"\d+", (spec.account or "").strip()):
            raise ConfigurationError(
                f"Die Instagram-Quelle {spec.name!r} braucht --account mit der ID des Instagram-Professional-Kontos "
                "(17841..., Graph API: /{page-id}?fields=instagram_business_account)."
            )

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        self._token()
        user = str(spec.account).strip()
        return [
            Listing(f"ig:{user}:media", partial(self._media, spec, user)),
            Listing(f"ig:{user}:tags", partial(self._tags, spec, user), sorted_by_time=False),
        ]

    def _media(self, spec: SourceSpec, user: str, token: str | None) -> Page:
        params = None if token else {"fields": IG_MEDIA_FIELDS, "limit": 50}
        page, _ = self.page_of(spec, token or f"{user}/media", params, f"die Beiträge von {user}",
                               lambda m: self.parse_media(m, user))  # fmt: skip
        page.threads = [ThreadRef(p.external_id, p.external_id, p.created_at, complete=not p.metrics["comments"])
                        for p in page.posts]  # fmt: skip
        return page

    def _tags(self, spec: SourceSpec, user: str, token: str | None) -> Page:
        params = None if token else {"fields": IG_TAG_FIELDS, "limit": 50}
        page, _ = self.page_of(spec, token or f"{user}/tags", params, f"die Markierungen von {user}",
                               lambda m: self.parse_media(m, None))  # fmt: skip
        return page

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        posts: list[CollectedPost] = []
        errors: list[str] = []
        resume = entry.get("c")  # a pass an earlier run stopped at MAX_THREAD_PAGES: go on there
        # (target, answered comment id)
        pending: list[tuple[str, str]] = [(str(t), str(p)) for t, p in resume] if resume else [(f"{key}/comments", "")]
        seen = set(entry.get("cs") or []) if resume else set()
        url: str | None = None
        calls = 0
        while pending and calls < MAX_THREAD_PAGES:
            target, parent = pending.pop(0)
            params = None if target.startswith("http") else {
                "fields": IG_REPLY_FIELDS if parent else IG_COMMENT_FIELDS, "limit": 50}  # fmt: skip
            calls += 1
            try:
                data, shown = self.graph(spec, target, params, f"die Kommentare zu {key}")
            except NotFoundError:
                if parent:
                    continue  # the answered comment is gone; its replies with it
                return self.gone(key, options)
            except HttpStatusError:
                for name in PASS_KEYS:  # a stored next link may be stale: the next run starts the pass again
                    entry.pop(name, None)
                raise
            url = url or shown
            items = data.get("data")
            if not isinstance(items, list):
                raise MalformedResponseError(f"{self.http.label}: {shown} enthält keine Liste 'data'.", url=shown)
            found, problems = self.parse_items(items, partial(self.parse_comment, media_id=key, parent=parent), shown)
            posts.extend(found)
            errors.extend(problems)
            if not parent:
                for item in items:
                    replies = item.get("replies") if isinstance(item, Mapping) else None
                    if not isinstance(replies, Mapping):
                        continue
                    answered = str(item.get("id"))
                    parse_reply = partial(self.parse_comment, media_id=key, parent=answered)
                    more, trouble = self.parse_items(replies.get("data") or [], parse_reply, shown)
                    posts.extend(more)
                    errors.extend(trouble)
                    if clean_next(replies):
                        pending.append((str(clean_next(replies)), answered))
            following = clean_next(data)
            if following:
                pending.insert(0, (following, parent))
        seen |= {p.external_id for p in posts}
        later = [list(item) for item in pending]
        return self.end_pass(key, entry, ThreadResult(posts=posts, url=url, errors=errors), later, seen)

    def parse_media(self, media: Mapping[str, Any], owner: str | None) -> CollectedPost:
        username = media.get("username")
        # tagged media: the owner's id is not in the tags edge, their username is
        account = owner or (f"@{username}" if username else None)
        identity = _ig_identity(account, username)
        return CollectedPost(
            platform=self.platform,
            external_id=str(media["id"]),
            kind="post",
            url=media.get("permalink"),
            text=normalise_whitespace(str(media.get("caption") or "")),
            created_at=require_time(media["timestamp"], "timestamp"),
            metrics={
                "likes": int(media.get("like_count") or 0),
                "comments": int(media.get("comments_count") or 0),
                "media_type": media.get("media_type"),
                "tagged": owner is None,
            },
            raw=dict(media),
            identity=identity,
        )

    def parse_comment(self, comment: Mapping[str, Any], media_id: str, parent: str = "") -> CollectedPost:
        author = comment.get("from") or {}
        username = author.get("username") or comment.get("username")
        account = author.get("id") or (f"@{username}" if username else None)
        answered = comment.get("parent_id") or parent
        return CollectedPost(
            platform=self.platform,
            external_id=str(comment["id"]),
            kind="comment",
            url=None,
            text=normalise_whitespace(str(comment.get("text") or "")),
            created_at=require_time(comment["timestamp"], "timestamp"),
            metrics={"likes": int(comment.get("like_count") or 0)},
            raw=dict(comment),
            identity=_ig_identity(account, username),
            parent_external_id=str(answered) if answered else media_id,
            root_external_id=media_id,
        )
