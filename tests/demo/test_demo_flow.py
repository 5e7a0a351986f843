"""Issue 17, part 2: after ``resonanz demo`` the commands it suggests and ``resonanz serve`` show the demo's
story week (2026-W47), whatever today's date: the demo becomes the default database while none is configured.
And the demo's alert stage (one demo run for the module: it is the slowest fixture of the suite)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core.periods import iso_week
from resonanz.core.settings import (
    Settings,
    data_dir,
    demo_database,
    get_settings,
    remember_demo_database,
    reset_settings_cache,
)
from resonanz.demo.data import TRUTH
from resonanz.demo.story import next_steps, story
from store.db import open_engine
from store.models import Alert, CustomerValue, Post, SocialIdentity, Source

runner = CliRunner()
PASSWORD = "demo flow password 123"
WEEK = "2026-W47"


@dataclass(frozen=True)
class DemoRun:
    data: Path
    output: str


def _isolate(mp: pytest.MonkeyPatch, data: Path) -> None:
    mp.setenv("RESONANZ_DATA_DIR", str(data))
    mp.setenv("RESONANZ_CONFIG", str(data / "keine.toml"))
    mp.delenv("RESONANZ_DATABASE_URL", raising=False)
    mp.setenv("RESONANZ_NEW_USER_PASSWORD", PASSWORD)
    reset_settings_cache()


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """``resonanz demo`` once, in a data directory of its own (the marker must not reach other tests)."""
    data = tmp_path_factory.mktemp("demo-flow")
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, data)
        result = runner.invoke(app, ["demo"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        yield DemoRun(data, result.stdout)
    reset_settings_cache()


@pytest.fixture
def demo_env(demo_run: DemoRun, monkeypatch: pytest.MonkeyPatch) -> DemoRun:
    _isolate(monkeypatch, demo_run.data)
    return demo_run


def suggested(output: str) -> list[str]:
    """The commands the demo printed under "Weiter mit der Demo"."""
    tail = output.split("Weiter mit der Demo", 1)[1]
    return [line.strip() for line in tail.splitlines() if line.startswith("  resonanz ")]


@pytest.mark.slow
def test_the_demo_suggests_commands_for_its_story_week(demo_env: DemoRun) -> None:
    commands = suggested(demo_env.output)
    assert commands == [s.command for s in next_steps(WEEK, str(demo_env.data / "demo"))]
    assert commands[0] == f"resonanz ask --class A --week {WEEK}" and "resonanz serve" in commands
    assert f"digest-{WEEK}.html" in demo_env.output and "Spätere Befehle nutzen die Demo-Datenbank" in demo_env.output
    demo = demo_database()
    assert demo is not None and demo.week == WEEK and demo.url == f"sqlite:///{demo_env.data / 'demo.db'}"
    assert get_settings().resolved_database_url() == demo.url


@pytest.mark.slow
def test_the_suggested_commands_show_the_demo(demo_env: DemoRun, caplog: pytest.LogCaptureFixture) -> None:
    shown: dict[str, str] = {}
    for command in suggested(demo_env.output):
        args = shlex.split(command)[1:]
        if args == ["serve"]:
            continue  # below, with the app `resonanz serve` builds
        caplog.clear()
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0, (command, result.output)
        shown[args[0]] = result.stdout
        assert "Die Demo-Datenbank ist aktiv" in caplog.text  # never silently on the demo's data
    assert "A-Kunden — 2026-W47" in shown["ask"] and "Woche sechs ohne funktionierende" in shown["ask"]
    assert "Treffer für „Mühle“ (Klasse A)" in shown["search"]
    assert "@hotel_rheinblick@mastodon.social" in shown["search"]
    assert f"Wochenbericht {WEEK} erstellt und archiviert" in shown["digest"]
    digest = (demo_env.data / "demo" / f"digest-{WEEK}.html").read_text(encoding="utf-8")
    assert "Woche sechs ohne funktionierende Mühle" in digest
    assert "Nutzer:in admin hinzugefügt (admin)" in shown["users"]


@pytest.mark.slow
def test_serve_shows_the_demo(demo_env: DemoRun) -> None:
    from resonanz.web import create_app

    serve_hint = next(s for s in next_steps(WEEK, "out") if s.command == "resonanz serve").shows
    paths = [re.sub(r"^http://[^/]+", "", url) for url in re.findall(r"http://\S+?(?=,|$)", serve_hint)]
    assert len(paths) == 4
    # a user of its own: the suggested `resonanz users add admin` may run in another test process (pytest-xdist)
    added = runner.invoke(app, ["users", "add", "pruefung", "--role", "admin"], env={"COLUMNS": "400"})
    assert added.exit_code == 0, added.output
    settings = get_settings()  # what `resonanz serve` starts the app with
    with TestClient(create_app(settings), follow_redirects=False) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        login = {"username": "pruefung", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=login).status_code == 303
        pages = {path: client.get(path) for path in paths}
    assert all(page.status_code == 200 for page in pages.values()), {p: r.status_code for p, r in pages.items()}
    queue, dashboard, search, ask = pages.values()
    assert "Woche sechs ohne funktionierende" in queue.text
    assert f"<td>{WEEK}</td>" in dashboard.text
    assert "@hotel_rheinblick@mastodon.social" in search.text and "<mark>Mühle</mark>" in search.text
    assert "Woche sechs ohne funktionierende" in ask.text


@pytest.mark.slow
def test_the_story_week_does_not_follow_the_clock(demo_env: DemoRun) -> None:
    """Posts collected, customer values and the digest are those of 2026-W47, not of today's week."""
    week = iso_week(WEEK)
    engine = open_engine(get_settings().resolved_database_url())
    with Session(engine) as session:
        source_id = session.execute(select(col(Source.id)).where(col(Source.name) == "demo-mastodon")).scalar_one()
        first, last = session.execute(
            select(func.min(col(Post.created_at)), func.max(col(Post.created_at))).where(
                col(Post.source_id) == source_id
            )
        ).one()
        ends = set(session.execute(select(col(CustomerValue.window_end))).scalars())
    engine.dispose()
    assert week.start <= first.replace(tzinfo=UTC) <= last.replace(tzinfo=UTC) < week.end
    assert ends == {story().end()} and story().end() == datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    assert [p.name for p in (demo_env.data / "demo").glob("digest-*.html")] == [f"digest-{WEEK}.html"]


