"""Duplicates and cross-posts: one queue item per thing said, one spam cluster per copy-paste campaign.

The rule (one place):

* A post's **fingerprint** is its text lower-cased, without links, @mentions, ``#`` and punctuation,
  white space folded. Texts under ``MIN_WORDS`` words get none ("Danke!" is said by many people
  independently and is not a duplicate).
* Posts with the same fingerprint are **the same author's** when they come from the same identity,
  from identities linked to the same customer, or from different platforms with look-alike handles
  (``@joe_in_cgn`` on Mastodon and ``joe-in-cgn.bsky.social``: handle similarity >= ``HANDLE_SIMILARITY``)
  posted within ``CROSS_POST_WINDOW``. Their review items become one: the earliest stays, the others
  get status ``merged`` with an audit event naming it, and the item page lists every place.
* The same fingerprint from ``SPAM_MIN_AUTHORS`` or more different authors is a **copy-paste
  cluster**: its posts get ``Post.voice = "spam"`` (out of customer voice, like the brand's own posts)
  and one review item carries a ``spam_cluster`` flag with every account as evidence; the others are
  merged into it. Fewer unrelated authors with the same text (two people quoting the same line) stay apart.

Trade-offs: exact fingerprints miss paraphrased spam and cross-posts edited for a platform's length
limit; a near-duplicate (MinHash) stage would catch them at the price of false merges between short
complaints that share a template ("Paket nicht angekommen, Sendungsnummer ...").

Concurrency: every scoring pass ends with :func:`merge_duplicates`, so several ``resonanz worker`` processes or
``resonanz backfill`` actors run it at the same time on one PostgreSQL. Two guards, one per kind of rival:

* Two passes: on PostgreSQL a pass first takes the transaction-scoped advisory lock ``LOCK_KEY``
  (``pg_advisory_xact_lock``), so passes settle one after the other, and each one reads what the previous one
  committed (READ COMMITTED: every statement sees the latest commits). Without it, two passes that read the
  same unsettled cluster both opened an item for its earliest post (``UniqueViolation``), both merged its
  other items (two audit events for one merge) and overwrote each other's flag. ``ON CONFLICT`` alone would
  only cure the first. The price: passes wait for each other. A pass is a few indexed queries over the
  texts that occur twice, short beside the scoring before it, and the lock is released at commit or
  rollback, also when a worker dies. SQLite needs no lock: it lets one writer at a time.
* A scoring chunk (:mod:`resonanz.pipeline.scoring`) that opens an item for a flagged post does not take the
  lock (chunks would queue behind every pass). The cluster's item is therefore inserted with
  ``INSERT ... ON CONFLICT (post_id) DO NOTHING`` (PostgreSQL waits for the rival's transaction); when the
  rival's item won, it is read back and treated like an item that was there before: it gets the spam flag and
  the cluster's other items are merged into it. The scoring chunk that loses the other way already retries as
  an update. Without concurrency both guards change nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from difflib import SequenceMatcher
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.tables import IDENTITY, ITEM, LINK, POST
from resonanz.pipeline.brand import BRAND
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from resonanz.review.competitors import competitor_posts
from resonanz.review.items import open_item
from resonanz.review.statuses import ACTIVE_STATUSES, ReviewStatus
from store.db import session_scope
from store.models import ReviewEvent, ReviewItem
from store.types import as_utc, utcnow

log = logging.getLogger(__name__)

MIN_WORDS = 5
SPAM_MIN_AUTHORS = 3
HANDLE_SIMILARITY = 0.75
CROSS_POST_WINDOW = timedelta(hours=48)
SPAM = "spam"
"""``Post.voice`` of a copy-paste cluster's posts."""
SPAM_FLAG = "spam_cluster"
SPAM_SEVERITY = 3
ACTOR = "duplicates"
LOCK_KEY = 0x6475706C69636174
"""``pg_advisory_xact_lock`` key of a pass on PostgreSQL: 'duplicat' as a number."""

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<!\w)@[\w.\-@]+")
_NON_WORD = re.compile(r"[^\w\s]|_")


def fingerprint(text: str | None) -> str | None:
    """A stable key for "the same text" (see the module docstring), or ``None`` for short texts."""
    if not text:
        return None
    t = _URL.sub(" ", text.lower())
    t = _MENTION.sub(" ", t)
    words = _NON_WORD.sub(" ", t).split()
    if len(words) < MIN_WORDS:
        return None
    return hashlib.sha1(" ".join(words).encode("utf-8")).hexdigest()[:20]


