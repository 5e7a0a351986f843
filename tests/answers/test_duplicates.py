"""Duplicates and cross-posts (issue 12): one item per thing said, one spam cluster per campaign."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers.sql import AnswerFilter, post_rows
from resonanz.core.periods import iso_week
from resonanz.pipeline.duplicates import fingerprint, handle_stem, merge_duplicates, places, same_person
from store.models import Post, ReviewEvent, ReviewItem
from tests.answers.factory import MONDAY, WEEK, Factory

TEXT = "Firmenrechnung ohne unsere USt-IdNr. ausgestellt. Zum zweiten Mal!"
SPAM = "🔥🔥 GRATIS Gutschein im Wert von 100 € 🔥🔥 Nur heute: https://bit.ly/x{}"


def test_fingerprint_ignores_links_mentions_case_and_punctuation() -> None:
    assert fingerprint(TEXT) == fingerprint(
        "firmenrechnung OHNE unsere ust idnr ausgestellt zum zweiten mal @lindenhof"
    )
    assert fingerprint(SPAM.format(1)) == fingerprint(SPAM.format(2))  # the tracking link differs
    assert fingerprint("Danke, ist raus!") is None  # too short to call two of them one
    assert fingerprint(TEXT) != fingerprint(TEXT.replace("zweiten", "dritten"))


def test_same_person_rules() -> None:
    assert handle_stem("@joe_in_cgn@det.social") == handle_stem("joe-in-cgn.bsky.social") == "joeincgn"

    def post(identity: int, platform: str, handle: str, customer: int | None = None, hours: int = 0) -> dict:
        return {"identity_id": identity, "customer_id": customer, "platform": platform, "handle": handle,
                "created_at": MONDAY + timedelta(hours=hours)}  # fmt: skip

    a = post(1, "mastodon", "@gretel81@norden.social")
    assert same_person(a, post(2, "bluesky", "gretel37.bsky.social"))  # look-alike handles, another platform
    assert not same_person(a, post(2, "bluesky", "gretel37.bsky.social", hours=72))  # too far apart
    assert not same_person(a, post(3, "mastodon", "@gretel82@norden.social"))  # same platform: two accounts
    assert not same_person(a, post(4, "bluesky", "thomasbrandt.bsky.social"))
    assert same_person(post(5, "mastodon", "@hotel", customer=9), post(6, "bluesky", "thomas", customer=9))


def test_cross_posts_merge_and_spam_clusters_form(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        gretel_m, gretel_b = f.identity("@gretel81@norden.social"), f.identity("gretel37.bsky.social", "bluesky")
        stranger = f.identity("@jemand@chaos.social")
        first = f.post(gretel_m, TEXT, MONDAY)
        second = f.post(gretel_b, TEXT, MONDAY + timedelta(minutes=3), platform="bluesky")
        quoted = f.post(stranger, TEXT, MONDAY + timedelta(hours=1))  # one other person: stays apart
        kept, merged, apart = f.review_item(first), f.review_item(second), f.review_item(quoted)
        spammers = [f.identity(f"@promo{i}@mastodon.social") for i in range(4)]
        spam = [f.post(s, SPAM.format(i), MONDAY, sentiment="positive") for i, s in enumerate(spammers)]
        session.commit()
        ids = {"kept": kept.id, "merged": merged.id, "apart": apart.id, "first": first.id}
        spam_ids = [p.id for p in spam]

    report = merge_duplicates(engine)
    # gretel's two posts + the stranger: 2 authors, not a cluster; gretel's items merge
    assert (report.cross_posts_merged, report.spam_clusters, report.spam_posts) == (1, 1, 4)
    with Session(engine) as session:
        status = {i.id: i.status for i in session.exec(select(ReviewItem)).scalars()}  # type: ignore[call-overload]
        assert status[ids["kept"]] == "open" and status[ids["merged"]] == "merged" and status[ids["apart"]] == "open"
        event = (
            session.exec(
                select(ReviewEvent).where(ReviewEvent.action == "merged")  # type: ignore[arg-type]
            )
            .scalars()
            .first()
        )
        assert event.detail["into_item_id"] == ids["kept"]
        assert {p["handle"] for p in places(session, ids["first"])} == {"gretel37.bsky.social", "@jemand@chaos.social"}

        spam_items = (
            session.exec(
                select(ReviewItem).where(ReviewItem.post_id.in_(spam_ids))  # type: ignore[attr-defined]
            )
            .scalars()
            .all()
        )
        assert len(spam_items) == 1 and spam_items[0].reasons[0]["flag"] == "spam_cluster"
        assert len(spam_items[0].reasons[0]["evidence"]) == 4
        assert {session.get(Post, i).voice for i in spam_ids} == {"spam"}
        rows = post_rows(AnswerFilter(period=iso_week(WEEK)), session.get_bind().dialect.name)
        assert not {r[0] for r in session.execute(select(rows.c.post_id)).all()} & set(spam_ids)

    again = merge_duplicates(engine)  # idempotent
    assert (again.cross_posts_merged, again.spam_clusters) == (0, 0)
