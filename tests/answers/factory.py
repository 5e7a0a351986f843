"""Test data factory shared by tests/answers, tests/web and tests/digest: customers with values,
identities, links, posts with scores, review items and users, written straight to the store tables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from resonanz.core.tables import mark_current_values
from store.models import (
    Customer,
    CustomerValue,
    IdentityLink,
    Post,
    ReviewItem,
    Score,
    SocialIdentity,
)

WEEK = "2026-W47"
MONDAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # inside 2026-W47 in Berlin
PREV_MONDAY = MONDAY - timedelta(days=7)

_SEQ = itertools.count(1)  # shared by all factories: unique ids across several in one database
_P = {"negative": (0.9, 0.07, 0.03), "neutral": (0.1, 0.8, 0.1), "positive": (0.03, 0.07, 0.9)}


class Factory:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._seq = _SEQ

    def customer(
        self,
        name: str,
        abc: str | None = "A",
        *,
        revenue: float = 1000.0,
        weight: float = 5.0,
        rfm_segment: str | None = "Champions",
        is_loyal: bool = False,
        stale_class: str | None = None,
        erased: bool = False,
        consent: str = "granted",
    ) -> Customer:
        first, _, last = name.partition(" ")
        c = Customer(
            crm_id=f"K{next(self._seq):05d}",
            first_name=first,
            last_name=last or None,
            consent_status=consent,
            consent_basis="Art. 6 Abs. 1 lit. a DSGVO" if consent == "granted" else None,
        )
        if erased:
            c.erased_at = MONDAY
        self.session.add(c)
        self.session.flush()
        assert c.id is not None
        if stale_class:  # an older value row that the latest one supersedes
            self.session.add(
                CustomerValue(
                    customer_id=c.id,
                    computed_at=MONDAY - timedelta(days=60),
                    abc_class=stale_class,
                    revenue=1.0,
                    weight=0.1,
                )
            )
        if abc:
            self.session.add(
                CustomerValue(
                    customer_id=c.id,
                    computed_at=MONDAY - timedelta(days=1),
                    abc_class=abc,
                    revenue=revenue,
                    weight=weight,
                    rfm_segment=rfm_segment,
                    is_loyal=is_loyal,
                    clv=revenue * 2,
                )
            )
        self.session.flush()
        mark_current_values(self.session)
        return c

    def identity(self, handle: str, platform: str = "mastodon") -> SocialIdentity:
        i = SocialIdentity(
            platform=platform,
            account_id=f"acct-{next(self._seq)}",
            handle=handle,
            display_name=handle.strip("@").split("@")[0].title(),
            profile_url=f"https://social.example/{handle.strip('@')}",
        )
        self.session.add(i)
        self.session.flush()
        return i

    def link(
        self, identity: SocialIdentity, customer: Customer, status: str = "confirmed", probability: float = 1.0
    ) -> IdentityLink:
        assert identity.id is not None and customer.id is not None
        link = IdentityLink(
            identity_id=identity.id,
            customer_id=customer.id,
            method="email" if status != "pending" else "probabilistic",
            probability=probability,
            status=status,
            evidence=["same e-mail address"] if status != "pending" else ["similar name", "same city"],
        )
        self.session.add(link)
        self.session.flush()
        return link

    def post(
        self,
        identity: SocialIdentity | None,
        text: str,
        created_at: datetime = MONDAY,
        *,
        sentiment: str = "negative",
        topics: list[str] | None = None,
        aspects: dict[str, str] | None = None,
        flags: list[dict[str, Any]] | None = None,
        weight: float | None = None,
        platform: str | None = None,
        language: str = "de",
        parent: Post | None = None,
        model_name: str = "default",
        scored: bool = True,
    ) -> Post:
        n = next(self._seq)
        p = Post(
            platform=platform or (identity.platform if identity else "mastodon"),
            external_id=f"ext-{n}",
            url=f"https://social.example/@x/{n}",
            text=text,
            language=language,
            created_at=created_at,
            identity_id=identity.id if identity else None,
            parent_id=parent.id if parent else None,
            thread_root_id=(parent.thread_root_id or parent.id) if parent else None,
        )
        self.session.add(p)
        self.session.flush()
        if scored:
            self.score(p, sentiment, topics=topics, aspects=aspects, flags=flags, weight=weight, model_name=model_name)
        return p

    def score(
        self,
        post: Post,
        sentiment: str,
        *,
        topics: list[str] | None = None,
        aspects: dict[str, str] | None = None,
        flags: list[dict[str, Any]] | None = None,
        weight: float | None = None,
        model_name: str = "default",
        model_version: str | None = None,
        scored_at: datetime | None = None,
    ) -> Score:
        assert post.id is not None
        pn, pu, pp = _P[sentiment]
        s = Score(
            post_id=post.id,
            model_name=model_name,
            model_version=model_version or f"v{next(self._seq)}",
            sentiment=sentiment,
            p_negative=pn,
            p_neutral=pu,
            p_positive=pp,
            topics=[_topic(t, (aspects or {}).get(t)) for t in (topics or [])],
            flags=flags or [],
            weight=weight,
            scored_at=scored_at or post.created_at + timedelta(minutes=5),
        )
        self.session.add(s)
        self.session.flush()
        return s

    def review_item(
        self,
        post: Post,
        severity: int = 3,
        *,
        status: str = "open",
        priority: float = 0.0,
        assignee: str | None = None,
        reason: str = "complaint",
    ) -> ReviewItem:
        assert post.id is not None
        item = ReviewItem(
            post_id=post.id,
            severity=severity,
            status=status,
            priority=priority,
            assignee=assignee,
            reasons=[{"flag": reason, "severity": severity, "reason": f"{reason} detected", "evidence": "Lieferung"}],
            created_at=post.created_at,
        )
        self.session.add(item)
        self.session.flush()
        return item


def _topic(name: str, polarity: str | None) -> dict[str, Any]:
    """A stored topic entry; with ``polarity`` also the aspect fields that nlp.aspects writes."""
    out: dict[str, Any] = {"topic": name, "score": 0.8, "evidence": name.lower()}
    if polarity is not None:
        pn, pu, pp = _P[polarity]
        out.update(polarity=polarity, p_negative=pn, p_neutral=pu, p_positive=pp, span=name)
    return out


@dataclass
class Scenario:
    """A small, fully known week (2026-W47) plus the week before it."""

    customers: dict[str, Customer] = field(default_factory=dict)
    identities: dict[str, SocialIdentity] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    items: dict[str, ReviewItem] = field(default_factory=dict)
    pending_link: IdentityLink | None = None


def build_scenario(session: Session) -> Scenario:
    """Customers: anna (A, 8000), ben (A, 7000), clara (B, 3000), dora (C, 1000), emil (C, 1000; pending link only).

    2026-W47: anna 2 negative (Lieferung, Preis), ben 1 positive (Service), clara 1 neutral (Preis),
    dora 1 positive (Service), 4 prospect posts (3 positive Service/App, 1 negative App),
    a reply to anna's first post, a deleted post. The week before: anna 1 positive, 2 prospects negative.
    """
    f = Factory(session)
    sc = Scenario()
    sc.customers["anna"] = f.customer("Anna Amsel", "A", revenue=8000, weight=5.0, stale_class="C", is_loyal=True)
    sc.customers["ben"] = f.customer("Ben Berg", "A", revenue=7000, weight=5.0, rfm_segment="Loyal")
    sc.customers["clara"] = f.customer("Clara Conrad", "B", revenue=3000, weight=2.0, rfm_segment="Potential")
    sc.customers["dora"] = f.customer("Dora Dach", "C", revenue=1000, weight=1.0, rfm_segment="At Risk")
    sc.customers["emil"] = f.customer("Emil Eck", "C", revenue=1000, weight=1.0, rfm_segment="Hibernating")
    for name in ("anna", "ben", "clara", "dora", "emil", "p1", "p2"):
        sc.identities[name] = f.identity(f"@{name}@social.example")
    for name in ("anna", "ben", "clara", "dora"):
        f.link(sc.identities[name], sc.customers[name])
    sc.pending_link = f.link(sc.identities["emil"], sc.customers["emil"], status="pending", probability=0.8)
    i, d = sc.identities, timedelta
    sc.posts["anna1"] = f.post(
        i["anna"],
        "Die Lieferung kam schon wieder zu spät!",
        MONDAY,
        topics=["Lieferung"],
        weight=5.0,
        flags=[{"flag": "complaint", "severity": 4, "reason": "Beschwerde über Lieferung"}],
    )
    sc.posts["anna2"] = f.post(i["anna"], "Viel zu teuer geworden.", MONDAY + d(days=1), topics=["Preis"])
    sc.posts["ben1"] = f.post(
        i["ben"], "Super Service, danke!", MONDAY + d(days=2), sentiment="positive", topics=["Service"], weight=5.0
    )
    sc.posts["clara1"] = f.post(
        i["clara"],
        "Preise sind okay.",
        MONDAY + d(days=2),
        sentiment="neutral",
        topics=["Preis"],
        platform="bluesky",
    )
    sc.posts["dora1"] = f.post(
        i["dora"], "Netter Service.", MONDAY + d(days=3), sentiment="positive", topics=["Service"], weight=1.0
    )
    sc.posts["p1a"] = f.post(
        i["p1"], "Die App ist toll", MONDAY + d(days=3), sentiment="positive", topics=["App"], language="de"
    )
    sc.posts["p1b"] = f.post(
        i["p1"], "Great service", MONDAY + d(days=4), sentiment="positive", topics=["Service"], language="en"
    )
    sc.posts["p2a"] = f.post(
        i["p2"],
        "App stürzt ab <script>alert(1)</script>",
        MONDAY + d(days=4),
        topics=["App"],
        flags=[{"flag": "bug", "severity": 2, "reason": "Absturz"}],
    )
    sc.posts["p2b"] = f.post(
        i["p2"], "Kaufe wieder", MONDAY + d(days=5), sentiment="positive", topics=["Service"], platform="bluesky"
    )
    sc.posts["reply"] = f.post(
        None,
        "Das tut uns leid, wir melden uns.",
        MONDAY + d(hours=2),
        sentiment="neutral",
        parent=sc.posts["anna1"],
        scored=False,
    )
    deleted = f.post(i["p1"], "gelöscht", MONDAY + d(days=1), topics=["App"])
    deleted.deleted_at = MONDAY + d(days=2)
    session.add(deleted)
    # rescoring: anna2 was first scored positive by an old model; the latest score (negative) counts
    f.score(sc.posts["anna2"], "positive", topics=["Preis"], model_name="old", scored_at=MONDAY - d(days=1))
    # the week before
    sc.posts["anna0"] = f.post(
        i["anna"], "Alles gut bisher", PREV_MONDAY, sentiment="positive", topics=["Lieferung"], weight=5.0
    )
    sc.posts["p1prev"] = f.post(i["p1"], "Lieferung dauert", PREV_MONDAY + d(days=1), topics=["Lieferung"])
    sc.posts["p2prev"] = f.post(i["p2"], "Preis zu hoch", PREV_MONDAY + d(days=2), topics=["Preis"])
    # the queue
    sc.items["anna1"] = f.review_item(sc.posts["anna1"], severity=4, reason="complaint")
    sc.items["p2a"] = f.review_item(sc.posts["p2a"], severity=4, reason="bug")
    sc.items["anna2"] = f.review_item(sc.posts["anna2"], severity=2, reason="price")
    sc.items["clara1"] = f.review_item(sc.posts["clara1"], severity=1, status="resolved", reason="question")
    session.commit()
    return sc
