"""From findings to incidents: one alert per incident, updated while it lasts, with cool-down, correlation,
self-resolution, people's acknowledge/resolve, and the audit trail.

The rules (one place):

* A finding's ``key`` (rule + subject) names its incident. While an alert with that key is open or
  acknowledged, the finding **updates** it (numbers, posts, severity). A message goes out again only when
  it escalates (higher severity, or a customer who complained now threatens to leave: at once) or clearly
  grows (:func:`grew`) and ``update_min_minutes`` have passed since the last message. A customer's alert
  stays one incident until a person resolves it: a churn threat weeks after a complaint nobody has dealt with
  escalates that alert (a message at once), like the demo's hotel writing for six weeks.
* **Correlation**: a new spike, topic or weighted-sentiment finding that :func:`belongs` to an open alert of
  those kinds -- at least half of the smaller of the two post sets shared, or at least half of the finding's
  excess over its expectation made of the alert's posts -- or that is about one of the alert's topics
  (:attr:`Finding.topics`: a topic slice's topic, else one that half of the finding's posts carry) is the same
  incident seen through another slice (the recall is a topic spike, a volume and a negative-share spike, a
  platform spike, a customer class turning negative and several new terms at once, each term a finding of its
  own): it is recorded on that alert (``related``, with its own explanation), not raised anew. An alert keeps
  up to :data:`MAX_ALERT_POSTS` post ids for this. A shared topic joins only findings of the pass that raised
  the alert (an outage's new words cross together, rarely two in one post); later, posts decide, so that an
  alert open for hours does not swallow a new incident on its topic.
* **Cool-down**: an incident resolved by Resonanz itself (no crossing for ``resolve_after_hours``) that comes
  back within ``cooldown_minutes`` is reopened, not raised again; so is one whose posts a finding still
  holds, also after the cool-down (:func:`_still_going`: the incident is going on). One that a person resolved
  stays resolved for the cool-down and while findings hold its posts (they have dealt with those); a
  customer alert comes back only with a new post.
* **Self-resolution**: spikes, topics, viral posts and weighted sentiment resolve themselves after
  ``resolve_after_hours`` without a crossing. Customer alerts wait for a person.

Trade-off: correlating by shared posts (and a shared topic only within one pass) rather than by time alone keeps
two unrelated incidents on the same afternoon apart, but a second incident on the very same slice (the same key)
within one alert's life is an update of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from resonanz.alerts.findings import Finding
from resonanz.alerts.rules import RuleKind
from resonanz.core.errors import ActionError, NotFoundError
from resonanz.core.i18n import N_, TranslatedNames
from resonanz.core.settings import AlertSettings
from store.models import Alert, AlertEvent, AlertNotification
from store.types import as_utc, utcnow

log = logging.getLogger(__name__)

SYSTEM = "resonanz-alerts"
MIN_OVERLAP = 0.5
"""A finding belongs to an incident from this share of its posts (or of its excess) on (:func:`belongs`)."""
MAX_ALERT_POSTS = 2000
"""Post ids an alert keeps (the newest): all posts of a long incident, so that a slice or term seen later is
still recognised by its posts (one finding carries at most :data:`~resonanz.alerts.findings.MAX_POST_IDS`)."""
TOPICS = "incident_topics"
"""In an alert's explanation: the topics of the findings it took in."""
REOPEN_HORIZON = timedelta(days=2)
"""Resolved incidents are looked up this far back for a finding that still holds their posts."""
CORRELATED_KINDS = (RuleKind.SPIKE.value, RuleKind.EMERGING.value, RuleKind.WEIGHTED.value)
SELF_RESOLVING = (RuleKind.SPIKE.value, RuleKind.EMERGING.value, RuleKind.VIRAL.value, RuleKind.WEIGHTED.value)
MAX_RELATED = 20


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


