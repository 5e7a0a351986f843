"""Reading the many dialects of "wait before you ask again": ``Retry-After`` and rate-limit headers.

- ``Retry-After``: delay seconds or an HTTP-date (RFC 9110).
- ``X-RateLimit-Remaining``/``X-RateLimit-Reset``: Mastodon (reset is an ISO 8601 time),
  Reddit (``X-Ratelimit-Remaining`` is a float, reset is seconds from now).
- ``ratelimit-remaining``/``ratelimit-reset``: Bluesky (reset is a Unix time) and the IETF
  draft (reset is seconds from now); the draft's combined ``RateLimit: remaining=0, reset=30``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

from collectors.text import parse_time

_REMAINING = ("x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining")
_RESET = ("x-ratelimit-reset", "ratelimit-reset", "x-rate-limit-reset")
_COMBINED = re.compile(r"\b(remaining|reset|r|t)\s*=\s*([0-9.]+)", re.IGNORECASE)


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date); ``None`` if absent/unreadable."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def reset_time(value: str | None, now: float) -> float | None:
    """The Unix time a rate-limit window resets, from an ISO time, a Unix time or seconds from now."""
    if not value:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        parsed = parse_time(text)  # an ISO 8601 time or an HTTP-date
        return parsed.timestamp() if parsed is not None else None
    if number > 1e12:  # milliseconds since the epoch
        return number / 1000.0
    if number > 1e9:  # seconds since the epoch
        return number
    return now + max(0.0, number)


def exhausted_until(headers: Mapping[str, str], now: float) -> float | None:
    """If the headers say the budget is used up, the Unix time it comes back; else ``None``."""
    remaining = _first(headers, _REMAINING)
    reset = _first(headers, _RESET)
    combined = headers.get("ratelimit")
    if combined and (remaining is None or reset is None):
        found = {k.lower(): v for k, v in _COMBINED.findall(combined)}
        remaining = remaining or found.get("remaining") or found.get("r")
        reset = reset or found.get("reset") or found.get("t")
    if remaining is None:
        return None
    try:
        left = float(remaining)
    except ValueError:
        return None
    if left >= 1:
        return None
    return reset_time(reset, now)


def reset_wait(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds until the rate-limit window resets, whatever the remaining count says."""
    reset = _first(headers, _RESET)
    if reset is None and headers.get("ratelimit"):
        found = {k.lower(): v for k, v in _COMBINED.findall(headers["ratelimit"])}
        reset = found.get("reset") or found.get("t")
    when = reset_time(reset, now)
    return None if when is None else max(0.0, when - now)
