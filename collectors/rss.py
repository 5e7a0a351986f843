"""RSS and Atom feeds, blog comment feeds included (e.g. WordPress ``/comments/feed/``).

Source fields: ``query`` is the feed URL; option ``kind`` (post/comment/review) overrides the
guess (URLs containing ``comments`` hold comments). Feeds are fetched with conditional GET
(``If-None-Match``/``If-Modified-Since`` from the cursor); ``304 Not Modified`` costs nothing.
A feed is short, so every entry within the backfill horizon is upserted on each change
(unchanged entries cost nothing in the store). A feed cut off in the middle (not well-formed and
without the end tag of its root element) is not taken at all, and its ``ETag`` not kept: the next
run fetches it again. Feeds show only their newest entries, so an entry that leaves the feed is not
a deletion; nothing is marked deleted.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser

from collectors.base import Collector, Listing, Page
from collectors.errors import ConfigurationError, MalformedResponseError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec
from collectors.text import html_to_text, language_code

log = logging.getLogger(__name__)

ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


def _time(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(calendar.timegm(value), UTC)


class RssCollector(Collector):
    platform = "rss"
    overlap = timedelta(days=365 * 100)  # always re-read the whole feed (down to the backfill horizon)

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        url = (spec.query or "").strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError(f"RSS source {spec.name!r} needs --query with the feed URL (http:// or https://).")

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        url = str(spec.query).strip()
        return [Listing("feed", lambda tok: self._fetch(spec, url, state, options), sorted_by_time=False)]

    def _fetch(self, spec: SourceSpec, url: str, state: dict[str, Any], options: CollectOptions) -> Page:
        cache = state.setdefault("http", {})
        headers = {"Accept": ACCEPT}
        if cache.get("etag"):
            headers["If-None-Match"] = cache["etag"]
        if cache.get("last_modified"):
            headers["If-Modified-Since"] = cache["last_modified"]
        response = self.http.get(url, headers=headers)
        shown = redact_url(response.request.url)
        if response.status_code == 304:
            log.debug("%s: %s not modified", self.http.label, shown)
            return Page(posts=[], next_token=None, url=shown)
        parsed = feedparser.parse(
            response.content, response_headers={k.lower(): v for k, v in response.headers.items()}
        )
        if parsed.bozo and not parsed.entries:
            raise MalformedResponseError(
                f"{self.http.label}: {shown} is not a readable RSS/Atom feed ({parsed.get('bozo_exception')})",
                url=shown,
            )
        if _cut_off(parsed, response.content):
            # the entries read so far would be stored (the last one half, under a made-up id) and the feed's
            # ETag kept, so that every later run got 304 and the entries after the cut were never read
            raise MalformedResponseError(
                f"{self.http.label}: {shown} bricht mitten im Feed ab ({parsed.get('bozo_exception')}); "
                "keiner seiner Einträge wird übernommen.",
                url=shown,
            )
        cache["etag"] = response.headers.get("etag")
        cache["last_modified"] = response.headers.get("last-modified")
        feed_language = language_code(parsed.feed.get("language"))
        kind = str(spec.config.get("kind") or ("comment" if "comment" in url.lower() else "post"))
        posts, errors = self.parse_items(
            parsed.entries, lambda e: self.parse_entry(e, url, kind, feed_language, options), shown
        )
        return Page(posts=posts, next_token=None, url=shown, errors=errors, seen=len(parsed.entries))

    def parse_entry(
        self, entry: dict[str, Any], feed_url: str, kind: str, language: str | None, options: CollectOptions
    ) -> CollectedPost | None:
        link = entry.get("link")
        entry_id = entry.get("id") or link
        if not entry_id:  # no id and no link: a digest of what the entry says, scoped to its feed
            body_text = str(entry.get("summary") or "")[:500]
            digest = hashlib.sha1(f"{entry.get('title')}|{entry.get('published')}|{body_text}".encode()).hexdigest()
            external_id = f"{feed_url}#sha1:{digest}"
        else:
            external_id = entry_id if ":" in entry_id else f"{feed_url}#{entry_id}"
        published = _time(dict.get(entry, "published_parsed"))
        updated = _time(dict.get(entry, "updated_parsed"))  # plain dict access: no fallback to 'published'

        created = published or updated or options.now
        if created < options.horizon:
            return None
        content = entry.get("content") or []
        body = content[0].get("value") if content else entry.get("summary")
        author = (entry.get("author") or "").strip()
        detail = entry.get("author_detail") or {}
        identity = None
        if author:
            host = urlsplit(feed_url).hostname or feed_url
            identity = CollectedIdentity(
                platform=self.platform,
                account_id=str(detail.get("href") or f"{host}:{author.lower()}"),
                display_name=author,
                profile_url=detail.get("href"),
            )
        raw = {k: dict.get(entry, k) for k in ("id", "link", "title", "published", "updated", "author", "comments")}
        raw["tags"] = [t.get("term") for t in entry.get("tags") or [] if isinstance(t, Mapping)]
        return CollectedPost(
            platform=self.platform,
            external_id=str(external_id),
            kind=kind,
            url=link,
            text=html_to_text(body),
            title=_title(entry) or None,
            language=language_code(entry.get("language")) or language,
            created_at=created,
            edited_at=updated if published and updated and updated - published > timedelta(minutes=1) else None,
            raw=raw,
            identity=identity,
        )


_ROOT_END = re.compile(r"</(?:[A-Za-z_][\w.-]*:)?(?:rss|feed|rdf)\s*>", re.IGNORECASE)


def _cut_off(parsed: Any, content: bytes) -> bool:
    """A feed that is not well-formed and has no end tag of its root element was cut off (a proxy, a dropped
    connection, a PHP error mid-output). Feeds that are merely sloppy (a bare ``&``, a wrong encoding or content
    type, a PHP notice after ``</rss>``) have it and are read as feedparser repairs them."""
    problem = parsed.get("bozo_exception")
    if not parsed.bozo or isinstance(problem, feedparser.ThingsNobodyCaresAboutButMe):
        return False
    try:
        text = content.decode(str(parsed.get("encoding") or "utf-8"), errors="ignore")
    except LookupError:  # an encoding Python does not know
        text = content.decode("utf-8", errors="ignore")
    return _ROOT_END.search(text) is None


def _title(entry: Mapping[str, Any]) -> str:
    """The entry's title as text: HTML titles are stripped, ``type="text"`` titles kept as written
    ("History of the <blink> tag" keeps its "<blink>")."""
    title = entry.get("title")
    if not title:
        return ""
    detail = entry.get("title_detail") or {}
    kind = str(detail.get("type") or "") if isinstance(detail, Mapping) else ""
    if kind == "text/plain":
        return " ".join(str(title).split())
    return html_to_text(str(title))
