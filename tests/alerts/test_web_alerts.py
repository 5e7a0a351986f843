"""The alert pages through the web app: list, one alert with its explanation and audit trail, acknowledge,
resolve and reopen by role, and the rule editor (administrators)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from resonanz.alerts.evaluate import evaluate
from resonanz.core.settings import Settings
from store.models import Alert, AlertEvent, AlertRuleOverride, User
from tests.answers.factory import MONDAY, Factory
from tests.web.conftest import (  # noqa: F401  (the web app fixtures)
    app_fixture,
    as_user_fixture,
    client_fixture,
    csrf_of,
    login,
    mem_engine_fixture,
    session_fixture,
    users_fixture,
    web_settings_fixture,
)

CHURN = [{"flag": "churn", "severity": 4, "reason": "Kündigungs- oder Wechselabsicht"}]


def churn_alert(session: Session, engine: Engine, settings: Settings) -> tuple[Alert, int]:
    """An A customer threatens to leave; the pass raises the alert. Returns it and the post's queue item."""
    f = Factory(session)
    customer = f.customer("Thomas Brandt", "A", revenue=34400.0, weight=5.0)
    customer.company = "Hotel Rheinblick GmbH"
    ident = f.identity("@hotel_rheinblick@mastodon.social")
    f.link(ident, customer)
    post = f.post(ident, "Ehrlich gesagt prüfen wir gerade andere Röstereien.", MONDAY, flags=CHURN)
    item = f.review_item(post, severity=4, reason="churn")
    session.commit()
    evaluate(engine, settings, now=MONDAY + timedelta(minutes=10), notify=False)
    alert = session.exec(select(Alert)).one()
    assert item.id is not None
    return alert, item.id


def test_list_and_detail_explain_the_alert(
    client: TestClient, session: Session, mem_engine: Engine, web_settings: Settings, users: dict[str, User]
) -> None:
    alert, item_id = churn_alert(session, mem_engine, web_settings)
    login(client, "anton")
    page = client.get("/alerts")
    assert page.status_code == 200 and f'href="/alerts/{alert.id}"' in page.text
    assert "Hotel Rheinblick GmbH (A-Kunde) droht abzuwandern" in page.text
    detail = client.get(f"/alerts/{alert.id}")
    assert detail.status_code == 200
    text = detail.text
    assert "34.400 € Umsatz" in text and "@hotel_rheinblick@mastodon.social" in text
    assert f'href="/queue/{item_id}" id="act-link"' in text  # the one link to act: answer the post
    assert "ausgelöst" in text and 'id="actions"' not in text  # an analyst reads, but does not act
    assert client.get("/alerts?status=resolved").text.count('class="alert-row"') == 0
    assert client.get("/alerts/99999").status_code == 404


def test_acknowledge_resolve_reopen_with_audit_trail(
    client: TestClient, session: Session, mem_engine: Engine, web_settings: Settings, users: dict[str, User]
) -> None:
    alert, _ = churn_alert(session, mem_engine, web_settings)
    token = login(client, "carla")
    assert 'id="actions"' in client.get(f"/alerts/{alert.id}").text
    r = client.post(f"/alerts/{alert.id}/ack", data={"csrf_token": token, "note": "rufe an"})
    assert r.status_code == 303
    again = client.post(f"/alerts/{alert.id}/ack", data={"csrf_token": token}, follow_redirects=True)
    assert "bestätigen lässt sich nur ein offener" in again.text
    client.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": token, "note": "bleibt Kundin"})
    page = client.get(f"/alerts/{alert.id}").text
    assert 'id="alert-status">erledigt' in page and "„bleibt Kundin“" in page
    client.post(f"/alerts/{alert.id}/reopen", data={"csrf_token": token})
    session.expire_all()
    trail = session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.id)).all()  # type: ignore[arg-type]
    assert [(e.actor, e.action) for e in trail] == [
        ("resonanz-alerts", "raised"), ("carla", "acknowledged"), ("carla", "resolved"), ("carla", "reopened"),
    ]  # fmt: skip
    assert session.get(Alert, alert.id).status == "open"  # type: ignore[union-attr]
    assert client.post(f"/alerts/{alert.id}/ack", data={"csrf_token": "forged"}).status_code == 403


def test_analysts_cannot_act(
    client: TestClient, session: Session, mem_engine: Engine, web_settings: Settings, users: dict[str, User]
) -> None:
    alert, _ = churn_alert(session, mem_engine, web_settings)
    token = login(client, "anton")
    assert client.post(f"/alerts/{alert.id}/resolve", data={"csrf_token": token}).status_code == 403
    session.expire_all()
    assert session.get(Alert, alert.id).status == "open"  # type: ignore[union-attr]


def test_administrators_edit_rules_only_the_changed_values_are_kept(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    token = login(client, "ada")
    page = client.get("/alerts/rules")
    assert page.status_code == 200 and 'id="rule-spike_thema_volumen"' in page.text
    form = {"csrf_token": token, "enabled": "1", "severity": "2", "z": "5", "windows_hours": "3, 24",
            "dimension": "topic", "metric": "volume"}  # fmt: skip
    assert client.post("/alerts/rules/spike_thema_volumen", data=form).status_code == 303
    row = session.exec(select(AlertRuleOverride)).one()
    assert row.name == "spike_thema_volumen" and row.params == {"z": 5.0} and row.enabled is None
    assert row.updated_by == "ada"
    client.post("/alerts/rules/neues_thema", data={"csrf_token": token, "severity": "1"})  # unchecked: off
    assert client.get("/alerts/rules").text.count("Quelle: Web-App") == 2
    bad = client.post("/alerts/rules/spike_thema_volumen", data={**form, "z": "sehr hoch"}, follow_redirects=True)
    assert "erwartet eine Zahl" in bad.text
    session.expire_all()
    assert session.exec(
        select(AlertRuleOverride).where(AlertRuleOverride.name == "spike_thema_volumen")
    ).one().params == {"z": 5.0}
    client.post("/alerts/rules/spike_thema_volumen/reset", data={"csrf_token": token})
    session.expire_all()
    assert [r.name for r in session.exec(select(AlertRuleOverride)).all()] == ["neues_thema"]
    carla = login(client, "carla")
    assert client.post("/alerts/rules/neues_thema", data={"csrf_token": carla, "severity": "3"}).status_code == 403


def test_odd_parameters_get_4xx_never_500(client: TestClient, users: dict[str, User]) -> None:
    token = login(client, "ada")
    codes = {url: client.get(url).status_code for url in (
        "/alerts?status=vielleicht", "/alerts/99999999999999999999", "/alerts/-1", "/alerts/abc", "/alerts?status=all",
    )}  # fmt: skip
    assert codes == {"/alerts?status=vielleicht": 422, "/alerts/99999999999999999999": 400, "/alerts/-1": 404,
                     "/alerts/abc": 422, "/alerts?status=all": 200}  # fmt: skip
    weird = client.post("/alerts/rules/..%2f<script>", data={"csrf_token": token}, follow_redirects=True)
    assert weird.status_code < 500 and "<script>" not in weird.text  # the name is shown escaped, if at all
    assert client.post("/alerts/99999999999999999999/resolve", data={"csrf_token": token}).status_code == 400
