"""``/competitors`` and the dashboard's competitor section in a real browser at 1,280 px and 390 px (issue 17,
parts 6 and 7): no horizontal overflow with long brand and source names, the tables and charts visible;
screenshots to ``RESONANZ_SCREENSHOT_DIR`` (default: a temporary directory). Selectors only, no visible text."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session

from resonanz.core.settings import Settings, WebSettings, reset_settings_cache
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import User
from tests.answers.competitor_world import build_world, source
from tests.answers.factory import MONDAY, WEEK, Factory
from tests.web.live import chromium, live_server
from tests.web.test_browser_responsive import OVERFLOW_JS, WIDTHS

pytestmark = pytest.mark.browser

PASSWORD = "competitors browser password"
LONG_BRAND = "Kaffeerösterei Donaudampfschifffahrtsgesellschaftskaffeehaus GmbH & Co. KG"
PAGES = {
    "competitors": (f"/competitors?week={WEEK}&weeks=8", "#brands"),
    "dashboard-competitors": (f"/dashboard?week={WEEK}&weeks=8", "#competitor-totals"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("competitors-browser")
    shots = Path(os.environ.get("RESONANZ_SCREENSHOT_DIR") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RESONANZ_DATA_DIR", str(tmp / "data"))
        env.setenv("RESONANZ_CONFIG", str(tmp / "no-config.toml"))
        env.delenv("RESONANZ_DATABASE_URL", raising=False)
        reset_settings_cache()
        engine = open_engine(f"sqlite:///{tmp / 'competitors.db'}")
        with Session(engine, expire_on_commit=False) as session:
            session.add(User(username="carla", password_hash=hash_password(PASSWORD), role="community_manager"))
            build_world(session)
            long = source(session, "kaffeehaus-donaudampfschifffahrtsgesellschaft-suche-mastodon", LONG_BRAND)
            f = Factory(session)
            someone = f.identity("@konstantin.maximilian.schneider-wuestenhagen@mastodon.kundenforum.example")
            for n in range(6):
                post = f.post(someone, f"Beitrag {n} über {LONG_BRAND}", MONDAY, sentiment="positive")
                post.source_id = long.id
                session.add(post)
            session.commit()
        settings = Settings(web=WebSettings(secret_key=SecretStr("competitors-browser-secret-key-0123456789")))
        with live_server(create_app(settings, engine=engine)) as base:
            yield base, shots
        engine.dispose()
    reset_settings_cache()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("name", list(PAGES))
def test_competitor_pages_fit_the_viewport(browser: Any, site: tuple[str, Path], name: str, width: int) -> None:
    base, shots = site
    path, main_selector = PAGES[name]
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "carla")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/queue")
        response = page.goto(base + path)
        assert response is not None and response.status == 200
        page.wait_for_load_state("load")
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        main = page.locator(main_selector).first
        assert main.is_visible()
        chart = page.locator("#chart-share" if name == "competitors" else "#chart-competitors")
        assert chart.is_visible() and page.locator(f"{main_selector} tbody tr").count() == 4  # own + 3 competitors
        measured = page.evaluate(OVERFLOW_JS)
        assert measured["scrollWidth"] <= measured["innerWidth"], measured["offenders"][:12]
        assert not measured["offenders"], measured["offenders"][:12]
    finally:
        context.close()
