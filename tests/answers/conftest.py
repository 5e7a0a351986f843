"""Fixtures for the answers tests: the known scenario on SQLite and on PostgreSQL (root ``engine`` fixture)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.answers.factory import Scenario, build_scenario


@pytest.fixture
def db(engine: Engine) -> Iterator[tuple[Session, Scenario]]:
    """A session on a migrated database (SQLite and PostgreSQL) holding the scenario."""
    with Session(engine, expire_on_commit=False) as session:
        scenario = build_scenario(session)
        yield session, scenario
