"""``/competitors`` and the dashboard's competitor section (issue 17, part 6)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlmodel import Session

from store.models import User
from tests.answers.competitor_world import BRIX, RL, World, build_world
from tests.answers.factory import WEEK, Factory

PAGE = f"/competitors?week={WEEK}&weeks=2"


def _cells(html: str, table_id: str) -> list[list[str]]:
    """The visible text of each body row's cells of the table ``table_id``."""
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[" ".join(re.sub(r"<[^>]+>", " ", c).split()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
            for r in rows]  # fmt: skip


def test_the_page_compares_the_own_brand_with_each_competitor(
    client: TestClient, session: Session, as_user: Callable[[str], str]
) -> None:
    build_world(session)
    as_user("carla")
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert 'id="chart-share"' in html and 'id="chart-net"' in html and 'id="no-competitors"' not in html
    rows = {r[0]: r for r in _cells(html, "brands")}
    assert list(rows) == ["Eigene Marke", RL, BRIX]
    # posts, weighted share, share of posts (with its interval) over both weeks: own 3 of 8 posts, weight 6 of 13
    assert rows["Eigene Marke"][1:3] == ["3", "46 %"] and rows["Eigene Marke"][3].startswith("38 % ")
    assert rows[RL][4] == "+50,0 Pp."  # weighted share 0 % in W46, 50 % in W47
    assert "posts without a source" not in html and "Beiträge ohne Quelle" in rows["Eigene Marke"][8]
    weekly = {r[0]: r for r in _cells(html, "share-weekly")}
    assert weekly[WEEK][2].startswith("50 % (50 %, n=3)") and weekly[WEEK][4] == "6"
    assert "rl_ben text" in html  # a quote behind the numbers
    assert '<a href="/competitors" class="active">Wettbewerb</a>' in html


def test_json_and_csv_exports(client: TestClient, session: Session, as_user: Callable[[str], str]) -> None:
    build_world(session)
    as_user("anton")
    data = client.get(PAGE + "&format=json").json()
    assert [b["brand"] for b in data["brands"]] == [None, RL, BRIX] and data["posts"] == [2, 6]
    response = client.get(PAGE + "&format=csv&class=A")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["brand"]: int(r["posts"]) for r in rows if r["week"] == "all"} == {"": 1, RL: 1, BRIX: 0}


def test_without_competitors_the_page_says_how_to_tag(
    client: TestClient, session: Session, as_user: Callable[[str], str]
) -> None:
    f = Factory(session)
    f.post(f.identity("@solo@social.example"), "solo", sentiment="positive")
    session.commit()
    as_user("carla")
    html = client.get(PAGE).text
    assert 'id="no-competitors"' in html and "resonanz sources tag NAME --brand" in html
    assert 'id="chart-share"' not in html and [r[0] for r in _cells(html, "brands")] == ["Eigene Marke"]
    dashboard = client.get(f"/dashboard?week={WEEK}&weeks=2").text
    assert 'id="competitors"' not in dashboard


def test_the_dashboard_shows_the_competitors_of_its_weeks(
    client: TestClient, session: Session, as_user: Callable[[str], str]
) -> None:
    world: World = build_world(session)
    assert world.sources["rl"].brand == RL
    as_user("carla")
    html = client.get(f"/dashboard?week={WEEK}&weeks=2").text
    assert 'id="chart-competitors"' in html
    rows = {r[0]: r for r in _cells(html, "competitor-totals")}
    assert list(rows) == ["Eigene Marke", RL, BRIX] and rows[BRIX][1:3] == ["2", "25 %"]
    assert f'href="/competitors?weeks=2&amp;week={WEEK}' in html
    # the dashboard's own numbers leave the competitors out: 2 posts in W47, 1 in W46
    weekly = {r[0]: r[1] for r in _cells(html, "weekly")}
    assert (weekly["2026-W46"], weekly[WEEK]) == ("1", "2")


def test_bad_input_and_login(client: TestClient, users: dict[str, User], as_user: Callable[[str], str]) -> None:
    assert client.get(PAGE).status_code == 303  # not logged in: to the login page
    as_user("carla")
    assert client.get("/competitors?week=2026-W99").status_code == 400
    assert client.get("/competitors?weeks=1").status_code == 422
    assert client.get("/competitors?class=D").status_code == 400
