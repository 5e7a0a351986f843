"""One review item in context: the post in its thread, the author's linked customer and history, the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from linker.identity.records import CONFIRMED, PENDING
from resonanz.core.errors import NotFoundError
from resonanz.core.i18n import _
from resonanz.core.messages import evidence_source, flag_reason, link_evidence
from resonanz.core.settings import Settings
from resonanz.pipeline.consent import customer_is_linkable
from resonanz.pipeline.domain_config import weight_config
from resonanz.pipeline.duplicates import places
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from resonanz.pipeline.weighting import WeightExplanation, explain_weight, standing_of
from store.models import (
    Customer,
    CustomerValue,
    IdentityLink,
    LabelFeedback,
    Post,
    ReviewEvent,
    ReviewItem,
    Score,
    SocialIdentity,
)

MAX_THREAD_DEPTH = 20


@dataclass
class PostView:
    post: Post
    score: Score | None
    author: SocialIdentity | None


@dataclass
class LinkView:
    link: IdentityLink
    customer: Customer
    value: CustomerValue | None

    @property
    def evidence(self) -> list[str]:
        """The link's evidence in the current language (read when the page is rendered)."""
        return link_evidence(self.link.evidence)


@dataclass
class ItemDetail:
    item: ReviewItem
    post: PostView
    parents: list[PostView] = field(default_factory=list)
    """Oldest first, ending with the direct parent."""
    replies: list[PostView] = field(default_factory=list)
    customer: Customer | None = None
    value: CustomerValue | None = None
    links: list[LinkView] = field(default_factory=list)
    history: list[PostView] = field(default_factory=list)
    events: list[ReviewEvent] = field(default_factory=list)
    feedback: list[LabelFeedback] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    """The same text elsewhere (cross-posts, a spam cluster's copies): id, platform, url, created_at, handle."""
    weight: WeightExplanation | None = None
    """How much the post counts and why (:func:`resonanz.pipeline.weighting.explain_weight`); None without
    settings."""

    @property
    def pending_links(self) -> list[LinkView]:
        return [lv for lv in self.links if lv.link.status == PENDING]

    @property
    def evidence(self) -> list[dict[str, Any]]:
        """Flag reasons from the review item and the latest score, then topic evidence (uniform keys), in the
        current language (read when the page is rendered)."""
        out = [_evidence(r, "review") for r in self.item.reasons if isinstance(r, dict)]
        score = self.post.score
        if score:
            out += [_evidence(f, "model") for f in score.flags if isinstance(f, dict)]
            out += [
                _evidence(
                    {"flag": f"topic: {t.get('topic')}", "evidence": t.get("evidence")},
                    "topic",
                    label=_("topic: {topic}").format(topic=t.get("topic")),
                )
                for t in score.topics
                if isinstance(t, dict)
            ]
        return out


def _evidence(raw: dict[str, Any], source: str, label: str | None = None) -> dict[str, Any]:
    """``flag`` and ``source`` stay codes; ``label``, ``reason`` and ``source_label`` are for display."""
    flag = str(raw.get("flag") or raw.get("label") or "")
    return {
        "flag": flag,
        "label": label,
        "severity": raw.get("severity"),
        "reason": flag_reason(raw),
        "evidence": raw.get("evidence") if isinstance(raw.get("evidence"), str) else None,
        "source": source,
        "source_label": evidence_source(source),
    }


def latest_score(session: Session, post_id: int, model_name: str | None = None) -> Score | None:
    query = select(Score).where(Score.post_id == post_id)
    if model_name:
        query = query.where(Score.model_name == model_name)
    return session.exec(query.order_by(col(Score.scored_at).desc(), col(Score.id).desc()).limit(1)).first()


def latest_value(session: Session, customer_id: int) -> CustomerValue | None:
    """The customer's current value row (:func:`resonanz.core.tables.current_value_order`, marked by the
    valuation)."""
    query = select(CustomerValue).where(CustomerValue.customer_id == customer_id, col(CustomerValue.is_current))
    return session.exec(query).first()


