"""What community managers do with a review item. Every action appends a ReviewEvent (who, what, when)."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select

from resonanz.core.errors import ActionError, NotFoundError
from resonanz.pipeline import link_decisions
from resonanz.pipeline.link_decisions import DecisionOutcome, LinkDecisionError, LinkNotFoundError
from resonanz.review.corrections import SENTIMENTS, apply_corrections
from resonanz.review.detail import get_item, latest_score
from resonanz.review.statuses import STATUSES
from store.models import LabelFeedback, ReviewEvent, ReviewItem, User
from store.types import utcnow

log = logging.getLogger(__name__)

MAX_NOTE = 4000


def record(session: Session, item_id: int | None, actor: str, action: str, **detail: Any) -> ReviewEvent:
    event = ReviewEvent(review_item_id=item_id, actor=actor, action=action, detail=detail, at=utcnow())
    session.add(event)
    log.info("review: %s %s item=%s %s", actor, action, item_id, detail)
    return event


def _touch(session: Session, item: ReviewItem) -> None:
    item.updated_at = utcnow()
    session.add(item)


def assign(session: Session, item_id: int, assignee: str | None, actor: str) -> ReviewItem:
    item = get_item(session, item_id)
    assignee = (assignee or "").strip() or None
    if assignee:
        user = session.exec(select(User).where(User.username == assignee)).first()
        if user is None or not user.active:
            raise ActionError(f"cannot assign to {assignee!r}: no active user of that name; pick one from the list")
    before = item.assignee
    item.assignee = assignee
    if assignee and item.status == "open":
        item.status = "in_progress"
    _touch(session, item)
    record(session, item.id, actor, "assign", before=before, after=assignee)
    return item


def set_status(session: Session, item_id: int, status: str, actor: str) -> ReviewItem:
    if status not in STATUSES:
        raise ActionError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    item = get_item(session, item_id)
    before = item.status
    item.status = status
    _touch(session, item)
    record(session, item.id, actor, "status", before=before, after=status)
    return item


def add_note(session: Session, item_id: int, note: str, actor: str) -> ReviewItem:
    note = note.strip()
    if not note:
        raise ActionError("the note is empty; write something before saving")
    if len(note) > MAX_NOTE:
        raise ActionError(f"the note is too long ({len(note)} characters); keep it under {MAX_NOTE}")
    item = get_item(session, item_id)
    stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
    item.notes = ((item.notes or "") + f"[{stamp} {actor}] {note}\n").lstrip("\n")
    _touch(session, item)
    record(session, item.id, actor, "note", text=note)
    return item


def _correct(session: Session, item: ReviewItem, field: str, old: str | None, value: str, actor: str) -> LabelFeedback:
    """Record one correction (audit event + training feedback) and apply it everywhere at once."""
    feedback = LabelFeedback(post_id=item.post_id, field=field, old_value=old, new_value=value, actor=actor)
    session.add(feedback)
    session.flush()
    apply_corrections(session, [item.post_id])
    _touch(session, item)
    record(session, item.id, actor, f"correct_{field}", before=old, after=value)
    return feedback


def _names(entries: list[dict[str, Any]] | None, key: str) -> str | None:
    return ", ".join(str(e.get(key)) for e in (entries or []) if isinstance(e, dict)) or None


def correct_sentiment(session: Session, item_id: int, sentiment: str, actor: str) -> LabelFeedback:
    if sentiment not in SENTIMENTS:
        raise ActionError(f"unknown sentiment {sentiment!r}; use negative, neutral or positive")
    item = get_item(session, item_id)
    score = latest_score(session, item.post_id)
    return _correct(session, item, "sentiment", score.sentiment if score else None, sentiment, actor)


def correct_topic(session: Session, item_id: int, topic: str, actor: str, *, remove: bool = False) -> LabelFeedback:
    """Add a topic the model missed, or remove one it got wrong; the post's other topics stay."""
    topic = " ".join(topic.split()).lstrip("+-").strip()
    if not topic or len(topic) > 100:
        raise ActionError("Bitte ein Thema angeben (1 bis 100 Zeichen).")
    item = get_item(session, item_id)
    score = latest_score(session, item.post_id)
    old = _names(score.topics if score else None, "topic")
    return _correct(session, item, "topic", old, f"{'-' if remove else '+'}{topic}", actor)


def correct_flag(session: Session, item_id: int, flag: str, actor: str, *, remove: bool = False) -> LabelFeedback:
    """Add a flag the model missed (churn, complaint, ...) or remove a wrong one; the badge follows."""
    flag = "_".join(flag.strip().lstrip("+-").split()).lower()
    if not flag or len(flag) > 40:
        raise ActionError("Bitte ein Flag angeben (1 bis 40 Zeichen, z. B. churn).")
    item = get_item(session, item_id)
    return _correct(session, item, "flag", _names(item.reasons, "flag"), f"{'-' if remove else '+'}{flag}", actor)


def decide_queue_link(
    session: Session, link_id: int, status: str, actor: str, item_id: int | None = None
) -> DecisionOutcome:
    """Confirm or reject an identity link (``status``: confirmed or rejected) by the shared rule.

    The rule is :func:`resonanz.pipeline.link_decisions.decide_link`, the same as ``resonanz links confirm``:
    no confirmation without the customer's consent, and confirming one candidate rejects the
    identity's other pending candidates. A decided link can be decided again, with a new event.
    """
    if item_id is not None:
        get_item(session, item_id)
    try:
        outcome = link_decisions.decide_link(session, link_id, status, actor)
    except LinkNotFoundError:
        raise NotFoundError(f"identity link {link_id} does not exist; reload the page") from None
    except LinkDecisionError as exc:
        raise ActionError(str(exc)) from None
    link = outcome.link
    record(
        session,
        item_id,
        actor,
        f"link_{link.status}",
        link_id=link_id,
        identity_id=link.identity_id,
        customer_id=link.customer_id,
        before=outcome.before,
        rejected_links=list(outcome.rejected_others),
    )
    return outcome
