"""The typed records the store takes at its seam: what a collector or an importer hands to ingest.

Keyword construction only (``PostRecord(platform=..., ...)``): a ``TypedDict`` is a plain mapping at
run time, so the ingest code stays set-based, and mypy checks every field name and type at the
places that build one (:func:`resonanz.pipeline.collect.post_record`, the post importer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Required, TypedDict


class IdentityRecord(TypedDict, total=False):
    """A social account as a platform shows it; unknown fields are left out or ``None``."""

    platform: Required[str]
    account_id: Required[str]
    handle: str | None
    display_name: str | None
    profile_url: str | None
    bio: str | None
    location: str | None


class PostRecord(TypedDict, total=False):
    """One post, comment or review (or a deletion marker: ``deleted=True``)."""

    platform: Required[str]
    external_id: Required[str]
    created_at: Required[datetime]
    kind: str
    url: str | None
    text: str | None
    title: str | None
    language: str | None
    edited_at: datetime | None
    deleted: bool
    metrics: dict[str, Any]
    raw: dict[str, Any]
    identity: IdentityRecord | None
    parent_external_id: str | None
    root_external_id: str | None


IDENTITY_FIELDS = ("handle", "display_name", "profile_url", "bio", "location")
"""The profile fields of :class:`IdentityRecord` the store keeps (never erased by a platform that
does not report them)."""
