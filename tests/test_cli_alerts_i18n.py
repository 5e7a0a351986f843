"""``resonanz alerts list`` and the alerts and linking tables of ``resonanz demo`` in the interface language
(issue 17): German by default, English with ``RESONANZ_LANGUAGE=en``; a stored alert's title is shown through
its code (:func:`resonanz.alerts.shapes.alert_title`), not as stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from resonanz.alerts.replay import ReplayReport
from resonanz.cli import alerts as cli_alerts
from resonanz.cli.main import app
from resonanz.core import i18n
from resonanz.core.db import engine_from_settings
from resonanz.core.settings import reset_settings_cache
from resonanz.demo.alerts import DemoAlerts, demo_alerts_summary
from resonanz.demo.linking import demo_linking_summary
from store.db import make_engine
from store.models import Alert
from tests.answers.factory import Factory

AT = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
STORED_TITLE = "Thema „Lieferung“ (so gespeichert)"
TITLE_SPEC = {"code": "subject_topic", "params": {"key": "Lieferung"}}

LIST_GERMAN = ("Nr.", "seit", "Schwere", "Regel", "Alarm", "Warnung", "Thema „Lieferung“")
DEMO_ALERTS_GERMAN = ("1 Alarm", "erkannt", "Schwere", "wichtigster Beitrag", "Spam-Cluster", "Konten", "Im Browser")
DEMO_LINKING_GERMAN = ("Kundenwert", "Kunde", "Umsatz", "Treuepunkte", "Gewicht", "Verknüpfte", "Autor", "Belege",
                       "zugeordnet", "Interessent")  # fmt: skip


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)  # a command sets the process language; later tests expect German


def _alert(alert_id: int | None = None) -> Alert:
    return Alert(
        id=alert_id, key="topic_spike:lieferung", rule="topic_spike", kind="topic", severity=2, title=STORED_TITLE,
        summary="gespeichert", subject="lieferung", started_at=AT, first_seen_at=AT, last_seen_at=AT,
        explanation={"texts": {"title": TITLE_SPEC}, "top_posts": [{"text": "Paket kam nicht an"}]},
    )  # fmt: skip


def _words(text: str) -> str:
    return " ".join(text.split())


def _list(monkeypatch: pytest.MonkeyPatch, lang: str | None, *args: str) -> str:
    if lang is None:
        monkeypatch.delenv("RESONANZ_LANGUAGE", raising=False)
    else:
        monkeypatch.setenv("RESONANZ_LANGUAGE", lang)
    reset_settings_cache()
    result = CliRunner().invoke(app, ["alerts", "list", *args])
    assert result.exit_code == 0, result.output
    return _words(result.output)


def test_alerts_list_in_german_and_english(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_alerts, "console", Console(width=250, soft_wrap=True))  # the table at full width
    engine = engine_from_settings()
    with Session(engine) as session:
        session.add(_alert())
        session.commit()
    engine.dispose()
    german = _list(monkeypatch, None)
    english = _list(monkeypatch, "en")
    for word in LIST_GERMAN:
        assert word in german, word
        assert word not in english, word
    for word in ("No.", "since", "Severity", "Rule", "Alert", "warning", "Topic “Lieferung”"):
        assert word in english, word
    assert STORED_TITLE not in german and STORED_TITLE not in english  # the title is rendered from its code
    assert "Keine Alarme mit diesem Status." in _list(monkeypatch, None, "--status", "resolved")
    assert _list(monkeypatch, "en", "--status", "resolved") == "No alerts with this status."


def _printed(renderable: object) -> str:
    console = Console(record=True, width=400)
    console.print(renderable)
    return _words(console.export_text())


def test_demo_alerts_table_in_german_and_english() -> None:
    result = DemoAlerts(ReplayReport(alerts=[_alert(1)]), AT, AT, spam_posts=12, spam_accounts=3)
    german = _printed(demo_alerts_summary(result))
    with i18n.language("en"):
        english = _printed(demo_alerts_summary(result))
    for word in DEMO_ALERTS_GERMAN:
        assert word in german, word
        assert word not in english, word
    assert "1 alert" in english and "top post" in english and "no alert for the spam cluster (12 posts" in english
    assert "Thema „Lieferung“" in german and "Topic “Lieferung”" in english and STORED_TITLE not in german


@pytest.fixture
def linked() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        f = Factory(session)
        f.link(f.identity("@anna@social.example"), f.customer("Anna Amsel", "A"), probability=0.97)
        session.commit()
    yield engine
    engine.dispose()


def test_demo_linking_tables_in_german_and_english(linked: Engine) -> None:
    german = _printed(demo_linking_summary(linked))
    with i18n.language("en"):
        english = _printed(demo_linking_summary(linked))
    for word in DEMO_LINKING_GERMAN:
        assert word in german, word
        assert word not in english, word
    assert "Customer value" in english and "Linked authors" in english and "1 of 1 authors" in english
