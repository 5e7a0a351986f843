"""Sending alerts for real: an SMTP exchange with aiosmtpd and a webhook receiver on 127.0.0.1 that these
tests start, including one that fails twice before accepting; retries, no duplicates, quiet hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from resonanz.alerts.findings import Finding, PostRef
from resonanz.alerts.incidents import Policy, apply_findings
from resonanz.alerts.notify import channels, dispatch, quiet_until
from resonanz.core.errors import AlertError
from resonanz.core.settings import AlertSettings, DigestSettings, Settings, SmtpSettings, WebhookSettings
from store.models import Alert, AlertEvent, AlertNotification
from tests.alerts.conftest import Receiver
from tests.digest.conftest import SmtpServer
from tests.web.live import free_port

# Monday 16 November 2026, 10:00 in Berlin (UTC+1)
DAY = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 16, 22, 30, tzinfo=UTC)  # 23:30 in Berlin


def finding(
    severity: int = 2, observed: float = 40.0, key: str = "spike_thema_volumen:topic=Preis", kind: str = "spike"
) -> Finding:
    post = PostRef(post_id=7, created_at="2026-11-16T09:55+01:00", platform="mastodon",
                   url="https://social.example/@hotel/7", text="Wir prüfen gerade andere Röstereien.",
                   author="@hotel_rheinblick@mastodon.social", segment="A", customer="Hotel Rheinblick GmbH",
                   revenue=34400.0, weight=5.0, sentiment="negative", review_item_id=None)  # fmt: skip
    return Finding(
        rule=key.split(":")[0],
        kind=kind,
        key=key,
        subject="Thema „Preis“",
        severity=severity,
        title="Thema „Preis“: 4,0-fach so viele Beiträge wie üblich",
        summary=f"Thema „Preis“: {observed:.0f} Beiträge in den letzten 3 h, erwartet 10,0 – 4,0-fach.",
        window_start=DAY - timedelta(hours=3),
        window_end=DAY,
        observed=observed,
        expected=10.0,
        statistic=6.5,
        details={"metric": "volume"},
        top_posts=(post,),
        post_ids=(7,),
    )


def settings_for(**alerts: Any) -> Settings:
    return Settings(
        smtp=SmtpSettings(
            host="127.0.0.1", port=alerts.pop("smtp_port", free_port()), sender="alarm@lindenhof.example"
        ),
        digest=DigestSettings(recipients=[]),
        alerts=AlertSettings(public_url="https://resonanz.lindenhof.example", retry_base_seconds=0.01, **alerts),
    )


def raise_alert(engine: Engine, settings: Settings, f: Finding, now: datetime = DAY) -> int:
    """Apply one finding (a new alert or an update of the open one); the alert's id."""
    with Session(engine) as session:
        apply_findings(session, [f], now, Policy.of(settings.alerts), channels(settings))
        session.commit()
        alert_id = session.exec(select(Alert.id).where(Alert.key == f.key)).one()
        assert alert_id is not None
        return alert_id


def notes(engine: Engine) -> list[AlertNotification]:
    with Session(engine) as session:
        return list(session.exec(select(AlertNotification).order_by(col(AlertNotification.id))).all())


def events(engine: Engine, alert_id: int) -> list[AlertEvent]:
    with Session(engine) as session:
        query = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(col(AlertEvent.id))
        return list(session.exec(query).all())


def test_email_through_a_real_smtp_server(sqlite_engine: Engine, smtp_server: Callable[..., SmtpServer]) -> None:
    server = smtp_server()
    settings = settings_for(smtp_port=server.port, email_recipients=["team@lindenhof.example"])
    alert_id = raise_alert(sqlite_engine, settings, finding())
    report = dispatch(sqlite_engine, settings, DAY, sleep=lambda s: None)
    assert len(report.sent) == 1
    (envelope,) = server.inbox.envelopes
    assert envelope.rcpt_tos == ["team@lindenhof.example"]
    (msg,) = server.inbox.messages
    assert msg["Subject"].startswith("[Resonanz Warnung] Thema „Preis“")
    body = msg.get_content()
    assert "40 Beiträge in den letzten 3 h, erwartet 10,0" in body
    assert "@hotel_rheinblick@mastodon.social (A-Kunde Hotel Rheinblick GmbH, 34.400 € Umsatz" in body
    assert f"Jetzt handeln: https://resonanz.lindenhof.example/alerts/{alert_id}" in body
    assert [e.action for e in events(sqlite_engine, alert_id)] == ["raised", "notified"]
    assert dispatch(sqlite_engine, settings, DAY + timedelta(minutes=5)).sent == []
    assert len(server.inbox.envelopes) == 1


