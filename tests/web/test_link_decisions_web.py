"""Link decisions through the web queue follow the same rule as ``resonanz links confirm`` (issue 11)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from store.models import IdentityLink, ReviewEvent
from tests.answers.factory import MONDAY, Factory, Scenario
from tests.web.conftest import login


def test_confirming_a_link_to_a_customer_who_withdrew_consent_is_refused(
    client: TestClient, scenario: Scenario, session: Session
) -> None:
    f = Factory(session)
    item = f.review_item(f.post(scenario.identities["emil"], "Wo bleibt meine Bestellung?", MONDAY), severity=3)
    emil = scenario.customers["emil"]
    emil.consent_status = "withdrawn"  # the consent basis stays recorded: the status alone must block
    session.add(emil)
    session.commit()
    link = scenario.pending_link
    assert link is not None
    token = login(client, "carla")

    response = client.post(
        f"/links/{link.id}/decide", data={"decision": "confirmed", "item_id": str(item.id), "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["location"] == f"/queue/{item.id}"
    page = client.get(f"/queue/{item.id}").text
    assert "Verknüpfung nicht bestätigt: die Kund:in hat ihre Einwilligung widerrufen." in page
    assert "Verknüpfung bestätigt." not in page and "Verknüpfte Kund:in:" not in page
    session.expire_all()
    stored = session.get(IdentityLink, link.id)
    assert stored is not None and stored.status == "pending" and stored.decided_by is None
    assert session.exec(select(ReviewEvent).where(ReviewEvent.action.startswith("link_"))).all() == []  # type: ignore[attr-defined]

    # the same from the pending-links page, and for a customer who was never asked (no legal basis)
    emil.consent_status, emil.consent_basis = "granted", None
    session.add(emil)
    session.commit()
    client.post(f"/links/{link.id}/decide", data={"decision": "confirmed", "csrf_token": token})
    assert "keine Rechtsgrundlage erfasst" in client.get("/links").text
    session.expire_all()
    assert session.get(IdentityLink, link.id).status == "pending"  # type: ignore[union-attr]

    # rejecting stays possible: it links nobody
    client.post(f"/links/{link.id}/decide", data={"decision": "rejected", "csrf_token": token})
    session.expire_all()
    assert session.get(IdentityLink, link.id).status == "rejected"  # type: ignore[union-attr]


def test_confirming_one_candidate_rejects_the_identitys_other_pending_candidates(
    client: TestClient, scenario: Scenario, session: Session
) -> None:
    f = Factory(session)
    emil_ident = scenario.identities["emil"]
    namesake = f.customer("Emil Eckert", "B")
    rival = f.link(emil_ident, namesake, status="pending", probability=0.7)
    unrelated = f.link(scenario.identities["p1"], namesake, status="pending", probability=0.65)
    session.commit()
    link = scenario.pending_link
    assert link is not None
    token = login(client, "carla")
    assert f"link-{rival.id}" in client.get("/links").text

    response = client.post(f"/links/{link.id}/decide", data={"decision": "confirmed", "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/links"
    page = client.get("/links").text
    assert "Verknüpfung bestätigt. 1 weiterer Kandidat dieser Identität abgelehnt." in page
    assert f"link-{rival.id}" not in page and f"link-{unrelated.id}" in page

    session.expire_all()
    by_id = {lk.id: lk for lk in session.exec(select(IdentityLink)).all()}
    assert (by_id[link.id].status, by_id[link.id].decided_by) == ("confirmed", "carla")
    assert (by_id[rival.id].status, by_id[rival.id].decided_by) == ("rejected", "carla")
    assert by_id[rival.id].decided_at == by_id[link.id].decided_at
    assert by_id[unrelated.id].status == "pending"  # another identity's candidate is not touched
    event = session.exec(select(ReviewEvent).where(ReviewEvent.action == "link_confirmed")).one()
    assert event.actor == "carla" and event.detail["rejected_links"] == [rival.id]
