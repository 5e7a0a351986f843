"""One incident, one alert: the slices, terms and re-crossings of one incident update or reopen its alert; a
customer's churn threat escalates their open alert at once (resonanz.alerts.incidents)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from resonanz.alerts.evaluate import evaluate
from resonanz.alerts.findings import Finding
from resonanz.alerts.incidents import IncidentReport, Policy, apply_findings, resolve
from resonanz.core.settings import AlertSettings, Settings
from store.models import Alert, AlertEvent
from tests.alerts.conftest import BURST, Store
from tests.answers.factory import Factory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
POLICY = Policy.of(AlertSettings(cooldown_minutes=180, resolve_after_hours=12, update_min_minutes=60))
HOUR = timedelta(hours=1)
CHURN = [{"flag": "churn", "severity": 4}]
COMPLAINT = [{"flag": "complaint", "severity": 2}]


def finding(key: str, posts: Sequence[int], *, kind: str = "spike", excess: float = 0.0, at: datetime = NOW,
            summary: str = "", topics: tuple[str, ...] = (), statistic: float = 5.0) -> Finding:  # fmt: skip
    rule = key.split(":")[0]
    return Finding(rule=rule, kind=kind, key=key, subject=key, severity=2, title=key, summary=summary or key,
                   window_start=at - timedelta(hours=3), window_end=at, observed=float(len(posts)), expected=1.0,
                   statistic=statistic, post_ids=tuple(posts), excess=excess, topics=topics)  # fmt: skip


def apply(engine: Engine, findings: Sequence[Finding], at: datetime = NOW) -> IncidentReport:
    with Session(engine) as session:
        report = apply_findings(session, findings, at, POLICY, [])
        session.commit()
    return report


def all_alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as session:
        return list(session.execute(select(Alert).order_by(col(Alert.id))).scalars())


def test_a_class_whose_extra_negative_posts_are_the_incidents_is_that_incident(sqlite_engine: Engine) -> None:
    topic = range(1, 61)
    apply(sqlite_engine, [finding("spike_thema_negativ:topic=Preis", topic)])
    # customer class B: 16 negative posts, about 8 more than usual; 6 of them are posts of the price incident
    b_class = [*range(55, 61), *range(100, 110)]
    b_finding = finding("spike_klasse_negativ:class=B", b_class, excess=8.0, summary="Kundenklasse B: 60 % negativ")
    report = apply(sqlite_engine, [b_finding], NOW + timedelta(minutes=15))
    (alert,) = all_alerts(sqlite_engine)
    assert report.raised == [] and report.correlated == [alert.id]
    assert alert.explanation["related"][0]["summary"] == "Kundenklasse B: 60 % negativ"  # its explanation is kept
    assert set(b_class) <= set(alert.post_ids)
    # the same class with usual posts only (no excess made of the incident's posts) is its own incident
    other = apply(sqlite_engine, [finding("spike_klasse_negativ:class=A", [*range(58, 61), *range(200, 215)],
                                          excess=12.0)], NOW + timedelta(minutes=30))  # fmt: skip
    assert len(other.raised) == 1 and len(all_alerts(sqlite_engine)) == 2


def test_new_terms_of_one_topic_in_the_same_pass_are_one_incident(sqlite_engine: Engine) -> None:
    # an outage: people write "Fehler", "Server" or "offline", rarely two of them in one post
    terms = [finding("neues_thema:begriff=server", range(0, 30), kind="emerging", topics=("App",), statistic=6.0),
             finding("neues_thema:begriff=fehler", range(30, 60), kind="emerging", topics=("App",)),
             finding("neues_thema:begriff=offline", range(60, 80), kind="emerging", topics=("App", "Lieferung")),
             finding("neues_thema:begriff=streik", range(80, 95), kind="emerging", topics=("Lieferung",),
                     statistic=4.0)]  # fmt: skip
    report = apply(sqlite_engine, terms)
    alerts = all_alerts(sqlite_engine)
    assert [a.key for a in alerts] == ["neues_thema:begriff=server", "neues_thema:begriff=streik"]
    outage = alerts[0]
    assert report.raised == [a.id for a in alerts] and set(report.correlated) == {outage.id}
    assert [r["key"] for r in outage.explanation["related"]] == ["neues_thema:begriff=fehler",
                                                                 "neues_thema:begriff=offline"]  # fmt: skip
    # "offline" joined for its topic only: it adds no topic, so the strike on deliveries stays an incident of its own
    assert set(outage.post_ids) == set(range(80)) and outage.explanation["incident_topics"] == ["App"]


def test_an_alert_open_for_hours_does_not_swallow_a_new_incident_on_its_topic(sqlite_engine: Engine) -> None:
    apply(sqlite_engine, [finding("spike_thema_volumen:topic=Preis", range(0, 50), topics=("Preis",))])
    later = NOW + 10 * HOUR  # still open (it crossed again an hour ago); a price rise starts, with new posts only
    apply(sqlite_engine, [finding("spike_thema_volumen:topic=Preis", range(0, 52), topics=("Preis",))], later - HOUR)
    report = apply(sqlite_engine, [finding("neues_thema:begriff=preiserhöhung", range(100, 120), kind="emerging",
                                           topics=("Preis",), at=later)], later)  # fmt: skip
    assert len(report.raised) == 1 and report.correlated == [] and len(all_alerts(sqlite_engine)) == 2


def test_a_term_seen_late_in_a_long_incident_is_recognised_by_its_early_posts(sqlite_engine: Engine) -> None:
    at = NOW
    for start in range(0, 600, 150):  # a long recall: 600 posts over ten hours, each pass the newest 150
        apply(sqlite_engine, [finding("neues_thema:begriff=napoli", range(start, start + 150), kind="emerging",
                                      at=at)], at)  # fmt: skip
        at += timedelta(hours=2, minutes=30)
    # a second wording of the same recall crosses late; its posts are spread over the whole incident
    late = apply(sqlite_engine, [finding("neues_thema:begriff=betrifft", range(5, 600, 12), kind="emerging", at=at)],
                 at)  # fmt: skip
    (alert,) = all_alerts(sqlite_engine)
    assert late.raised == [] and late.correlated == [alert.id] and len(alert.post_ids) == 600


def test_a_crossing_that_still_holds_a_resolved_incidents_posts_reopens_it(sqlite_engine: Engine) -> None:
    apply(sqlite_engine, [finding("spike_thema_volumen:topic=App", range(1, 41))])
    quiet = NOW + timedelta(hours=13)
    assert apply(sqlite_engine, [], quiet).resolved
    after_cool_down = quiet + timedelta(hours=4)  # past the 3 h cool-down; the 24 h window still holds the posts
    report = apply(sqlite_engine, [finding("spike_plattform_volumen:platform=appstore", [*range(20, 41), 90, 91],
                                           at=after_cool_down)], after_cool_down)  # fmt: skip
    (alert,) = all_alerts(sqlite_engine)
    assert report.raised == [] and report.reopened == [alert.id] and alert.status == "open"
    assert alert.key == "spike_thema_volumen:topic=App"  # the alert keeps its own explanation ...
    assert alert.explanation["related_keys"] == ["spike_plattform_volumen:platform=appstore"]  # ... and adds this
    with Session(sqlite_engine) as session:
        actions = [e.action for e in session.execute(select(AlertEvent).order_by(col(AlertEvent.id))).scalars()]
    assert actions == ["raised", "resolved", "correlated", "reopened"]
    # after it resolved again and the cool-down passed, the same topic with new posts only is a new incident
    later = after_cool_down + timedelta(hours=16)
    assert apply(sqlite_engine, [], later).resolved == [alert.id]
    fresh = apply(sqlite_engine, [finding("spike_thema_volumen:topic=App", range(300, 340), at=later + 4 * HOUR)],
                  later + 4 * HOUR)  # fmt: skip
    assert len(fresh.raised) == 1 and len(all_alerts(sqlite_engine)) == 2


def test_posts_a_person_dealt_with_raise_nothing_after_the_cool_down(sqlite_engine: Engine) -> None:
    apply(sqlite_engine, [finding("spike_thema_volumen:topic=App", range(1, 41))])
    with Session(sqlite_engine) as session:
        resolve(session, all_alerts(sqlite_engine)[0].id or 0, "carla", "Störung behoben", now=NOW + HOUR)
        session.commit()
    later = NOW + 5 * HOUR  # past the cool-down, the window still holds the posts she dealt with
    report = apply(sqlite_engine, [finding("spike_thema_volumen:topic=App", range(10, 45), at=later)], later)
    (alert,) = all_alerts(sqlite_engine)
    assert report.raised == [] and report.muted and alert.status == "resolved" and alert.resolved_by == "carla"


def test_a_churn_threat_weeks_after_an_open_complaint_escalates_that_alert(store: Store) -> None:
    settings = Settings(alerts=AlertSettings(resolve_after_hours=6, cooldown_minutes=180))
    ident = store.customers["A"][1]
    with Session(store.engine) as session:
        Factory(session).post(ident, "Die Lieferung war schon wieder zu spät, unmöglich.",
                              BURST - timedelta(days=10), flags=COMPLAINT)  # fmt: skip
        session.commit()
    evaluate(store.engine, settings, now=BURST - timedelta(days=10) + timedelta(minutes=10), notify=False)
    evaluate(store.engine, settings, now=BURST - timedelta(days=5), notify=False)  # nobody has dealt with it
    (complaint,) = all_alerts(store.engine)
    assert complaint.status == "open" and "beschwert sich stark" in complaint.title
    with Session(store.engine) as session:
        churn_id = Factory(session).post(ident, "Wir prüfen gerade andere Röstereien.", BURST - timedelta(minutes=4),
                                         flags=CHURN).id  # fmt: skip
        session.commit()
    report = evaluate(store.engine, settings, now=BURST, notify=False)
    (alert,) = all_alerts(store.engine)  # one customer, one alert until a person resolves it ...
    assert report.incidents.raised == [] and report.incidents.updated == [alert.id]
    assert "droht abzuwandern" in alert.title and churn_id in alert.post_ids
    with Session(store.engine) as session:
        last = session.execute(select(AlertEvent).where(col(AlertEvent.alert_id) == alert.id)
                               .order_by(col(AlertEvent.id).desc())).scalars().first()  # fmt: skip
    assert last is not None and last.action == "escalated"  # ... and the threat is its escalation, sent at once


def test_a_complaint_turning_into_a_churn_threat_is_sent_at_once(store: Store) -> None:
    settings = Settings(alerts=AlertSettings(update_min_minutes=60))
    ident = store.customers["A"][1]
    with Session(store.engine) as session:
        Factory(session).post(ident, "Schon wieder kaputt geliefert.", BURST - timedelta(minutes=5), flags=COMPLAINT)
        session.commit()
    evaluate(store.engine, settings, now=BURST, notify=False)
    with Session(store.engine) as session:
        Factory(session).post(ident, "Wir kündigen zum Monatsende.", BURST + timedelta(minutes=10), flags=CHURN)
        session.commit()
    report = evaluate(store.engine, settings, now=BURST + timedelta(minutes=15), notify=False)  # < update_min
    (alert,) = all_alerts(store.engine)
    assert report.incidents.updated == [alert.id] and "droht abzuwandern" in alert.title
    with Session(store.engine) as session:
        actions = [e.action for e in session.execute(select(AlertEvent).where(
            col(AlertEvent.alert_id) == alert.id).order_by(col(AlertEvent.id))).scalars()]  # fmt: skip
    assert actions == ["raised", "escalated"]
