"""YouTube Data API v3: comment threads and replies for videos or a whole channel.

Source fields: ``query`` is one or more video ids or URLs (comma or space separated);
``account`` a channel id (``UC...``: every thread on the channel's videos). Needs
``RESONANZ_COLLECTORS__YOUTUBE_API_KEY`` (sent as ``X-Goog-Api-Key``, never in URLs).

Quota: every list call costs 1 unit of the project's daily quota (10,000 by default), which
resets at midnight Pacific time. The units this source spent today are kept in its cursor
(``quota``); when the next call would exceed ``daily_quota`` (option, default
``RESONANZ_COLLECTORS__YOUTUBE_DAILY_QUOTA``) the run stops cleanly with
:class:`QuotaExhaustedError`; everything fetched so far is stored.

Deletions: a thread that ``commentThreads?id=`` no longer returns becomes a tombstone (its replies
go with it). A refresh that read every reply of a thread (all of them inline, or every page of
``comments?parentId=``) hands out a snapshot; a stored reply missing from it is looked up with
``comments?id=`` and marked deleted only when YouTube no longer knows it. A thread with more replies
than one refresh reads (``MAX_REPLY_PAGES`` pages) is read on by the next runs from the page where the
last one stopped (``more`` in its cursor entry, refreshed before other threads); the snapshot then holds
the replies of every page of that pass.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult
from collectors.errors import (
    AuthError,
    ConfigurationError,
    HttpStatusError,
    MalformedResponseError,
    QuotaExhaustedError,
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
from collectors.text import require_time

log = logging.getLogger(__name__)

API = "https://www.googleapis.com/youtube/v3"
PACIFIC = ZoneInfo("America/Los_Angeles")
PAGE_LIMIT = 100
MAX_REPLY_PAGES = 10
MAX_IDS = 50
"""Comment ids per ``comments.list?id=`` call."""
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded"}
_VIDEO_ID = re.compile(r"(?:v=|youtu\.be/|shorts/|embed/)([A-Za-z0-9_-]{11})")


def video_ids(query: str | None) -> list[str]:
    ids: list[str] = []
    for part in re.split(r"[\s,]+", query or ""):
        if not part:
            continue
        match = _VIDEO_ID.search(part)
        ids.append(match.group(1) if match else part)
    return list(dict.fromkeys(ids))


class CommentsDisabled(HttpStatusError):
    """The video does not allow comments (not an error of the run)."""


class YouTubeCollector(Collector):
    platform = "youtube"
    overlap = timedelta(minutes=30)

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not video_ids(spec.query) and not spec.account:
            raise ConfigurationError(
                f"YouTube source {spec.name!r} needs --query with video ids/URLs "
                "or --account with a channel id (UC...)."
            )

    def _key(self) -> str:
        if not self.credentials.youtube_api_key:
            raise ConfigurationError(
                "YouTube needs an API key: set RESONANZ_COLLECTORS__YOUTUBE_API_KEY (Google Cloud console, "
                "APIs & Services > Credentials, with the YouTube Data API v3 enabled)."
            )
        return self.credentials.youtube_api_key

    def _call(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions, endpoint: str,
              params: Mapping[str, Any]) -> tuple[Any, str]:  # fmt: skip
        """One API call, counted against today's quota before it is made."""
        day = options.now.astimezone(PACIFIC).date().isoformat()
        quota = state.get("quota") or {}
        if quota.get("day") != day:
            quota = {"day": day, "used": 0}
        limit = int(spec.config.get("daily_quota") or self.credentials.youtube_daily_quota)
        if quota["used"] + 1 > limit:
            state["quota"] = quota
            raise QuotaExhaustedError(
                f"YouTube quota used up: this source spent {quota['used']} of {limit} units on {day} (Pacific time). "
                "Collection resumes after midnight Pacific time (09:00 in Berlin). If your Google project has a "
                "larger quota, raise RESONANZ_COLLECTORS__YOUTUBE_DAILY_QUOTA or --option daily_quota=N."
            )
        quota["used"] += 1
        state["quota"] = quota
        base = str(spec.config.get("api_url") or API).rstrip("/")
        data, response = self.http.fetch_json(
            "GET", f"{base}/{endpoint}", params=params, headers={"X-Goog-Api-Key": self._key()}, allow=(400, 403, 404)
        )
        shown = redact_url(response.request.url)
        if response.status_code == 200:
            return data, shown
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):  # not Google's error shape (a proxy's or gateway's own body)
            error = {}
        reasons = {str(e.get("reason")) for e in error.get("errors", []) if isinstance(e, dict)}
        message = str(error.get("message") or response.status_code)
        if reasons & QUOTA_REASONS:
            quota["used"] = max(quota["used"], limit)
            raise QuotaExhaustedError(
                f"YouTube refused {shown}: quota exceeded ({message}). Collection resumes after midnight Pacific time."
            )
        if "commentsDisabled" in reasons:
            raise CommentsDisabled(f"comments are disabled ({message})", status=response.status_code, url=shown)
        if response.status_code == 403 or reasons & {"keyInvalid", "forbidden", "accessNotConfigured"}:
            raise AuthError(
                f"YouTube refused {shown}: {message}. Check RESONANZ_COLLECTORS__YOUTUBE_API_KEY and that the "
                "YouTube Data API v3 is enabled for its project.",
                status=response.status_code,
                url=shown,
            )
        raise HttpStatusError(f"YouTube: {shown} answered {response.status_code}: {message}",
                              status=response.status_code, url=shown)  # fmt: skip

    # -- listings -----------------------------------------------------------------------------------

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        self._key()
        result = [
            Listing(f"video:{vid}", partial(self._threads, spec, state, options, {"videoId": vid}))
            for vid in video_ids(spec.query)
        ]
        if spec.account:
            channel = spec.account.strip()
            params = {"allThreadsRelatedToChannelId": channel}
            result.append(Listing(f"channel:{channel}", lambda tok: self._threads(spec, state, options, params, tok)))
        return result

    def _threads(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions, which: Mapping[str, str],
                 token: str | None) -> Page:  # fmt: skip
        params: dict[str, Any] = {"part": "snippet,replies", "maxResults": PAGE_LIMIT, "order": "time",
                                  "textFormat": "plainText", **which}  # fmt: skip
        if token:
            params["pageToken"] = token
        try:
            data, shown = self._call(spec, state, options, "commentThreads", params)
        except CommentsDisabled:
            log.info("%s: comments are disabled for %s; nothing to collect", self.http.label, which)
            return Page(posts=[], next_token=None, url=str(which))
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no items", url=shown)
        threads: list[ThreadRef] = []
        posts: list[CollectedPost] = []
        errors: list[str] = []
        for item in items:
            found, problems = self._thread_posts(item, shown)
            posts.extend(found)
            errors.extend(problems)
            if found and not problems:
                total = int(item["snippet"].get("totalReplyCount") or 0)
                complete = total <= len(found) - 1
                threads.append(ThreadRef(str(item["id"]), found[0].external_id, found[0].created_at, complete))
        return Page(posts=posts, next_token=data.get("nextPageToken"), url=shown, errors=errors, threads=threads,
                    seen=len(items))  # fmt: skip

    def _thread_posts(self, item: Any, url: str) -> tuple[list[CollectedPost], list[str]]:
        def parse_top(thread: Any) -> CollectedPost:
            top = thread["snippet"]["topLevelComment"]
            total = int(thread["snippet"].get("totalReplyCount") or 0)
            return self.parse_comment(top, video_id=thread["snippet"].get("videoId"), replies=total)

        top, errors = self.parse_items([item], parse_top, url)
        if not top:
            return [], errors
        video = top[0].raw.get("snippet", {}).get("videoId")
        replies = ((item.get("replies") or {}).get("comments")) or []
        found, more = self.parse_items(
            replies, lambda c: self.parse_comment(c, video_id=video, root=str(item["id"])), url
        )
        # the listing carries the newest replies only; their times must not end the sweep early
        for reply in found:
            reply.listed_at = top[0].created_at
        return top + found, errors + more

    # -- threads ------------------------------------------------------------------------------------

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        params = {"part": "snippet,replies", "id": key, "textFormat": "plainText"}
        data, shown = self._call(spec, state, options, "commentThreads", params)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} has no items", url=shown)
        if not items:
            return ThreadResult(posts=[tombstone(self.platform, key, kind="comment", now=options.now)], gone=True)
        posts, errors = self._thread_posts(items[0], shown)
        if not posts:
            return ThreadResult(posts=posts, url=shown, errors=errors)
        total = int(items[0]["snippet"].get("totalReplyCount") or 0)
        carried = entry.get("more") or {}  # kept until this refresh succeeds: a failed one goes on from there
        if total > len(posts) - 1:  # the thread carried only some replies: read them all from comments.list
            video = posts[0].raw.get("snippet", {}).get("videoId")
            seen = set(carried.get("seen") or [])
            try:
                replies, token = self._replies(spec, state, options, key, video, carried.get("token"), errors)
            except HttpStatusError as exc:
                if not carried.get("token") or isinstance(exc, AuthError):
                    raise
                log.info("%s: thread %s: the stored reply page was refused (%s); reading its replies from the start",
                         self.http.label, key, exc)  # fmt: skip
                seen.clear()
                replies, token = self._replies(spec, state, options, key, video, None, errors)
            known = {p.external_id for p in replies}
            posts = [posts[0], *replies, *(p for p in posts[1:] if p.external_id not in known)]
            seen |= known
            if token:  # more pages than one refresh reads: the next run goes on from here (before other threads)
                entry["more"] = {"token": token, "seen": sorted(seen)}
                return ThreadResult(posts=posts, url=shown, errors=errors, pending=True)
        else:
            seen = set()
        entry.pop("more", None)
        if errors:
            return ThreadResult(posts=posts, url=shown, errors=errors)
        # every reply the thread has now (read over one or more runs): stored replies missing from it are looked up
        # (still_present) and, when comments.list no longer knows them either, marked deleted
        members = {e: e for e in seen | {p.external_id for p in posts[1:]}}
        thread = ThreadSnapshot(self.platform, posts[0].external_id, frozenset(members))
        return ThreadResult(posts=posts, url=shown, errors=errors, snapshot=thread, members=members)

    def _replies(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions, key: str, video: str | None,
                 token: str | None, errors: list[str]) -> tuple[list[CollectedPost], str | None]:  # fmt: skip
        """Up to :data:`MAX_REPLY_PAGES` pages of ``comments?parentId=key`` from ``token``; the token to go on
        from (``None``: the last page was read)."""
        replies: list[CollectedPost] = []
        for _ in range(MAX_REPLY_PAGES):
            query: dict[str, Any] = {"part": "snippet", "parentId": key, "maxResults": PAGE_LIMIT,
                                     "textFormat": "plainText"}  # fmt: skip
            if token:
                query["pageToken"] = token
            page, url = self._call(spec, state, options, "comments", query)
            items = page.get("items") if isinstance(page, dict) else None
            if not isinstance(items, list):
                raise MalformedResponseError(f"{self.http.label}: {url} has no items", url=url)
            found, problems = self.parse_items(items, lambda c: self.parse_comment(c, video_id=video, root=key), url)
            replies.extend(found)
            errors.extend(problems)
            token = page.get("nextPageToken") or None
            if not token:
                break
        return replies, token

    def still_present(
        self, spec: SourceSpec, members: dict[str, str], state: dict[str, Any], options: CollectOptions
    ) -> dict[str, str]:
        """Replies a thread no longer listed that ``comments.list?id=`` still returns (1 quota unit per 50)."""
        found: set[str] = set()
        ids = sorted(members)
        for start in range(0, len(ids), MAX_IDS):
            params = {"part": "id", "id": ",".join(ids[start : start + MAX_IDS])}
            data, shown = self._call(spec, state, options, "comments", params)
            items = data.get("items") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise MalformedResponseError(f"{self.http.label}: {shown} has no items", url=shown)
            found |= {str(item.get("id")) for item in items if isinstance(item, dict)}
        return {k: v for k, v in members.items() if k in found}

    # -- parsing ------------------------------------------------------------------------------------

    def parse_comment(
        self, comment: Mapping[str, Any], *, video_id: str | None, root: str | None = None, replies: int | None = None
    ) -> CollectedPost:
        snippet = comment["snippet"]
        comment_id = str(comment["id"])
        published = require_time(snippet["publishedAt"], "publishedAt")
        updated = require_time(snippet.get("updatedAt") or snippet["publishedAt"], "updatedAt")
        video = snippet.get("videoId") or video_id
        channel = (snippet.get("authorChannelId") or {}).get("value")
        name = snippet.get("authorDisplayName")
        metrics: dict[str, Any] = {"likes": int(snippet.get("likeCount") or 0)}
        if replies is not None:
            metrics["replies"] = replies
        return CollectedPost(
            platform=self.platform,
            external_id=comment_id,
            kind="comment",
            url=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
            text=unescape(str(snippet.get("textDisplay") or snippet.get("textOriginal") or "")).strip(),
            created_at=published,
            edited_at=updated if updated > published else None,
            metrics=metrics,
            raw=dict(comment),
            identity=CollectedIdentity(
                platform=self.platform,
                account_id=str(channel),
                handle=name if name and name.startswith("@") else None,
                display_name=name,
                profile_url=snippet.get("authorChannelUrl"),
            )
            if channel
            else None,
            parent_external_id=snippet.get("parentId") or (root if root and root != comment_id else None),
            root_external_id=root if root and root != comment_id else None,
        )
