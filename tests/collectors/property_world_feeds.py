"""Worlds of ``property_world.py`` for YouTube, RSS/Atom feeds and App Store reviews (issue 14).

Each world is a fake platform that answers in the shape the real one sends (see the contract tests
``tests/collectors/test_youtube.py``, ``test_rss.py``, ``test_appstore.py``), with its own pagination:

* **YouTube** (Data API v3): ``commentThreads`` newest first by ``videoId`` or ``allThreadsRelatedToChannelId``
  (a source may have both, so the same thread comes through two listings), random page sizes and an opaque
  ``nextPageToken``; each thread carries ``totalReplyCount`` and at most 5 of its newest replies; the rest come
  from ``comments?parentId=`` (pages of 2-5, oldest or newest first -- the API documents no order). Threads are
  flat: a reply to a reply is a reply to the top-level comment. The persistent 403 is YouTube's ``forbidden``
  error body.
* **RSS/Atom**: one feed (RSS 2.0 like a WordPress comment feed, or Atom) that shows only the newest 5-15
  entries, with ``ETag``/``Last-Modified`` and ``304 Not Modified``. A malformed page is the feed cut in half
  with its headers (``ETag`` included), or an HTML error page; the 403 is a web server's HTML page.
* **App Store**: the customer-reviews JSON feed, ``page=1..10``, newest first by ``updated``, with the app's own
  entry on page 1, the feed's ``first``/``last``/``previous``/``next`` links, random page sizes (Apple: 50)
  and some reviews without ``updated``. Pages are offsets: a deletion between two runs shifts later pages. The
  source's overlap is cut to :data:`OVERLAP_MINUTES` (a scenario's hours stand for the App Store's days).

What "deletions marked" means here:

* **YouTube**: a deleted thread answers ``items: []`` to ``commentThreads?id=`` (the collector stores a
  tombstone); a deleted reply vanishes from the thread's complete reply list and from ``comments?id=``. Both
  must be marked deleted; the full property of ``property_world.py`` applies.
* **RSS/Atom and App Store**: the feeds only show the newest entries, so an entry that leaves the feed is not
  a deletion, and a deleted one cannot be told apart from one that scrolled out. The platform offers no way to
  detect a deletion, so the property is: none lost, none duplicated, nothing falsely marked deleted. Entries
  (reviews) that scrolled out of the feed before any successful run saw them are not reachable (``visible``).

Registered in ``WORLDS`` on import (``youtube``, ``rss``, ``appstore``): used by
``tests/collectors/test_collect_property_feeds.py`` and ``bench/bench_collect_property.py``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from collectors.appstore import MAX_PAGES
from collectors.testing.server import Reply, Request
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.sources import add_source
from tests.collectors.property_world import SOURCE, WORLDS, World, check

_PACIFIC = ZoneInfo("America/Los_Angeles")
NOT_MARKED = "deleted on the platform but not marked"
"""The finding of ``check`` that a platform without any way to see deletions cannot avoid."""


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FlatWorld(World):
    """Items without replies (feed entries, reviews) in a feed that shows only the newest ``window()`` of them; a
    reply the base world draws is one more item. The platform cannot tell a deletion from an entry that left the
    feed, so deleted items that stay unmarked are not a difference (everything else of ``check`` is)."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.created: dict[str, datetime] = {}
        self.now = datetime.min.replace(tzinfo=UTC)

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        self.now = end
        super().evolve(start, end, first=first)

    def new_reply(self, parent: str, created: datetime) -> None:
        self.new_root(created)

    def remove(self, external_id: str) -> None:
        """Nothing to do: the fake serves what ``live()`` holds."""

    def newest(self) -> list[str]:
        return sorted(self.live(), key=lambda e: (self.created[e], e), reverse=True)

    def window(self) -> int:
        raise NotImplementedError

    def visible(self) -> set[str]:
        return set(self.newest()[: self.window()])

    def check(self, engine: Engine) -> list[str]:
        return [p for p in check(engine, self) if not p.startswith(NOT_MARKED)]


