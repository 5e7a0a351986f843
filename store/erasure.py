"""The store's side of GDPR erasure: the hash of an erased natural key, and which keys are erased.

The application (``resonanz.pipeline.suppression``) writes the list when a customer is forgotten; the
store consults it where data enters: :func:`store.ingest.upsert_identities` never re-fills the profile
of an erased person's social identity (display name, bio, location, ...) from a later collection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from store.bulk import one_of
from store.models import ErasedKey

IDENTITY = "identity"
_ERASED: Table = ErasedKey.__table__  # type: ignore[attr-defined]


def erasure_hash(kind: str, key: str) -> str:
    """sha256 of ``resonanz-erasure:<kind>:<key>`` (the list holds no key in clear)."""
    return hashlib.sha256(f"resonanz-erasure:{kind}:{key.strip()}".encode()).hexdigest()


def identity_key(platform: str, account_id: str) -> str:
    return f"{platform}:{account_id}"


def erased_hashes(conn: Connection, kind: str, hashes: Iterable[str]) -> dict[str, datetime]:
    """The hashes of ``hashes`` that are on the list for ``kind``, with the time of their erasure."""
    items = list(hashes)
    found: dict[str, datetime] = {}
    query = select(_ERASED.c.key_hash, _ERASED.c.erased_at).where(
        _ERASED.c.kind == kind, one_of(_ERASED.c.key_hash, "hashes", conn.dialect.name)
    )
    for start in range(0, len(items), 900):
        found.update({row[0]: row[1] for row in conn.execute(query, {"hashes": items[start : start + 900]})})
    return found