def test_webhook_that_fails_twice_gets_one_message_after_retries(
    sqlite_engine: Engine, webhook: Callable[..., Receiver]
) -> None:
    receiver = webhook(fail_first=2)
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url, name="ops")], retry_attempts=3)
    alert_id = raise_alert(sqlite_engine, settings, finding())
    slept: list[float] = []
    report = dispatch(sqlite_engine, settings, DAY, sleep=slept.append)
    assert len(report.sent) == 1 and report.retry_later == []
    assert len(receiver.requests) == 3 and len(receiver.accepted) == 1
    assert slept == [0.01, 0.02]  # backoff doubles
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.requests}
    assert len(keys) == 1 and receiver.accepted[0]["json"]["idempotency_key"] in keys
    body = receiver.accepted[0]["json"]
    assert body["schema"] == "resonanz.alert/1" and body["event"] == "new"
    assert body["alert"]["id"] == alert_id and body["alert"]["observed"] == 40.0
    assert body["alert"]["top_posts"][0]["who"].startswith("A-Kunde Hotel Rheinblick GmbH")
    (note,) = notes(sqlite_engine)
    assert note.status == "sent" and note.attempts == 3
    # nothing is sent twice: not on the next pass, not when the incident is updated without news
    dispatch(sqlite_engine, settings, DAY + timedelta(minutes=5), sleep=slept.append)
    raise_alert(sqlite_engine, settings, finding(observed=45.0), now=DAY + timedelta(minutes=15))
    dispatch(sqlite_engine, settings, DAY + timedelta(minutes=15), sleep=slept.append)
    assert len(receiver.accepted) == 1
    # it doubles: one update, with a new key
    raise_alert(sqlite_engine, settings, finding(observed=90.0), now=DAY + timedelta(hours=2))
    dispatch(sqlite_engine, settings, DAY + timedelta(hours=2), sleep=slept.append)
    assert [r["json"]["event"] for r in receiver.accepted] == ["new", "update"]
    assert len({r["headers"]["Idempotency-Key"] for r in receiver.accepted}) == 2


def test_a_webhook_down_for_longer_is_retried_on_later_passes(
    sqlite_engine: Engine, webhook: Callable[..., Receiver]
) -> None:
    receiver = webhook(fail_first=4, fail_status=503)
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url)], retry_attempts=2, max_attempts=6)
    alert_id = raise_alert(sqlite_engine, settings, finding())
    first = dispatch(sqlite_engine, settings, DAY, sleep=lambda s: None)
    assert first.sent == [] and len(first.retry_later) == 1
    (note,) = notes(sqlite_engine)
    assert note.status == "pending" and note.next_attempt_at > DAY and "HTTP 503" in (note.last_error or "")
    assert dispatch(sqlite_engine, settings, DAY, sleep=lambda s: None).retry_later == []  # not due yet
    second = dispatch(sqlite_engine, settings, note.next_attempt_at, sleep=lambda s: None)
    assert second.sent == [] and len(second.retry_later) == 1
    (note,) = notes(sqlite_engine)
    third = dispatch(sqlite_engine, settings, note.next_attempt_at, sleep=lambda s: None)
    assert len(third.sent) == 1 and len(receiver.accepted) == 1
    assert [e.action for e in events(sqlite_engine, alert_id)] == ["raised", "notify_retry", "notify_retry",
                                                                    "notified"]  # fmt: skip