# -- YouTube ---------------------------------------------------------------------------------------------------


class YouTubeWorld(World):
    platform = "youtube"
    KEY = "AIza-property-world-key"
    CHANNEL = "UCbruehwerk0000000000000"
    INLINE = 5

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.videos = [f"BrWk{n:07d}" for n in range(rng.randint(1, 3))]
        self.by_channel = rng.random() < 0.5
        self.queried = self.videos[: rng.randint(0, len(self.videos))] if self.by_channel else self.videos
        self.page_size = rng.randint(2, 5)
        self.reply_page_size = rng.randint(2, 5)
        self.replies_oldest_first = rng.random() < 0.5
        self.created: dict[str, datetime] = {}
        self.video_of: dict[str, str] = {}
        self.author_of: dict[str, int] = {}

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="youtube", name=SOURCE, query=" ".join(self.queried) or None,
                   account=self.CHANNEL if self.by_channel else None,
                   options={"api_url": "https://yt.test/youtube/v3", "max_threads": 500})  # fmt: skip

    def settings(self, run_no: int, refused: bool) -> Settings:
        return Settings(collectors=CollectorSettings(max_retries=4, timeout=5, youtube_api_key=SecretStr(self.KEY)))

    def is_listing(self, request: httpx.Request) -> bool:
        params = request.url.params
        return request.url.path.endswith("/commentThreads") and (
            "videoId" in params or "allThreadsRelatedToChannelId" in params
        )

    def refusal(self, request: httpx.Request) -> httpx.Response:
        message = "The request is not properly authorized to retrieve the specified comment threads."
        return httpx.Response(403, json={"error": {"code": 403, "message": message, "errors": [
            {"message": message, "domain": "youtube.commentThread", "reason": "forbidden"}]}})  # fmt: skip

    # -- the world ------------------------------------------------------------------------------------------

    def _add(self, external_id: str, parent: str | None, created: datetime, text: str) -> None:
        self.parent[external_id], self.text[external_id], self.created[external_id] = parent, text, created
        self.author_of[external_id] = self.rng.randint(1, 5)

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        video = self.rng.choice(self.videos)
        tid = f"Ugz{self.counter:05d}Brw4AaABAg"
        self.video_of[tid] = video
        extra = " & Kuchen" if self.rng.random() < 0.3 else ""
        self._add(tid, None, created, f"Kommentar {self.counter} zu Brühwerk{extra}")

    def new_reply(self, parent: str, created: datetime) -> None:
        top = self._root_of(parent)  # YouTube threads are flat: every reply hangs under the top-level comment
        self.counter += 1
        at = max(created, self.created[parent])
        self._add(f"{top}.{self.counter:05d}Rpl", top, at, f"@nutzer{self.author_of[parent]} Antwort {self.counter}")

    def remove(self, external_id: str) -> None:
        """Nothing to do: the fake serves what ``live()`` holds (a thread goes only once its replies are gone)."""

    def replies(self, top: str) -> list[str]:
        found = [e for e in self.live() if self.parent.get(e) == top]
        return sorted(found, key=lambda e: (self.created[e], e), reverse=not self.replies_oldest_first)

    # -- the API --------------------------------------------------------------------------------------------

    def app(self, request: Any) -> Reply:
        assert isinstance(request, Request)
        if request.headers.get("x-goog-api-key") != self.KEY or "key" in request.query:
            return self._error(400, "keyInvalid", "API key not valid. Please pass a valid API key.")
        if request.path.endswith("/commentThreads"):
            if request.arg("id"):
                found = [t for t in str(request.arg("id")).split(",") if t in self.live() and self.parent[t] is None]
                return Reply.json(self._list("commentThreadListResponse", [self._thread(t) for t in found]))
            video, channel = request.arg("videoId"), request.arg("allThreadsRelatedToChannelId")
            if channel is not None and channel != self.CHANNEL:
                return self._error(404, "channelNotFound", "The channel could not be found.")
            if video is not None and video not in self.videos:
                return self._error(404, "videoNotFound", "The video could not be found.")
            if request.arg("order") != "time":
                return self._error(400, "invalidParameter", "order=time expected by this fake")
            tops = [t for t in self.live() if self.parent[t] is None and (video is None or self.video_of[t] == video)]
            tops.sort(key=lambda e: (self.created[e], e), reverse=True)
            return self._paged("commentThreadListResponse", tops, self.page_size, request.arg("pageToken"),
                               self._thread)  # fmt: skip
        if request.path.endswith("/comments"):
            if request.arg("id"):
                wanted = str(request.arg("id")).split(",")
                items = [self._comment(c) if request.arg("part") == "snippet" else {"kind": "youtube#comment",
                         "etag": self._etag(c), "id": c} for c in wanted if c in self.live()]  # fmt: skip
                return Reply.json(self._list("commentListResponse", items))
            parent = str(request.arg("parentId"))
            if parent not in self.live():
                return self._error(404, "commentNotFound", "The comment identified by the parentId could not be found.")
            return self._paged("commentListResponse", self.replies(parent), self.reply_page_size,
                               request.arg("pageToken"), self._comment,
                               newest_first=not self.replies_oldest_first)  # fmt: skip
        return self._error(404, "notFound", "Not Found")

    def _paged(self, kind: str, ordered: list[str], size: int, token: str | None,
               render: Callable[[str], dict[str, Any]], *, newest_first: bool = True) -> Reply:  # fmt: skip
        """One page of ``ordered``; the token names the last item served, so deletions and new items never shift
        what follows it (an unreadable token is YouTube's 400 ``invalidPageToken``)."""
        start = 0
        if token:
            try:
                stamp, last = json.loads(base64.urlsafe_b64decode(token.encode()))
                after = (datetime.fromisoformat(stamp), str(last))
            except (ValueError, TypeError):
                return self._error(400, "invalidPageToken", "The request specifies an invalid page token.")
            keys = [(self.created[e], e) for e in ordered]
            start = sum(1 for k in keys if (k >= after if newest_first else k <= after))
        chunk = ordered[start : start + size]
        body = self._list(kind, [render(e) for e in chunk], total=len(ordered))
        if start + size < len(ordered):
            key = json.dumps([self.created[chunk[-1]].isoformat(), chunk[-1]])
            body["nextPageToken"] = base64.urlsafe_b64encode(key.encode()).decode()
        return Reply.json(body)

    @staticmethod
    def _list(kind: str, items: list[dict[str, Any]], total: int | None = None) -> dict[str, Any]:
        return {"kind": f"youtube#{kind}", "etag": hashlib.sha1(json.dumps(items).encode()).hexdigest()[:27],
                "pageInfo": {"totalResults": len(items) if total is None else total, "resultsPerPage": len(items)},
                "items": items}  # fmt: skip

    @staticmethod
    def _etag(external_id: str) -> str:
        return hashlib.sha1(external_id.encode()).hexdigest()[:27]

    @staticmethod
    def _error(status: int, reason: str, message: str) -> Reply:
        return Reply.json({"error": {"code": status, "message": message,
                                     "errors": [{"message": message, "domain": "youtube", "reason": reason}]}},
                          status)  # fmt: skip

    def _comment(self, cid: str) -> dict[str, Any]:
        top = self._root_of(cid)
        author = self.author_of[cid]
        snippet: dict[str, Any] = {
            "channelId": self.CHANNEL, "videoId": self.video_of[top],
            "textDisplay": html.escape(self.text[cid], quote=False), "textOriginal": self.text[cid],
            "authorDisplayName": f"@nutzer{author}", "authorProfileImageUrl": f"https://yt3.ggpht.test/n{author}.jpg",
            "authorChannelUrl": f"http://www.youtube.com/@nutzer{author}",
            "authorChannelId": {"value": f"UCnutzer{author:016d}"}, "canRate": True, "viewerRating": "none",
            "likeCount": len(cid) % 7, "publishedAt": _ts(self.created[cid]), "updatedAt": _ts(self.created[cid]),
        }  # fmt: skip
        if cid != top:
            snippet["parentId"] = top
        return {"kind": "youtube#comment", "etag": self._etag(cid), "id": cid, "snippet": snippet}

    def _thread(self, tid: str) -> dict[str, Any]:
        replies = sorted(self.replies(tid), key=lambda e: (self.created[e], e))
        item: dict[str, Any] = {
            "kind": "youtube#commentThread", "etag": self._etag(tid), "id": tid,
            "snippet": {"channelId": self.CHANNEL, "videoId": self.video_of[tid], "topLevelComment": self._comment(tid),
                        "canReply": True, "totalReplyCount": len(replies), "isPublic": True},
        }  # fmt: skip
        if replies:
            item["replies"] = {"comments": [self._comment(r) for r in replies[-self.INLINE :]]}
        return item