def _views(session: Session, posts: Sequence[Post], model_name: str | None) -> list[PostView]:
    """Posts with their latest score and author: two queries for all of them, not two per post."""
    ids = [p.id for p in posts if p.id is not None]
    if not ids:
        return []
    query = select(Score).where(col(Score.post_id).in_(ids))
    if model_name:
        query = query.where(Score.model_name == model_name)
    scores: dict[int, Score] = {}
    for score in session.exec(query.order_by(col(Score.scored_at).desc(), col(Score.id).desc())):
        scores.setdefault(score.post_id, score)  # the first per post is its latest (as in latest_score)
    identity_ids = {p.identity_id for p in posts if p.identity_id}
    authors = {
        i.id: i for i in session.exec(select(SocialIdentity).where(col(SocialIdentity.id).in_(identity_ids)))
    } if identity_ids else {}  # fmt: skip
    return [PostView(p, scores.get(p.id or 0), authors.get(p.identity_id) if p.identity_id else None) for p in posts]


def get_item(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFoundError(f"review item {item_id} does not exist; it may have been removed — reload the queue")
    return item


def item_detail(
    session: Session,
    item_id: int,
    model_name: str | None = None,
    history: int = 10,
    *,
    settings: Settings | None = None,
) -> ItemDetail:
    """The item in context; with ``settings`` also the explanation of the post's weight (the weighting mode)."""
    item = get_item(session, item_id)
    post = session.get(Post, item.post_id)
    if post is None:
        raise NotFoundError(f"the post of review item {item_id} is gone; dismiss the item")
    seen = {post.id}
    parents: list[Post] = []
    parent_id = post.parent_id
    while parent_id and parent_id not in seen and len(parents) < MAX_THREAD_DEPTH:
        parent = session.get(Post, parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        parents.insert(0, parent)
        parent_id = parent.parent_id
    replies = list(session.exec(select(Post).where(Post.parent_id == post.id).order_by(col(Post.created_at)).limit(50)))
    older: list[Post] = []
    if post.identity_id:
        older = list(
            session.exec(
                select(Post)
                .where(Post.identity_id == post.identity_id, Post.id != post.id)
                .order_by(col(Post.created_at).desc())
                .limit(history)
            )
        )
    views = _views(session, [post, *parents, *replies, *older], model_name)
    detail = ItemDetail(item=item, post=views[0])
    detail.parents = views[1 : 1 + len(parents)]
    detail.replies = views[1 + len(parents) : 1 + len(parents) + len(replies)]
    detail.history = views[1 + len(parents) + len(replies) :]
    detail.places = places(session, post.id or 0)
    if post.identity_id:
        links = session.exec(
            select(IdentityLink, Customer)
            .join(Customer, col(Customer.id) == IdentityLink.customer_id)
            .where(IdentityLink.identity_id == post.identity_id)
            .order_by(col(IdentityLink.probability).desc())
        ).all()
        for link, customer in links:
            assert customer.id is not None
            detail.links.append(LinkView(link, customer, latest_value(session, customer.id)))
        linked = sorted(
            (lv for lv in detail.links if lv.link.status in LINKED_STATUSES and customer_is_linkable(lv.customer)),
            key=lambda lv: (lv.link.status != CONFIRMED, -lv.link.probability, lv.link.id or 0),
        )
        if linked:
            detail.customer, detail.value = linked[0].customer, linked[0].value
    detail.events = list(
        session.exec(select(ReviewEvent).where(ReviewEvent.review_item_id == item.id).order_by(col(ReviewEvent.at)))
    )
    detail.feedback = list(
        session.exec(select(LabelFeedback).where(LabelFeedback.post_id == post.id).order_by(col(LabelFeedback.at)))
    )
    if settings is not None:
        value = detail.value
        score = detail.post.score
        detail.weight = explain_weight(
            weight_config(settings),
            linked=detail.customer is not None,
            standing=standing_of(value.abc_class, value.clv, value.details) if value is not None else None,
            stored=score.weight if score is not None else None,
        )
    return detail