def test_a_rejecting_webhook_fails_at_once_with_what_to_check(
    sqlite_engine: Engine, webhook: Callable[..., Receiver]
) -> None:
    receiver = webhook(fail_first=99, fail_status=404)
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url, name="teams", format="teams")])
    alert_id = raise_alert(sqlite_engine, settings, finding())
    report = dispatch(sqlite_engine, settings, DAY, sleep=lambda s: None)
    assert len(report.failed) == 1 and len(receiver.requests) == 1
    (note,) = notes(sqlite_engine)
    assert (
        note.status == "failed"
        and "HTTP 404" in (note.last_error or "")
        and "[[alerts.webhooks]]" in (note.last_error or "")
    )
    assert events(sqlite_engine, alert_id)[-1].action == "notify_failed"


@pytest.mark.parametrize("fmt", ["slack", "mattermost", "teams"])
def test_chat_shapes(sqlite_engine: Engine, webhook: Callable[..., Receiver], fmt: str) -> None:
    receiver = webhook()
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url, format=fmt)])
    alert_id = raise_alert(sqlite_engine, settings, finding())
    dispatch(sqlite_engine, settings, DAY, sleep=lambda s: None)
    body = receiver.accepted[0]["json"]
    link = f"https://resonanz.lindenhof.example/alerts/{alert_id}"
    if fmt == "slack":
        assert "Thema „Preis“" in body["text"] and body["blocks"][0]["type"] == "header"
        assert body["blocks"][-1]["elements"][0]["url"] == link
    elif fmt == "mattermost":
        assert body["text"].startswith("**Neuer Alarm (Warnung)") and link in body["text"]
    else:
        card = body["attachments"][0]
        assert body["type"] == "message" and card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard" and card["content"]["actions"][0]["url"] == link


def test_quiet_hours_hold_warnings_but_not_critical_alerts(
    sqlite_engine: Engine, webhook: Callable[..., Receiver]
) -> None:
    receiver = webhook()
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url)], quiet_hours="22:00-07:00")
    warning = raise_alert(sqlite_engine, settings, finding(severity=2), now=NIGHT)
    critical = raise_alert(
        sqlite_engine, settings, finding(severity=3, key="kunde_abwanderung:kunde=1", kind="customer"), now=NIGHT
    )
    report = dispatch(sqlite_engine, settings, NIGHT, sleep=lambda s: None)
    assert len(report.sent) == 1 and len(report.held) == 1
    assert [r["json"]["alert"]["id"] for r in receiver.accepted] == [critical]
    morning = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    (held,) = [n for n in notes(sqlite_engine) if n.alert_id == warning]
    assert held.next_attempt_at == morning
    assert events(sqlite_engine, warning)[-1].action == "held_quiet_hours"
    assert dispatch(sqlite_engine, settings, morning - timedelta(minutes=1)).sent == []
    assert len(dispatch(sqlite_engine, settings, morning, sleep=lambda s: None).sent) == 1
    assert [r["json"]["alert"]["id"] for r in receiver.accepted] == [critical, warning]


def test_quiet_hours_in_berlin_time() -> None:
    summer_night = datetime(2026, 7, 1, 20, 30, tzinfo=UTC)  # 22:30 CEST
    assert quiet_until(summer_night, "22:00-07:00") == datetime(2026, 7, 2, 5, 0, tzinfo=UTC)
    assert quiet_until(datetime(2026, 7, 1, 19, 30, tzinfo=UTC), "22:00-07:00") is None
    assert quiet_until(datetime(2026, 11, 16, 13, 30, tzinfo=UTC), "12:00-14:00") is None  # 14:30 CET
    assert quiet_until(datetime(2026, 11, 16, 11, 30, tzinfo=UTC), "12:00-14:00") == datetime(
        2026, 11, 16, 13, 0, tzinfo=UTC
    )
    assert quiet_until(summer_night, "") is None
    with pytest.raises(AlertError, match="HH:MM-HH:MM"):
        quiet_until(summer_night, "nachts")


def test_alerts_below_a_hooks_minimum_severity_skip_it(sqlite_engine: Engine, webhook: Callable[..., Receiver]) -> None:
    receiver = webhook()
    settings = settings_for(webhooks=[WebhookSettings(url=receiver.url, min_severity=3)])
    raise_alert(sqlite_engine, settings, finding(severity=2))
    assert notes(sqlite_engine) == []
    with Session(sqlite_engine) as session:
        assert session.exec(select(Alert)).one().notified_severity == 2
