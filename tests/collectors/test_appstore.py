"""Apple App Store reviews from the public customer-reviews JSON feed."""

from __future__ import annotations

from datetime import timedelta

import httpx

from collectors import SourceSpec
from collectors.appstore import AppStoreCollector, app_id
from tests.collectors.helpers import NOW, json_response, options, polite, posts_of, run

SPEC = SourceSpec("app", "appstore", query="https://apps.apple.com/de/app/bruehwerk/id1234567890")


def review(rid: str, days_ago: float, rating: int, title: str, text: str) -> dict:
    when = (NOW - timedelta(days=days_ago)).isoformat()
    href = f"https://itunes.apple.com/de/review?id=1234567890&r={rid}"
    return {
        "author": {"uri": {"label": f"https://itunes.apple.com/de/reviews/id{rid}99"},
                   "name": {"label": f"Nutzer{rid}"}, "label": ""},
        "updated": {"label": when},
        "im:rating": {"label": str(rating)},
        "im:version": {"label": "3.2.1"},
        "id": {"label": rid},
        "title": {"label": title},
        "content": {"label": text, "attributes": {"type": "text"}},
        "link": {"attributes": {"rel": "related", "href": href}},
        "im:voteSum": {"label": "3"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Anwendung"}},
        "im:voteCount": {"label": "4"},
    }  # fmt: skip


APP_ENTRY = {"im:name": {"label": "Brühwerk"}, "id": {"label": "https://apps.apple.com/de/app/id1234567890",
                                                       "attributes": {"im:id": "1234567890"}}}  # fmt: skip


def feed(entries: object) -> dict:
    return {
        "feed": {
            "author": {"name": {"label": "iTunes Store"}},
            "entry": entries,
            "updated": {"label": NOW.isoformat()},
            "id": {"label": "https://itunes.apple.com/de/rss/customerreviews/id=1234567890/json"},
        }
    }


def test_app_id_from_url() -> None:
    assert app_id("https://apps.apple.com/de/app/bruehwerk/id1234567890") == "1234567890"
    assert app_id("1234567890") == "1234567890"


def test_pages_of_reviews_newest_first_until_the_horizon() -> None:
    pages = {1: [APP_ENTRY, *[review(str(100 + i), i * 3, 1 + i % 5, f"Titel {i}", f"Text {i}") for i in range(50)]]}
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        number = int(request.url.path.split("page=")[1].split("/")[0])
        return json_response(feed(pages.get(number, [])))

    batches, _ = run(AppStoreCollector(polite(handler)), SPEC, opts=options(backfill_days=30))
    posts = posts_of(batches)
    assert len(posts) == 11  # one every 3 days: 0..30 days
    assert seen[0].url.path == "/de/rss/customerreviews/page=1/id=1234567890/sortby=mostrecent/json"
    first = posts["apple:100"]
    assert (first.kind, first.title, first.text, first.metrics["rating"]) == ("review", "Titel 0", "Text 0", 1)
    assert first.identity.account_id == "https://itunes.apple.com/de/reviews/id10099"


def test_a_single_review_comes_as_an_object_and_an_empty_feed_has_no_entry() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "page=1/" in request.url.path:
            return json_response(feed(review("7", 1, 5, "Top", "Beste App")))
        return json_response({"feed": {"author": {}, "id": {"label": "x"}}})

    batches, _ = run(AppStoreCollector(polite(handler)), SPEC)
    assert list(posts_of(batches)) == ["apple:7"]


def test_a_review_without_updated_is_kept_and_dated_by_the_feed() -> None:
    """Issue 14: real feeds omit 'updated' on some reviews; they used to be dropped."""
    undated = review("77", 1, 2, "Ohne Datum", "Stürzt ab")
    del undated["updated"]
    handler = lambda r: httpx.Response(200, json=feed([APP_ENTRY, undated]))  # noqa: E731
    batches, _ = run(AppStoreCollector(polite(handler)), SPEC)
    (post,) = posts_of(batches).values()
    assert post.created_at == NOW and post.raw["resonanz_dated_by"] == "feed"
    assert not [e for b in batches for e in b.errors]
