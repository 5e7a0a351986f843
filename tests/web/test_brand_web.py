"""The brand page (issue 12): administrators record the brand's accounts; its posts leave the queue."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from store.models import BrandMarker, Post, ReviewItem
from tests.answers.factory import MONDAY, Factory, Scenario
from tests.web.conftest import login


def test_an_admin_records_a_brand_account_and_its_posts_leave_the_queue(
    client: TestClient, scenario: Scenario, session: Session
) -> None:
    f = Factory(session)
    brand = f.identity("@marke@mastodon.social")
    brand_post = f.post(brand, "Wir haben heute geschlossen, sorry! Frechheit, das Wetter.", MONDAY)
    item = f.review_item(brand_post, severity=4)
    session.commit()

    token = login(client, "carla")  # a community manager may not edit the brand
    assert client.post("/admin/brand", data={"kind": "account", "value": "@x", "csrf_token": token}).status_code == 403

    token = login(client, "ada")
    assert "Noch keine Einträge" in client.get("/admin/brand").text
    response = client.post(
        "/admin/brand", data={"kind": "account", "value": "@Marke@mastodon.social", "note": "", "csrf_token": token}
    )
    assert response.status_code == 303
    page = client.get("/admin/brand").text
    assert "@Marke@mastodon.social" in page and "1 Beiträge der Marke" in page
    session.expire_all()
    assert session.get(Post, brand_post.id).voice == "brand"  # type: ignore[union-attr]
    assert session.get(ReviewItem, item.id).status == "dismissed"  # type: ignore[union-attr]
    assert f"/queue/{item.id}" not in client.get("/queue?status=dismissed").text

    bad = client.post("/admin/brand", data={"kind": "signature", "value": "^", "csrf_token": token})
    assert bad.status_code == 303 and "keinen Buchstaben" in client.get("/admin/brand").text

    marker = session.exec(select(BrandMarker)).one()
    client.post(f"/admin/brand/{marker.id}/delete", data={"csrf_token": token})
    session.expire_all()
    assert session.get(Post, brand_post.id).voice is None  # type: ignore[union-attr]
