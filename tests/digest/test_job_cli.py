"""The Monday job, its trigger, and ``resonanz digest``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core.settings import DigestSettings, Settings, reset_settings_cache
from resonanz.digest import digest_trigger, weekly_digest_job
from store.models import Digest
from tests.answers.factory import WEEK
from tests.digest.conftest import SmtpServer

runner = CliRunner()


def test_trigger_is_monday_morning_in_berlin() -> None:
    trigger = digest_trigger(Settings())
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    fire = trigger.get_next_fire_time(None, sunday)
    assert fire is not None
    assert (fire.isoformat(), str(fire.tzinfo)) == ("2026-11-23T07:00:00+01:00", "Europe/Berlin")
    custom = digest_trigger(Settings(digest=DigestSettings(day_of_week="tue", hour=9, minute=30, timezone="UTC")))
    fire = custom.get_next_fire_time(None, sunday)
    assert fire is not None and fire.isoformat() == "2026-11-24T09:30:00+00:00"


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch, scenario_engine: Engine) -> Callable[[int | None], str]:
    def apply(port: int | None) -> str:
        url = scenario_engine.url.render_as_string(hide_password=False)
        monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
        if port is not None:
            monkeypatch.setenv("RESONANZ_SMTP__HOST", "127.0.0.1")
            monkeypatch.setenv("RESONANZ_SMTP__PORT", str(port))
            monkeypatch.setenv("RESONANZ_DIGEST__RECIPIENTS", json.dumps(["team@example.de"]))
        reset_settings_cache()
        return url

    return apply


def test_job_builds_last_week_and_sends(
    env_for: Callable[[int | None], str], smtp_server: Callable[..., SmtpServer], scenario_engine: Engine
) -> None:
    server = smtp_server()
    url = env_for(server.port)
    assert weekly_digest_job(url, now=datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == WEEK
    subject = server.inbox.messages[0]["Subject"]
    assert subject == f"Resonanz-Wochenbericht {WEEK}: 9 Beiträge, Stimmung -0,15", subject
    with Session(scenario_engine) as session:
        assert session.exec(select(Digest)).one().sent_at is not None


def test_job_without_recipients_archives_only(env_for: Callable[[int | None], str], scenario_engine: Engine) -> None:
    url = env_for(None)
    assert weekly_digest_job(url, now=datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == WEEK
    with Session(scenario_engine) as session:
        assert session.exec(select(Digest)).one().sent_at is None


def test_job_logs_mail_failure_and_keeps_running(
    env_for: Callable[[int | None], str], caplog: pytest.LogCaptureFixture
) -> None:
    from tests.web.live import free_port

    url = env_for(free_port())  # nobody listens there
    assert weekly_digest_job(url, now=datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) is None
    assert "weekly digest failed" in caplog.text


def test_cli_digest_output_and_send(
    env_for: Callable[[int | None], str], smtp_server: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    server = smtp_server()
    env_for(server.port)
    out = tmp_path / "d.html"
    result = runner.invoke(app, ["digest", "--week", WEEK, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "Resonanz-Wochenbericht" in out.read_text(encoding="utf-8") and not server.inbox.envelopes
    result = runner.invoke(app, ["digest", "--week", WEEK, "--send", "--to", "x@example.de"])
    assert result.exit_code == 0, result.output
    assert "Gesendet an x@example.de" in result.output and server.inbox.envelopes[0].rcpt_tos == ["x@example.de"]
    result = runner.invoke(app, ["digest", "--week", "W99"])
    assert result.exit_code == 1 and "ISO-Woche" in result.output


def test_scheduler_finds_and_runs_the_digest_job(
    env_for: Callable[[int | None], str], scenario_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from resonanz.pipeline.jobs import scheduled_jobs
    from resonanz.pipeline.scheduler import add_extra_job

    env_for(None)
    settings = Settings()
    (job,) = [job for job in scheduled_jobs(settings) if job.id == "resonanz:weekly-digest"]
    scheduler = BackgroundScheduler(timezone="Europe/Berlin")
    add_extra_job(scheduler, job)
    scheduler.start(paused=True)
    try:
        stored = scheduler.get_job("resonanz:weekly-digest")
        assert stored is not None and stored.kwargs == {}
        fire = stored.trigger.get_next_fire_time(None, datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
        assert fire is not None and (fire.weekday(), fire.hour, fire.minute) == (0, 7, 0)
        monkeypatch.setattr("resonanz.core.periods.datetime", _FrozenMonday)
        assert stored.func() == WEEK  # the configured database, no URL stored in the job
    finally:
        scheduler.shutdown(wait=False)
    with Session(scenario_engine) as session:
        assert session.exec(select(Digest)).one().period_label == WEEK


class _FrozenMonday(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
        return datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
