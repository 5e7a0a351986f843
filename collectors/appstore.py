"""Apple App Store customer reviews from Apple's public JSON feed (no key needed):
``https://itunes.apple.com/<country>/rss/customerreviews/page=<n>/id=<app id>/sortby=mostrecent/json``.

Source fields: ``query`` is the numeric app id (or an App Store URL containing ``id123``);
option ``country`` (default ``de``). The feed serves at most 10 pages of 50 reviews, newest
first. Pages are offsets into those reviews, so a page number stored by an interrupted run is not
reused: the next run reads that sweep again from page 1 (down to the same stop). Reviews are keyed
on Apple's review id, authors on their reviewer URI. Google Play reviews of the brand's own app are
collected by :mod:`collectors.google_play` (Google Play Developer API, service account).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.base import Collector, Listing, Page
from collectors.errors import ConfigurationError, MalformedResponseError
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec
from collectors.text import parse_time, require_time

log = logging.getLogger(__name__)

BASE = "https://itunes.apple.com"
MAX_PAGES = 10
_APP_ID = re.compile(r"(?:id=?)?(\d{5,})")


def app_id(query: str | None) -> str | None:
    match = _APP_ID.search(query or "")
    return match.group(1) if match else None


def _label(entry: Mapping[str, Any], name: str) -> Any:
    value = entry.get(name)
    return value.get("label") if isinstance(value, Mapping) else None


class AppStoreCollector(Collector):
    platform = "appstore"
    overlap = timedelta(hours=6)

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not app_id(spec.query):
            raise ConfigurationError(
                f"App Store source {spec.name!r} needs --query with the numeric app id (the digits after 'id' in the "
                "App Store URL)."
            )

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        country = str(spec.config.get("country") or "de").lower()
        app = str(app_id(spec.query))
        run = options.now.isoformat()
        return [
            Listing(f"apple:{country}:{app}", lambda tok: self._page(spec, country, app, _page_number(tok, run), run))
        ]

    def _page(self, spec: SourceSpec, country: str, app: str, number: int, run: str) -> Page:
        base = str(spec.config.get("base_url") or BASE).rstrip("/")
        url = f"{base}/{country}/rss/customerreviews/page={number}/id={app}/sortby=mostrecent/json"
        data = self.http.get_json(url)
        feed = data.get("feed") if isinstance(data, dict) else None
        if not isinstance(feed, dict):
            raise MalformedResponseError(f"{self.http.label}: {url} is not an App Store review feed", url=url)
        entries = feed.get("entry") or []
        if isinstance(entries, dict):  # a single entry comes as an object, not a list
            entries = [entries]
        reviews = [e for e in entries if isinstance(e, dict) and "im:rating" in e]  # the app's own entry has none
        # some real feeds omit a review's 'updated': the review is kept, dated by the feed (or now)
        fallback = parse_time(_label(feed, "updated")) or datetime.now(UTC)
        posts, errors = self.parse_items(reviews, lambda e: self.parse_review(e, country, fallback), url)
        next_token = f"{number + 1}@{run}" if reviews and number < MAX_PAGES else None
        return Page(posts=posts, next_token=next_token, url=url, errors=errors, seen=len(reviews))

    def parse_review(self, entry: Mapping[str, Any], country: str, fallback: datetime | None = None) -> CollectedPost:
        """One review; without an ``updated`` field it is dated ``fallback`` (marked in ``raw``), not dropped."""
        review_id = _label(entry, "id")
        if not review_id:
            raise ValueError("review without id")
        author = entry.get("author") or {}
        reviewer = _label(author, "uri")
        link = entry.get("link")
        href = link.get("attributes", {}).get("href") if isinstance(link, Mapping) else None
        return CollectedPost(
            platform=self.platform,
            external_id=f"apple:{review_id}",
            kind="review",
            url=href,
            text=str(_label(entry, "content") or "").strip(),
            title=_label(entry, "title"),
            created_at=_review_time(entry, fallback),
            metrics={
                "rating": int(_label(entry, "im:rating")),
                "votes": int(_label(entry, "im:voteCount") or 0),
                "vote_sum": int(_label(entry, "im:voteSum") or 0),
                "version": _label(entry, "im:version"),
                "country": country,
            },
            raw={**dict(entry), **({"resonanz_dated_by": "feed"} if not _label(entry, "updated") else {})},
            identity=CollectedIdentity(
                platform=self.platform,
                account_id=str(reviewer),
                display_name=_label(author, "name"),
                profile_url=reviewer,
            )
            if reviewer
            else None,
        )


def _page_number(token: str | None, run: str) -> int:
    """The page a sweep's token points to. Apple's pages are offsets into the newest reviews: a page number
    stored by an earlier run points elsewhere once reviews were added or deleted (a deletion shifts reviews up
    past it, and they would never be read), so an interrupted sweep starts again from page 1 (same stop)."""
    if not token:
        return 1
    number, _, stamp = token.partition("@")
    if stamp != run or not number.isdigit():
        log.info("App Store: page %s was stored by an earlier run; reading again from page 1", number)
        return 1
    return int(number)


def _review_time(entry: Mapping[str, Any], fallback: datetime | None) -> datetime:
    value = _label(entry, "updated")
    if not value and fallback is not None:
        return fallback
    return require_time(value, "updated")