# -- RSS / Atom ------------------------------------------------------------------------------------------------

_BODIES = (
    ("<p>Kommentar <strong>{n}</strong> zu Brühwerk &amp; Co.</p>", "Kommentar {n} zu Brühwerk & Co."),
    ("<p>Die Lieferung von Bestellung {n} dauerte eine Woche.</p>\n<p>Schade.</p>",
     "Die Lieferung von Bestellung {n} dauerte eine Woche.\n\nSchade."),
    ("Einfacher Text {n} ohne Auszeichnung", "Einfacher Text {n} ohne Auszeichnung"),
)  # fmt: skip


class RssWorld(FlatWorld):
    platform = "rss"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.atom = rng.random() < 0.5
        self.size = rng.randint(5, 15)
        self.url = "https://news.test/feed.atom" if self.atom else "https://blog.test/comments/feed/"
        self.html: dict[str, str] = {}
        self.link: dict[str, str] = {}
        self.guid: dict[str, bool] = {}

    def window(self) -> int:
        return self.size

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="rss", name=SOURCE, query=self.url)

    def is_listing(self, request: httpx.Request) -> bool:
        return True  # the feed is the only request

    def refusal(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"<html><head><title>403 Forbidden</title></head><body><center><h1>"
                                           b"403 Forbidden</h1></center><hr><center>nginx</center></body></html>",
                              headers={"Content-Type": "text/html"})  # fmt: skip

    def malformed(self, good: httpx.Response) -> httpx.Response:
        """The feed cut off with its own headers (``ETag`` too), or a proxy's HTML page where the feed should be."""
        headers = {k: v for k, v in good.headers.items() if k.lower() != "content-length"}
        if good.status_code == 200:
            return httpx.Response(200, content=good.content[: len(good.content) // 2], headers=headers)
        return httpx.Response(200, content=b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
                              headers={"Content-Type": "text/html"})  # fmt: skip

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        n = self.counter
        body, text = self.rng.choice(_BODIES)
        if self.atom:
            external_id = f"tag:news.test,2026:eintrag-{n}"
            link = f"https://news.test/2026/11/eintrag-{n}"
            self.guid[external_id] = True
        else:
            link = f"https://blog.test/2026/11/neue-roestung/#comment-{n}"
            with_guid = self.rng.random() < 0.75  # some feeds give only a link: the link is the id
            external_id = f"https://blog.test/?p=17#comment-{n}" if with_guid else link
            self.guid[external_id] = with_guid
        self.parent[external_id], self.text[external_id], self.created[external_id] = None, text.format(n=n), created
        self.html[external_id], self.link[external_id] = body.format(n=n), link

    def _feed(self) -> bytes:
        entries = self.newest()[: self.size]
        if self.atom:
            parts = ['<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">',
                     "<title>Brühwerk News</title>", "<id>urn:uuid:feed-bruehwerk</id>",
                     f'<link rel="self" href="{self.url}"/>', f"<updated>{_ts(self.now)}</updated>"]  # fmt: skip
            for e in entries:
                parts.append(
                    f"<entry><title>Eintrag {e.rsplit('-', 1)[1]}</title><id>{e}</id>"
                    f'<link href="{self.link[e]}"/><published>{_ts(self.created[e])}</published>'
                    f"<updated>{_ts(self.created[e])}</updated><author><name>Redaktion</name></author>"
                    f'<content type="html">{html.escape(self.html[e])}</content></entry>'
                )
            parts.append("</feed>")
        else:
            parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
                     'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
                     'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>',
                     "<title>Kommentare zu: Brühwerk Blog</title><link>https://blog.test</link>",
                     "<description>Kommentare</description><language>de-DE</language>",
                     f"<lastBuildDate>{format_datetime(self.now)}</lastBuildDate>"]  # fmt: skip
            for e in entries:
                n = self.link[e].rsplit("-", 1)[1]
                guid = f'<guid isPermaLink="false">{e}</guid>' if self.guid[e] else ""
                parts.append(
                    f"<item><title>Kommentar {n} zu Neue Röstung</title><link>{self.link[e]}</link>"
                    f"<dc:creator><![CDATA[Nutzer {int(n) % 5}]]></dc:creator>"
                    f"<pubDate>{format_datetime(self.created[e])}</pubDate>{guid}"
                    f"<content:encoded><![CDATA[{self.html[e]}]]></content:encoded></item>"
                )
            parts.append("</channel></rss>")
        return "\n".join(parts).encode()

    def app(self, request: Any) -> Reply:
        assert isinstance(request, Request)
        if request.path != httpx.URL(self.url).path:
            return Reply(404, b"<html><body>Not Found</body></html>", {"Content-Type": "text/html"})
        body = self._feed()
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        newest = self.newest()
        modified = format_datetime(self.created[newest[0]] if newest else self.now, usegmt=True)
        headers = {"Content-Type": "application/atom+xml; charset=utf-8" if self.atom else
                   "application/rss+xml; charset=UTF-8", "ETag": etag, "Last-Modified": modified}  # fmt: skip
        match = request.headers.get("if-none-match")
        since = request.headers.get("if-modified-since")
        if match is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110)
            if match == etag:
                return Reply(304, b"", {"ETag": etag, "Last-Modified": modified})
        elif since is not None and newest and parsedate_to_datetime(since) >= self.created[newest[0]].replace(
                microsecond=0):  # fmt: skip
            return Reply(304, b"", {"ETag": etag, "Last-Modified": modified})
        return Reply(200, body, headers)


