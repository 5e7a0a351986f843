"""Shared helpers for collector tests: a mock-transport client, a recording sleep, batch runners."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from collectors import Batch, CollectOptions, Collector, Credentials, PoliteClient, RetryPolicy, SourceSpec

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=BERLIN)


@dataclass
class Sleeps:
    """Records requested waits instead of waiting; advances a fake clock."""

    clock_start: float = 1_800_000_000.0
    calls: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.now = self.clock_start

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


Handler = Callable[[httpx.Request], httpx.Response]


def polite(
    handler: Handler, sleeps: Sleeps | None = None, *, max_retries: int = 3, label: str = "test"
) -> PoliteClient:
    sleeps = sleeps or Sleeps()
    client = httpx.Client(transport=httpx.MockTransport(handler), headers={"User-Agent": "Resonanz-Test/1"})
    return PoliteClient(
        client,
        policy=RetryPolicy(max_retries=max_retries, backoff_base=1.0, backoff_cap=30.0, max_wait=600.0),
        sleep=sleeps,
        clock=sleeps.clock,
        rng=lambda: 0.5,
        label=label,
    )


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(data).encode(), headers={"Content-Type": "application/json",
                                                                             **(headers or {})})  # fmt: skip


def options(now: datetime = NOW, **kwargs: Any) -> CollectOptions:
    return CollectOptions(now=now, **kwargs)


def run(
    collector: Collector, spec: SourceSpec, cursor: Mapping[str, Any] | None = None, opts: CollectOptions | None = None
) -> tuple[list[Batch], dict[str, Any]]:
    batches = list(collector.collect(spec, cursor or {}, opts or options()))
    return batches, batches[-1].cursor


def posts_of(batches: list[Batch]) -> dict[str, Any]:
    """The last version of every post handed out, by external id."""
    found: dict[str, Any] = {}
    for batch in batches:
        for post in batch.posts:
            found[post.external_id] = post
    return found


def creds(**kwargs: Any) -> Credentials:
    return Credentials(**kwargs)


def app_handler(app: Callable[[Any], Any], log: list[httpx.Request] | None = None) -> Handler:
    """Serve a ``collectors.testing`` app (Request -> Reply) through ``httpx.MockTransport``."""
    from urllib.parse import parse_qs

    from collectors.testing import Request

    def handler(request: httpx.Request) -> httpx.Response:
        if log is not None:
            log.append(request)
        headers = {k.lower(): v for k, v in request.headers.items()}
        raw_path = request.url.raw_path.split(b"?")[0].decode()
        reply = app(Request(request.method, raw_path, parse_qs(request.url.query.decode()), headers,
                            request.content))  # fmt: skip
        return httpx.Response(reply.status, content=reply.body, headers=reply.headers)

    return handler
