"""``resonanz alerts check|list|show|ack|resolve|rules`` and the scheduled job, on the configured database."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import Session, select
from typer.testing import CliRunner

from resonanz.alerts.job import scheduled_alerts_job
from resonanz.cli import alerts as cli_alerts
from resonanz.cli.main import app
from resonanz.core.settings import reset_settings_cache
from store.models import Alert, AlertEvent
from tests.alerts.conftest import BURST, Store
from tests.answers.factory import Factory

runner = CliRunner()


@pytest.fixture
def configured(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setattr(cli_alerts, "console", Console(width=250, soft_wrap=True))  # tables at full width
    monkeypatch.setenv("RESONANZ_DATABASE_URL", store.engine.url.render_as_string(hide_password=False))
    reset_settings_cache()
    with Session(store.engine) as session:
        Factory(session).post(store.customers["A"][1], "Wir prüfen gerade andere Röstereien.",
                              BURST - timedelta(minutes=5), flags=[{"flag": "churn", "severity": 4}])  # fmt: skip
        session.commit()
    return store


def test_check_list_show_ack_resolve(configured: Store) -> None:
    result = runner.invoke(app, ["alerts", "check", "--now", BURST.isoformat(), "--no-notify"])
    assert result.exit_code == 0, result.output
    assert "1 neue Alarme" in result.output and "Kundin A (A-Kunde, Umsatz 34.000 €" in result.output
    with Session(configured.engine) as session:
        alert = session.exec(select(Alert)).one()
    listed = runner.invoke(app, ["alerts", "list"])
    assert listed.exit_code == 0 and "Kundin A (A-Kunde) droht abzuwandern" in listed.output
    shown = runner.invoke(app, ["alerts", "show", str(alert.id)])
    assert shown.exit_code == 0 and "Wir prüfen gerade andere Röstereien" in shown.output and "raised" in shown.output
    assert runner.invoke(app, ["alerts", "ack", str(alert.id), "--by", "carla"]).exit_code == 0
    twice = runner.invoke(app, ["alerts", "ack", str(alert.id)])
    assert twice.exit_code == 1 and "bestätigt" in twice.output
    assert (
        runner.invoke(app, ["alerts", "resolve", str(alert.id), "--by", "carla", "--note", "angerufen"]).exit_code == 0
    )
    with Session(configured.engine) as session:
        trail = [(e.actor, e.action) for e in session.exec(select(AlertEvent).order_by(AlertEvent.id)).all()]  # type: ignore[arg-type]
    assert trail == [("resonanz-alerts", "raised"), ("carla", "acknowledged"), ("carla", "resolved")]
    assert "Keine Alarme" in runner.invoke(app, ["alerts", "list"]).output
    assert str(alert.id) in runner.invoke(app, ["alerts", "list", "--status", "resolved"]).output


def test_check_refuses_what_it_cannot_use(configured: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = runner.invoke(app, ["alerts", "check", "--now", "gestern"])
    assert bad.exit_code == 2 and "Form 2026-11-16T08:00+01:00" in bad.output
    assert runner.invoke(app, ["alerts", "show", "999"]).exit_code == 1
    assert runner.invoke(app, ["alerts", "list", "--status", "vielleicht"]).exit_code == 2
    config = tmp_path / "resonanz.toml"
    config.write_text("[alerts.rules.spike_thema_volumen]\nzz = 1\n", encoding="utf-8")
    monkeypatch.setenv("RESONANZ_CONFIG", str(config))
    reset_settings_cache()
    rules = runner.invoke(app, ["alerts", "rules"])
    assert rules.exit_code == 2 and "unbekannte Einstellung zz" in rules.output


def test_rules_show_the_toml_layer(configured: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "resonanz.toml"
    config.write_text("[alerts.rules.neues_thema]\nenabled = false\nmin_authors = 9\n", encoding="utf-8")
    monkeypatch.setenv("RESONANZ_CONFIG", str(config))
    reset_settings_cache()
    result = runner.invoke(app, ["alerts", "rules"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = next(i for i, row in enumerate(lines) if row.startswith("neues_thema "))
    assert "(emerging, aus, Hinweis, Quelle: TOML)" in lines[at] and "min_authors=9" in " ".join(lines[at + 1 :])


def test_the_scheduled_job_evaluates_the_configured_database(configured: Store) -> None:
    assert scheduled_alerts_job() == 0  # now is December: the post of November is outside every window
    with Session(configured.engine) as session:
        assert session.exec(select(Alert)).all() == []
