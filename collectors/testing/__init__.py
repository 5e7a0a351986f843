"""Local stand-ins for platforms: an HTTP server on 127.0.0.1 and fake Mastodon, Bluesky and Reddit APIs.

Used by the end-to-end tests, ``resonanz demo`` and ``bench/bench_ingest.py``; never by a
real collection run.
"""

from collectors.testing.bluesky import FakeBluesky
from collectors.testing.mastodon import (
    FakeMastodon,
    SyntheticTimeline,
    load_fixture,
    make_account,
    make_status,
    snowflake,
)
from collectors.testing.reddit import FakeReddit
from collectors.testing.server import Fault, LocalServer, Reply, Request

__all__ = [
    "FakeBluesky",
    "FakeMastodon",
    "FakeReddit",
    "Fault",
    "LocalServer",
    "Reply",
    "Request",
    "SyntheticTimeline",
    "load_fixture",
    "make_account",
    "make_status",
    "snowflake",
]
