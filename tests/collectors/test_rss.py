"""RSS/Atom: WordPress comment feeds, Atom updates, conditional GET, broken feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from collectors import SourceSpec
from collectors.rss import RssCollector
from tests.collectors.helpers import NOW, options, polite, posts_of, run

WP_COMMENTS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Kommentare zu: Br\xc3\xbchwerk Blog</title>
  <link>https://blog.example.de</link>
  <description>Kommentare</description>
  <language>de-DE</language>
  <lastBuildDate>Fri, 20 Nov 2026 08:30:00 +0000</lastBuildDate>
  <item>
    <title>Kommentar zu Neue R\xc3\xb6stung von Anna K.</title>
    <link>https://blog.example.de/2026/11/neue-roestung/#comment-42</link>
    <dc:creator><![CDATA[Anna K.]]></dc:creator>
    <pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate>
    <guid isPermaLink="false">https://blog.example.de/?p=17#comment-42</guid>
    <description><![CDATA[Sehr lecker, aber die Lieferung dauerte &#8230;]]></description>
    <content:encoded><![CDATA[<p>Sehr lecker, aber die <strong>Lieferung</strong> dauerte eine Woche.</p>]]>
    </content:encoded>
  </item>
  <item>
    <title>Kommentar zu Neue R\xc3\xb6stung von Ben</title>
    <link>https://blog.example.de/2026/11/neue-roestung/#comment-43</link>
    <dc:creator><![CDATA[Ben]]></dc:creator>
    <pubDate>Mon, 01 Jun 2026 08:00:00 +0000</pubDate>
    <guid isPermaLink="false">https://blog.example.de/?p=17#comment-43</guid>
    <content:encoded><![CDATA[<p>Uralt</p>]]></content:encoded>
  </item>
</channel>
</rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
  <title>Br\xc3\xbchwerk News</title>
  <id>urn:uuid:feed-1</id>
  <updated>2026-11-20T08:00:00Z</updated>
  <entry>
    <title>Preise 2027</title>
    <id>urn:uuid:entry-1</id>
    <link href="https://news.example.de/preise-2027"/>
    <published>2026-11-19T08:00:00Z</published>
    <updated>2026-11-20T07:00:00Z</updated>
    <author><name>Redaktion</name><uri>https://news.example.de/team</uri></author>
    <summary type="html">&lt;p&gt;Ab Januar steigen die Preise.&lt;/p&gt;</summary>
  </entry>
</feed>"""


def test_wordpress_comment_feed() -> None:
    spec = SourceSpec("blog", "rss", query="https://blog.example.de/comments/feed/")
    handler = lambda r: httpx.Response(200, content=WP_COMMENTS, headers={"Content-Type": "application/rss+xml"})  # noqa: E731
    batches, _ = run(RssCollector(polite(handler)), spec, opts=options(backfill_days=30))
    posts = posts_of(batches)
    assert list(posts) == ["https://blog.example.de/?p=17#comment-42"]  # the June comment is beyond the horizon
    post = posts["https://blog.example.de/?p=17#comment-42"]
    assert post.kind == "comment" and post.language == "de"
    assert post.text == "Sehr lecker, aber die Lieferung dauerte eine Woche."
    assert post.created_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert post.identity.display_name == "Anna K." and post.identity.account_id == "blog.example.de:anna k."
    assert post.url == "https://blog.example.de/2026/11/neue-roestung/#comment-42"


def test_atom_entry_with_update_and_author_uri() -> None:
    spec = SourceSpec("news", "rss", query="https://news.example.de/feed.atom")
    batches, _ = run(RssCollector(polite(lambda r: httpx.Response(200, content=ATOM))), spec)
    post = posts_of(batches)["urn:uuid:entry-1"]
    assert post.kind == "post" and post.title == "Preise 2027" and post.text == "Ab Januar steigen die Preise."
    assert post.edited_at == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert post.identity.account_id == "https://news.example.de/team" and post.language == "de"


def test_conditional_get_uses_etag_and_last_modified_and_304_costs_nothing() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return httpx.Response(304)
        return httpx.Response(
            200, content=ATOM, headers={"ETag": '"v1"', "Last-Modified": "Fri, 20 Nov 2026 08:00:00 GMT"}
        )

    spec = SourceSpec("news", "rss", query="https://news.example.de/feed.atom")
    batches, cursor = run(RssCollector(polite(handler)), spec)
    assert len(posts_of(batches)) == 1
    assert cursor["http"] == {"etag": '"v1"', "last_modified": "Fri, 20 Nov 2026 08:00:00 GMT"}
    batches2, cursor2 = run(RssCollector(polite(handler)), spec, cursor, options(now=NOW))
    assert seen[1].headers["If-Modified-Since"] == "Fri, 20 Nov 2026 08:00:00 GMT"
    assert posts_of(batches2) == {} and not [e for b in batches2 for e in b.errors]
    assert cursor2["http"] == cursor["http"]


def test_a_page_that_is_not_a_feed_is_reported_not_fatal() -> None:
    spec = SourceSpec("news", "rss", query="https://news.example.de/feed.atom")
    html = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body>"
    batches, cursor = run(RssCollector(polite(lambda r: httpx.Response(200, content=html))), spec)
    errors = [e for b in batches for e in b.errors]
    assert len(errors) == 1 and "not a readable RSS/Atom feed" in errors[0]
    assert "etag" not in cursor.get("http", {})


NO_IDS = b"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Neuigkeiten</title><pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate><description>eins</description></item>
<item><title>Neuigkeiten</title><pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate><description>zwei</description></item>
</channel></rss>"""

TITLES = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title>
<id>urn:x</id><updated>2026-11-20T09:00:00Z</updated>
<entry><title type="text">History of the &lt;blink&gt; tag</title><id>urn:1</id><updated>2026-11-20T09:00:00Z</updated>
<summary>a</summary></entry>
<entry><title type="html">&lt;b&gt;Bold&lt;/b&gt; news</title><id>urn:2</id><updated>2026-11-20T09:00:00Z</updated>
<summary>b</summary></entry></feed>"""


def test_entries_without_id_or_link_never_collide_across_feeds_or_within_one() -> None:
    """Issue 14: the fallback id is scoped to the feed and includes the entry's text."""
    handler = lambda r: httpx.Response(200, content=NO_IDS, headers={"Content-Type": "application/rss+xml"})  # noqa: E731
    ids = set()
    for feed_url in ("https://a.example/feed", "https://b.example/feed"):
        batches, _ = run(RssCollector(polite(handler)), SourceSpec("f", "rss", query=feed_url), opts=options())
        ids |= set(posts_of(batches))
    assert len(ids) == 4 and all(i.split("#")[0] in ("https://a.example/feed", "https://b.example/feed") for i in ids)


def test_text_titles_keep_their_angle_brackets_and_html_titles_are_stripped() -> None:
    handler = lambda r: httpx.Response(200, content=TITLES, headers={"Content-Type": "application/atom+xml"})  # noqa: E731
    batches, _ = run(RssCollector(polite(handler)), SourceSpec("f", "rss", query="https://x.example/atom"))
    titles = {p.external_id: p.title for p in posts_of(batches).values()}
    assert titles == {"urn:1": "History of the <blink> tag", "urn:2": "Bold news"}
