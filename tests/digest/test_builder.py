"""Building and archiving the weekly digest."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from resonanz.core.settings import DigestSettings, Settings
from resonanz.demo.answers import demo_answers
from resonanz.digest import build_digest
from store.models import Digest
from tests.answers.factory import WEEK, Scenario

IMG_RE = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def test_digest_numbers_sections_and_charts(scenario_db: tuple[Engine, Scenario]) -> None:
    engine, _ = scenario_db
    digest = build_digest(engine, Settings(), WEEK)
    assert digest.id is not None and digest.period_label == WEEK
    s = digest.summary
    assert (s["posts"], s["posts_previous"], s["a_posts"], s["open_items"]) == (9, 3, 3, 3)
    assert abs(s["net_weighted"] - (-0.15)) < 1e-9
    assert [t["topic"] for t in s["negative_topics"]][:2] == ["Lieferung", "Preis"]  # both 5.0; ties by name
    assert {q["text"] for q in s["a_quotes"]} == {
        "Die Lieferung kam schon wieder zu spät!",
        "Viel zu teuer geworden.",
        "Super Service, danke!",
    }
    html = digest.content_html
    for heading in (
        "Die wichtigsten Zahlen",
        "Was A-Kunden sagten",
        "Die negativsten Themen, gewichtet nach Kundenwert",
        "Neue Themen",
        "Markierte Einträge noch offen (3)",
        "Stimmenanteil und Umsatzanteil",
    ):
        assert heading in html
    assert "Mo. 16.11.2026 – So. 22.11.2026" in html
    images = IMG_RE.findall(html)
    assert len(images) == 3 and all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_rebuild_replaces_the_archived_week(scenario_engine: Engine) -> None:
    first = build_digest(scenario_engine, Settings(digest=DigestSettings(recipients=["team@example.de"])), WEEK)
    second = build_digest(scenario_engine, Settings(), WEEK)
    assert first.id == second.id and second.recipients == ["team@example.de"]
    with Session(scenario_engine) as session:
        assert len(session.exec(select(Digest)).all()) == 1


def test_default_is_the_last_complete_week(scenario_engine: Engine) -> None:
    monday = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 07:00 Berlin, when the job runs
    assert build_digest(scenario_engine, Settings(), now=monday).period_label == WEEK


def test_empty_week_still_builds(scenario_engine: Engine) -> None:
    digest = build_digest(scenario_engine, Settings(), "2020-W10")
    assert digest.summary["posts"] == 0
    assert "Diese Woche keine Beiträge von A-Kunden." in digest.content_html


def test_demo_answers_writes_the_digest_and_answers_for_a_customers(scenario_engine: Engine, tmp_path: Path) -> None:
    text, path = demo_answers(scenario_engine, Settings(), tmp_path / "out")
    assert path == tmp_path / "out" / f"digest-{WEEK}.html" and path.is_file()
    assert "Resonanz-Wochenbericht" in path.read_text(encoding="utf-8")
    assert "A-Kunden" in text and "Die Lieferung kam schon wieder zu spät!" in text
    assert "Pareto-Prüfung" in text