ACTIVE = (AlertStatus.OPEN.value, AlertStatus.ACKNOWLEDGED.value)
STATUS_NAMES = TranslatedNames({"open": N_("open"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved")})
"""An alert's status in words, in the current language (German: offen, bestätigt, erledigt)."""


@dataclass(frozen=True)
class Policy:
    cooldown: timedelta
    update_min: timedelta
    resolve_after: timedelta

    @classmethod
    def of(cls, cfg: AlertSettings) -> Policy:
        return cls(
            cooldown=timedelta(minutes=cfg.cooldown_minutes),
            update_min=timedelta(minutes=cfg.update_min_minutes),
            resolve_after=timedelta(hours=cfg.resolve_after_hours),
        )


@dataclass(frozen=True)
class Channel:
    """Where notifications go: ``email`` or ``webhook:<name>``, from a minimum severity on."""

    name: str
    min_severity: int = 1


@dataclass
class IncidentReport:
    raised: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    reopened: list[int] = field(default_factory=list)
    correlated: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    muted: list[str] = field(default_factory=list)


def _event(session: Session, alert: Alert, action: str, now: datetime, actor: str = SYSTEM, **detail: Any) -> None:
    assert alert.id is not None
    session.add(AlertEvent(alert_id=alert.id, actor=actor, action=action, detail=detail, at=now))


def grew(alert: Alert, finding: Finding) -> bool:
    """Worth another message: a customer wrote again; a count or a term doubled; a share rose 15 points.
    (Call it before the finding's posts are merged into the alert.)"""
    if finding.kind == RuleKind.CUSTOMER.value:
        return bool(set(finding.post_ids) - set(alert.post_ids or []))
    if finding.kind == RuleKind.WEIGHTED.value or finding.details.get("metric") == "negative_share":
        return finding.observed >= alert.notified_observed + 0.15
    return finding.observed >= 2.0 * alert.notified_observed


def _merge_ids(old: Sequence[int], new: Iterable[int]) -> list[int]:
    """``old`` then the ids of ``new`` not in it, the newest :data:`MAX_ALERT_POSTS` kept."""
    merged = list(old)
    seen = set(merged)
    for i in new:
        if i not in seen:
            seen.add(i)
            merged.append(i)
    return merged[-MAX_ALERT_POSTS:]


def enqueue(session: Session, alert: Alert, event: str, channels: Sequence[Channel], now: datetime) -> int:
    """Put one message per channel in the outbox, unless one for this alert and channel is still waiting
    (it will carry the alert's state when it goes: one message, not a pile-up after quiet hours)."""
    assert alert.id is not None
    queued = 0
    for channel in channels:
        if alert.severity < channel.min_severity:
            continue
        waiting = session.execute(
            select(AlertNotification).where(
                col(AlertNotification.alert_id) == alert.id,
                col(AlertNotification.channel) == channel.name,
                col(AlertNotification.status) == "pending",
            )
        ).scalar_one_or_none()
        if waiting is not None:
            if event == "resolved" or waiting.event == "resolved":
                waiting.event = event
                session.add(waiting)
            continue
        count = session.execute(
            select(func.count())
            .select_from(AlertNotification)
            .where(col(AlertNotification.alert_id) == alert.id, col(AlertNotification.channel) == channel.name)
        ).scalar_one()
        session.add(
            AlertNotification(
                alert_id=alert.id,
                channel=channel.name,
                event=event,
                idempotency_key=f"resonanz-alert-{alert.id}-{channel.name}-{count + 1}"[:120],
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    alert.notified_severity = alert.severity
    alert.notified_observed = alert.observed
    alert.last_notified_at = now
    session.add(alert)
    return queued


def incident_topics(alert: Alert) -> set[str]:
    """The topics of every finding the alert took in (see :attr:`Finding.topics`)."""
    return set((alert.explanation or {}).get(TOPICS, []))


def _absorb(alert: Alert, finding: Finding, now: datetime, *, topics: bool = True) -> None:
    """The finding's posts, queue items and (with ``topics``) topics become the alert's; it was seen now.
    A finding that joined for its topic alone adds no topics: one incident must not chain to the next."""
    merged = sorted(incident_topics(alert) | set(finding.topics if topics else ()))
    if merged != (alert.explanation or {}).get(TOPICS, []):
        alert.explanation = {**(alert.explanation or {}), TOPICS: merged}
    alert.last_seen_at = now
    alert.post_ids = _merge_ids(alert.post_ids or [], finding.post_ids)
    alert.review_item_ids = _merge_ids(alert.review_item_ids or [], finding.review_item_ids)


def _fill(alert: Alert, finding: Finding, now: datetime) -> None:
    """The alert now says what the finding says (the signals recorded as related are kept)."""
    kept = {key: (alert.explanation or {}).get(key, []) for key in ("related", "related_keys", TOPICS)}
    alert.explanation = {**finding.explanation(), **kept}
    alert.observed, alert.expected, alert.statistic = finding.observed, finding.expected, finding.statistic
    alert.peak_statistic = max(alert.peak_statistic, finding.statistic)
    alert.summary = finding.summary
    alert.title = finding.title
    _absorb(alert, finding, now)


def _create(session: Session, finding: Finding, now: datetime) -> Alert:
    alert = Alert(
        key=finding.key[:300],
        rule=finding.rule,
        kind=finding.kind,
        severity=finding.severity,
        title=finding.title,
        subject=finding.subject[:200],
        started_at=finding.window_start,
        first_seen_at=now,
        last_seen_at=now,
    )
    _fill(alert, finding, now)
    session.add(alert)
    session.flush()
    _event(session, alert, "raised", now, summary=finding.summary, severity=finding.severity)
    return alert


def belongs(alert: Alert, finding: Finding) -> float:
    """How much of ``finding`` is ``alert``'s incident, 0 to 1: the posts they share over the smaller of the two
    post sets (a new term's few posts inside an open topic spike), or over the finding's excess (a customer class
    or a platform whose extra negative posts are the incident's, among as many usual ones)."""
    mine = set(alert.post_ids or [])
    theirs = set(finding.post_ids)
    if not mine or not theirs:
        return 0.0
    shared = len(mine & theirs)
    share = shared / min(len(mine), len(theirs))
    if finding.excess >= 1.0:
        share = max(share, min(1.0, shared / finding.excess))
    return share


def apply_findings(
    session: Session, findings: Sequence[Finding], now: datetime, policy: Policy, channels: Sequence[Channel]
) -> IncidentReport:
    """Raise, update, reopen or correlate an alert for each finding; let quiet ones resolve themselves."""
    report = IncidentReport()
    keys = sorted({f.key[:300] for f in findings})
    latest: dict[str, Alert] = {}
    if keys:
        for alert in session.execute(select(Alert).where(col(Alert.key).in_(keys)).order_by(col(Alert.id))).scalars():
            latest[alert.key] = alert
    active = list(session.execute(select(Alert).where(col(Alert.status).in_(ACTIVE))).scalars())
    recent = list(
        session.execute(
            select(Alert).where(
                col(Alert.status) == AlertStatus.RESOLVED.value,
                col(Alert.resolved_at) >= now - max(policy.cooldown, REOPEN_HORIZON),
            )
        ).scalars()
    )
    seen: set[int] = set()
    for finding in sorted(findings, key=lambda f: (-f.severity, -f.statistic, f.key)):
        alert = latest.get(finding.key[:300])
        if alert is None:  # the incident came back within the cool-down, first seen through another slice
            alert = next((a for a in recent if finding.key in (a.explanation or {}).get("related_keys", [])
                          and now - (as_utc(a.resolved_at) or now) < policy.cooldown), None)  # fmt: skip
        if alert is not None and alert.status in ACTIVE:
            _update(session, alert, finding, now, policy, channels, report)
        elif alert is not None and _muted_or_reopened(session, alert, finding, now, policy, channels, report):
            pass
        elif (parent := _correlated(active, finding, set(report.raised))) is not None:
            alert, by_posts = parent
            _correlate(session, alert, finding, now, channels, report, by_posts=by_posts)
        elif (gone := _still_going(recent, finding)) is not None:
            alert = gone
            if gone.resolved_by == SYSTEM:
                _reopen(session, gone, finding, now, SYSTEM, "dieselben Beiträge: der Vorfall dauert an", channels,
                        report)  # fmt: skip
            else:
                report.muted.append(finding.key)  # a person dealt with these posts; mostly new ones raise anew
        else:
            alert = _create(session, finding, now)
            enqueue(session, alert, "new", channels, now)
            report.raised.append(_id(alert))
            latest[alert.key] = alert
        if alert.status in ACTIVE and alert not in active:
            active.append(alert)
        seen.add(_id(alert))
    for alert in active:
        if alert.id in seen or alert.kind not in SELF_RESOLVING or alert.status not in ACTIVE:
            continue
        last = as_utc(alert.last_seen_at) or now
        if now - last >= policy.resolve_after:
            quiet_hours = policy.resolve_after.total_seconds() / 3600
            _set_resolved(session, alert, SYSTEM, now, f"seit {quiet_hours:.0f} h keine Überschreitung mehr")
            if alert.last_notified_at is not None:
                enqueue(session, alert, "resolved", channels, now)
            report.resolved.append(_id(alert))
    return report


def _churn_added(alert: Alert, finding: Finding) -> bool:
    """A customer who complained now threatens to leave: an escalation, sent at once like a higher severity."""
    before = (alert.explanation or {}).get("details", {})
    return finding.kind == RuleKind.CUSTOMER.value and bool(finding.details.get("churn")) and not before.get("churn")


def _id(alert: Alert) -> int:
    assert alert.id is not None
    return alert.id


def _correlated(active: Sequence[Alert], finding: Finding, raised_now: set[int]) -> tuple[Alert, bool] | None:
    """The open alert of correlated kinds that ``finding`` belongs to (:func:`belongs` at least
    :data:`MIN_OVERLAP`) or, if raised in this pass (``raised_now``), that is about the same topic; and whether
    by its posts (they count first)."""
    if finding.kind not in CORRELATED_KINDS:
        return None
    best: tuple[tuple[bool, bool, float], Alert] | None = None
    for alert in active:
        if alert.kind not in CORRELATED_KINDS or alert.status not in ACTIVE:
            continue
        if finding.key in (alert.explanation or {}).get("related_keys", []):
            return alert, False  # its topics were taken in the first time, if it joined by its posts
        share = belongs(alert, finding)
        same_topic = alert.id in raised_now and bool(set(finding.topics) & incident_topics(alert))
        rank = (share >= MIN_OVERLAP, same_topic, share)
        if (rank[0] or rank[1]) and (best is None or rank > best[0]):
            best = (rank, alert)
    return (best[1], best[0][0]) if best else None


def _still_going(recent: Sequence[Alert], finding: Finding) -> Alert | None:
    """A resolved incident that ``finding`` belongs to (the same key, or both of correlated kinds): the window
    still holds its posts, so the crossing is that incident going on, not a new one (also after the cool-down)."""
    if finding.kind not in SELF_RESOLVING:
        return None
    best: tuple[float, Alert] | None = None
    for alert in recent:
        if alert.status != AlertStatus.RESOLVED.value:
            continue
        if alert.key != finding.key[:300] and not (alert.kind in CORRELATED_KINDS and finding.kind in CORRELATED_KINDS):
            continue
        share = belongs(alert, finding)
        if share >= MIN_OVERLAP and (best is None or share > best[0]):
            best = (share, alert)
    return best[1] if best else None


def _update(
    session: Session,
    alert: Alert,
    finding: Finding,
    now: datetime,
    policy: Policy,
    channels: Sequence[Channel],
    report: IncidentReport,
) -> None:
    escalated = finding.severity > alert.severity or _churn_added(alert, finding)
    notable = grew(alert, finding)
    alert.severity = max(alert.severity, finding.severity)
    _fill(alert, finding, now)
    last = as_utc(alert.last_notified_at)
    if escalated or (notable and (last is None or now - last >= policy.update_min)):
        alert.updates += 1
        _event(session, alert, "escalated" if escalated else "updated", now, summary=finding.summary,
               severity=alert.severity)  # fmt: skip
        enqueue(session, alert, "update", channels, now)
        report.updated.append(_id(alert))
    session.add(alert)


def _relate(session: Session, alert: Alert, finding: Finding, now: datetime, report: IncidentReport) -> None:
    """Record ``finding`` as another signal of ``alert``'s incident (its explanation kept in ``related``)."""
    explanation = dict(alert.explanation or {})
    keys = list(explanation.get("related_keys", []))
    if finding.key == alert.key or finding.key in keys:
        return
    keys.append(finding.key)
    related = list(explanation.get("related", []))
    related.append({"key": finding.key, "rule": finding.rule, "summary": finding.summary, "at": now.isoformat(),
                    **({"text": finding.texts["summary"]} if "summary" in finding.texts else {})})  # fmt: skip
    explanation["related"] = related[-MAX_RELATED:]
    explanation["related_keys"] = keys[-MAX_RELATED:]
    alert.explanation = explanation
    _event(session, alert, "correlated", now, key=finding.key, summary=finding.summary)
    report.correlated.append(_id(alert))


def _correlate(
    session: Session,
    alert: Alert,
    finding: Finding,
    now: datetime,
    channels: Sequence[Channel],
    report: IncidentReport,
    *,
    by_posts: bool,
) -> None:
    _relate(session, alert, finding, now, report)
    _absorb(alert, finding, now, topics=by_posts)
    if finding.severity > alert.severity:
        alert.severity = finding.severity
        alert.updates += 1
        _event(session, alert, "escalated", now, summary=finding.summary, severity=alert.severity)
        enqueue(session, alert, "update", channels, now)
        report.updated.append(_id(alert))
    session.add(alert)


def _muted_or_reopened(
    session: Session,
    alert: Alert,
    finding: Finding,
    now: datetime,
    policy: Policy,
    channels: Sequence[Channel],
    report: IncidentReport,
) -> bool:
    """For a resolved alert with the finding's key: True when handled here (reopened or muted)."""
    resolved_at = as_utc(alert.resolved_at) or now
    new_posts = set(finding.post_ids) - set(alert.post_ids or [])
    if finding.kind == RuleKind.CUSTOMER.value:
        if not new_posts:
            return True  # the same posts a person (or an earlier pass) already dealt with
        _reopen(session, alert, finding, now, SYSTEM, "neuer Beitrag", channels, report)
        return True
    if now - resolved_at >= policy.cooldown:
        return False
    if alert.resolved_by == SYSTEM:
        _reopen(session, alert, finding, now, SYSTEM, "innerhalb der Abklingzeit wieder überschritten", channels,
                report)  # fmt: skip
    else:
        alert.last_seen_at = now
        session.add(alert)
        report.muted.append(finding.key)
    return True


def _reopen(
    session: Session,
    alert: Alert,
    finding: Finding,
    now: datetime,
    actor: str,
    why: str,
    channels: Sequence[Channel],
    report: IncidentReport,
) -> None:
    alert.status = AlertStatus.OPEN.value
    alert.resolved_at = None
    alert.resolved_by = None
    alert.severity = max(alert.severity, finding.severity)
    if finding.key == alert.key:
        _fill(alert, finding, now)
    else:  # seen again through another slice: recorded as such, the alert keeps its own explanation
        _relate(session, alert, finding, now, report)
        _absorb(alert, finding, now)
    alert.updates += 1
    session.add(alert)
    _event(session, alert, "reopened", now, actor=actor, reason=why, summary=finding.summary)
    enqueue(session, alert, "update", channels, now)
    report.reopened.append(_id(alert))


def _set_resolved(session: Session, alert: Alert, actor: str, now: datetime, note: str) -> None:
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now
    alert.resolved_by = actor
    session.add(alert)
    _event(session, alert, "resolved", now, actor=actor, note=note)


# --- people's actions -----------------------------------------------------------------------------------


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFoundError(f"Alarm {alert_id} gibt es nicht; `resonanz alerts list` zeigt die vorhandenen.")
    return alert


def acknowledge(session: Session, alert_id: int, actor: str, note: str = "", now: datetime | None = None) -> Alert:
    """A person has seen the alert and takes care of it (it stays visible until resolved)."""
    now = now or utcnow()
    alert = get_alert(session, alert_id)
    if alert.status != AlertStatus.OPEN.value:
        status = STATUS_NAMES.get(alert.status, alert.status)
        raise ActionError(f"Alarm {alert_id} ist {status}; bestätigen lässt sich nur ein offener.")
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged_at = now
    alert.acknowledged_by = actor
    session.add(alert)
    _event(session, alert, "acknowledged", now, actor=actor, note=note)
    return alert


def resolve(session: Session, alert_id: int, actor: str, note: str = "", now: datetime | None = None) -> Alert:
    """A person closes the alert; the same incident stays quiet for the cool-down (see the module docstring)."""
    now = now or utcnow()
    alert = get_alert(session, alert_id)
    if alert.status == AlertStatus.RESOLVED.value:
        raise ActionError(f"Alarm {alert_id} ist schon erledigt.")
    _set_resolved(session, alert, actor, now, note)
    return alert


def reopen(session: Session, alert_id: int, actor: str, note: str = "", now: datetime | None = None) -> Alert:
    now = now or utcnow()
    alert = get_alert(session, alert_id)
    if alert.status != AlertStatus.RESOLVED.value:
        raise ActionError(f"Alarm {alert_id} ist nicht erledigt; wieder öffnen lässt sich nur ein erledigter.")
    alert.status = AlertStatus.OPEN.value
    alert.resolved_at = None
    alert.resolved_by = None
    session.add(alert)
    _event(session, alert, "reopened", now, actor=actor, reason=note or "von Hand")
    return alert
