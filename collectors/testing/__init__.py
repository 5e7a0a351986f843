"""Local stand-ins for platforms: an HTTP server on 127.0.0.1 and a fake Mastodon.

Used by the end-to-end tests, ``resonanz demo`` and ``bench/bench_ingest.py``; never by a
real collection run.
"""

from collectors.testing.mastodon import (
    FakeMastodon,
    SyntheticTimeline,
    load_fixture,
    make_account,
    make_status,
    snowflake,
)
from collectors.testing.server import Fault, LocalServer, Reply, Request

__all__ = [
    "FakeMastodon",
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
