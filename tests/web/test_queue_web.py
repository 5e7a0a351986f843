"""The queue, an item in context and working it through the web forms."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from store.models import IdentityLink, LabelFeedback, ReviewEvent, ReviewItem
from tests.answers.factory import MONDAY, Factory, Scenario
from tests.web.conftest import login

ITEM_LINK = re.compile(r'href="/queue/(\d+)"')


def item_ids(html: str) -> list[int]:
    return [int(i) for i in ITEM_LINK.findall(html)]


def test_queue_lists_by_priority(client: TestClient, scenario: Scenario) -> None:
    login(client, "carla")
    page = client.get("/queue")
    assert page.status_code == 200
    items = scenario.items
    assert item_ids(page.text) == [items["anna1"].id, items["anna2"].id, items["p2a"].id]
    assert "3 Einträge" in page.text and "Anna Amsel" in page.text and "Beschwerde" in page.text


def test_queue_filters(client: TestClient, scenario: Scenario) -> None:
    login(client, "carla")
    items = scenario.items
    assert item_ids(client.get("/queue?class=prospect").text) == [items["p2a"].id]
    assert item_ids(client.get("/queue?status=resolved").text) == [items["clara1"].id]
    assert len(item_ids(client.get("/queue?status=all").text)) == 4
    assert item_ids(client.get("/queue?severity=4").text) == [items["anna1"].id, items["p2a"].id]
    assert item_ids(client.get("/queue?status=all&platform=bluesky").text) == [items["clara1"].id]
    assert item_ids(client.get("/queue?topic=Preis").text) == [items["anna2"].id]
    assert item_ids(client.get("/queue?assignee=me").text) == []
    assert len(item_ids(client.get("/queue?assignee=-").text)) == 3
    assert "Nichts in der Queue" in client.get("/queue?class=B").text
    assert client.get("/queue?severity=9").status_code == 422


def test_queue_paging(client: TestClient, scenario: Scenario, session: Session) -> None:
    f = Factory(session)
    for i in range(30):
        f.review_item(f.post(scenario.identities["p1"], f"Beschwerde {i}", MONDAY), severity=1)
    session.commit()
    login(client, "carla")
    first = client.get("/queue?class=prospect")
    assert "Seite 1 von 2" in first.text and 'href="/queue?class=prospect&amp;page=2"' in first.text
    second = client.get("/queue?class=prospect&page=2")
    assert len(item_ids(first.text)) == 25 and len(item_ids(second.text)) == 6
    assert set(item_ids(first.text)).isdisjoint(item_ids(second.text))


def test_item_page_shows_thread_customer_and_evidence(client: TestClient, scenario: Scenario) -> None:
    login(client, "carla")
    page = client.get(f"/queue/{scenario.items['anna1'].id}").text
    assert "Die Lieferung kam schon wieder zu spät!" in page
    assert "Das tut uns leid, wir melden uns." in page  # the reply
    assert "Verknüpfte Kund:in: <b>Anna Amsel</b>" in page and "8.000 €" in page and "Champions" in page
    assert "Beschwerde über Lieferung" in page  # the model's flag reason
    assert "Viel zu teuer geworden." in page  # her history


def test_work_an_item_through(client: TestClient, scenario: Scenario, session: Session) -> None:
    token = login(client, "carla")
    item_id = scenario.items["anna1"].id
    steps = [
        ("assign", {"assignee": "cem"}, "cem zugewiesen."),
        ("note", {"note": "Ruft zurück"}, "Notiz gespeichert."),
        ("sentiment", {"sentiment": "neutral"}, "Trainings-Feedback"),
        ("topic", {"topic": "Versand"}, "als Trainingsbeispiel"),
        ("status", {"status": "resolved"}, "Status auf erledigt gesetzt."),
    ]
    for action, data, message in steps:
        response = client.post(f"/queue/{item_id}/{action}", data=data | {"csrf_token": token})
        assert response.status_code == 303 and response.headers["location"] == f"/queue/{item_id}"
        assert message in client.get(f"/queue/{item_id}").text
    item = session.get(ReviewItem, item_id)
    assert item is not None
    session.refresh(item)
    assert (item.status, item.assignee) == ("resolved", "cem") and "Ruft zurück" in (item.notes or "")
    events = session.exec(select(ReviewEvent).where(ReviewEvent.review_item_id == item_id)).all()
    assert [(e.actor, e.action) for e in events] == [
        ("carla", "assign"),
        ("carla", "note"),
        ("carla", "correct_sentiment"),
        ("carla", "correct_topic"),
        ("carla", "status"),
    ]
    assert len(session.exec(select(LabelFeedback)).all()) == 2
    assert item_id not in item_ids(client.get("/queue").text)  # resolved items leave the active view


def test_action_errors_are_shown(client: TestClient, scenario: Scenario) -> None:
    token = login(client, "carla")
    item_id = scenario.items["anna1"].id
    client.post(f"/queue/{item_id}/assign", data={"assignee": "ghost", "csrf_token": token})
    assert "no active user" in client.get(f"/queue/{item_id}").text
    client.post(f"/queue/{item_id}/status", data={"status": "weg", "csrf_token": token})
    assert "unknown status" in client.get(f"/queue/{item_id}").text


def test_missing_item_is_404(client: TestClient, scenario: Scenario) -> None:
    token = login(client, "carla")
    assert client.get("/queue/999").status_code == 404
    response = client.post("/queue/999/note", data={"note": "x", "csrf_token": token})
    assert response.status_code == 404 and "review item 999 does not exist" in response.text


def test_confirm_pending_link_from_item_and_links_page(
    client: TestClient, scenario: Scenario, session: Session
) -> None:
    f = Factory(session)
    item = f.review_item(f.post(scenario.identities["emil"], "Wo bleibt meine Bestellung?", MONDAY), severity=3)
    session.commit()
    token = login(client, "carla")
    page = client.get(f"/queue/{item.id}").text
    assert "Mit keiner Kund:in verknüpft" in page and "Verknüpfung bestätigen" in page and "similar name" in page
    link = scenario.pending_link
    assert link is not None
    assert f"link-{link.id}" in client.get("/links").text
    response = client.post(
        f"/links/{link.id}/decide", data={"decision": "confirmed", "item_id": str(item.id), "csrf_token": token}
    )
    assert response.headers["location"] == f"/queue/{item.id}"
    page = client.get(f"/queue/{item.id}").text
    assert "Verknüpfung bestätigt." in page and "Verknüpfte Kund:in: <b>Emil Eck</b>" in page
    stored = session.get(IdentityLink, link.id)
    assert stored is not None and stored.status == "confirmed" and stored.decided_by == "carla"
    assert "Keine Verknüpfung wartet auf eine Entscheidung." in client.get("/links").text
    assert session.exec(select(ReviewEvent).where(ReviewEvent.action == "link_confirmed")).one().actor == "carla"


def test_post_content_is_escaped_everywhere(client: TestClient, scenario: Scenario, session: Session) -> None:
    f = Factory(session)
    evil = f.post(
        scenario.identities["p2"],
        '"><img src=x onerror=alert(2)> <script>alert("xss")</script>',
        MONDAY,
        topics=["<b>Topic</b>"],
        flags=[{"flag": "<i>flag</i>", "severity": 3, "reason": "<script>r()</script>"}],
    )
    evil.url = "javascript:alert(3)"
    session.add(evil)
    item = f.review_item(evil, severity=5)
    session.commit()
    login(client, "carla")
    pages = [
        client.get("/queue").text,
        client.get(f"/queue/{item.id}").text,
        client.get("/ask?week=2026-W47").text,
        client.get("/dashboard?week=2026-W47").text,
    ]
    for html in pages:
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Topic</b>" not in html
        assert "javascript:alert" not in html
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in pages[1]
    assert "&lt;script&gt;r()&lt;/script&gt;" in pages[1]
    assert "App stürzt ab &lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
