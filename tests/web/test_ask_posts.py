"""The web side of issue 17, parts 3 and 4: the Ask page lists the posts behind its numbers (paged, CSV/XLSX
downloads), shows n, effective n and a 95 % band on the weighted figures; every dashboard cell links to the Ask
page with the filter that reproduces it; the item view shows a post's effective weight and why."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session

from resonanz.answers.posts import POST_COLUMNS
from resonanz.core.settings import Settings
from resonanz.core.tables import mark_current_values
from resonanz.pipeline.weighting import apply_weights
from store.models import CustomerValue
from tests.answers.factory import MONDAY, WEEK, Scenario
from tests.web.conftest import login

KEYS = [key for key, _label in POST_COLUMNS]


def _rows(page: str) -> list[str]:
    table = page.split('id="posts-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-post="(\d+)"', table)


def test_ask_page_lists_the_posts_behind_the_numbers(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get(f"/ask?week={WEEK}&class=A")
    assert page.status_code == 200
    data = client.get(f"/ask?week={WEEK}&class=A&format=json&posts=true").json()
    listed = [str(p["post_id"]) for p in data["posts"]["posts"]]
    assert _rows(page.text) == listed and len(listed) == data["current"]["posts"] == 3
    assert str(scenario.posts["anna1"].id) in listed
    weights = [p["weight"] for p in data["posts"]["posts"]]
    assert weights == sorted(weights, reverse=True)
    assert f'href="/queue/{scenario.items["anna1"].id}"' in page.text  # a post with a queue item links to it
    downloads = html.unescape(page.text)
    assert f"/ask?week={WEEK}&class=A&format=csv&posts=true" in downloads
    assert f"/ask?week={WEEK}&class=A&format=xlsx" in downloads


def test_ask_page_pages_through_the_posts(
    client: TestClient, scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("resonanz.web.routes_pages.PAGE_SIZE", 4)
    login(client, "anton")
    everything = client.get(f"/ask?week={WEEK}&format=json&posts=true&page=1").json()
    total = everything["current"]["posts"]
    seen: list[str] = []
    for number in range(1, 4):
        page = client.get(f"/ask?week={WEEK}&page={number}").text
        seen += _rows(page)
        if number < 3:
            assert f"page={number + 1}#posts" in page
    assert len(seen) == len(set(seen)) == total == 9


def test_post_downloads_carry_every_post(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    total = client.get(f"/ask?week={WEEK}&format=json").json()["current"]["posts"]
    response = client.get(f"/ask?week={WEEK}&format=csv&posts=true")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == KEYS and len(rows) == total
    xlsx = client.get(f"/ask?week={WEEK}&format=xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    posts, numbers = load_workbook(io.BytesIO(xlsx.content)).worksheets
    assert posts.max_row == total + 1 and posts.max_column == len(KEYS) and numbers.max_row > 10
    assert client.get(f"/ask?week={WEEK}&format=xlsx&class=Z").status_code == 400  # an unknown class
    assert client.get(f"/ask?week={WEEK}&format=pdf").status_code == 422


def test_ask_page_shows_effective_n_and_band(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    data = client.get(f"/ask?week={WEEK}&class=A&format=json").json()["current"]
    assert data["voices"] == 2 and data["n_eff"] == pytest.approx(1.8)  # anna 10, ben 5: 15^2 / 125
    low, high = data["net_weighted_band"]
    assert -1 <= low < data["net_weighted"] < high <= 1
    page = client.get(f"/ask?week={WEEK}&class=A").text
    assert re.search(r'id="n-eff">1,8 \(2\)<', page)
    band = re.search(r'id="band-net">([^<]*)<', page)
    assert band and band.group(1) != "–" and "…" in band.group(1)
    csv_rows = list(csv.DictReader(io.StringIO(client.get(f"/ask?week={WEEK}&class=A&format=csv").text)))
    lookup = {(r["section"], r["name"], r["metric"]): r["value"] for r in csv_rows}
    assert float(lookup[("summary", "current", "net_weighted_band_low")]) == pytest.approx(low)
    assert float(lookup[("summary", "current", "n_eff")]) == pytest.approx(1.8)


def test_every_dashboard_cell_links_to_the_posts_that_make_it(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get(f"/dashboard?week={WEEK}&weeks=4").text
    weekly = page.split('id="weekly"', 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<a href="(/ask\?class=([^&"]+)&amp;week=([^&"#]+)#posts)"[^>]*>([^<]+)</a> '
                       r'<span class="small muted">\((\d+)\)</span>', weekly)  # fmt: skip
    assert len(cells) >= 5 and {c[2] for c in cells} >= {WEEK}
    for href, _cls, _week, shown, posts in cells:
        answer = client.get(html.unescape(href).split("#")[0] + "&format=json").json()["current"]
        assert answer["posts"] == int(posts)
        assert f"{answer['net_weighted']:+.2f}".replace(".", ",") == shown  # the same number, in German
    topics = page.split('id="topic-weeks"', 1)[1].split("</table>", 1)[0]
    assert re.search(r'href="/ask\?topic=Lieferung&amp;week=2026-W47#posts"', topics)
    aspects = page.split('id="topic-aspects"', 1)[1].split("</table>", 1)[0]
    link = re.search(r'href="(/ask\?topic=Lieferung&amp;since=([\d-]+)&amp;until=([\d-]+))#posts"', aspects)
    assert link and (link.group(2), link.group(3)) == ("2026-10-26", "2026-11-22")  # W44 to W47, inclusive
    span = client.get(html.unescape(link.group(1)) + "&format=json").json()
    assert span["current"]["posts"] == 3  # as the dashboard row says (anna1, anna0, p1prev)


def test_item_view_shows_the_effective_weight(client: TestClient, session: Session, scenario: Scenario) -> None:
    """A new value row gives Anna 32 % of the revenue of 25 customers: her posts weigh 0.32 x 25 = 8 average
    customers once re-weighted; the item page shows the stored weight and the rule's reasoning."""
    anna = scenario.customers["anna"]
    session.add(
        CustomerValue(
            customer_id=anna.id or 0, computed_at=MONDAY + timedelta(days=9), abc_class="A", revenue=8000.0,
            weight=8.0, details={"revenue_share": 0.32, "n_customers": 25},
        )
    )  # fmt: skip
    session.flush()
    mark_current_values(session)
    session.commit()
    apply_weights(session.get_bind(), Settings())  # type: ignore[arg-type]
    item = scenario.items["anna1"]
    login(client, "carla")
    page = client.get(f"/queue/{item.id}").text
    box = page.split('id="weight"', 1)[1].split("</div>", 1)[0]
    assert 'id="effective-weight">8<' in box  # 0.32 x 25
    assert "8 ×" in box and "32,0 %" in box and "25" in box
