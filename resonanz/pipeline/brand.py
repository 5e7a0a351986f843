"""The brand's own voice: which posts the brand (or its employees) wrote, kept out of customer voice.

The one rule for *who speaks* (``Post.voice``):

* ``brand``: the author is one of the brand's own accounts (a handle or profile URL recorded as an
  ``account`` marker), or the text carries a staff signature recorded as a ``signature`` marker
  (``^Lea``: matched as a whole token, so ``^Lena`` is not ``^Le``). Brand posts never count as
  customer voice (``ask``, dashboard, digest), never enter the review queue, and an active review item
  of a brand post (open, in progress or answered) is dismissed.
* ``advocate``: the author is an employee recorded as an ``advocate`` marker. Their posts are
  reported apart (``resonanz ask --voice advocate``), never mixed into customer voice.
* ``None``: customers and the public.

A brand reply to a post with an open review item marks that item ``answered`` (it stays visible in
the queue with the reply in its thread), with an audit event naming the reply. Markers are edited
with ``resonanz brand ...`` or on the web's brand page; every change re-applies the rule at once.
Removing a marker gives the posts their customer voice back; items already dismissed or answered
keep their status (a person may reopen them).

Trade-off: recognising the brand by marker, not by a model, means an unlisted staff account counts
as a customer until someone adds it; a model guessing "sounds like support" would also silence real
customers who write politely.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from resonanz.core.errors import AnswersError
from resonanz.core.tables import IDENTITY, ITEM, POST
from resonanz.review.statuses import ACTIVE_STATUSES, UNANSWERED_STATUSES, ReviewStatus
from store.db import session_scope
from store.models import BrandMarker, ReviewEvent
from store.types import utcnow

log = logging.getLogger(__name__)

ACCOUNT, SIGNATURE, ADVOCATE_MARKER = "account", "signature", "advocate"
KINDS = (ACCOUNT, SIGNATURE, ADVOCATE_MARKER)
BRAND, ADVOCATE = "brand", "advocate"
"""The values of ``Post.voice`` (``None``: customers and the public)."""
ACTOR = "brand-voice"

_SCHEME = re.compile(r"^[a-z]+://")


class BrandMarkerError(AnswersError):
    """A marker that cannot be added or removed; the message says why."""


def normalise_account(value: str) -> str:
    """One comparable form of a handle or profile URL.

    ``@Lindenhof@mastodon.social`` -> ``lindenhof@mastodon.social``; ``u/Lindenhof_Kaffee`` ->
    ``lindenhof_kaffee``; ``https://www.youtube.com/@LindenhofKaffee/`` -> ``youtube.com/@lindenhofkaffee``.
    """
    v = value.strip().lower()
    v = _SCHEME.sub("", v)
    v = v.removeprefix("www.").rstrip("/")
    if "/" not in v:
        v = v.removeprefix("@")
    return v.removeprefix("u/")


def identity_keys(handle: str | None, profile_url: str | None, account_id: str | None) -> set[str]:
    """The forms under which an author can be recorded as a marker."""
    keys = {normalise_account(v) for v in (handle, profile_url, account_id) if v}
    for key in list(keys):
        if "/@" in key:  # youtube.com/@name also as @name
            keys.add(key.rsplit("/@", 1)[1])
    return keys


@dataclass(frozen=True)
class BrandVoice:
    """The markers, compiled: what :func:`voice_of` needs."""

    accounts: frozenset[str] = frozenset()
    signatures: tuple[re.Pattern[str], ...] = ()
    advocates: frozenset[str] = frozenset()
    signature_texts: tuple[str, ...] = ()
    """The signatures as written, for the SQL pre-filter of :func:`apply_brand_voice`."""

    @classmethod
    def from_markers(cls, markers: Iterable[tuple[str, str]]) -> BrandVoice:
        accounts: set[str] = set()
        advocates: set[str] = set()
        signatures: list[re.Pattern[str]] = []
        texts: list[str] = []
        for kind, value in markers:
            if kind == ACCOUNT:
                accounts |= identity_keys(value, None, None)
            elif kind == ADVOCATE_MARKER:
                advocates |= identity_keys(value, None, None)
            elif kind == SIGNATURE:
                signatures.append(re.compile(r"(?<!\S)" + re.escape(value.strip()) + r"(?!\w)", re.IGNORECASE))
                texts.append(value.strip())
        return cls(frozenset(accounts), tuple(signatures), frozenset(advocates), tuple(texts))

    def voice_of(
        self, *, handle: str | None, profile_url: str | None, account_id: str | None, text: str | None
    ) -> str | None:
        """``brand``, ``advocate`` or ``None`` (see the module docstring)."""
        keys = identity_keys(handle, profile_url, account_id)
        if keys & self.accounts or (text and any(sig.search(text) for sig in self.signatures)):
            return BRAND
        if keys & self.advocates:
            return ADVOCATE
        return None


def load_brand_voice(session: Session) -> BrandVoice:
    rows = session.exec(orm_select(BrandMarker.kind, BrandMarker.value)).all()
    return BrandVoice.from_markers((str(k), str(v)) for k, v in rows)


def list_markers(session: Session) -> list[BrandMarker]:
    query = orm_select(BrandMarker).order_by(col(BrandMarker.kind), col(BrandMarker.value))
    return list(session.exec(query).all())


def add_marker(engine: Engine, kind: str, value: str, actor: str, note: str | None = None) -> BrandReport:
    """Record a marker and re-apply the rule; refuses unknown kinds, empty values and duplicates."""
    kind, value = kind.strip().lower(), value.strip()
    if kind not in KINDS:
        raise BrandMarkerError(f"Unbekannte Art {kind!r}: erlaubt sind {', '.join(KINDS)}.")
    if not value:
        raise BrandMarkerError("Der Wert darf nicht leer sein (ein Handle, eine Profil-URL oder eine Signatur).")
    if kind == SIGNATURE and not re.search(r"\w", value):
        raise BrandMarkerError(
            f"Die Signatur {value!r} enthält keinen Buchstaben; sie würde fast jeden Beitrag treffen."
        )
    with session_scope(engine) as session:
        exists = session.exec(
            orm_select(BrandMarker).where(BrandMarker.kind == kind, BrandMarker.value == value)
        ).first()
        if exists is not None:
            raise BrandMarkerError(f"{kind} {value!r} ist schon eingetragen.")
        session.add(BrandMarker(kind=kind, value=value, note=note, created_by=actor))
    return apply_brand_voice(engine)


def ensure_markers(engine: Engine, markers: Iterable[tuple[str, str]], actor: str) -> int:
    """Add the ``(kind, value)`` markers that are missing (idempotent; the rule is applied by the next
    :func:`apply_brand_voice`, e.g. at the start of ``resonanz score``). Returns how many were added."""
    added = 0
    with session_scope(engine) as session:
        known = {(m.kind, m.value) for m in list_markers(session)}
        for kind, value in markers:
            if kind not in KINDS:
                raise BrandMarkerError(f"Unbekannte Art {kind!r}: erlaubt sind {', '.join(KINDS)}.")
            if (kind, value) not in known:
                session.add(BrandMarker(kind=kind, value=value, created_by=actor))
                known.add((kind, value))
                added += 1
    return added


def remove_marker(engine: Engine, marker_id: int) -> BrandReport:
    """Delete a marker and re-apply the rule."""
    with session_scope(engine) as session:
        marker = session.get(BrandMarker, marker_id)
        if marker is None:
            raise BrandMarkerError(f"Kein Eintrag mit der Nummer {marker_id}; `resonanz brand list` zeigt alle.")
        session.delete(marker)
    return apply_brand_voice(engine)


@dataclass
class BrandReport:
    brand_posts: int = 0
    advocate_posts: int = 0
    changed: int = 0
    items_dismissed: int = 0
    items_answered: int = 0

    def summary(self) -> str:
        return (
            f"{self.brand_posts} Beiträge der Marke, {self.advocate_posts} von Mitarbeitenden; "
            f"{self.changed} neu eingeordnet, {self.items_dismissed} Queue-Einträge der Marke geschlossen, "
            f"{self.items_answered} als beantwortet markiert"
        )


def apply_brand_voice(engine: Engine) -> BrandReport:
    """Set ``Post.voice`` for every post by the markers; dismiss brand items; mark answered ones."""
    report = BrandReport()
    now = utcnow()
    with session_scope(engine) as session:
        voice = load_brand_voice(session)
        rows = session.execute(
            select(
                POST.c.id,
                POST.c.text,
                POST.c.voice,
                POST.c.parent_id,
                IDENTITY.c.handle,
                IDENTITY.c.profile_url,
                IDENTITY.c.account_id,
            )
            .select_from(POST.outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id))
            .where(_candidates(session, voice))
        ).all()
        changes: dict[str | None, list[int]] = {}
        brand_replies: dict[int, int] = {}
        brand_posts: list[int] = []
        for row in rows:
            who = voice.voice_of(
                handle=row.handle, profile_url=row.profile_url, account_id=row.account_id, text=row.text
            )
            if who == BRAND:
                report.brand_posts += 1
                brand_posts.append(row.id)
                if row.parent_id is not None:
                    brand_replies.setdefault(row.parent_id, row.id)
            elif who == ADVOCATE:
                report.advocate_posts += 1
            if who is None and row.voice not in (BRAND, ADVOCATE):
                continue  # another rule's voice (a spam cluster, resonanz.pipeline.duplicates) stays
            if who != row.voice:
                changes.setdefault(who, []).append(row.id)
                report.changed += 1
        for who, ids in changes.items():
            for start in range(0, len(ids), 900):
                session.execute(update(POST).where(POST.c.id.in_(ids[start : start + 900])).values(voice=who))
        # every active item of a brand post, answered ones too: the queue counts on it (resonanz.review.queue)
        report.items_dismissed = _close(
            session, brand_posts, ReviewStatus.DISMISSED.value, now, lambda _pid: {}, ACTIVE_STATUSES
        )
        report.items_answered = _close(
            session,
            list(brand_replies),
            ReviewStatus.ANSWERED.value,
            now,
            lambda pid: {"reply_post_id": brand_replies[pid]},
        )
    log.info("brand voice: %s", report.summary())
    return report


def _candidates(session: Session, voice: BrandVoice) -> ColumnElement[bool]:
    """The posts :meth:`BrandVoice.voice_of` could call brand or advocate, and those that were: every other
    post keeps ``voice`` as it is, so the Python rule runs on a handful of rows instead of the whole store
    (``score_posts`` applies it on every run)."""
    marked = voice.accounts | voice.advocates
    identity_ids = [
        row.id
        for row in session.execute(
            select(IDENTITY.c.id, IDENTITY.c.handle, IDENTITY.c.profile_url, IDENTITY.c.account_id)
        )  # fmt: skip
        if marked and identity_keys(row.handle, row.profile_url, row.account_id) & marked
    ]
    conditions: list[ColumnElement[bool]] = [POST.c.voice.in_([BRAND, ADVOCATE])]
    if identity_ids:
        conditions.append(POST.c.identity_id.in_(identity_ids))
    for text in voice.signature_texts:  # a cheap superset of the token match; the regex decides
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(POST.c.text.like(pattern, escape="\\"))
        conditions.append(func.lower(POST.c.text).like(pattern.lower(), escape="\\"))
    return or_(*conditions)


def _close(
    session: Session,
    post_ids: list[int],
    status: str,
    now: datetime,
    detail: Callable[[int], dict[str, Any]],
    among: Sequence[str] = UNANSWERED_STATUSES,
) -> int:
    """Move the items of ``post_ids`` in a status of ``among`` (default: unanswered) to ``status`` with an audit
    event each."""
    closed = 0
    for start in range(0, len(post_ids), 900):
        chunk = post_ids[start : start + 900]
        items = session.execute(
            select(ITEM.c.id, ITEM.c.post_id, ITEM.c.status).where(
                ITEM.c.post_id.in_(chunk), ITEM.c.status.in_(list(among))
            )
        ).all()
        for item_id, post_id, before in items:
            session.execute(update(ITEM).where(ITEM.c.id == item_id).values(status=status, updated_at=now))
            extra = detail(post_id)
            session.add(
                ReviewEvent(
                    review_item_id=item_id,
                    actor=ACTOR,
                    action=f"status_{status}",
                    detail={"before": before, "after": status, "reason": "brand_voice", **extra},
                )
            )
            closed += 1
    return closed
