"""``/search``: results with marked words and links, filter lists from the data, validation (400 in German),
saved searches (owner or admin delete), no 5xx for any parameter, and the page in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlmodel import Session, select

from resonanz.core.settings import Settings, WebSettings
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import SavedSearch, User
from tests.answers.factory import WEEK, Scenario, build_scenario
from tests.web.conftest import login
from tests.web.live import chromium, live_server


def _options(html: str, name: str) -> list[str]:
    select_html = html.split(f'<select name="{name}">', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="([^"]*)"', select_html)


def test_search_shows_marked_matches_and_links(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")  # analysts search too
    page = client.get("/search?q=Lieferung")
    assert page.status_code == 200
    assert "2 Treffer für „Lieferung“" in page.text
    assert "Die <mark>Lieferung</mark> kam schon wieder zu spät!" in page.text
    assert f'href="/queue/{scenario.items["anna1"].id}">Im Queue öffnen' in page.text
    assert 'href="https://social.example/@x/' in page.text and "Beitrag öffnen" in page.text
    assert 'href="/search" class="active">Suche</a>' in page.text
    xss = client.get("/search?q=App").text
    assert "<script>alert(1)</script>" not in xss and "&lt;script&gt;" in xss


def test_filter_lists_come_from_the_data_and_keep_the_choice(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    page = client.get("/search")
    assert page.status_code == 200 and "Treffer" not in page.text  # the empty form does not search yet
    assert _options(page.text, "class") == ["", "A", "B", "C", "unvalued", "prospect"]
    assert _options(page.text, "topic") == ["", "App", "Lieferung", "Preis", "Service"]
    assert _options(page.text, "platform") == ["", "bluesky", "mastodon"]
    assert _options(page.text, "sentiment") == ["", "negative", "neutral", "positive"]
    page = client.get("/search?q=&class=a&topic=preis&sentiment=negativ")
    assert page.status_code == 200 and "1 Treffer" in page.text and "Viel zu teuer geworden." in page.text
    assert '<option value="A" selected>' in page.text and '<option value="Preis" selected>' in page.text
    week = client.get(f"/search?q=Lieferung&week={WEEK}")
    assert "1 Treffer" in week.text and "Lieferung dauert" not in week.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=Lieferung&class=D", "Unbekannte Kundenklasse „D“. Erlaubt sind: A (A-Kunden)"),
        ("q=Lieferung&topic=Versand", "Unbekanntes Thema „Versand“. Bekannt sind: App, Lieferung, Preis, Service."),
        ("q=Lieferung&platform=myspace", "Unbekannte Plattform „myspace“"),
        ("q=Lieferung&sentiment=w%C3%BCtend", "Unbekannte Stimmung „wütend“"),
        ("q=und+nicht", "nur Füllwörter"),
        ("q=Lieferung&week=47", "bitte als ISO-Woche schreiben"),
        ("q=Lieferung&since=2026-11-20&until=2026-11-01", "Der Zeitraum ist leer"),
    ],
)
def test_bad_filter_values_are_a_400_in_german(
    client: TestClient, scenario: Scenario, query: str, message: str
) -> None:
    login(client, "anton")
    page = client.get(f"/search?{query}")
    assert page.status_code == 400
    assert message in page.text.replace("&#34;", '"')
    assert '<form class="filters search"' in page.text  # the form stays to correct the input


def test_save_run_and_delete_a_search(client: TestClient, scenario: Scenario, session: Session) -> None:
    token = login(client, "carla")
    response = client.post(
        "/search/save",
        data={"csrf_token": token, "name": "Preisärger A", "q": "teuer", "class": "a", "sentiment": "negativ"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/search?q=teuer&class=A&sentiment=negative"
    page = client.get(response.headers["location"])
    assert "Suche „Preisärger A“ gespeichert." in page.text and "1 Treffer" in page.text
    assert 'href="/search?q=teuer&amp;class=A&amp;sentiment=negative">Preisärger A</a>' in page.text
    assert "Klasse A; Stimmung negativ" in page.text
    saved = session.exec(select(SavedSearch)).one()
    assert (saved.owner, saved.query, saved.filters) == (
        "carla",
        "teuer",
        {"classes": ["A"], "sentiments": ["negative"]},
    )
    again = client.post("/search/save", data={"csrf_token": token, "name": "Preisärger A", "q": "Preis"})
    assert again.status_code == 400 and "schon eine gespeicherte Suche" in again.text
    bad = client.post("/search/save", data={"csrf_token": token, "name": "x", "q": "Preis", "class": "D"})
    assert bad.status_code == 400 and "Unbekannte Kundenklasse" in bad.text
    assert client.post("/search/save", data={"name": "ohne Token", "q": "Preis"}).status_code == 403

    # another community manager sees it but may not delete it; the owner may
    client.post("/logout", data={"csrf_token": token})
    token = login(client, "cem")
    assert f'action="/search/saved/{saved.id}/delete"' not in client.get("/search").text
    refused = client.post(f"/search/saved/{saved.id}/delete", data={"csrf_token": token})
    assert refused.status_code == 403 and "Nur carla oder ein Admin" in refused.text
    client.post("/logout", data={"csrf_token": token})
    token = login(client, "carla")
    gone = client.post(f"/search/saved/{saved.id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert "Gespeicherte Suche „Preisärger A“ gelöscht." in client.get("/search").text
    assert client.post(f"/search/saved/{saved.id}/delete", data={"csrf_token": token}).status_code == 404


def test_paging_links(client: TestClient, scenario: Scenario) -> None:
    login(client, "anton")
    first = client.get("/search?q=")
    assert first.status_code == 200
    total = int(re.search(r"(\d+) Treffer", first.text).group(1))  # type: ignore[union-attr]
    assert total == 13 and first.text.count('class="hit card"') == 13 and "Seite 1 von" not in first.text
    assert client.get("/search?q=&page=0").status_code == 422
    empty = client.get("/search?q=&page=2")
    assert empty.status_code == 200 and "Keine Beiträge gefunden" in empty.text


TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(['"', "*", "-", "OR", "NEAR(a b)", "Lieferung*", '"kam zu', "a & !b", "\x00", "' OR 1=1 --",
                     "2026-W99", "9999-12-31", "A", "prospect", "negativ", "Lieferung", "bluesky", "-1", "1e400"]),
)  # fmt: skip
PARAMS = ["q", "class", "topic", "platform", "sentiment", "since", "until", "week", "days", "page"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_parameter_gives_a_server_error(client: TestClient, scenario: Scenario, data: st.DataObject) -> None:
    if not getattr(client, "search_token", None):
        client.search_token = login(client, "ada")  # type: ignore[attr-defined]
    names = data.draw(st.lists(st.sampled_from(PARAMS), max_size=5))
    query = urlencode([(name, data.draw(TEXT)) for name in names])
    response = client.get(f"/search?{query}")
    assert response.status_code < 500, (query, response.text[:300])
    form = {name: data.draw(TEXT) for name in data.draw(st.lists(st.sampled_from([*PARAMS, "name"]), max_size=5))}
    response = client.post("/search/save", data={**form, "csrf_token": client.search_token})  # type: ignore[attr-defined]
    assert response.status_code < 500, (form, response.text[:300])
    value = quote(str(data.draw(st.one_of(st.integers(), TEXT))), safe="")
    response = client.post(f"/search/saved/{value}/delete", data={"csrf_token": client.search_token})  # type: ignore[attr-defined]
    assert response.status_code < 500, value


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(15000)
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.dialogs = dialogs  # type: ignore[attr-defined]
        yield page


@pytest.mark.browser
def test_search_in_a_browser(tmp_path: Path, page: Any) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    settings_ = Settings(web=WebSettings(secret_key=SecretStr("browser-test-secret-key-0123456789")))
    password = "browser search password"
    with Session(engine, expire_on_commit=False) as session:
        session.add(User(username="carla", password_hash=hash_password(password), role="community_manager"))
        sc = build_scenario(session)
        session.commit()
    with live_server(create_app(settings_, engine=engine)) as base:
        page.goto(f"{base}/login?next=/search")
        page.fill("input[name=username]", "carla")
        page.fill("input[name=password]", password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/search")
        page.fill("input[name=q]", "lieferungen")
        page.select_option("select[name=class]", "A")
        page.click("form.search button[type=submit]")
        page.wait_for_selector("text=1 Treffer für „lieferungen“")
        assert page.inner_text("li.hit mark") == "Lieferung"
        page.fill("form.save-search input[name=name]", "Lieferung A")
        page.click("form.save-search button")
        page.wait_for_selector("text=Suche „Lieferung A“ gespeichert.")
        assert page.input_value("select[name=class]") == "A"
        page.click("text=Im Queue öffnen")
        page.wait_for_url(f"{base}/queue/{sc.items['anna1'].id}")
        page.goto(f"{base}/search")
        page.click("table.saved-searches a:has-text('Lieferung A')")
        page.wait_for_selector("text=1 Treffer")
        page.fill("input[name=q]", "App")
        page.select_option("select[name=class]", "")
        page.click("form.search button[type=submit]")
        page.wait_for_selector("text=2 Treffer für „App“")
        assert page.dialogs == [], "a script from post content ran"
    engine.dispose()
