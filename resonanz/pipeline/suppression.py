"""GDPR erasure that stays erased: the suppression list and the redaction of free text.

* **Suppression list.** ``resonanz forget`` records the erased customer's CRM id and order ids as
  hashes (``erased_key``); every customer and order import skips rows whose key is on the list and
  reports them ("skipped: erased under Art. 17 on ..."), so the routine re-import of an unchanged CRM
  export cannot bring the person back, and revenue is not counted twice. The hash keeps the list free
  of the keys in clear; CRM ids are short, so it protects against casual reading, not a determined
  attacker with the CRM (who has the data anyway).
* **Redaction.** Personal data that people typed about the customer (a review item's notes, the audit
  trail's details, archived digests) is replaced by ``[gelöscht]`` wherever it names the customer: the
  full name, company, CRM id, e-mail addresses, phone numbers, handles and profile URLs. The structure
  (which item, which event, which week) stays, so the audit trail still shows that something happened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from store.erasure import IDENTITY, erased_hashes, erasure_hash, identity_key
from store.models import Digest, ErasedKey, ReviewEvent, ReviewItem

REDACTED = "[gelöscht]"
CRM_ID, ORDER_ID = "crm_id", "order_id"
__all__ = ["CRM_ID", "IDENTITY", "ORDER_ID", "REDACTED", "erased_among", "identity_key", "record_erased", "redact"]


def record_erased(session: Session, kind: str, keys: Iterable[str]) -> int:
    """Put ``keys`` on the suppression list (idempotent); returns how many were new."""
    known = set(erased_among(session, kind, keys))
    added = 0
    for key in keys:
        if key and key not in known:
            session.add(ErasedKey(kind=kind, key_hash=erasure_hash(kind, key)))
            known.add(key)
            added += 1
    return added


def erased_among(session: Session, kind: str, keys: Iterable[str]) -> dict[str, datetime]:
    """The keys of ``keys`` on the suppression list, with the time of their erasure."""
    by_hash = {erasure_hash(kind, k): k for k in keys if k}
    found = erased_hashes(session.connection(), kind, by_hash)
    return {by_hash[h]: at for h, at in found.items()}


def _pattern(needles: Iterable[str]) -> re.Pattern[str] | None:
    words = sorted({n.strip() for n in needles if n and len(n.strip()) >= 3}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> tuple[Any, int]:
    if isinstance(value, str):
        new, n = pattern.subn(REDACTED, value)
        return new, n
    if isinstance(value, list):
        items = [_scrub(v, pattern) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    if isinstance(value, dict):
        pairs = {k: _scrub(v, pattern) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, sum(n for _, n in pairs.values())
    return value, 0


def redact(session: Session, needles: Iterable[str]) -> dict[str, int]:
    """Replace every mention of ``needles`` in notes, audit details and archived digests; counts per place."""
    pattern = _pattern(needles)
    counts = {"review notes": 0, "audit events": 0, "digests": 0}
    if pattern is None:
        return counts
    for item in session.exec(select(ReviewItem).where(col(ReviewItem.notes).is_not(None))).all():
        new, n = _scrub(item.notes, pattern)
        if n:
            item.notes = new
            session.add(item)
            counts["review notes"] += n
    for event in session.exec(select(ReviewEvent)).all():
        new, n = _scrub(event.detail, pattern)
        if n:
            event.detail = new
            session.add(event)
            counts["audit events"] += n
    for digest in session.exec(select(Digest)).all():
        html, n1 = _scrub(digest.content_html, pattern)
        summary, n2 = _scrub(digest.summary, pattern)
        if n1 or n2:
            digest.content_html, digest.summary = html, summary
            session.add(digest)
            counts["digests"] += n1 + n2
    return counts
