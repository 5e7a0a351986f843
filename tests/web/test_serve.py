"""``resonanz serve`` binds to settings.web (127.0.0.1 unless configured) and warns on a public address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core.settings import reset_settings_cache

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setenv("RESONANZ_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: calls.append(kwargs | {"app": app}))
    reset_settings_cache()
    return calls


def test_serve_defaults_to_loopback(served: list[dict[str, Any]]) -> None:
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert (served[0]["host"], served[0]["port"]) == ("127.0.0.1", 8765)
    assert "warning" not in result.output


def test_serve_configured_and_public_warning(served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_WEB__PORT", "9000")
    reset_settings_cache()
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert (served[0]["host"], served[0]["port"]) == ("0.0.0.0", 9000)
    assert "RESONANZ_WEB__SECURE_COOKIES=true" in result.output


def test_session_secret_is_created_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from resonanz.core.settings import Settings
    from resonanz.web.security import secret_key

    monkeypatch.setenv("RESONANZ_DATA_DIR", str(tmp_path))
    first = secret_key(Settings())
    assert len(first) >= 40 and secret_key(Settings()) == first
    assert (tmp_path / "web-secret-key").stat().st_mode & 0o777 == 0o600


def test_the_warm_up_request_meets_every_router_and_leaves_no_session(tmp_path: Path) -> None:
    """``warm_routes`` (what a served app sends itself at start) is answered 404 for its path, builds the middleware
    stack, writes no session and no user; a real request afterwards is answered as before."""
    from fastapi.testclient import TestClient
    from sqlmodel import Session, select

    from resonanz.core.settings import Settings
    from resonanz.web.app import create_app, warm_routes
    from store.db import open_engine
    from store.models import User, WebSession

    url = f"sqlite:///{tmp_path / 'warm.db'}"
    engine = open_engine(url)
    web = create_app(Settings(database_url=url), engine=engine)
    assert web.middleware_stack is None
    assert warm_routes(web) == 404
    assert web.middleware_stack is not None
    with Session(engine) as session:
        assert session.exec(select(WebSession)).all() == []
        assert session.exec(select(User)).all() == []
    assert TestClient(web).get("/login").status_code == 200


def test_a_failed_warm_up_is_logged_and_the_app_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from resonanz.core.settings import Settings
    from resonanz.web import app as web_app
    from store.db import open_engine

    def broken(app: Any) -> int:
        raise RuntimeError("kaputt")

    monkeypatch.setattr(web_app, "warm_routes", broken)
    url = f"sqlite:///{tmp_path / 'warm.db'}"
    with caplog.at_level("WARNING", logger="resonanz.web.app"):
        web = web_app.create_app(Settings(database_url=url), engine=open_engine(url), preload=True)
    assert "the warm-up request failed" in caplog.text
    assert TestClient(web).get("/login").status_code == 200
