"""Shared fixtures: a migrated SQLite engine, and a real PostgreSQL server.

PostgreSQL comes from ``RESONANZ_TEST_PG_URL`` (CI starts a server and sets it) or is
started here from Debian's postgresql package. Tests marked ``postgres`` fail loudly if
neither works, unless ``RESONANZ_SKIP_PG=1`` is set for a quick local run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from store.db import open_engine
from tests.pg import PostgresUnavailable, create_database, start_postgres

# pytest-xdist's workers get COLUMNS=80 from their parent; rich's consoles (created when the CLI modules are imported)
# would keep that width for good, and tables printed by the CLI would wrap where a serial run does not. The CLI
# tests set the width they need per call (``env={"COLUMNS": ...}``).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real data/config; keep the model cache shared across tests."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("RESONANZ_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("RESONANZ_CONFIG", str(base / "no-config.toml"))
    monkeypatch.delenv("RESONANZ_DATABASE_URL", raising=False)
    from resonanz.core.settings import reset_settings_cache

    reset_settings_cache()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A test that sets the process language (a CLI command, ``set_language``) leaves German behind."""
    yield
    from resonanz.core import i18n

    i18n.set_language(i18n.DEFAULT_LANGUAGE)


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty SQLite database in ``tmp_path`` as the configured ``RESONANZ_DATABASE_URL`` (for CLI tests)."""
    from resonanz.core.settings import reset_settings_cache

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    return url


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_engine(f"sqlite:///{tmp_path / 'test.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("RESONANZ_TEST_PG_URL")
    if url:
        yield url
        return
    if os.environ.get("RESONANZ_SKIP_PG") == "1":
        pytest.skip("RESONANZ_SKIP_PG=1")
    try:
        url, stop = start_postgres(tmp_path_factory.mktemp("pg"))
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL tests need a server: {exc}. Set RESONANZ_TEST_PG_URL or install postgresql.")
    yield url
    stop()


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the test server."""
    return create_database(pg_server, f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = open_engine(pg_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The same test on the embedded default and on a real PostgreSQL server."""
    if request.param == "sqlite":
        eng = open_engine(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        pg_server = request.getfixturevalue("pg_server")
        eng = open_engine(create_database(pg_server, f"t_{uuid.uuid4().hex[:12]}"))
    yield eng
    eng.dispose()
