"""``resonanz search`` and ``resonanz searches`` on a real SQLite file, and the filter values of ``ask``
(classes checked, topics and platforms case-insensitive) on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.cli.main import app
from resonanz.core.errors import InvalidFilterError
from resonanz.core.periods import iso_week
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine
from tests.answers.factory import WEEK, Scenario, build_scenario

runner = CliRunner()


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_engine(url)
    with Session(engine) as session:
        build_scenario(session)
    engine.dispose()
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    return url


def test_search_prints_the_matches(db_url: str) -> None:
    result = runner.invoke(app, ["search", "Lieferung"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2 Treffer für „Lieferung“ (alle Beiträge); Seite 1 von 1" in result.stdout
    assert "Die Lieferung kam schon wieder zu spät!" in result.stdout and "Queue #" in result.stdout
    assert "Lieferung dauert" in result.stdout and "Alles gut bisher" not in result.stdout
    result = runner.invoke(app, ["search", "Lieferung", "--class", "a", "--week", WEEK], env={"COLUMNS": "200"})
    assert "1 Treffer für „Lieferung“ (Klasse A; Woche 2026-W47)" in result.stdout


def test_search_json_and_paging(db_url: str) -> None:
    result = runner.invoke(app, ["search", "", "--platform", "BLUESKY", "--per-page", "1", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["total"], data["per_page"], data["filters"]) == (2, 1, {"platforms": ["bluesky"]})
    assert [h["text"] for h in data["hits"]] == ["Kaufe wieder"]
    second = json.loads(runner.invoke(app, ["search", "", "-p", "bluesky", "--per-page", "1", "--page", "2",
                                            "-f", "json"]).stdout)  # fmt: skip
    assert [h["text"] for h in second["hits"]] == ["Preise sind okay."]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "Lieferung", "--class", "D"], "Unbekannte Kundenklasse „D“. Erlaubt sind: A (A-Kunden)"),
        (["search", "Lieferung", "--topic", "Versand"], "Unbekanntes Thema „Versand“. Bekannt sind: App, Lieferung"),
        (["search", "Lieferung", "-s", "wütend"], "Unbekannte Stimmung „wütend“"),
        (["search", "nicht"], "nur Füllwörter"),
        (["search", "Lieferung", "--week", "47"], "bitte als ISO-Woche schreiben"),
        (["search", "Lieferung", "--format", "xml"], "unbekanntes Format „xml“"),
        (["searches", "run", "gibt es nicht"], "Keine gespeicherte Suche „gibt es nicht“"),
        (["searches", "delete", "gibt es nicht"], "Keine gespeicherte Suche"),
    ],
)
def test_search_errors_say_what_to_do(db_url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Fehler:" in result.stderr and message in " ".join(result.stderr.split())
    assert "Traceback" not in result.output


def test_saved_searches_list_run_delete(db_url: str) -> None:
    result = runner.invoke(app, ["searches"])
    assert result.exit_code == 0 and "Noch keine gespeicherten Suchen" in result.stdout
    result = runner.invoke(
        app, ["search", "App", "-s", "negativ", "--save", "App-Ärger", "--owner", "carla"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "Gespeichert als „App-Ärger“" in result.stdout
    result = runner.invoke(app, ["search", "Preis", "--save", "App-Ärger"])
    assert result.exit_code == 2 and "schon eine gespeicherte Suche „App-Ärger“" in result.stderr
    listing = runner.invoke(app, ["searches", "list"], env={"COLUMNS": "200"}).stdout
    assert "App-Ärger" in listing and "Stimmung negativ" in listing and "carla" in listing
    assert runner.invoke(app, ["searches"], env={"COLUMNS": "200"}).stdout == listing
    data = json.loads(runner.invoke(app, ["searches", "run", "App-Ärger", "-f", "json"]).stdout)
    assert [h["text"] for h in data["hits"]] == ["App stürzt ab <script>alert(1)</script>"]
    result = runner.invoke(app, ["searches", "delete", "App-Ärger"])
    assert result.exit_code == 0 and "gelöscht" in result.stdout
    assert "Noch keine" in runner.invoke(app, ["searches"]).stdout


def test_cli_ask_refuses_an_unknown_class(db_url: str) -> None:
    result = runner.invoke(app, ["ask", "--week", WEEK, "--class", "D"])
    assert result.exit_code == 2
    assert "Unbekannte Kundenklasse „D“" in result.stderr
    lower = json.loads(runner.invoke(app, ["ask", "--week", WEEK, "-c", "a", "-t", "lieferung", "-f", "json"]).stdout)
    upper = json.loads(runner.invoke(app, ["ask", "--week", WEEK, "-c", "A", "-t", "Lieferung", "-f", "json"]).stdout)
    assert lower == upper and upper["current"]["posts"] == 1


def test_ask_filter_values_are_case_insensitive(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    period = iso_week(WEEK)
    for canonical, typed in (
        ({"classes": ["A"]}, {"classes": ["a"]}),
        ({"classes": ["prospect"]}, {"classes": ["Prospect"]}),
        ({"topics": ["Preis"]}, {"topics": ["preis"]}),
        ({"topics": ["App"]}, {"topics": ["APP"]}),
        ({"platforms": ["bluesky"]}, {"platforms": ["BlueSky"]}),
    ):
        expected = ask(session, AnswerFilter(period=period, **canonical))  # type: ignore[arg-type]
        got = ask(session, AnswerFilter(period=period, **typed))  # type: ignore[arg-type]
        assert expected.current.posts > 0
        assert got.to_dict() == expected.to_dict(), typed
    unknown_topic = ask(session, AnswerFilter(period=period, topics=["Versand"]))
    assert unknown_topic.current.posts == 0 and list(unknown_topic.filter.topics) == ["Versand"]
    with pytest.raises(InvalidFilterError, match="Unbekannte Kundenklasse „D“"):
        ask(session, AnswerFilter(period=period, classes=["D"]))


def test_search_output_follows_the_interface_language(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_LANGUAGE", "en")
    reset_settings_cache()
    result = runner.invoke(app, ["search", "Lieferung", "--class", "a", "--week", WEEK], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 hits for “Lieferung” (class A; week 2026-W47); page 1 of 1" in result.stdout
    assert "Date" in result.stdout and "Sentiment" in result.stdout and "negative" in result.stdout
    assert not {"Treffer", "Klasse", "Woche", "Datum", "Stimmung", "negativ "} & set(result.stdout.split())
    saved = runner.invoke(app, ["search", "App", "-s", "negative", "--save", "app", "--owner", "carla"])
    assert "Saved as “app”" in saved.stdout, saved.output
    listing = runner.invoke(app, ["searches", "list"], env={"COLUMNS": "200"}).stdout
    assert "Saved searches" in listing and "sentiment negative" in listing