@pytest.mark.slow
def test_the_demo_raises_the_story_and_not_the_spam(demo_env: DemoRun) -> None:
    """The demo's alert stage: the story's alerts are raised, the spam cluster raises none."""
    engine = open_engine(f"sqlite:///{demo_env.data / 'demo.db'}")
    story_truth = json.loads(TRUTH.read_text(encoding="utf-8"))["story"]
    with Session(engine) as session:
        alerts = list(session.execute(select(Alert).order_by(col(Alert.first_seen_at))).scalars())
        spam = set(session.execute(select(col(Post.id)).where(col(Post.voice) == "spam")).scalars())
        hotel_posts = set(session.execute(
            select(col(Post.id)).join(SocialIdentity, col(SocialIdentity.id) == col(Post.identity_id))
            .where(col(SocialIdentity.account_id) == story_truth["loud_top_customer"]["accounts"][0]["account_id"])
        ).scalars())  # fmt: skip
        session.expunge_all()
    engine.dispose()

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


@pytest.mark.slow
def test_leave_gives_the_default_back(demo_env: DemoRun, caplog: pytest.LogCaptureFixture) -> None:
    result = runner.invoke(app, ["demo", "--leave"])
    assert result.exit_code == 0 and "nicht mehr der Standard" in result.stdout
    reset_settings_cache()
    assert demo_database() is None and "demo.db" not in get_settings().resolved_database_url()
    assert "Es war keine Demo-Datenbank als Standard eingetragen." in runner.invoke(app, ["demo", "--leave"]).stdout
    caplog.clear()
    search = runner.invoke(app, ["search", "Mühle"], env={"COLUMNS": "200"})
    assert "0 Treffer" in search.stdout and "Demo-Datenbank ist aktiv" not in caplog.text


@pytest.mark.parametrize("configured", [True, False])
def test_a_configured_database_wins_over_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, configured: bool
) -> None:
    """Not slow: the marker alone. A configured database always wins; a marker whose file is gone is ignored."""
    monkeypatch.setenv("RESONANZ_DATA_DIR", str(tmp_path))
    demo_db = tmp_path / "demo.db"
    demo_db.touch()
    remember_demo_database(f"sqlite:///{demo_db}", WEEK)
    own = f"sqlite:///{tmp_path / 'own.db'}"
    settings = Settings(database_url=own) if configured else Settings()
    assert settings.resolved_database_url() == (own if configured else f"sqlite:///{demo_db}")
    assert settings.uses_demo_database() is not configured
    demo_db.unlink()
    assert Settings().resolved_database_url() == f"sqlite:///{data_dir() / 'resonanz.db'}"


def test_next_steps_name_the_demo_database_when_another_is_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resonanz.cli import demo as demo_cli

    monkeypatch.setenv("RESONANZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RESONANZ_DATABASE_URL", f"sqlite:///{tmp_path / 'own.db'}")
    reset_settings_cache()
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    with demo_cli.console.capture() as captured:
        demo_cli._print_next_steps(url, tmp_path / "demo")
    text = captured.get()
    assert f"RESONANZ_DATABASE_URL={url} resonanz ask --class A --week {WEEK}" in text
    assert "eigene Datenbank eingestellt" in text and demo_database() is None
