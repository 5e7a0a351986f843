"""Plain data handed out by collectors: identities, posts, batches, and what a source asks for.

Nothing here knows about the store; ``resonanz.pipeline.collect`` turns these into rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class CollectedIdentity:
    """An author, keyed on the platform's stable account id (Mastodon account URI, Bluesky DID ...)."""

    platform: str
    account_id: str
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    bio: str | None = None
    location: str | None = None


@dataclass(slots=True)
class CollectedPost:
    """One post, comment or review as the platform shows it now.

    ``created_at``/``edited_at`` are timezone-aware UTC. ``deleted=True`` marks a tombstone: the
    post is gone on the platform (its text may be empty). ``listed_at`` is the time the platform
    sorts listings by, when that differs from ``created_at`` (Bluesky's ``indexedAt``).
    ``root_external_id`` is ``None`` for a thread's root itself.
    """

    platform: str
    external_id: str
    kind: str
    url: str | None
    text: str
    created_at: datetime
    title: str | None = None
    language: str | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    identity: CollectedIdentity | None = None
    parent_external_id: str | None = None
    root_external_id: str | None = None
    listed_at: datetime | None = None

    @property
    def sort_time(self) -> datetime:
        return self.listed_at or self.created_at


def tombstone(platform: str, external_id: str, *, kind: str = "post", now: datetime | None = None) -> CollectedPost:
    """A marker for a post that no longer exists on the platform."""
    return CollectedPost(
        platform=platform,
        external_id=external_id,
        kind=kind,
        url=None,
        text="",
        created_at=now or datetime.now(UTC),
        deleted=True,
    )


@dataclass(frozen=True, slots=True)
class ThreadSnapshot:
    """The complete set of replies under ``root_external_id`` as the platform lists them now.

    Stored replies of that root that are missing from ``present`` were deleted on the platform.
    """

    platform: str
    root_external_id: str
    present: frozenset[str]


@dataclass(slots=True)
class Batch:
    """What one page (or one thread) yielded, and the source's cursor once it is stored.

    The caller stores ``posts`` and ``cursor`` together in one transaction, so a crash never
    loses stored posts and never skips unstored ones.
    """

    posts: list[CollectedPost]
    cursor: dict[str, Any]
    url: str | None = None
    errors: list[str] = field(default_factory=list)
    thread: ThreadSnapshot | None = None
    failed: bool = False
    """A page has failed for several runs and posts behind it are missing until a retry succeeds: the
    run is a failed run (not a partial one), so nobody mistakes it for a complete collection."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What to collect: the platform-specific meaning of ``query``/``account`` is in each module."""

    name: str
    platform: str
    query: str | None = None
    account: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CollectOptions:
    """How far back and how much to fetch in one run."""

    now: datetime
    backfill_days: int = 30
    reply_lookback: timedelta = timedelta(hours=48)
    max_pages: int = 500
    max_threads: int = 50
    fetch_replies: bool = True
    thread_min_age: timedelta = timedelta(minutes=10)
    """A thread refreshed (or first seen complete) less than this long ago waits for a later run."""

    @property
    def horizon(self) -> datetime:
        return self.now - timedelta(days=self.backfill_days)
