"""A polite HTTP client: retries with backoff, ``Retry-After``, rate-limit headers, clean errors.

``PoliteClient`` wraps an ``httpx.Client``; tests hand that client an ``httpx.MockTransport``
and the ``sleep``/``clock``/``rng`` callables, so no test waits for real.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from collectors.errors import (
    AuthError,
    FetchError,
    HttpStatusError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
)
from collectors.ratelimit import exhausted_until, reset_wait, retry_after_seconds

log = logging.getLogger(__name__)

SECRET_PARAMS = {"key", "api_key", "apikey", "access_token", "token", "client_secret", "password", "sig", "signature"}


def redact_url(url: str | httpx.URL) -> str:
    """The URL with credential-bearing query parameters masked, fit for logs and run records."""
    parsed = httpx.URL(str(url))
    if not parsed.query:
        return str(parsed)
    params = [(k, "***" if k.lower() in SECRET_PARAMS else v) for k, v in parsed.params.multi_items()]
    return str(parsed.copy_with(params=params))


class _RedactingFilter(logging.Filter):
    """httpx logs every request URL at INFO; mask credentials in those URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


logging.getLogger("httpx").addFilter(_RedactingFilter())


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` extra attempts; backoff doubles from ``backoff_base`` up to ``backoff_cap``
    seconds (with jitter); a single wait longer than ``max_wait`` seconds ends the run instead."""

    max_retries: int = 5
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    max_wait: float = 900.0


class PoliteClient:
    """Every request of one collector run goes through here."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        label: str = "",
    ) -> None:
        self.client = client
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng
        self.label = label or "collector"
        self.requests = 0
        self._not_before: dict[str, float] = {}

    def close(self) -> None:
        self.client.close()

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * (2**attempt))
        return float(ceiling / 2 + self.rng() * ceiling / 2)

    def _wait_for_host(self, host: str) -> None:
        until = self._not_before.get(host)
        if until is None:
            return
        wait = until - self.clock()
        if wait <= 0:
            self._not_before.pop(host, None)
            return
        if wait > self.policy.max_wait:
            raise RateLimitedError(
                f"{self.label}: {host} allows no more requests for {wait:.0f} s; stopping this run. "
                "The next scheduled run continues where this one stopped.",
                retry_at=until,
            )
        log.info("%s: rate limit of %s used up; waiting %.1f s", self.label, host, wait)
        self.sleep(wait)
        self._not_before.pop(host, None)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        json_body: Any = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        allow: Collection[int] = (),
    ) -> httpx.Response:
        """Send a request, retrying 429/5xx/timeouts; raise a :class:`CollectorError` subclass on failure.

        Statuses in ``allow`` (and 304) are returned to the caller instead of raising."""
        request = self.client.build_request(method, url, params=params, headers=headers, data=data, json=json_body)
        shown = redact_url(request.url)
        host = request.url.host
        attempts = self.policy.max_retries + 1
        for attempt in range(attempts):
            self._wait_for_host(host)
            last_try = attempt == attempts - 1
            try:
                response = self.client.send(request, auth=auth) if auth else self.client.send(request)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if last_try:
                    raise FetchError(
                        f"{self.label}: {method} {shown} failed {attempts} times ({problem}). Check the network and "
                        "that the platform is reachable; the next run retries from the last stored position."
                    ) from exc
                delay = self.backoff(attempt)
                log.warning("%s: %s %s: %s; retry %d/%d in %.1f s", self.label, method, shown, problem,
                            attempt + 1, attempts - 1, delay)  # fmt: skip
                self.sleep(delay)
                continue
            self.requests += 1
            now = self.clock()
            until = exhausted_until(response.headers, now)
            if until is not None and until > now:
                self._not_before[host] = until
            status = response.status_code
            if status < 300 or status == 304 or status in allow:
                return response
            if status == 429 or status >= 500:
                asked = retry_after_seconds(response.headers.get("retry-after"), now)
                if asked is None and status == 429:
                    asked = reset_wait(response.headers, now)
                delay = self.backoff(attempt) if asked is None else asked
                what = "rate limited (429)" if status == 429 else f"answered {status}"
                if delay > self.policy.max_wait:
                    raise RateLimitedError(
                        f"{self.label}: {shown} {what} and asks to wait {delay:.0f} s; stopping this run. "
                        "The next scheduled run continues where this one stopped.",
                        retry_at=now + delay,
                    )
                if last_try:
                    if status == 429:
                        raise RateLimitedError(
                            f"{self.label}: {shown} is still rate limited after {attempts} attempts; stopping this "
                            "run. Consider a longer interval for this source.",
                            retry_at=now + delay,
                        )
                    raise FetchError(
                        f"{self.label}: {method} {shown} {what} {attempts} times. The platform seems to have "
                        "trouble; the next run retries from the last stored position."
                    )
                log.warning("%s: %s %s %s; retry %d/%d in %.1f s", self.label, method, shown, what,
                            attempt + 1, attempts - 1, delay)  # fmt: skip
                self.sleep(delay)
                continue
            raise _status_error(self.label, method, shown, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode JSON; a truncated or invalid body is fetched once more, then reported."""
        return self.fetch_json("GET", url, **kwargs)[0]

    def fetch_json(self, method: str, url: str, **kwargs: Any) -> tuple[Any, httpx.Response]:
        """Like :meth:`get_json` for any method, also returning the response (headers, links, status)."""
        for attempt in range(2):
            response = self.request(method, url, **kwargs)
            try:
                return response.json(), response
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                shown = redact_url(response.request.url)
                if attempt == 0 and self.policy.max_retries > 0:
                    log.warning("%s: %s returned invalid JSON (%s); fetching it once more", self.label, shown, exc)
                    self.sleep(self.backoff(0))
                    continue
                raise MalformedResponseError(
                    f"{self.label}: {shown} returned invalid or truncated JSON ({exc}); skipping it.", url=shown
                ) from exc
        raise AssertionError("unreachable")  # pragma: no cover


def _status_error(label: str, method: str, shown: str, response: httpx.Response) -> HttpStatusError:
    status = response.status_code
    body = response.text[:500] if response.content else ""
    if status in (401, 403):
        return AuthError(
            f"{label}: {method} {shown} was refused ({status}). Check the credentials configured for this "
            "platform (RESONANZ_COLLECTORS__...) and that the account may read this resource.",
            status=status,
            url=shown,
            body=body,
        )
    if status in (404, 410):
        return NotFoundError(f"{label}: {shown} does not exist ({status}).", status=status, url=shown, body=body)
    return HttpStatusError(
        f"{label}: {method} {shown} answered {status}: {body[:200]}. Check the source's query and options.",
        status=status,
        url=shown,
        body=body,
    )
