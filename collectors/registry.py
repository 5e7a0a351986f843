"""Which collector class serves which platform name."""

from __future__ import annotations

from collectors.appstore import AppStoreCollector
from collectors.base import Collector, Credentials
from collectors.bluesky import BlueskyCollector
from collectors.errors import ConfigurationError
from collectors.google_business import GoogleBusinessCollector
from collectors.google_play import GooglePlayCollector
from collectors.http import PoliteClient
from collectors.items import SourceSpec
from collectors.mastodon import MastodonCollector
from collectors.meta import FacebookPageCollector, InstagramCollector
from collectors.reddit import RedditCollector
from collectors.rss import RssCollector
from collectors.trustpilot import TrustpilotCollector
from collectors.youtube import YouTubeCollector

COLLECTORS: dict[str, type[Collector]] = {
    cls.platform: cls
    for cls in (
        MastodonCollector,
        BlueskyCollector,
        RedditCollector,
        YouTubeCollector,
        RssCollector,
        AppStoreCollector,
        GoogleBusinessCollector,
        GooglePlayCollector,
        TrustpilotCollector,
        FacebookPageCollector,
        InstagramCollector,
    )
}


def platforms() -> list[str]:
    return sorted(COLLECTORS)


def collector_class(platform: str) -> type[Collector]:
    try:
        return COLLECTORS[platform.strip().lower()]
    except KeyError:
        raise ConfigurationError(f"unknown platform {platform!r}; choose one of: {', '.join(platforms())}") from None


def validate(spec: SourceSpec) -> None:
    """Raise :class:`ConfigurationError` with a hint if ``spec`` cannot be collected."""
    collector_class(spec.platform).validate(spec)


def make_collector(platform: str, http: PoliteClient, credentials: Credentials | None = None) -> Collector:
    return collector_class(platform)(http, credentials)
