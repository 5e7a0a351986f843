"""Every point of the dashboard's charts clicks through to its posts (issue 17, leftover 3).

Without a browser: each point's hot spot sits on the point as drawn (the PNG's pixel there has the series'
colour), and the points link to exactly the table cells' post lists. In headless chromium at 1,280 px and
390 px: clicking a point lands on the Ask page's list of its posts, and the page does not overflow at 390 px.
Screenshots go to ``RESONANZ_SCREENSHOT_DIR`` (default: a temporary directory).
"""

from __future__ import annotations

import html
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from matplotlib.colors import to_rgb
from matplotlib.image import imread
from pydantic import SecretStr
from sqlmodel import Session

from resonanz.core.settings import Settings, WebSettings
from resonanz.digest import charts
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import User
from tests.answers.factory import WEEK, Scenario, build_scenario
from tests.web.conftest import login
from tests.web.live import chromium, live_server
from tests.web.test_browser_responsive import OVERFLOW_JS, WIDTHS

PASSWORD = "chart links password"
HREF = re.compile(r'<a href="([^"]+)"')
POINT = re.compile(r'<a href="([^"]+)" class="chart-point"')


@pytest.mark.parametrize("width", [2, 12, 52])
def test_each_point_is_where_the_chart_draws_it(width: int) -> None:
    labels = [f"W{i}" for i in range(width)]
    series: dict[str, list[float | None]] = {
        "A": [((i * 7) % 11 - 5) / 5 for i in range(width)],
        "B": [None if i % 3 else 0.5 for i in range(width)],  # never on an A point
    }
    chart = charts.sentiment_trend_points(labels, series)
    assert chart.png == charts.sentiment_trend_chart(labels, series)  # the same image as the digest's
    pixels = imread(io.BytesIO(chart.png))
    assert pixels.shape[:2] == (chart.height, chart.width)
    assert len(chart.points) == sum(v is not None for values in series.values() for v in values)
    for point in chart.points:
        colour = pixels[round(point.y), round(point.x)][:3]
        wanted = to_rgb(charts.CLASS_COLOURS[point.series])
        assert max(abs(float(c) - w) for c, w in zip(colour, wanted, strict=True)) < 0.1, (point, colour)
        assert series[point.series][point.index] == point.value


def test_an_empty_chart_has_no_points() -> None:
    chart = charts.topic_trend_points(["W1", "W2"], {})
    assert chart.points == () and chart.width > 100 and chart.png.startswith(b"\x89PNG")


def _links(section: str) -> list[str]:
    return [html.unescape(h) for h in HREF.findall(section)]


def test_the_points_link_to_the_table_cells_post_lists(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get(f"/dashboard?week={WEEK}&weeks=4&platform=mastodon&platform=bluesky").text
    assert page.count('src="data:image/png;base64,') == 3  # sentiment, topics, Pareto
    for chart, table in (("chart-sentiment", "weekly"), ("chart-topics", "topic-weeks")):
        svg = page.split(f'id="{chart}-links"', 1)[1].split("</svg>", 1)[0]
        points = [html.unescape(h) for h in POINT.findall(svg)]
        cells = _links(page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0])
        assert points and sorted(points) == sorted(cells), chart  # one point per linked cell, the same link
        assert all(p.endswith("&platform=mastodon&platform=bluesky#posts") for p in points)
    svg = page.split('id="chart-sentiment-links"', 1)[1].split("</svg>", 1)[0]
    assert re.search(r'aria-label="A-Kunden, 2026-W47: netto [+-]\d,\d\d \(\d+ Beitr', svg)


# --- in a browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("chart-links")
    shots = Path(os.environ.get("RESONANZ_SCREENSHOT_DIR") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RESONANZ_DATA_DIR", str(tmp / "data"))
        env.setenv("RESONANZ_CONFIG", str(tmp / "no-config.toml"))
        engine = open_engine(f"sqlite:///{tmp / 'charts.db'}")
        with Session(engine, expire_on_commit=False) as session:
            session.add(User(username="anton", password_hash=hash_password(PASSWORD), role="analyst"))
            build_scenario(session)
            session.commit()
        settings = Settings(web=WebSettings(secret_key=SecretStr("chart-links-secret-key-0123456789")))
        with live_server(create_app(settings, engine=engine)) as base:
            yield base, shots
        engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.mark.browser
@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
def test_clicking_a_chart_point_opens_its_posts(browser: Any, site: tuple[str, Path], width: int) -> None:
    base, shots = site
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, locale="de-DE")
    context.set_default_timeout(15000)
    try:
        page = context.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "anton")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/queue")
        page.goto(f"{base}/dashboard?week={WEEK}&weeks=4")
        page.wait_for_load_state("load")
        page.screenshot(path=str(shots / f"dashboard-chart-links-{width}.png"), full_page=True)
        measured = page.evaluate(OVERFLOW_JS)
        assert measured["scrollWidth"] <= measured["innerWidth"], measured["offenders"][:12]
        assert not measured["offenders"], measured["offenders"][:12]
        assert page.eval_on_selector("#chart-sentiment", "img => img.complete && img.naturalWidth > 300")
        # the table cell of A-customers in the last week, and the chart point with the same link
        cell = page.locator(f'#weekly a[href^="/ask?class=A&week={WEEK}"]').first
        href, shown = cell.get_attribute("href"), cell.inner_text()
        posts = int(cell.locator("xpath=..").locator("span.small").inner_text().strip("()"))
        point = page.locator(f'#chart-sentiment-links a.chart-point[href="{href}"]')
        assert point.count() == 1
        box, image = point.bounding_box(), page.locator("#chart-sentiment").bounding_box()
        assert box is not None and image is not None
        assert image["x"] <= box["x"] and box["x"] + box["width"] <= image["x"] + image["width"]  # on the chart
        assert image["x"] + image["width"] <= width
        point.click()  # the browser's own hit test: the point's circle is on top, clickable
        page.wait_for_url(f"{base}/ask?class=A&week={WEEK}#posts")
        assert page.locator("#posts").is_visible()
        assert page.locator("tr.post-row").count() == posts  # the posts behind the point, as the cell says
        page.screenshot(path=str(shots / f"dashboard-chart-click-{width}.png"), full_page=True)
        answer = page.request.get(f"{base}/ask?class=A&week={WEEK}&format=json").json()["current"]
        assert f"{answer['net_weighted']:+.2f}".replace(".", ",") == shown
    finally:
        context.close()
