"""``resonanz demo`` with its alert stage: the story's alerts are raised, the spam cluster raises none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from resonanz.cli.demo import run_demo
from resonanz.core.settings import Settings
from resonanz.demo.data import TRUTH
from store.db import make_engine
from store.models import Alert, Post, SocialIdentity


@pytest.mark.slow
def test_the_demo_raises_the_story_and_not_the_spam(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    run_demo(Settings(database_url=url), tmp_path)
    engine = make_engine(url)
    story = json.loads(TRUTH.read_text(encoding="utf-8"))["story"]
    with Session(engine) as session:
        alerts = session.exec(select(Alert).order_by(col(Alert.first_seen_at))).all()
        spam = set(session.exec(select(Post.id).where(Post.voice == "spam")).all())
        hotel_posts = set(session.exec(
            select(Post.id).join(SocialIdentity, col(SocialIdentity.id) == col(Post.identity_id))
            .where(SocialIdentity.account_id == story["loud_top_customer"]["accounts"][0]["account_id"])
        ).all())  # fmt: skip

    def texts(a: Alert) -> str:
        return " ".join(p["text"] for p in (a.explanation or {}).get("top_posts", []))

    bohnengate = [a for a in alerts if a.kind == "spike" and "#Bohnengate" in texts(a)]
    assert bohnengate and bohnengate[0].first_seen_at.date() == datetime(2026, 10, 17, tzinfo=UTC).date()
    price = [a for a in alerts if a.kind == "spike" and "Preis" in a.subject]
    assert price and datetime(2026, 11, 3, tzinfo=UTC) <= price[0].first_seen_at <= datetime(2026, 11, 9, tzinfo=UTC)
    hotel = [a for a in alerts if a.kind == "customer" and set(a.post_ids) & hotel_posts]
    assert len(hotel) == 1 and hotel[0].severity == 3 and "Hotel Rheinblick" in hotel[0].title
    assert any("Röstereien" in p["text"] for p in hotel[0].explanation["top_posts"])  # the W47 threat is in it
    assert spam and all(not set(a.post_ids) & spam for a in alerts)
