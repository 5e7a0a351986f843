"""Key customers in the queue: what the customers who matter most say reaches a person, flag or no flag.

The rule (one place). A post is queued as a **key customer's post** when

* its author is linked to a customer (a linked status, consent given: :func:`resonanz.answers.sql.link_subquery`)
  whose current ABC class is one of ``settings.review.key_classes`` (default ``["A"]``), and
* it is customer voice (not the brand, an employee, a spam cluster or a competitor's source), and
* its effective sentiment (the latest score with a person's corrections) is

  - ``negative`` -> reason ``key_customer``, severity :data:`NEGATIVE_SEVERITY` (3), or
  - ``neutral`` and it replies to a brand post -> reason ``key_customer_reply``, severity
    :data:`REPLY_SEVERITY` (2): the customer answered the brand's answer ("Das hatten wir am 29.10. auch
    schon gehört. Ich glaube es, wenn die Mühle läuft."), the conversation is not over,

and the post has no review item yet. The queue orders these items like any other (severity x customer
value x recency), so a key customer's negative post lands above a stranger's complaint.

Why: the flags catch what a post *says* (churn, complaint, abuse, spam, a question). A key account's
frustration is often told as a list of facts ("Drei Tickets, zwei Mails, ein Einschreiben ...") or as a
dry reply, with no complaint word and no question mark; for 5 % of customers who bring most of the
revenue, a community manager reads every negative word. The classes are a setting: ``["A", "B"]`` widens
the net, ``[]`` turns the rule off.

Trade-offs: only posts without an item are queued, so an item a person dismissed or resolved stays
closed (the rule never reopens what a person decided), and an item stays when its customer later drops
out of the key classes (a person may dismiss it). Neutral posts count only as replies to the brand: a
key customer's neutral post elsewhere ("Wann öffnet ihr am Sonntag?") is a question for the question
flag, not for this rule.

Runs after scoring (the posts just scored) and after linking and valuation (the whole store: a customer became a
key customer): :func:`watch_key_customers` is called by :func:`resonanz.pipeline.scoring.score_posts` and
:func:`resonanz.pipeline.weighting.apply_weights`. Idempotent: a second run finds nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers.sql import brand_clause, latest_score_id, link_subquery, value_subquery
from resonanz.core.settings import Settings
from resonanz.core.tables import ITEM, LINK, POST, SCORE
from resonanz.pipeline.brand import BRAND
from resonanz.review.items import open_item
from store.db import session_scope

log = logging.getLogger(__name__)

KEY_FLAG = "key_customer"
REPLY_FLAG = "key_customer_reply"
KEY_FLAGS = (KEY_FLAG, REPLY_FLAG)
NEGATIVE_SEVERITY = 3
"""A key customer's negative post: like a complaint with a strong word (the queue multiplies by value)."""
REPLY_SEVERITY = 2
"""A key customer's neutral reply to the brand: the conversation needs another answer."""
ACTOR = "key-customers"


@dataclass
class KeyCustomerReport:
    negative: int = 0
    replies: int = 0

    @property
    def created(self) -> int:
        return self.negative + self.replies


def key_reason(flag: str, abc_class: str, p_negative: float | None) -> dict[str, Any]:
    """The stored reason of a key customer's item (German, with a code for the interface language)."""
    if flag == KEY_FLAG:
        text, severity = f"Negativer Beitrag einer Kund:in der Klasse {abc_class}", NEGATIVE_SEVERITY
    else:
        text, severity = f"Kund:in der Klasse {abc_class} antwortet auf die Marke", REPLY_SEVERITY
    evidence = [f"Klasse {abc_class}"]
    if p_negative is not None:
        evidence.append(f"p_negative {p_negative:.2f}")
    return {"flag": flag, "severity": severity, "reason": text, "evidence": evidence, "code": flag,
            "params": {"abc_class": abc_class}}  # fmt: skip


def _candidates(session: Session, classes: list[str], post_ids: tuple[int, int] | None = None) -> list[Any]:
    """Posts of key customers that the rule queues and that have no review item yet (``post_ids``: only the
    posts whose id lies in this closed range, and only their authors' links and values are read)."""
    in_range = POST.c.id.between(*post_ids) if post_ids is not None else None
    if in_range is not None:
        authors = select(POST.c.identity_id).where(in_range)
        lnk = link_subquery(identity_ids=authors)
        val = value_subquery(customer_ids=select(LINK.c.customer_id).where(LINK.c.identity_id.in_(authors)))
    else:
        lnk, val = link_subquery(), value_subquery()
    parent = POST.alias("parent")
    sentiment = SCORE.c.sentiment
    query = (
        select(POST.c.id, sentiment, SCORE.c.p_negative, val.c.abc_class)
        .select_from(POST)
        .join(lnk, lnk.c.identity_id == POST.c.identity_id)
        .join(val, val.c.customer_id == lnk.c.customer_id)
        .join(SCORE, SCORE.c.id == latest_score_id())
        .outerjoin(parent, parent.c.id == POST.c.parent_id)
        .outerjoin(ITEM, ITEM.c.post_id == POST.c.id)
        .where(
            ITEM.c.id.is_(None),
            val.c.abc_class.in_(classes),
            POST.c.voice.is_(None),
            POST.c.deleted_at.is_(None),
            brand_clause(None),  # competitors' posts are compared, never answered
            or_(sentiment == "negative", and_(sentiment == "neutral", parent.c.voice == BRAND)),
        )
        .order_by(POST.c.id)
    )
    if in_range is not None:
        query = query.where(in_range)
    return list(session.execute(query).all())


def watch_key_customers(
    engine: Engine, settings: Settings, post_ids: tuple[int, int] | None = None
) -> KeyCustomerReport:
    """Open a review item for every key customer's post the rule (module docstring) queues; ``post_ids``: only
    among the posts whose id lies in this closed range (the posts a scoring run scored: 10-20 ms for a batch of 256
    at a million posts, against 2.5-5 s for the whole store)."""
    report = KeyCustomerReport()
    classes = list(settings.review.key_classes)
    if not classes:
        return report
    with session_scope(engine) as session:
        for post_id, sentiment, p_negative, abc_class in _candidates(session, classes, post_ids):
            flag = KEY_FLAG if sentiment == "negative" else REPLY_FLAG
            reason = key_reason(flag, str(abc_class), p_negative)
            detail = {"flags": [flag], "severity": reason["severity"], "abc_class": abc_class}
            if open_item(session, post_id, [reason], reason["severity"], actor=ACTOR, detail=detail) is None:
                continue  # another worker was first: its item stays
            if flag == KEY_FLAG:
                report.negative += 1
            else:
                report.replies += 1
    if report.created:
        log.info("key customers: %d negative posts and %d replies to the brand queued", report.negative,
                 report.replies)  # fmt: skip
    return report
