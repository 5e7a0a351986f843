"""GDPR erasure holds (issue 13): forget two demo customers, re-import the unchanged exports, link again -
no personal data anywhere, no customer or link re-created, revenue unchanged."""

from __future__ import annotations

from sqlalchemy import func, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from resonanz.core.settings import Settings
from resonanz.demo.load import DEMO_DATA, load_demo_data
from resonanz.importing import import_customers, import_orders
from resonanz.pipeline.erasure import forget_customer
from resonanz.pipeline.linking import link_identities
from store.models import Customer, Digest, IdentityLink, Order, Post, ReviewEvent, ReviewItem

FORGET = {
    "K-10301": ["Thomas Brandt", "Hotel Rheinblick GmbH", "t.brandt@hotel-rheinblick.de", "+49 171 4410923",
                "K-10301"],
    "K-11131": ["Miriam Kranz", "Café Kranz", "miriam@cafe-kranz-bonn.de", "0228 654321", "K-11131"],
}  # fmt: skip


def _all_text(engine: Engine, only: tuple[str, ...] = ()) -> str:
    """Every text and JSON cell of every table (or of ``only``), as one string (what an audit greps)."""
    chunks: list[str] = []
    with engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("select name from sqlite_master where type='table'"))]
        for table in [t for t in tables if not only or t in only]:
            for row in conn.execute(text(f'select * from "{table}"')):  # noqa: S608 - table names from sqlite
                chunks.extend(str(v) for v in row if isinstance(v, str))
    return "\n".join(chunks).lower()


def test_forget_two_customers_and_reimport(sqlite_engine: Engine) -> None:
    engine, settings = sqlite_engine, Settings()
    load_demo_data(engine)
    link_identities(engine, settings)
    with Session(engine, expire_on_commit=False) as session:
        revenue_before = session.exec(select(func.sum(Order.revenue))).one()
        post = session.exec(select(Post)).first()
        item = ReviewItem(post_id=post.id, notes="Rückruf an Thomas Brandt (K-10301), Tel. +49 171 4410923")
        session.add(item)
        session.flush()
        session.add(ReviewEvent(review_item_id=item.id, actor="carla", action="note",
                                detail={"text": "Thomas Brandt angerufen, t.brandt@hotel-rheinblick.de"}))  # fmt: skip
        session.add(Digest(period_label="2026-W47", period_start=post.created_at, period_end=post.created_at,
                           content_html="<p>Miriam Kranz (Café Kranz): Lieferung verloren</p>"))  # fmt: skip
        session.commit()
    reports = [forget_customer(engine, crm_id, settings) for crm_id in FORGET]
    assert all(r.suppressed_keys >= 1 for r in reports)
    assert reports[0].redacted["review notes"] >= 2 and reports[0].redacted["audit events"] >= 1
    assert reports[1].redacted["digests"] >= 1

    customers = import_customers(engine, DEMO_DATA / "customers.csv")
    orders = import_orders(engine, DEMO_DATA / "orders.csv")
    assert len(customers.suppressed) == 2 and "DSGVO Art. 17" in customers.summary()
    assert len(orders.suppressed) > 0 and not orders.errors and orders.inserted == 0
    link_identities(engine, settings, full=True)

    everywhere = _all_text(engine)
    # a name is not unique (the demo has another Thomas Brandt, a photographer in Hamburg, whose public
    # profile must stay): names are checked where only the customer can be meant
    customer_places = _all_text(engine, ("customer", "review_item", "review_event", "digest", "label_feedback"))
    for name, company, *keys in FORGET.values():
        assert name.lower() not in customer_places, name
        for needle in (company, *keys):
            assert needle.lower() not in everywhere, needle
    with Session(engine) as session:
        assert session.exec(select(func.sum(Order.revenue))).one() == revenue_before
        erased = session.exec(select(Customer.id).where(Customer.erased_at.is_not(None))).all()  # type: ignore[union-attr]
        assert len(erased) == 2
        links = session.exec(select(IdentityLink).where(IdentityLink.customer_id.in_(erased))).all()  # type: ignore[union-attr]
        assert links == []


def test_a_later_collection_does_not_refill_an_erased_profile(sqlite_engine: Engine) -> None:
    from store.db import session_scope
    from store.ingest import ingest_posts
    from store.models import SocialIdentity
    from store.records import IdentityRecord, PostRecord
    from store.types import utcnow

    engine, settings = sqlite_engine, Settings()
    load_demo_data(engine)
    link_identities(engine, settings)
    account = "https://mastodon.social/users/hotel_rheinblick"
    assert forget_customer(engine, "K-10301", settings).identities_erased >= 1
    author = IdentityRecord(platform="mastodon", account_id=account, handle="@hotel_rheinblick@mastodon.social",
                            display_name="Thomas Brandt", bio="Gastgeber im Hotel Rheinblick")  # fmt: skip
    with session_scope(engine) as session:
        ingest_posts(session, [PostRecord(platform="mastodon", external_id="new-1", created_at=utcnow(),
                                          text="Neuer Beitrag", identity=author)])  # fmt: skip
    with Session(engine) as session:
        ident = session.exec(select(SocialIdentity).where(SocialIdentity.account_id == account)).one()
        assert (ident.display_name, ident.bio, ident.location) == (None, None, None)