def handle_stem(handle: str | None) -> str:
    """The account name without server or platform suffix, letters and digits only."""
    h = (handle or "").lower().lstrip("@").split("@")[0]
    for suffix in (".bsky.social", ".bsky.app"):
        h = h.removesuffix(suffix)
    return re.sub(r"[^a-z0-9]", "", h)


def same_person(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two posts with the same fingerprint by one author (same identity, same customer, look-alike
    handles on different platforms within the cross-post window)."""
    if a["identity_id"] is not None and a["identity_id"] == b["identity_id"]:
        return True
    if a["customer_id"] is not None and a["customer_id"] == b["customer_id"]:
        return True
    if a["platform"] == b["platform"]:
        return False
    ta, tb = as_utc(a["created_at"]), as_utc(b["created_at"])
    if ta is None or tb is None or abs(ta - tb) > CROSS_POST_WINDOW:
        return False
    sa, sb = handle_stem(a["handle"]), handle_stem(b["handle"])
    return bool(sa and sb) and SequenceMatcher(None, sa, sb).ratio() >= HANDLE_SIMILARITY


@dataclass
class DuplicateReport:
    fingerprinted: int = 0
    cross_posts_merged: int = 0
    spam_clusters: int = 0
    spam_posts: int = 0

    def summary(self) -> str:
        return (
            f"{self.cross_posts_merged} doppelte Queue-Einträge zusammengeführt, "
            f"{self.spam_clusters} Spam-Cluster mit {self.spam_posts} Beiträgen"
        )


def merge_duplicates(engine: Engine) -> DuplicateReport:
    """Fingerprint new posts, merge one author's duplicate items, and cluster copy-paste spam."""
    report = DuplicateReport()
    with session_scope(engine) as session:
        if session.get_bind().dialect.name == "postgresql":  # one pass at a time (module docstring)
            session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
        report.fingerprinted = _fingerprint_new(session)
        groups = _groups(session)
        for posts in groups.values():
            authors = _authors(posts)
            if len(authors) >= SPAM_MIN_AUTHORS:
                _spam_cluster(session, posts, report)
            else:
                for author_posts in authors:
                    _merge_items(session, author_posts, report)
    log.info("duplicates: %s", report.summary())
    return report


def _fingerprint_new(session: Session) -> int:
    rows = session.execute(
        select(POST.c.id, POST.c.text).where(POST.c.fingerprint.is_(None), POST.c.deleted_at.is_(None))
    ).all()
    for post_id, text in rows:
        # posts too short for a fingerprint get "" so that they are not read again
        session.execute(update(POST).where(POST.c.id == post_id).values(fingerprint=fingerprint(text) or ""))
    return len(rows)


def _groups(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Fingerprints shared by two or more posts (not the brand's), with author and item per post."""
    linked = select(LINK.c.identity_id, LINK.c.customer_id).where(LINK.c.status.in_(LINKED_STATUSES)).subquery("linked")
    shared = (
        select(POST.c.fingerprint)
        .where(POST.c.fingerprint.is_not(None), POST.c.fingerprint != "", POST.c.deleted_at.is_(None))
        .group_by(POST.c.fingerprint)
        .having(func.count() > 1)
    )
    rows = session.execute(
        select(
            POST.c.id,
            POST.c.fingerprint,
            POST.c.identity_id,
            POST.c.platform,
            POST.c.created_at,
            POST.c.voice,
            IDENTITY.c.handle,
            linked.c.customer_id,
            ITEM.c.id.label("item_id"),
            ITEM.c.status,
        )
        .select_from(POST)
        .outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id)
        .outerjoin(linked, linked.c.identity_id == POST.c.identity_id)
        .outerjoin(ITEM, ITEM.c.post_id == POST.c.id)
        .where(
            POST.c.fingerprint.in_(shared),  # only texts that occur twice or more: cheap on a large store
            POST.c.deleted_at.is_(None),
            and_(POST.c.voice.is_(None) | (POST.c.voice != BRAND)),
        )
        .order_by(POST.c.created_at, POST.c.id)
    ).all()
    by_fp: dict[str, list[dict[str, Any]]] = defaultdict(list)
    seen: set[int] = set()
    for row in rows:
        if row.id in seen:  # several links of one identity: keep the first
            continue
        seen.add(row.id)
        by_fp[row.fingerprint].append(dict(row._mapping))
    return {fp: posts for fp, posts in by_fp.items() if len(posts) > 1}


def _authors(posts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Group posts by author with :func:`same_person` (transitively), earliest first."""
    groups: list[list[dict[str, Any]]] = []
    for post in posts:
        home = next((g for g in groups if any(same_person(post, other) for other in g)), None)
        if home is None:
            groups.append([post])
        else:
            home.append(post)
    return groups


def _merge_items(session: Session, posts: list[dict[str, Any]], report: DuplicateReport) -> None:
    """One author's duplicates: the earliest active item stays, the others are merged into it."""
    active = [p for p in posts if p["item_id"] is not None and p["status"] in ACTIVE_STATUSES]
    if len(active) < 2:
        return
    keep = active[0]
    for post in active[1:]:
        _merge(session, post, keep, "cross_post")
        report.cross_posts_merged += 1


def _merge(session: Session, post: dict[str, Any], into: dict[str, Any], why: str) -> None:
    session.execute(
        update(ITEM).where(ITEM.c.id == post["item_id"]).values(status=ReviewStatus.MERGED.value, updated_at=utcnow())
    )
    session.add(
        ReviewEvent(
            review_item_id=post["item_id"],
            actor=ACTOR,
            action="merged",
            detail={"into_item_id": into["item_id"], "into_post_id": into["id"], "reason": why},
        )
    )
    post["status"] = ReviewStatus.MERGED.value


def _spam_cluster(session: Session, posts: list[dict[str, Any]], report: DuplicateReport) -> None:
    ids = [p["id"] for p in posts]
    new_spam = [p for p in posts if p["voice"] != SPAM]
    if new_spam:
        session.execute(update(POST).where(POST.c.id.in_(ids)).values(voice=SPAM))
        report.spam_posts += len(posts)
        report.spam_clusters += 1
    handles = sorted({p["handle"] or f"#{p['identity_id']}" for p in posts})
    flag = {
        "flag": SPAM_FLAG,
        "severity": SPAM_SEVERITY,
        "reason": f"Gleicher Text von {len(handles)} Konten (Copy-Paste-Spam, Phishing?)",
        "evidence": handles[:20],
        "code": "copy_paste",  # shown in the interface language: resonanz/core/messages.py
        "params": {"accounts": len(handles)},
    }
    items = [p for p in posts if p["item_id"] is not None]
    keep = next((p for p in items if p["status"] in ACTIVE_STATUSES), None)
    if keep is None and not any(p["status"] is not None for p in items):
        rivals = competitor_posts(session, ids)  # a competitor's post never becomes a queue item
        first = next((p for p in posts if p["id"] not in rivals), None)
        if first is None:
            return
        keep = _open_item(session, first, flag)
    elif keep is not None:
        _add_flag(session, keep, flag)
    if keep is None:
        return
    for post in items:
        if post is not keep and post["status"] in ACTIVE_STATUSES:
            _merge(session, post, keep, SPAM_FLAG)


def _open_item(session: Session, post: dict[str, Any], flag: dict[str, Any]) -> dict[str, Any] | None:
    """Open the cluster's item on ``post``; if a concurrent writer opened one for it first, flag that one
    instead (module docstring). Returns ``post`` when it carries an active item now, else ``None``."""
    item_id = open_item(session, post["id"], [flag], SPAM_SEVERITY, actor=ACTOR, detail={"flags": [SPAM_FLAG]})
    if item_id is not None:
        post["item_id"], post["status"] = item_id, ReviewStatus.OPEN.value
        return post
    won = session.execute(select(ITEM.c.id, ITEM.c.status).where(ITEM.c.post_id == post["id"])).one()
    log.info("duplicates: post %s got a review item concurrently; flagging item %s instead", post["id"], won.id)
    post["item_id"], post["status"] = won.id, won.status
    if won.status not in ACTIVE_STATUSES:
        return None
    _add_flag(session, post, flag)
    return post


def _add_flag(session: Session, keep: dict[str, Any], flag: dict[str, Any]) -> None:
    """Put the cluster's (current) spam flag on the item of ``keep``."""
    stored = session.get(ReviewItem, keep["item_id"])
    if stored is not None:
        reasons = [r for r in (stored.reasons or []) if r.get("flag") != SPAM_FLAG] + [flag]
        if reasons != stored.reasons:
            stored.reasons = reasons
            stored.severity = max(stored.severity, SPAM_SEVERITY)
            session.add(stored)


def places(session: Session, post_id: int) -> list[dict[str, Any]]:
    """The other posts with the same fingerprint as ``post_id`` (for the item page), earliest first."""
    fp = session.execute(select(POST.c.fingerprint).where(POST.c.id == post_id)).scalar()
    if not fp:
        return []
    rows = session.execute(
        select(POST.c.id, POST.c.platform, POST.c.url, POST.c.created_at, IDENTITY.c.handle)
        .select_from(POST)
        .outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id)
        .where(POST.c.fingerprint == fp, POST.c.id != post_id, POST.c.deleted_at.is_(None))
        .order_by(POST.c.created_at, POST.c.id)
    ).all()
    return [dict(r._mapping) for r in rows]
