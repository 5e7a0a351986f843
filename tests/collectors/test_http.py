"""PoliteClient: retries, Retry-After, rate-limit headers, timeouts, invalid JSON, error classes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from collectors import AuthError, FetchError, MalformedResponseError, NotFoundError, RateLimitedError, redact_url
from collectors.ratelimit import exhausted_until, reset_time, retry_after_seconds
from tests.collectors.helpers import Sleeps, json_response, polite


def sequence(*responses: httpx.Response | Exception):
    calls: list[httpx.Request] = []
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return handler, calls


def test_5xx_is_retried_with_growing_backoff_then_succeeds() -> None:
    handler, calls = sequence(httpx.Response(502), httpx.Response(503), httpx.Response(500), json_response([1]))
    sleeps = Sleeps()
    assert polite(handler, sleeps).get_json("https://api.example/x") == [1]
    assert len(calls) == 4
    # jitter fixed at 0.5: delay = ceiling * 0.75 with ceiling 1, 2, 4
    assert sleeps.calls == [0.75, 1.5, 3.0]


def test_5xx_gives_up_after_max_retries_with_a_clear_message() -> None:
    handler, calls = sequence(*[httpx.Response(503) for _ in range(4)])
    with pytest.raises(FetchError, match="answered 503 4 times"):
        polite(handler, max_retries=3).get("https://api.example/x")
    assert len(calls) == 4


def test_retry_after_seconds_is_honoured_on_429() -> None:
    handler, _ = sequence(httpx.Response(429, headers={"Retry-After": "7"}), json_response({"ok": True}))
    sleeps = Sleeps()
    assert polite(handler, sleeps).get_json("https://api.example/x") == {"ok": True}
    assert sleeps.calls == [7.0]


def test_retry_after_http_date_is_honoured() -> None:
    sleeps = Sleeps()
    when = datetime.fromtimestamp(sleeps.clock() + 42, UTC)
    handler, _ = sequence(
        httpx.Response(503, headers={"Retry-After": format_datetime(when, usegmt=True)}), json_response([])
    )
    polite(handler, sleeps).get("https://api.example/x")
    assert sleeps.calls == [pytest.approx(42, abs=1)]


def test_429_without_retry_after_waits_for_the_mastodon_reset_time() -> None:
    sleeps = Sleeps()
    reset = datetime.fromtimestamp(sleeps.clock() + 90, UTC).isoformat().replace("+00:00", "Z")
    handler, _ = sequence(
        httpx.Response(429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}), json_response([])
    )
    polite(handler, sleeps).get("https://api.example/x")
    assert sleeps.calls == [pytest.approx(90, abs=1)]


def test_too_long_retry_after_stops_the_run_instead_of_waiting() -> None:
    handler, calls = sequence(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="3600 s") as info:
        polite(handler, sleeps).get("https://api.example/x")
    assert sleeps.calls == []
    assert info.value.retry_at == pytest.approx(sleeps.clock() + 3600)
    assert len(calls) == 1


def test_exhausted_budget_delays_the_next_request_to_the_same_host() -> None:
    sleeps = Sleeps()
    # Bluesky style: reset as a Unix time
    headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": str(int(sleeps.clock()) + 30)}
    handler, calls = sequence(json_response([1], headers=headers), json_response([2]), json_response([3]))
    client = polite(handler, sleeps)
    assert client.get_json("https://bsky.example/a") == [1]
    assert sleeps.calls == []
    assert client.get_json("https://bsky.example/b") == [2]
    assert sleeps.calls == [pytest.approx(30, abs=1)]
    assert client.get_json("https://bsky.example/c") == [3]
    assert len(sleeps.calls) == 1


def test_reddit_float_remaining_and_relative_reset() -> None:
    now = 1_000_000_000.0
    assert exhausted_until({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "45"}, now) == now + 45
    assert exhausted_until({"x-ratelimit-remaining": "57.0", "x-ratelimit-reset": "45"}, now) is None


def test_ietf_combined_ratelimit_header() -> None:
    assert exhausted_until({"ratelimit": "limit=100, remaining=0, reset=12"}, 100.0) == 112.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2026-11-20T10:05:00Z", datetime(2026, 11, 20, 10, 5, tzinfo=UTC).timestamp()), ("1800000100", 1800000100.0),
     ("1800000100000", 1800000100.0), ("30", 1000.0 + 30)],
)  # fmt: skip
def test_reset_time_formats(value: str, expected: float) -> None:
    assert reset_time(value, 1000.0) == pytest.approx(expected)


def test_unreadable_retry_after_is_ignored() -> None:
    assert retry_after_seconds("soon", 0.0) is None


def test_timeouts_are_retried_then_reported() -> None:
    handler, calls = sequence(*[httpx.ReadTimeout("read timed out") for _ in range(3)], json_response([]))
    sleeps = Sleeps()
    polite(handler, sleeps).get("https://api.example/x")
    assert len(calls) == 4
    assert len(sleeps.calls) == 3
    handler, calls = sequence(*[httpx.ConnectError("refused") for _ in range(4)])
    with pytest.raises(FetchError, match="ConnectError"):
        polite(handler).get("https://api.example/x")


def test_invalid_json_is_refetched_once_then_reported_with_the_url() -> None:
    handler, calls = sequence(httpx.Response(200, content=b'[{"id": "1", "conte'), json_response([{"id": "1"}]))
    assert polite(handler).get_json("https://api.example/page") == [{"id": "1"}]
    assert len(calls) == 2
    handler, calls = sequence(httpx.Response(200, content=b"<html>oops</html>"), httpx.Response(200, content=b"{"))
    with pytest.raises(MalformedResponseError) as info:
        polite(handler).get_json("https://api.example/page")
    assert info.value.url == "https://api.example/page"


def test_status_errors_are_classified() -> None:
    handler, _ = sequence(httpx.Response(401, text="nope"))
    with pytest.raises(AuthError, match="credentials"):
        polite(handler).get("https://api.example/x")
    handler, _ = sequence(httpx.Response(404))
    with pytest.raises(NotFoundError):
        polite(handler).get("https://api.example/x")
    handler, _ = sequence(httpx.Response(400, text="bad"))
    assert polite(handler).get("https://api.example/x", allow=(400,)).status_code == 400


def test_secrets_never_reach_logs_or_messages(caplog: pytest.LogCaptureFixture) -> None:
    assert redact_url("https://g.example/v3/x?part=a&key=SECRET123&access_token=T0K") == (
        "https://g.example/v3/x?part=a&key=%2A%2A%2A&access_token=%2A%2A%2A"
    )
    handler, _ = sequence(httpx.Response(500), *[httpx.Response(503) for _ in range(3)])
    caplog.set_level(logging.DEBUG)
    with pytest.raises(FetchError) as info:
        polite(handler).get("https://g.example/v3/x", params={"key": "SECRET123"})
    assert "SECRET123" not in str(info.value)
    assert "SECRET123" not in caplog.text
