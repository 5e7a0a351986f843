"""Terminal, JSON and CSV output, and the ``resonanz ask`` / ``users`` commands on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.format import to_csv, to_json, to_text
from resonanz.cli.main import app
from resonanz.core.periods import iso_week
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine
from tests.answers.factory import WEEK, build_scenario

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


def test_text_json_csv_carry_the_same_numbers(db_url: str) -> None:
    engine = open_engine(db_url)
    with Session(engine) as session:
        answer = ask(session, AnswerFilter(period=iso_week(WEEK)))
    text = to_text(answer, width=160)
    assert "-0,15" in text and "+0,22" in text  # weighted and unweighted side by side
    assert "Pareto-Prüfung" in text and "A-Kunden" in text and "Lieferung" in text
    data = json.loads(to_json(answer))
    assert data["current"]["posts"] == 9 and data["period"]["label"] == WEEK
    assert data["pareto"]["rows"][0]["segment"] == "A"
    rows = list(csv.DictReader(io.StringIO(to_csv(answer))))
    lookup = {(r["section"], r["name"], r["metric"]): r["value"] for r in rows}
    assert float(lookup[("summary", "current", "net_weighted")]) == pytest.approx(-0.15)
    assert lookup[("topic", "Preis", "posts")] == "2"
    assert float(lookup[("pareto", "A", "revenue_share")]) == pytest.approx(0.75)
    assert any(r["section"] == "quote" and r["metric"] == "url" for r in rows)


def test_cli_ask_json_is_clean_on_stdout(db_url: str) -> None:
    result = runner.invoke(app, ["ask", "--week", WEEK, "--class", "A", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["filter"]["classes"] == ["A"] and data["current"]["posts"] == 3


def test_cli_ask_csv_table_and_chart(db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "--week", WEEK, "-t", "Preis", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("section,name,metric,value\n")
    chart = tmp_path / "pareto.png"
    result = runner.invoke(app, ["ask", "--since", "2026-11-16", "--until", "2026-11-22", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "wertgewichtet" in result.stdout and "Pareto" in result.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_ask_bad_input_explains(db_url: str) -> None:
    result = runner.invoke(app, ["ask", "--week", "47"])
    assert result.exit_code == 2 and "ISO-Woche wie 2026-W47" in result.output
    result = runner.invoke(app, ["ask", "--format", "xml"])
    assert result.exit_code == 2 and "table, json oder csv" in result.output


def test_cli_users_add_list_and_errors(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_NEW_USER_PASSWORD", "a long enough password")
    result = runner.invoke(app, ["users", "add", "maria", "--role", "admin"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["users", "add", "maria", "--role", "admin"])
    assert result.exit_code == 1 and "gibt es schon" in result.output
    result = runner.invoke(app, ["users", "add", "otto", "--role", "boss"])
    assert result.exit_code == 1 and "unbekannte Rolle" in result.output
    monkeypatch.delenv("RESONANZ_NEW_USER_PASSWORD")
    result = runner.invoke(app, ["users", "add", "pia", "--role", "analyst"], input="short\nshort\n")
    assert result.exit_code == 1 and "zu kurz" in result.output
    result = runner.invoke(app, ["users", "add", "pia", "--role", "analyst"], input="pia's long password\n" * 2)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["users", "list"])
    assert "maria" in result.stdout and "admin" in result.stdout and "analyst" in result.stdout
    result = runner.invoke(app, ["users", "deactivate", "pia"])
    assert result.exit_code == 0
    assert "nein" in runner.invoke(app, ["users", "list"]).stdout
