"""Issue 17, part 8: a database URL Resonanz cannot use, a broken or mistyped ``resonanz.toml`` and a
``RESONANZ_CONFIG`` that names no file each give one clear German line (exit 2), never a traceback."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from resonanz.cli.common import fail
from resonanz.cli.main import app
from resonanz.core.db import DatabaseUrlError, checked_database_url, engine_from_settings
from resonanz.core.settings import ConfigError, Settings, get_settings, reset_settings_cache
from store.errors import StoreError

runner = CliRunner()


def _error_line(result: object) -> str:
    stderr = " ".join(result.stderr.split())  # type: ignore[attr-defined]
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output and stderr.startswith("Fehler: "), result.output  # type: ignore[attr-defined]
    return stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://shop:geheim@db.example/crm", "„mysql://shop:***@db.example/crm“: mysql wird nicht unterstützt"),
        ("mssql+pyodbc://u@dsn", "mssql wird nicht unterstützt"),
        ("postgresql+psycopg2://u:pw@h/db", "der Treiber psycopg2 ist nicht dabei. Bitte postgresql:// ohne +psycopg2"),
        ("sqlite+aiosqlite:///x.db", "der Treiber aiosqlite ist nicht dabei"),
        ("not a url", "„not a url“ ist keine Datenbank-URL. Beispiele: sqlite:////pfad/zu/resonanz.db"),
        ("://nutzer:geheim@", "keine Datenbank-URL"),
    ],
)
def test_an_unusable_database_url_says_what_to_write(
    url: str, expected: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    for args in (["ask", "--class", "A"], ["search", "Lieferung"], ["users", "list"], ["db", "upgrade"]):
        line = _error_line(runner.invoke(app, args))
        assert f"RESONANZ_DATABASE_URL {expected}" in line or expected in line, (args, line)
        assert "geheim" not in line
    with pytest.raises(DatabaseUrlError) as caught:
        engine_from_settings()
    assert isinstance(caught.value, StoreError) and isinstance(caught.value, ConfigError)
    result = runner.invoke(app, ["demo", "--database", url, "--output", str(tmp_path)])
    assert "--database" in _error_line(result) and not (tmp_path / "digest-2026-W47.html").exists()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///x.db", "sqlite://", "postgresql://u:pw@h:5432/db", "postgres://u@h/db", "postgresql+psycopg://h/d"],
)
def test_the_urls_resonanz_runs_on_pass(url: str) -> None:
    assert checked_database_url(url) == url


def test_a_broken_toml_file_names_the_file_and_the_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "resonanz.toml"
    config.write_text('log_level = "INFO\n[smtp\nport = 25\n', encoding="utf-8")
    monkeypatch.setenv("RESONANZ_CONFIG", str(config))
    reset_settings_cache()
    for args in (["ask"], ["searches"], ["serve"], ["--verbose", "status"]):
        line = _error_line(runner.invoke(app, args))
        assert f"Die Einstellungsdatei {config} ist kein gültiges TOML (Illegal character" in line
        assert "(at line 1, column 18)" in line and "Abschnitte als [name]" in line  # rich markup does not eat it
    with pytest.raises(ConfigError):
        get_settings()


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ('[smtp]\nport = "fünfundzwanzig"\n', {}, "smtp.port: der Wert 'fünfundzwanzig' passt nicht, erwartet ist "
         "eine ganze Zahl. Zu ändern in {config} ([smtp] port = ...) oder in RESONANZ_SMTP__PORT."),
        ('[digest]\nrecipients = "a@example.com"\n', {}, "digest.recipients: der Wert 'a@example.com' passt nicht, "
         'erwartet ist eine Liste, z. B. ["a@example.com"]'),
        ("smtp = 5\n", {}, "smtp: der Wert 5 passt nicht, erwartet ist ein Abschnitt [name]"),
        ("", {"RESONANZ_WEB__PORT": "achtzig"}, "web.port: der Wert 'achtzig' passt nicht"),
        ("", {"RESONANZ_WEB__SECURE_COOKIES": "vielleicht"}, "erwartet ist true oder false"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_kind_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, env: dict[str, str], expected: str
) -> None:
    config = tmp_path / "resonanz.toml"
    config.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("RESONANZ_CONFIG", str(config))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings_cache()
    line = _error_line(runner.invoke(app, ["searches"]))
    assert line.startswith("Fehler: Die Einstellungen sind ungültig: ")
    assert expected.format(config=config) in line


def test_a_config_path_that_names_no_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "tippfehler.toml"
    monkeypatch.setenv("RESONANZ_CONFIG", str(missing))
    monkeypatch.setenv("RESONANZ_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    reset_settings_cache()
    with caplog.at_level(logging.WARNING, logger="resonanz.core.settings"):
        result = runner.invoke(app, ["searches"])
    assert result.exit_code == 0  # the defaults still work ...
    warned = [r.getMessage() for r in caplog.records if r.name == "resonanz.core.settings"]
    assert len(warned) == 1, warned  # ... but not silently, and once per process
    assert warned[0].startswith(f"RESONANZ_CONFIG nennt {missing}, dort ist aber keine Datei: es gelten nur ")
    assert "Pfad korrigieren, oder RESONANZ_CONFIG entfernen" in warned[0]
    caplog.clear()
    missing.write_text('log_level = "WARNING"\n', encoding="utf-8")
    reset_settings_cache()
    assert get_settings().log_level == "WARNING" and not caplog.records


def test_fail_shows_brackets_literally(capsys: pytest.CaptureFixture[str]) -> None:
    exit_ = fail("Abschnitt [smtp] fehlt; [bold]kein Markup[/bold]")
    assert exit_.exit_code == 2
    assert "Fehler: Abschnitt [smtp] fehlt; [bold]kein Markup[/bold]" in capsys.readouterr().err


def test_settings_construction_stays_as_before() -> None:
    """Only get_settings() translates; code that builds Settings itself gets pydantic's error as before."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        Settings(web={"port": "achtzig"})  # type: ignore[arg-type]