# -- App Store ---------------------------------------------------------------------------------------------------

_PAGE = re.compile(r"^/(?P<country>[a-z]{2})/rss/customerreviews/page=(?P<page>\d+)/id=(?P<app>\d+)/"
                   r"sortby=mostrecent/json$")  # fmt: skip


OVERLAP_MINUTES = 5
"""The App Store source's overlap in these worlds. A scenario squeezes what takes days on the App Store into a few
hours, so the default 6 hours would cover every review of a scenario and hide a sweep that skips reviews."""


class AppStoreWorld(FlatWorld):
    platform = "appstore"
    APP = "1234567890"
    BASE = "https://itunes.test"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.page_size = rng.randint(2, 6)
        self.rating: dict[str, int] = {}
        self.title: dict[str, str] = {}
        self.undated: set[str] = set()

    def window(self) -> int:
        return MAX_PAGES * self.page_size

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="appstore", name=SOURCE, query=f"https://apps.apple.com/de/app/bruehwerk/id{self.APP}",
                   options={"base_url": self.BASE, "country": "de", "overlap_minutes": OVERLAP_MINUTES})  # fmt: skip

    def is_listing(self, request: httpx.Request) -> bool:
        return "/rss/customerreviews/" in request.url.path

    def refusal(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=b"", headers={"Content-Type": "text/html"})

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        review = str(10_000_000_000 + self.counter)
        external_id = f"apple:{review}"
        text = self.rng.choice(["Stürzt seit dem Update {n} ständig ab 😡", "Super App, Bestellung {n} kam pünktlich",
                                "Zahlung mit PayPal klappt nicht ({n})"]).format(n=self.counter)  # fmt: skip
        self.parent[external_id], self.text[external_id], self.created[external_id] = None, text, created
        self.rating[external_id] = self.rng.randint(1, 5)
        self.title[external_id] = f"Bewertung {self.counter}"
        if self.rng.random() < 0.1:  # real feeds omit 'updated' on some reviews
            self.undated.add(external_id)

    def _review(self, external_id: str) -> dict[str, Any]:
        review = external_id.split(":", 1)[1]
        entry: dict[str, Any] = {
            "author": {"uri": {"label": f"https://itunes.apple.com/de/reviews/id{int(review) % 977}"},
                       "name": {"label": f"Nutzer{int(review) % 977}"}, "label": ""},
            "updated": {"label": self.created[external_id].astimezone(_PACIFIC).isoformat()},
            "im:rating": {"label": str(self.rating[external_id])},
            "im:version": {"label": "3.2.1"},
            "id": {"label": review},
            "title": {"label": self.title[external_id]},
            "content": {"label": self.text[external_id], "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/de/review?id={self.APP}&type=Purple%20Software"}},
            "im:voteSum": {"label": "0"},
            "im:contentType": {"attributes": {"term": "Application", "label": "Anwendung"}},
            "im:voteCount": {"label": "0"},
        }  # fmt: skip
        if external_id in self.undated:
            del entry["updated"]
        return entry

    def app(self, request: Any) -> Reply:
        assert isinstance(request, Request)
        match = _PAGE.match(request.path)
        if match is None or match["app"] != self.APP:
            return Reply(404, b"", {"Content-Type": "text/html"})
        number = int(match["page"])
        if not 1 <= number <= MAX_PAGES:
            return Reply.json({"errorMessage": "Invalid page number", "errorCode": 400}, status=400)
        reviews = self.newest()[: self.window()]
        last = max(1, -(-len(reviews) // self.page_size))
        chunk = reviews[(number - 1) * self.page_size : number * self.page_size]
        entries = [self._review(e) for e in chunk]
        if number == 1:
            entries.insert(0, {"im:name": {"label": "Brühwerk"}, "id": {"label": f"https://apps.apple.com/de/app/id"
                               f"{self.APP}", "attributes": {"im:id": self.APP}}})  # fmt: skip

        def link(rel: str, page: int) -> dict[str, Any]:
            href = (f"{self.BASE}/de/rss/customerreviews/page={page}/id={self.APP}/sortby=mostrecent/xml?urlDesc="
                    f"/customerreviews/page={number}/id={self.APP}/sortby=mostrecent/json")  # fmt: skip
            return {"attributes": {"rel": rel, "type": "application/xml", "href": href}}

        feed: dict[str, Any] = {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/de/itunes/"}},
            "updated": {"label": self.now.astimezone(_PACIFIC).isoformat()},
            "rights": {"label": "Copyright 2008 Apple Inc."},
            "title": {"label": "iTunes Store: Kundenrezensionen"},
            "icon": {"label": "http://itunes.apple.com/favicon.ico"},
            "link": [{"attributes": {"rel": "alternate", "type": "text/html",
                                     "href": f"https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc=de&id={self.APP}"}},
                     link("self", number), link("first", 1), link("last", last),
                     link("previous", max(1, number - 1)), link("next", min(last, number + 1))],
            "id": {"label": f"{self.BASE}/de/rss/customerreviews/page={number}/id={self.APP}/sortby=mostrecent/json"},
        }  # fmt: skip
        if entries:  # past the last review Apple's feed has no 'entry' at all
            feed["entry"] = entries if len(entries) > 1 else entries[0]
        return Reply.json({"feed": feed})


WORLDS.update({"youtube": YouTubeWorld, "rss": RssWorld, "appstore": AppStoreWorld})
