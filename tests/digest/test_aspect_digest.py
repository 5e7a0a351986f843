"""The digest ranks complaints by what posts say about each topic (aspect polarity), not by the post's label."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.settings import Settings
from resonanz.digest import build_digest
from resonanz.digest.mailer import plain_text
from tests.answers.factory import MONDAY, WEEK, Factory, Scenario


def test_negative_topics_and_a_customer_lines_use_topic_polarity(scenario_db: tuple[Engine, Scenario]) -> None:
    engine, sc = scenario_db
    with Session(engine, expire_on_commit=False) as session:
        Factory(session).post(
            sc.identities["anna"],
            "Kaffee super, aber der Preis ist eine Frechheit",
            MONDAY + timedelta(days=1),
            sentiment="negative",  # the post as a whole
            topics=["Kaffee", "Preis"],
            aspects={"Kaffee": "positive", "Preis": "negative"},
        )
        session.commit()
    digest = build_digest(engine, Settings(), WEEK)
    s = digest.summary
    negative = {t["topic"]: t for t in s["negative_topics"]}
    assert "Kaffee" not in negative  # negative post, but positive about the coffee
    assert [t["topic"] for t in s["negative_topics"]][:2] == ["Preis", "Lieferung"]  # Preis: anna2 + anna's new post
    assert negative["Preis"]["negative_weight"] == 10.0 and negative["Preis"]["posts"] == 3
    assert negative["Preis"]["negative_share_weighted"] == 10.0 / 12.0  # clara (B, 2) is neutral
    lines = {t["topic"]: t["line"] for t in s["a_topics"]}
    assert lines["Kaffee"] == "Kaffee: 0 % negativ (1 Beitrag)"
    assert lines["Preis"] == "Preis: 100 % negativ (2 Beiträge)"
    assert "Kaffee: 0 % negativ (1 Beitrag)" in digest.content_html
    text = plain_text(digest)
    assert "A-Kunden nach Thema" in text and "- Preis: 100 % negativ (2 Beiträge)" in text
    assert "- Preis: 83 % negativ (3 Beiträge), negatives Gewicht 10,0" in text
