"""Dashboard, ask, digests and user management pages."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from resonanz.core.settings import Settings
from resonanz.digest import build_digest
from resonanz.web.accounts import authenticate
from store.models import User
from tests.answers.factory import WEEK, Scenario
from tests.web.conftest import login


def test_dashboard_charts_and_numbers(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")  # analysts read the dashboard
    page = client.get(f"/dashboard?week={WEEK}&weeks=4")
    assert page.status_code == 200
    assert page.text.count('src="data:image/png;base64,') == 3
    assert "2026-W44 – 2026-W47" in page.text
    assert '<td>2026-W47</td><td class="num">9</td>' in page.text
    assert "A-Kunden sind 40 % aller 5 Kund:innen (40 % der 5 mit Umsatz) und bringen 75 % des Umsatzes" in page.text
    # Lieferung over the 4 weeks: anna1 negative (5), anna0 positive (5), p1prev negative (0.5)
    assert '<tr><td>Lieferung</td><td class="num">3</td>' in page.text
    lieferung = page.text.split("<tr><td>Lieferung</td>", 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">52 %</td><td class="num">48 %</td>' in lieferung
    assert client.get("/dashboard?week=soon").status_code == 400
    assert client.get("/dashboard?weeks=1").status_code == 422


def test_dashboard_platform_filter(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get(f"/dashboard?week={WEEK}&weeks=2&platform=bluesky")
    assert '<td>2026-W47</td><td class="num">2</td>' in page.text


def test_ask_page_html_json_csv(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get(f"/ask?week={WEEK}&class=A")
    assert page.status_code == 200
    assert "<b>-0,33</b>" in page.text and "Die Lieferung kam schon wieder zu spät!" in page.text
    assert 'href="https://social.example/@x/' in page.text and "Pareto-Prüfung" in page.text
    assert "Negativ darüber" in page.text
    data = client.get(f"/ask?week={WEEK}&class=A&format=json").json()
    assert data["current"]["posts"] == 3 and data["filter"]["classes"] == ["A"]
    response = client.get(f"/ask?week={WEEK}&topic=Preis&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {"section": "summary", "name": "current", "metric": "posts", "value": "2"} in rows
    assert "ISO-Woche wie 2026-W47" in client.get("/ask?week=47").text
    assert client.get("/ask?week=47&format=json").status_code == 400


def test_digest_archive_pages(
    client: TestClient, scenario: Scenario, mem_engine: Engine, web_settings: Settings
) -> None:
    login(client, "carla")
    assert "Noch kein Wochenbericht" in client.get("/digests").text
    digest = build_digest(mem_engine, web_settings, WEEK)
    listing = client.get("/digests").text
    assert f'href="/digests/{digest.id}">{WEEK}</a>' in listing
    page = client.get(f"/digests/{digest.id}")
    assert f'<iframe class="digest-frame" src="/digests/{digest.id}/html" sandbox' in page.text
    raw = client.get(f"/digests/{digest.id}/html")
    assert raw.headers["content-security-policy"].endswith("sandbox")
    assert "script-src" not in raw.headers["content-security-policy"]
    assert "Resonanz-Wochenbericht" in raw.text and "data:image/png;base64," in raw.text
    assert "App stürzt ab &lt;script&gt;alert(1)&lt;/script&gt;" in raw.text
    assert client.get("/digests/999").status_code == 404


def test_admin_manages_users(client: TestClient, scenario: Scenario, session: Session) -> None:
    token = login(client, "ada")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "carla" in page.text
    form = {"username": "neu", "password": "a long password", "role": "analyst", "csrf_token": token}
    assert client.post("/admin/users", data=form).status_code == 303
    assert "Nutzer:in neu als Analyst:in hinzugefügt." in client.get("/admin/users").text
    client.post("/admin/users", data=form)
    assert "gibt es schon" in client.get("/admin/users").text
    client.post("/admin/users", data=form | {"username": "kurz", "password": "short"})
    assert "zu kurz" in client.get("/admin/users").text
    client.post("/admin/users/neu/role", data={"role": "community_manager", "csrf_token": token})
    client.post("/admin/users/neu/active", data={"active": "0", "csrf_token": token})
    neu = session.exec(select(User).where(User.username == "neu")).one()
    session.refresh(neu)
    assert neu.role == "community_manager" and neu.active is False
    assert authenticate(session, "neu", "a long password") is None  # deactivated
    client.post("/admin/users/ada/active", data={"active": "0", "csrf_token": token})
    assert "nicht selbst deaktivieren" in client.get("/admin/users").text
    client.post("/admin/users/ghost/role", data={"role": "admin", "csrf_token": token})
    assert "keine Nutzer:in namens" in client.get("/admin/users").text


def test_static_assets(client: TestClient) -> None:
    assert client.get("/static/style.css").status_code == 200
    assert "data-confirm" in client.get("/static/app.js").text
