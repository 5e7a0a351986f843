"""Evaluation passes over a real store: spikes against the seasonal baseline, customer alerts, the bot-flood
guard, incremental aggregation, one alert per incident with updates, self-resolution and cool-down."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from resonanz.alerts.evaluate import evaluate
from resonanz.alerts.incidents import SYSTEM, resolve
from resonanz.core.settings import AlertSettings, Settings
from store.models import Alert, AlertBucket, AlertEvent, AlertState, Post
from tests.alerts.conftest import BURST, Store, build_store
from tests.answers.factory import Factory

SETTINGS = Settings(alerts=AlertSettings(resolve_after_hours=6, cooldown_minutes=180))
OPENERS = ["Ehrlich gesagt", "Also", "Mal ehrlich", "Puh", "Leute", "Heute", "Naja", "Tja"]
CLAIMS = ["der neue Preis ist eine Frechheit", "fünfzehn Prozent mehr fürs Abo", "die Preiserhöhung ärgert mich",
          "so teuer war der Espresso nie", "das Abo wird mir zu teuer", "ich zahle das nicht mehr"]  # fmt: skip
TAILS = [
    "Kaffee",
    "morgens",
    "Büro",
    "Kollegin",
    "wirklich",
    "leider",
    "endlich",
    "Bohnen",
    "Tasse",
    "Woche",
    "Monat",
    "Jahr",
    "Milch",
]


def burst(
    store: Store, n: int = 30, topic: str = "Preis", minutes: int = 120, seed: int = 1, at: datetime = BURST
) -> list[int]:
    """``n`` negative posts about ``topic`` by different people in the ``minutes`` before ``at``."""
    rng = random.Random(seed)
    ids = []
    with Session(store.engine) as session:
        f = Factory(session)
        for i in range(n):
            text = f"{rng.choice(OPENERS)}, {rng.choice(CLAIMS)}. {' '.join(rng.sample(TAILS, 5))}"
            when = at - timedelta(minutes=rng.randrange(minutes))
            ids.append(f.post(store.people[i % len(store.people)], text, when, topics=[topic]).id)
        session.commit()
    return [i for i in ids if i is not None]


def alerts(store: Store) -> list[Alert]:
    with Session(store.engine) as session:
        return list(session.exec(select(Alert).order_by(col(Alert.id))).scalars())  # type: ignore[call-overload]


def test_a_topic_spike_raises_one_alert_that_explains_itself(store: Store) -> None:
    before = evaluate(store.engine, SETTINGS, now=BURST - timedelta(hours=3), notify=False)
    assert before.findings == [] and alerts(store) == []
    burst_ids = burst(store)
    report = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert len(report.incidents.raised) == 1
    (alert,) = alerts(store)
    assert alert.kind == "spike" and "Preis" in alert.subject
    spikes = [f for f in report.findings if f.kind == "spike"]
    assert {f.rule for f in spikes} >= {"spike_thema_volumen"}
    volume = next(f for f in spikes if f.rule == "spike_thema_volumen")
    assert volume.observed >= 25 and volume.expected < volume.observed / 3
    assert "Beiträge in den letzten 3 h, erwartet" in volume.summary and "Preis" in alert.summary
    top = alert.explanation["top_posts"]
    assert top and all(p["post_id"] in burst_ids for p in top)
    assert {"author", "segment", "weight", "url"} <= set(top[0])
    # every other crossing of the same burst (negative share, a new term, a platform) is this incident
    others = {f.key for f in report.findings} - {alert.key}
    assert others and set(alert.explanation["related_keys"]) == others
    again = evaluate(store.engine, SETTINGS, now=BURST + timedelta(minutes=15), notify=False)
    assert again.incidents.raised == [] and len(alerts(store)) == 1


def test_a_customer_alerts_at_once_b_warns_c_stays_quiet(store: Store) -> None:
    evaluate(store.engine, SETTINGS, now=BURST - timedelta(hours=1), notify=False)
    churn = [{"flag": "churn", "severity": 4, "reason": "Kündigungs- oder Wechselabsicht"}]
    with Session(store.engine) as session:
        f = Factory(session)
        for cls in ("A", "B", "C"):
            f.post(store.customers[cls][1], f"Wir prüfen gerade andere Röstereien ({cls}).",
                   BURST - timedelta(minutes=4), topics=["Service"], flags=churn)  # fmt: skip
        session.commit()
    report = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    raised = {a.subject: a for a in alerts(store) if a.kind == "customer"}
    assert set(raised) == {"Kundin A (A)", "Kundin B (B)"}
    assert raised["Kundin A (A)"].severity == 3 and raised["Kundin B (B)"].severity == 2
    assert "34.000 €" in raised["Kundin A (A)"].summary and "droht abzuwandern" in raised["Kundin A (A)"].title
    assert len(report.incidents.raised) == 2
    evaluate(store.engine, SETTINGS, now=BURST + timedelta(minutes=15), notify=False)
    assert len(alerts(store)) == 2  # the same posts: updates, not new alerts


def test_a_complaint_is_strong_from_the_configured_p_negative_on(store: Store) -> None:
    customer, ident = store.customers["A"]
    with Session(store.engine) as session:  # the factory scores negative posts p_negative 0.9
        Factory(session).post(ident, "Die Lieferung war schon wieder zu spät.", BURST - timedelta(minutes=30),
                              flags=[{"flag": "complaint", "severity": 2}])  # fmt: skip
        session.commit()
    report = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert [f.key for f in report.findings if f.kind == "customer"] == [f"kunde_abwanderung:kunde={customer.id}"]
    strict = Settings(alerts=AlertSettings(rules={"kunde_abwanderung": {"min_p_negative": 0.95}}))
    report = evaluate(store.engine, strict, now=BURST + timedelta(minutes=5), notify=False)
    assert [f for f in report.findings if f.kind == "customer"] == []


def test_a_bot_flood_is_held_back(store: Store) -> None:
    rng = random.Random(2)
    with Session(store.engine) as session:
        f = Factory(session)
        bots = [f.identity(f"bot{i}.bsky.social", platform="bluesky") for i in range(40)]
        for i in range(120):
            text = f"Lindenhof Betrug!!! {rng.randint(3, 99)} Leute krank nach dem Kaffee. Finger weg #Skandal"
            f.post(bots[i % 40], text, BURST - timedelta(minutes=rng.randrange(90)), topics=["Kaffee"])
        session.commit()
    report = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert [a for a in alerts(store) if a.kind in ("spike", "emerging")] == []
    assert any("Bot-Welle" in line for line in report.held_back)


def test_passes_are_incremental(store: Store) -> None:
    first = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert first.rows_written > 100  # the history is aggregated once
    with Session(store.engine) as session:
        buckets = session.execute(select(func.count()).select_from(AlertBucket)).scalar_one()
    second = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert second.rows_written == 0
    late_at = BURST - timedelta(days=3, hours=5)
    with Session(store.engine) as session:
        f = Factory(session)
        f.post(store.people[0], "Späte Nachzüglerin aus einer langsamen Quelle", late_at, topics=["App"])
        session.commit()
        state = session.get(AlertState, "aggregate")
        assert state is not None and state.value["post_id"] > 0
    third = evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    assert 0 < third.rows_written < buckets / 10  # only the late post's day was aggregated again
    with Session(store.engine) as session:
        hour = late_at.replace(minute=0, second=0, microsecond=0)
        row = session.execute(
            select(AlertBucket).where(col(AlertBucket.hour) == hour, col(AlertBucket.key) == "App")
        ).scalar_one()
        posts_then = session.execute(
            select(func.count()).select_from(Post).where(col(Post.created_at) >= hour,
                                                         col(Post.created_at) < hour + timedelta(hours=1))
        ).scalar_one()  # fmt: skip
        assert row.posts >= 1 and posts_then >= row.posts


def test_quiet_incident_resolves_and_comes_back_within_cool_down(store: Store) -> None:
    burst(store)
    evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    (alert,) = alerts(store)
    later = BURST + timedelta(hours=30)  # the burst has left every window; 6 h without a crossing
    report = evaluate(store.engine, SETTINGS, now=later, notify=False)
    assert report.incidents.resolved == [alert.id]
    (alert,) = alerts(store)
    assert alert.status == "resolved" and alert.resolved_by == SYSTEM
    burst(store, seed=9, minutes=30, at=later + timedelta(minutes=30))  # the same again, within the cool-down
    report = evaluate(store.engine, SETTINGS, now=later + timedelta(minutes=40), notify=False)
    assert report.incidents.raised == [] and report.incidents.reopened == [alert.id]
    (alert,) = alerts(store)
    assert alert.status == "open"
    with Session(store.engine) as session:
        actions = [e.action for e in session.exec(select(AlertEvent).order_by(col(AlertEvent.id))).scalars()]  # type: ignore[call-overload]
    assert actions[0] == "raised" and actions.index("resolved") < actions.index("reopened")
    assert actions.count("raised") == 1


def test_a_customer_alert_a_person_resolved_stays_resolved_until_a_new_post(store: Store) -> None:
    churn = [{"flag": "churn", "severity": 4}]
    with Session(store.engine) as session:
        f = Factory(session)
        f.post(store.customers["A"][1], "Wir kündigen.", BURST - timedelta(minutes=3), flags=churn)
        session.commit()
    evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    (alert,) = alerts(store)
    with Session(store.engine) as session:
        assert alert.id is not None
        resolve(session, alert.id, "carla", "angerufen, bleibt Kundin")
        session.commit()
    evaluate(store.engine, SETTINGS, now=BURST + timedelta(minutes=15), notify=False)
    (alert,) = alerts(store)
    assert alert.status == "resolved" and alert.resolved_by == "carla"
    with Session(store.engine) as session:
        f = Factory(session)
        f.post(store.customers["A"][1], "Doch nicht geklärt, wir gehen.", BURST + timedelta(minutes=20), flags=churn)
        session.commit()
    report = evaluate(store.engine, SETTINGS, now=BURST + timedelta(minutes=30), notify=False)
    assert report.incidents.reopened == [alert.id]
    (alert,) = alerts(store)
    assert alert.status == "open" and len(alert.post_ids) == 2


def test_a_pass_on_sqlite_and_postgresql(engine: Engine) -> None:
    """The same incident and customer alert on both databases (the store's own aggregates and outbox)."""
    store = build_store(engine)
    churn = [{"flag": "churn", "severity": 4}]
    with Session(engine) as session:
        Factory(session).post(store.customers["A"][1], "Wir kündigen.", BURST - timedelta(minutes=3), flags=churn)
        session.commit()
    burst(store)
    report = evaluate(engine, SETTINGS, now=BURST, notify=False)
    assert sorted(a.kind for a in alerts(store)) == ["customer", "spike"] and len(report.incidents.raised) == 2
    assert evaluate(engine, SETTINGS, now=BURST, notify=False).rows_written == 0
