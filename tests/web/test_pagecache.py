"""The page cache (resonanz.web.pagecache): shared renders, never a stale or another user's page.

The app runs on a SQLite *file* here, as ``resonanz serve`` does, so that a second engine is a second
connection like another worker or ``resonanz run``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col
from starlette.responses import HTMLResponse, Response

from resonanz.core.settings import Settings
from resonanz.web import create_app
from resonanz.web.pagecache import CSRF_HOLE, USER_HOLE, PageCache
from store.db import make_engine
from store.models import ReviewItem, User
from tests.answers.factory import Scenario, build_scenario
from tests.web.conftest import _hash, csrf_of, login

ITEM_LINK = re.compile(r'href="/queue/(\d+)"')


@pytest.fixture(name="file_engine")
def file_engine_fixture(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(name="world")
def world_fixture(file_engine: Engine) -> Scenario:
    with Session(file_engine, expire_on_commit=False) as session:
        for name, role in {"carla": "community_manager", "cem": "community_manager", "anton": "analyst"}.items():
            session.add(User(username=name, password_hash=_hash("correct horse battery"), role=role))
        session.commit()
        return build_scenario(session)


@pytest.fixture(name="file_app")
def file_app_fixture(file_engine: Engine, web_settings: Settings, world: Scenario) -> FastAPI:
    return create_app(web_settings, engine=file_engine)


def cache_of(app: FastAPI) -> PageCache:
    cache: PageCache = app.state.page_cache
    return cache


def test_a_second_reader_gets_the_shared_render_with_their_own_name_and_token(file_app: FastAPI) -> None:
    cache = cache_of(file_app)
    with TestClient(file_app, follow_redirects=False) as carla, TestClient(file_app, follow_redirects=False) as cem:
        carla_token = login(carla, "carla")
        cem_token = login(cem, "cem")
        before = cache.hits
        first = carla.get("/queue").text
        second = cem.get("/queue").text
    assert cache.hits > before  # cem's page came from the cache
    assert carla_token != cem_token
    assert csrf_of(first) == carla_token and csrf_of(second) == cem_token
    assert ">carla ·" in first and ">cem ·" in second and ">carla ·" not in second
    assert CSRF_HOLE not in second and USER_HOLE not in second
    assert ITEM_LINK.findall(first) == ITEM_LINK.findall(second)


def test_an_action_in_the_web_is_seen_at_once(file_app: FastAPI, world: Scenario) -> None:
    item_id = world.items["anna1"].id
    with TestClient(file_app, follow_redirects=False) as carla, TestClient(file_app, follow_redirects=False) as cem:
        token = login(carla, "carla")
        login(cem, "cem")
        assert str(item_id) in ITEM_LINK.findall(carla.get("/queue").text)
        carla.get(f"/queue/{item_id}")  # cached now
        response = carla.post(f"/queue/{item_id}/status", data={"status": "resolved", "csrf_token": token})
        assert response.status_code == 303
        assert 'class="flash' in carla.get(f"/queue/{item_id}").text  # carla's message, for carla only
        assert 'class="flash' not in cem.get(f"/queue/{item_id}").text
        assert "status-resolved" in carla.get(f"/queue/{item_id}").text
        assert str(item_id) not in ITEM_LINK.findall(carla.get("/queue").text)


def test_a_write_by_another_process_is_seen_at_once(file_app: FastAPI, world: Scenario, tmp_path: Path) -> None:
    item_id = world.items["anna1"].id
    other = make_engine(f"sqlite:///{tmp_path / 'web.db'}")  # another worker, `resonanz run`, the CLI
    try:
        with TestClient(file_app, follow_redirects=False) as carla:
            login(carla, "carla")
            for _ in range(2):
                assert str(item_id) in ITEM_LINK.findall(carla.get("/queue").text)
            with other.begin() as conn:
                conn.execute(update(ReviewItem).where(col(ReviewItem.id) == item_id).values(status="resolved"))
            assert str(item_id) not in ITEM_LINK.findall(carla.get("/queue").text)
    finally:
        other.dispose()


def test_a_reader_without_the_right_to_act_never_gets_the_action_forms(file_app: FastAPI, world: Scenario) -> None:
    item_id = world.items["anna1"].id
    with TestClient(file_app, follow_redirects=False) as carla, TestClient(file_app, follow_redirects=False) as anton:
        login(carla, "carla")
        login(anton, "anton")
        acting = carla.get(f"/queue/{item_id}").text
        reading = anton.get(f"/queue/{item_id}").text
    assert f'action="/queue/{item_id}/status"' in acting
    assert f'action="/queue/{item_id}/status"' not in reading


def test_the_assignee_me_filter_is_each_users_own(file_app: FastAPI, world: Scenario) -> None:
    item_id = world.items["anna1"].id
    with TestClient(file_app, follow_redirects=False) as carla, TestClient(file_app, follow_redirects=False) as cem:
        token = login(carla, "carla")
        login(cem, "cem")
        carla.post(f"/queue/{item_id}/assign", data={"assignee": "carla", "csrf_token": token})
        for _ in range(2):  # the first view shows the flash message and is not cached; the second is
            assert ITEM_LINK.findall(carla.get("/queue?assignee=me").text) == [str(item_id)]
        assert ITEM_LINK.findall(cem.get("/queue?assignee=me").text) == []


def test_readers_who_ask_at_once_wait_for_one_render(file_engine: Engine, world: Scenario) -> None:
    cache = PageCache(file_engine)
    renders: list[int] = []

    def build(holes: Mapping[str, Any]) -> Response:
        renders.append(1)
        time.sleep(0.2)  # a slow page: the other readers arrive while it renders
        return HTMLResponse(f"<p>{holes['user'].username} {holes['csrf_token']}</p>")

    def reader(n: int) -> str:
        request = Request({"type": "http", "session": {"csrf": f"token{n}"}, "state": {}})
        request.state.user = User(username=f"user{n}", password_hash="-", role="community_manager")
        with Session(file_engine) as session:
            return bytes(cache.render(request, session, ("page",), build).body).decode()

    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(reader, range(8)))
    assert len(renders) == 1
    assert pages == [f"<p>user{n} token{n}</p>" for n in range(8)]
