"""Identifier keys for social handles and profile URLs, platform by platform.

Every form of the same account yields the same key (see :mod:`linker.identity.normalise` for the key
format). Handles without any platform hint ("@max", "max") become ``bare:max``: they could be
anyone on any platform, so a match on a bare key alone only ever goes to review.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from linker.identity.normalise import url_host

_PLATFORM_PREFIX = {
    "mastodon": "fedi", "fediverse": "fedi", "pixelfed": "fedi", "misskey": "fedi", "lemmy": "fedi",
    "bluesky": "bsky", "bsky": "bsky", "reddit": "reddit", "youtube": "youtube", "x": "x", "twitter": "x",
    "instagram": "instagram", "tiktok": "tiktok", "facebook": "facebook", "threads": "threads",
    "github": "github", "linkedin": "linkedin", "twitch": "twitch",
}  # fmt: skip

_HOST_PLATFORM = {
    "bsky.app": "bsky", "reddit.com": "reddit", "old.reddit.com": "reddit", "new.reddit.com": "reddit",
    "np.reddit.com": "reddit", "youtube.com": "youtube", "m.youtube.com": "youtube", "twitter.com": "x",
    "x.com": "x", "mobile.twitter.com": "x", "instagram.com": "instagram", "tiktok.com": "tiktok",
    "facebook.com": "facebook", "m.facebook.com": "facebook", "threads.net": "threads", "github.com": "github",
    "linkedin.com": "linkedin", "de.linkedin.com": "linkedin", "twitch.tv": "twitch",
}  # fmt: skip

_USER = re.compile(r"^[a-z0-9_.\-]+$")
WEAK_PREFIX = "bare:"


def _clean(name: str) -> str:
    return unquote(name).strip().lstrip("@").lower()


def looks_like_url(text: str) -> bool:
    text = text.strip().lower()
    return text.startswith(("http://", "https://", "www.")) or bool(re.match(r"^[a-z0-9\-]+(\.[a-z0-9\-]+)+/", text))


def url_keys(url: str) -> set[str]:
    """Keys for a profile URL: the platform account (if recognisable) and the URL itself."""
    host = url_host(url.strip())
    if not host:
        return set()
    raw = url.strip()
    if not re.match(r"^[a-z][a-z0-9+.\-]*://", raw, re.I):
        raw = "https://" + raw
    try:
        path = urlsplit(raw).path
    except ValueError:
        return set()
    parts = [p for p in unquote(path).split("/") if p]
    keys = {"url:" + host + ("/" + "/".join(parts) if parts else "").lower()}
    platform = _HOST_PLATFORM.get(host)
    first = parts[0].lower() if parts else ""
    second = parts[1] if len(parts) > 1 else ""
    account: str | None = None
    if (
        platform == "bsky"
        and first == "profile"
        and second
        or platform == "reddit"
        and first in ("user", "u")
        and second
    ):
        account = _clean(second)
    elif platform == "youtube" and first.startswith("@"):
        account = _clean(first)
    elif platform == "youtube" and first == "channel" and second:
        account = "channel:" + second.lower()
    elif (
        platform == "youtube"
        and first in ("c", "user")
        and second
        or platform == "linkedin"
        and first == "in"
        and second
    ):
        account = _clean(second)
    elif platform in ("x", "instagram", "tiktok", "facebook", "threads", "github", "twitch") and first:
        if first not in ("home", "explore", "search", "hashtag", "p", "watch", "share", "i"):
            account = _clean(first)
    elif platform is None and first.startswith("@") and len(first) > 1:
        return keys | {f"fedi:{_clean(first)}@{host}"}
    elif platform is None and first == "users" and second:
        return keys | {f"fedi:{_clean(second)}@{host}"}
    if platform and account:
        keys.add(f"{platform}:{account}")
    return keys


def handle_keys(handle: str | None, platform: str | None = None) -> set[str]:
    """Keys for a handle as written in a CRM or reported by a platform.

    ``platform`` (an identity's platform, e.g. "mastodon") qualifies bare handles; without it a
    bare handle only yields a weak ``bare:`` key.
    """
    if not handle or not handle.strip():
        return set()
    text = handle.strip()
    if looks_like_url(text):
        return url_keys(text)
    prefix = _PLATFORM_PREFIX.get((platform or "").lower())
    lowered = text.lower()
    if lowered.startswith(("u/", "/u/")):
        return {"reddit:" + _clean(lowered.split("u/", 1)[1].strip("/"))}
    if lowered.startswith("did:"):
        return {"bsky:" + lowered}
    name = _clean(text)
    if "@" in name:
        user, _, instance = name.partition("@")
        if user and instance and "." in instance:
            return {f"fedi:{user}@{instance}"}
    if not _USER.match(name):
        return set()
    if prefix == "bsky" or (prefix is None and name.endswith(".bsky.social")):
        return {"bsky:" + (name if "." in name else name + ".bsky.social")}
    if prefix and prefix != "fedi":
        return {f"{prefix}:{name}"}
    return {WEAK_PREFIX + name}


def local_name(key: str) -> str | None:
    """The user part of a platform key, for weak cross-matching with bare CRM handles."""
    kind, _, value = key.partition(":")
    if kind == "fedi":
        return value.partition("@")[0]
    if kind == "bsky" and value.endswith(".bsky.social"):
        return value[: -len(".bsky.social")]
    if kind in ("reddit", "x", "instagram", "tiktok", "threads", "github", "youtube", "twitch", "facebook"):
        return None if value.startswith("channel:") else value
    return None
