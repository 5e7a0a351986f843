"""Web fixtures in the SQLModel/FastAPI docs style: an in-memory SQLite session, the app with its
``get_session`` dependency overridden, a TestClient, users of each role and a known scenario."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from resonanz.core.settings import Settings, WebSettings
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from resonanz.web.deps import get_session
from store.db import make_engine
from store.models import User
from tests.answers.factory import Scenario, build_scenario

PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@lru_cache(maxsize=4)
def _hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture(name="mem_engine")
def mem_engine_fixture() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(name="session")
def session_fixture(mem_engine: Engine) -> Iterator[Session]:
    with Session(mem_engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(name="users")
def users_fixture(session: Session) -> dict[str, User]:
    out = {}
    roles = {"carla": "community_manager", "anton": "analyst", "ada": "admin", "cem": "community_manager"}
    for name, role in roles.items():
        user = User(username=name, password_hash=_hash(PASSWORD), role=role)
        session.add(user)
        out[name] = user
    session.commit()
    return out


@pytest.fixture(name="scenario")
def scenario_fixture(session: Session, users: dict[str, User]) -> Scenario:
    return build_scenario(session)


@pytest.fixture(name="web_settings")
def web_settings_fixture() -> Settings:
    return Settings(web=WebSettings(secret_key=SecretStr("test-secret-key-not-for-production")))


@pytest.fixture(name="app")
def app_fixture(mem_engine: Engine, session: Session, web_settings: Settings) -> Iterator[FastAPI]:
    app = create_app(web_settings, engine=mem_engine)
    app.dependency_overrides[get_session] = lambda: session
    yield app
    app.dependency_overrides.clear()


@pytest.fixture(name="client")
def client_fixture(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/queue").text)


@pytest.fixture(name="as_user")
def as_user_fixture(client: TestClient, users: dict[str, User]) -> Callable[[str], str]:
    return lambda name: login(client, name)
