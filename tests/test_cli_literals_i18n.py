"""Command output that used to be German literals, now from the catalogue (issue 17): English with
``RESONANZ_LANGUAGE=en``, the German text unchanged by default -- ``brand list``, ``demo --leave``, the demo's
next steps, the cohort triangle and its notes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from linker.value.cohorts import Cohort, CohortCell, CohortTable
from resonanz.cli import demo as demo_cli
from resonanz.cli.link import print_cohorts
from resonanz.cli.main import app
from resonanz.core import i18n
from resonanz.core.settings import reset_settings_cache

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RESONANZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RESONANZ_CONFIG", str(tmp_path / "keine.toml"))
    monkeypatch.setenv("RESONANZ_DATABASE_URL", f"sqlite:///{tmp_path / 'leer.db'}")
    reset_settings_cache()
    yield
    reset_settings_cache()
    i18n.set_language(i18n.DEFAULT_LANGUAGE)  # a command sets the process language; later tests expect German


def _invoke(args: list[str], monkeypatch: pytest.MonkeyPatch, lang: str) -> str:
    monkeypatch.setenv("RESONANZ_LANGUAGE", lang)
    reset_settings_cache()
    result = runner.invoke(app, args, env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_empty_brand_list(monkeypatch: pytest.MonkeyPatch) -> None:
    english = _invoke(["brand", "list"], monkeypatch, "en")
    assert "No entries yet: `resonanz brand add account" in english and "Noch keine" not in english
    assert "Noch keine Einträge: `resonanz brand add account" in _invoke(["brand", "list"], monkeypatch, "de")


def test_demo_leave_without_a_demo_default(monkeypatch: pytest.MonkeyPatch) -> None:
    english = _invoke(["demo", "--leave"], monkeypatch, "en")
    assert english.strip() == "No demo database was set as the default."
    german = _invoke(["demo", "--leave"], monkeypatch, "de")
    assert german.strip() == "Es war keine Demo-Datenbank als Standard eingetragen."


def test_demo_next_steps_header_and_database_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(demo_cli, "console", Console(file=out, width=400))
    demo_url = f"sqlite:///{tmp_path / 'demo.db'}"  # not the configured one: nothing is remembered as the default
    with i18n.language("en"):
        demo_cli._print_next_steps(demo_url, tmp_path / "demo")
    text = out.getvalue()
    assert "Next in the demo: the story week 2026-W47" in text
    assert "A database of your own is configured, so the commands name the demo database (" in text
    assert "Weiter mit der Demo" not in text and "Datenbank" not in text
    out.truncate(0)
    with i18n.language("de"):
        demo_cli._print_next_steps(demo_url, tmp_path / "demo")
    assert "Weiter mit der Demo: die Story-Woche 2026-W47" in out.getvalue()


def _cohorts(with_rows: bool) -> CohortTable:
    cells = (CohortCell(0, 4, 1.0, 200.0, 1.0), CohortCell(1, 1, 0.25, 30.0, 0.15))
    cohorts = (Cohort(date(2026, 9, 1), 4, cells),) if with_rows else ()
    return CohortTable(datetime(2026, 11, 5, tzinfo=UTC), date(2026, 10, 1), cohorts, cells if with_rows else ())


def _printed(table: CohortTable, lang: str) -> str:
    out = io.StringIO()
    with i18n.language(lang):
        print_cohorts(table, out=Console(file=out, width=400))
    return " ".join(out.getvalue().split())  # rich wraps a title to the table's width; compare words


def test_cohort_triangle_and_notes() -> None:
    english = _printed(_cohorts(with_rows=True), "en")
    for text in ("Cohorts by first-purchase month – repurchase rate, full months up to 2026-10",
                 "revenue retention (share of the first month's revenue)", "Revenue M0", "Ø weighted",
                 "M0 = month of the first purchase (always 100 %)", "Net revenue (refunds deducted)"):  # fmt: skip
        assert text in english
    for german in ("Kohorte", "Monat", "Umsatz", "gewichtet", "Kund:innen"):
        assert german not in english
    german = _printed(_cohorts(with_rows=True), "de")
    assert "Kohorten nach Erstkauf-Monat – Wiederkauf-Quote, volle Monate bis 2026-10" in german
    assert "M0 = Monat des Erstkaufs (immer 100 %); Mk = Anteil der Kohorte, der k Monate später wieder" in german


def test_no_cohorts() -> None:
    english = _printed(_cohorts(with_rows=False), "en")
    assert english.startswith("No first purchases in the full months up to 2026-10; import orders")
    assert _printed(_cohorts(with_rows=False), "de").startswith("Keine Erstkäufe in den vollen Monaten bis 2026-10;")
