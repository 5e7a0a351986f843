"""Mastodon (any instance): hashtag timelines, account statuses, full-text search (with a token),
and the replies under each status (``/api/v1/statuses/:id/context``).

Source fields: ``query`` is ``#hashtag`` (tag timeline) or search words (needs
``RESONANZ_COLLECTORS__MASTODON_TOKEN``); ``account`` is ``@user@instance``; option
``instance`` is the server to ask (defaults to the account's server).

Posts are keyed on the status ``uri`` (the same on every instance), authors on the account
``uri`` (``url`` on old servers): handles move between instances and numeric ids are local.
Pages follow the ``Link`` header (``rel="next"`` carries ``max_id``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import ConfigurationError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, ThreadSnapshot, tombstone
from collectors.text import QUOTE_FALLBACK, html_to_text, join_text, language_code, media_note, poll_note, require_time

log = logging.getLogger(__name__)

PAGE_LIMIT = 40
ANONYMOUS_DESCENDANTS_LIMIT = 60  # Mastodon shortens contexts for logged-out requests
MAX_STATUS_CHECKS = 20
"""Statuses one thread refresh looks up when they vanished from its context."""
LOCATION_FIELDS = {"location", "ort", "standort", "wohnort", "stadt", "city", "heimat", "region", "wohnhaft"}


def instance_url(spec: SourceSpec) -> str:
    instance = str(spec.config.get("instance") or "").strip()
    if not instance and spec.account and spec.account.lstrip("@").count("@") == 1:
        instance = spec.account.lstrip("@").split("@", 1)[1]
    if not instance:
        raise ConfigurationError(
            f"Mastodon source {spec.name!r} needs a server to ask: add --option instance=mastodon.social "
            "(or give --account @user@server)."
        )
    if not instance.startswith(("http://", "https://")):
        instance = "https://" + instance
    return instance.rstrip("/")


def next_max_id(response: httpx.Response) -> str | None:
    """The ``max_id`` of the ``rel="next"`` link, if the server offers one."""
    link = response.links.get("next")
    if not link or not link.get("url"):
        return None
    values = parse_qs(urlsplit(link["url"]).query).get("max_id")
    return values[0] if values else None


class MastodonCollector(Collector):
    platform = "mastodon"
    overlap = timedelta(hours=6)
    """Remote statuses federate late (90-180 minutes are common, hours happen) but are sorted by their own
    time: each run re-reads this much below the newest status it saw. ``-o overlap_minutes=N`` per source."""

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        instance_url(spec)
        if not spec.query and not spec.account:
            raise ConfigurationError(
                f"Mastodon source {spec.name!r} needs --query '#hashtag' (or search words) or --account @user@server."
            )

    def _headers(self) -> dict[str, str]:
        token = self.credentials.mastodon_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        base = instance_url(spec)
        self._host = urlsplit(base).hostname or ""
        result: list[Listing] = []
        if spec.query:
            query = spec.query.strip()
            if query.startswith("#"):
                tag = query[1:]
                url = f"{base}/api/v1/timelines/tag/{quote(tag, safe='')}"
                result.append(Listing(f"tag:{tag.lower()}", partial(self._timeline, url, {}, state=state)))
            else:
                if not self.credentials.mastodon_token:
                    raise ConfigurationError(
                        "Mastodon full-text search needs an access token: set RESONANZ_COLLECTORS__MASTODON_TOKEN, "
                        "or follow a hashtag with --query '#tag'."
                    )
                result.append(
                    Listing(f"search:{query}", lambda tok: self._search(base, query, tok, state), sorted_by_time=False)
                )
        if spec.account:
            acct = spec.account.strip().lstrip("@")
            key = f"account:{acct.lower()}"
            result.append(Listing(key, lambda tok: self._account(base, acct, key, tok, state)))
        return result

    # -- listings -----------------------------------------------------------------------------------

    def _timeline(self, url: str, params: dict[str, Any], token: str | None, *, state: dict[str, Any]) -> Page:
        query: dict[str, Any] = {"limit": PAGE_LIMIT, **params}
        if token:
            query["max_id"] = token
        data, response = self.http.fetch_json("GET", url, params=query, headers=self._headers())
        shown = redact_url(response.request.url)
        if not isinstance(data, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} did not return a list of statuses", url=shown)
        return self._page(data, next_max_id(response), shown, state)

    def _search(self, base: str, q: str, token: str | None, state: dict[str, Any]) -> Page:
        query: dict[str, Any] = {"q": q, "type": "statuses", "limit": PAGE_LIMIT, "resolve": "false"}
        if token:
            query["max_id"] = token
        data, response = self.http.fetch_json("GET", f"{base}/api/v2/search", params=query, headers=self._headers())
        shown = redact_url(response.request.url)
        statuses = data.get("statuses") if isinstance(data, dict) else None
        if not isinstance(statuses, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} is not a search result", url=shown)
        next_token = str(statuses[-1].get("id")) if len(statuses) >= PAGE_LIMIT else None
        return self._page(statuses, next_token, shown, state)

    def _account(self, base: str, acct: str, key: str, token: str | None, state: dict[str, Any]) -> Page:
        stream = state.setdefault("streams", {}).setdefault(key, {})
        account_id = stream.get("account_id")
        if not account_id:
            found = self.http.get_json(f"{base}/api/v1/accounts/lookup", params={"acct": acct}, headers=self._headers())
            if not isinstance(found, dict) or not found.get("id"):
                raise MalformedResponseError(f"{self.http.label}: account lookup for {acct} gave no id", url=base)
            account_id = stream["account_id"] = str(found["id"])
        url = f"{base}/api/v1/accounts/{account_id}/statuses"
        return self._timeline(url, {"exclude_reblogs": "true"}, token, state=state)

    def _page(self, data: list[Any], next_token: str | None, url: str, state: dict[str, Any]) -> Page:
        known = {k: e.get("u") for k, e in state.get("threads", {}).items()}
        by_id = {str(s.get("id")): s.get("uri") for s in data if isinstance(s, dict)}
        threads: list[ThreadRef] = []

        def parse(status: Any) -> CollectedPost:
            parent_id = status.get("in_reply_to_id")
            parent = (by_id.get(str(parent_id)) or known.get(str(parent_id))) if parent_id else None
            post = self.parse_status(status, parent=parent)
            quiet = not status.get("replies_count") and not parent_id
            uri = post.external_id
            inner = status.get("reblog") or status
            threads.append(ThreadRef(str(inner["id"]), uri, post.created_at, quiet, {"u": uri}))
            return post

        posts, errors = self.parse_items(data, parse, url)
        return Page(posts=posts, next_token=next_token, url=url, errors=errors, threads=threads)

    # -- threads ------------------------------------------------------------------------------------

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        base = instance_url(spec)
        self._host = urlsplit(base).hostname or ""
        try:
            status = self.http.get_json(f"{base}/api/v1/statuses/{key}", headers=self._headers())
        except NotFoundError:
            uri = entry.get("u")
            return ThreadResult(posts=[tombstone(self.platform, uri, now=options.now)] if uri else [], gone=True)
        url = f"{base}/api/v1/statuses/{key}/context"
        context = self.http.get_json(url, headers=self._headers())
        if not isinstance(status, dict) or not isinstance(context, dict):
            raise MalformedResponseError(f"{self.http.label}: unexpected answer for status {key}", url=url)
        ancestors = [s for s in context.get("ancestors") or [] if isinstance(s, dict)]
        descendants = [s for s in context.get("descendants") or [] if isinstance(s, dict)]
        uris = {str(s.get("id")): s.get("uri") for s in [*ancestors, status, *descendants]}
        root = ancestors[0].get("uri") if ancestors else None
        focal_uri = status.get("uri")
        thread_root = root or focal_uri

        def parse(s: Any) -> CollectedPost:
            parent_id = s.get("in_reply_to_id")
            parent = uris.get(str(parent_id)) if parent_id else None
            is_root = s is status and not ancestors
            return self.parse_status(s, parent=parent, root=None if is_root else thread_root)

        posts, errors = self.parse_items([status, *descendants], parse, url)
        complete = bool(self.credentials.mastodon_token) or len(descendants) < ANONYMOUS_DESCENDANTS_LIMIT
        if ancestors or not focal_uri or not complete or errors:
            return ThreadResult(posts=posts, url=url, errors=errors)
        # the context leaves out a deleted status together with the replies under it: members recorded
        # earlier and missing now are looked up one by one (still_present) before they count as deleted
        members = {str(s.get("id")): str(s.get("uri")) for s in descendants if s.get("uri")}
        snapshot = ThreadSnapshot(self.platform, focal_uri, frozenset(members.values()))
        return ThreadResult(posts=posts, url=url, errors=errors, snapshot=snapshot, members=members)

    def still_present(
        self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any], options: CollectOptions
    ) -> dict[str, str]:
        """Statuses missing from a context that ``/api/v1/statuses/:id`` still returns (replies under a deleted
        status); those beyond :data:`MAX_STATUS_CHECKS` per thread are kept and checked in a later run."""
        base = instance_url(spec)
        ids = list(members)
        keep = {i: members[i] for i in ids[MAX_STATUS_CHECKS:]}
        for status_id in ids[:MAX_STATUS_CHECKS]:
            try:
                found = self.http.get_json(f"{base}/api/v1/statuses/{status_id}", headers=self._headers())
            except NotFoundError:
                continue
            if isinstance(found, dict) and found.get("uri"):
                keep[status_id] = members[status_id]
        return keep

    def member_key(self, post: CollectedPost) -> str:
        """The status id on the instance asked (what ``/api/v1/statuses/:id`` takes)."""
        return str(post.raw.get("id") or post.external_id)

    # -- parsing ------------------------------------------------------------------------------------

    def parse_status(
        self, status: Mapping[str, Any], *, parent: str | None = None, root: str | None = None
    ) -> CollectedPost:
        if status.get("reblog"):
            status = status["reblog"]
        uri = status["uri"]
        if not isinstance(uri, str) or not uri:
            raise ValueError("status without uri")
        spoiler = (status.get("spoiler_text") or "").strip() or None
        edited = status.get("edited_at")
        return CollectedPost(
            platform=self.platform,
            external_id=uri,
            kind="comment" if status.get("in_reply_to_id") else "post",
            url=status.get("url") or uri,
            text=status_text(status),
            title=spoiler,
            language=language_code(status.get("language")),
            created_at=require_time(status["created_at"], "created_at"),
            edited_at=require_time(edited, "edited_at") if edited else None,
            metrics={
                "replies": int(status.get("replies_count") or 0),
                "reblogs": int(status.get("reblogs_count") or 0),
                "favourites": int(status.get("favourites_count") or 0),
            },
            raw=dict(status),
            identity=self.parse_account(status["account"]),
            parent_external_id=parent,
            root_external_id=root,
        )

    def parse_account(self, account: Mapping[str, Any]) -> CollectedIdentity:
        account_id = account.get("uri") or account["url"]
        acct = account.get("acct") or account["username"]
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{getattr(self, '_host', '')}".rstrip("@")
        location = None
        for item in account.get("fields") or []:
            if isinstance(item, dict) and str(item.get("name", "")).strip().lower() in LOCATION_FIELDS:
                location = html_to_text(item.get("value")) or None
                break
        return CollectedIdentity(
            platform=self.platform,
            account_id=account_id,
            handle=handle,
            display_name=account.get("display_name") or account.get("username"),
            profile_url=account.get("url"),
            bio=html_to_text(account.get("note")) or None,
            location=location,
        )


def status_text(status: Mapping[str, Any]) -> str:
    """The words of a status: its content without the ``RE: <link>`` fallback line of a quote post, then its poll
    options and the descriptions (alt text) of its media, so a post of only a picture is not empty."""
    poll = status.get("poll")
    options = poll.get("options") if isinstance(poll, dict) else None
    media = [m for m in status.get("media_attachments") or [] if isinstance(m, dict)]
    return join_text(
        html_to_text(status.get("content"), QUOTE_FALLBACK),
        poll_note(o.get("title") for o in options or [] if isinstance(o, dict)),
        *(media_note(m.get("type"), m.get("description")) for m in media),
    )
