"""RSS/Atom: what the multi-run property test (``test_collect_property_feeds.py``) found (issue 14).

A feed cut off in the middle (a proxy, a dropped upstream connection, a PHP error mid-output) came with a 200
and its ``ETag``. feedparser's lenient parser still found the entries before the cut, so they were stored --
the last one half, without its ``<guid>`` and so under a made-up id -- and the ``ETag`` was kept: every later
run got ``304 Not Modified`` and the entries after the cut were never read while the feed stayed the same.
"""

from __future__ import annotations

import feedparser
import httpx
import pytest

from collectors import SourceSpec
from collectors.rss import RssCollector
from tests.collectors.helpers import options, polite, posts_of, run

SPEC = SourceSpec("blog", "rss", query="https://blog.example.de/comments/feed/")


def rss(items: list[tuple[str, str]], *, title: str = "Kommentare zu: Brühwerk Blog", tail: str = "") -> bytes:
    entries = "".join(
        f"<item><title>Kommentar {guid}</title><link>https://blog.example.de/#comment-{guid}</link>"
        f"<pubDate>Fri, 20 Nov 2026 0{n}:00:00 +0000</pubDate>"
        f'<guid isPermaLink="false">https://blog.example.de/?p=17#comment-{guid}</guid>'
        f"<content:encoded><![CDATA[<p>{text}</p>]]></content:encoded></item>"
        for n, (guid, text) in enumerate(items)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>{title}</title>'
            f"<link>https://blog.example.de</link><description>Kommentare</description>{entries}</channel></rss>"
            f"{tail}").encode()  # fmt: skip


ITEMS = [("41", "Sehr lecker, aber die Lieferung dauerte eine Woche."), ("42", "Der Espresso ist zu bitter."),
         ("43", "Toller Service in der Filiale am Markt."), ("44", "Bestellung kam beschädigt an.")]  # fmt: skip
FULL = rss(ITEMS)
IDS = {f"https://blog.example.de/?p=17#comment-{guid}" for guid, _ in ITEMS}


def test_a_feed_cut_off_in_the_middle_is_not_taken_and_its_etag_not_kept() -> None:
    served: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        served.append(request)
        headers = {"Content-Type": "application/rss+xml; charset=UTF-8", "ETag": '"v1"'}
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304, headers=headers)
        body = FULL[: FULL.index(b"<guid", FULL.index(b"comment-43"))] if len(served) == 1 else FULL
        return httpx.Response(200, content=body, headers=headers)

    batches, cursor = run(RssCollector(polite(handler)), SPEC, opts=options())
    errors = [e for b in batches for e in b.errors]
    assert posts_of(batches) == {}
    assert len(errors) == 1 and "bricht mitten im Feed ab" in errors[0]
    assert not cursor["http"].get("etag")
    batches, cursor = run(RssCollector(polite(handler)), SPEC, cursor, options())
    assert "If-None-Match" not in served[1].headers
    posts = posts_of(batches)
    assert set(posts) == IDS
    assert posts["https://blog.example.de/?p=17#comment-43"].text == "Toller Service in der Filiale am Markt."
    assert cursor["http"]["etag"] == '"v1"'


@pytest.mark.parametrize(
    "body",
    [rss(ITEMS, title="Kaffee & Kuchen"), rss(ITEMS, tail="\n<b>Notice</b>: Undefined index in x.php")],
    ids=["bare-ampersand", "php-notice-after-the-end"],
)
def test_a_sloppy_feed_that_is_complete_is_still_read(body: bytes) -> None:
    """Not well-formed, but whole: feedparser repairs it and every entry is read."""
    assert feedparser.parse(body).bozo  # feedparser's XML parser refused it

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/rss+xml"})

    batches, _ = run(RssCollector(polite(handler)), SPEC, opts=options())
    assert set(posts_of(batches)) == IDS
    assert not [e for b in batches for e in b.errors]
