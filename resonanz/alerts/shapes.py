"""What an alert message says, and the JSON bodies of the webhook formats.

Every message explains itself the same way: what crossed what (the summary), baseline against now, the top
posts with who wrote them (customer class and value), and one link to act (the queue item of a customer
alert, else the alert page). Formats:

* ``generic`` -- Resonanz's own JSON: the whole alert, for scripts and ticket systems;
* ``slack`` -- Slack incoming webhook (``text`` fallback + Block Kit ``blocks``);
* ``mattermost`` -- Mattermost incoming webhook (Markdown ``text``; Mattermost also accepts Slack's shape,
  but renders Block Kit only partly, so it gets plain Markdown);
* ``teams`` -- Microsoft Teams "post to a channel when a webhook request is received" (Workflows): a
  ``message`` with one Adaptive Card. The old Office 365 connector MessageCards are retired by Microsoft.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from resonanz.alerts.findings import SEGMENT_LABELS, num
from resonanz.alerts.rules import SEVERITY_NAMES
from store.models import Alert

FORMATS = ("generic", "slack", "mattermost", "teams")
EVENT_NAMES = {"new": "Neuer Alarm", "update": "Aktualisiert", "resolved": "Erledigt"}
SCHEMA = "resonanz.alert/1"


@dataclass(frozen=True)
class PostLine:
    author: str
    who: str
    """Class and value in words, e.g. 'A-Kunde Hotel Rheinblick GmbH, 34.400 € Umsatz'."""
    platform: str
    when: str
    text: str
    url: str | None


@dataclass(frozen=True)
class AlertView:
    """An alert as every channel shows it."""

    id: int
    key: str
    rule: str
    kind: str
    severity: int
    status: str
    title: str
    summary: str
    subject: str
    started_at: datetime
    first_seen_at: datetime
    observed: float
    expected: float
    statistic: float
    posts: tuple[PostLine, ...]
    related: tuple[str, ...]
    action_url: str
    alert_url: str
    updates: int

    @property
    def severity_name(self) -> str:
        return SEVERITY_NAMES[self.severity]


def _who(p: dict[str, Any]) -> str:
    segment = str(p.get("segment") or "prospect")
    parts = [SEGMENT_LABELS.get(segment, segment)]
    if p.get("customer"):
        parts[0] += f" {p['customer']}"
    if p.get("revenue") is not None:
        parts.append(f"{num(float(p['revenue']), 0)} € Umsatz")
    parts.append(f"Gewicht {num(float(p.get('weight') or 0.0), 1)}")
    return ", ".join(parts)


def view(alert: Alert, public_url: str, tz: str = "Europe/Berlin") -> AlertView:
    assert alert.id is not None
    base = public_url.rstrip("/")
    explanation = alert.explanation or {}
    zone = ZoneInfo(tz)
    posts = tuple(
        PostLine(
            author=str(p.get("author") or "unbekannt"),
            who=_who(p),
            platform=str(p.get("platform") or ""),
            when=str(p.get("created_at") or "")[:16].replace("T", " "),
            text=" ".join(str(p.get("text") or "").split())[:280],
            url=p.get("url"),
        )
        for p in explanation.get("top_posts", [])
    )
    alert_url = f"{base}/alerts/{alert.id}"
    items = alert.review_item_ids or []
    action = f"{base}/queue/{items[-1]}" if alert.kind == "customer" and items else alert_url
    return AlertView(
        id=alert.id,
        key=alert.key,
        rule=alert.rule,
        kind=alert.kind,
        severity=alert.severity,
        status=alert.status,
        title=alert.title,
        summary=alert.summary,
        subject=alert.subject,
        started_at=alert.started_at.astimezone(zone),
        first_seen_at=alert.first_seen_at.astimezone(zone),
        observed=alert.observed,
        expected=alert.expected,
        statistic=alert.statistic,
        posts=posts,
        related=tuple(str(r.get("summary", "")) for r in explanation.get("related", [])),
        action_url=action,
        alert_url=alert_url,
        updates=alert.updates,
    )


def subject_line(v: AlertView, event: str) -> str:
    prefix = "" if event == "new" else f"{EVENT_NAMES.get(event, event)}: "
    return f"[Resonanz {v.severity_name}] {prefix}{v.title}"[:200]


def _when(t: datetime) -> str:
    return t.strftime("%d.%m.%Y %H:%M")


def text_body(v: AlertView, event: str) -> str:
    """The plain-text message (e-mail, and the Markdown of chat formats without the asterisks)."""
    lines = [
        f"{EVENT_NAMES.get(event, event)} · {v.severity_name} · {v.subject}",
        "",
        v.summary,
        "",
        f"Beginn: {_when(v.started_at)} · erkannt: {_when(v.first_seen_at)} (Europe/Berlin)",
    ]
    if v.posts:
        lines += ["", "Wichtigste Beiträge:"]
        for p in v.posts:
            lines.append(f"- {p.author} ({p.who}) auf {p.platform}, {p.when}: „{p.text}“")
            if p.url:
                lines.append(f"  {p.url}")
    if v.related:
        lines += ["", "Dazu gehört auch:"] + [f"- {r}" for r in v.related]
    lines += ["", f"Jetzt handeln: {v.action_url}"]
    if v.action_url != v.alert_url:
        lines.append(f"Alarm: {v.alert_url}")
    return "\n".join(lines)


def generic(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "event": event,
        "idempotency_key": idempotency_key,
        "alert": {
            "id": v.id,
            "key": v.key,
            "rule": v.rule,
            "kind": v.kind,
            "severity": v.severity,
            "severity_name": v.severity_name,
            "status": v.status,
            "title": v.title,
            "summary": v.summary,
            "subject": v.subject,
            "started_at": v.started_at.isoformat(),
            "first_seen_at": v.first_seen_at.isoformat(),
            "observed": v.observed,
            "expected": v.expected,
            "statistic": v.statistic,
            "updates": v.updates,
            "top_posts": [p.__dict__ for p in v.posts],
            "related": list(v.related),
            "action_url": v.action_url,
            "alert_url": v.alert_url,
        },
    }


def _markdown(v: AlertView, event: str, bold: str) -> str:
    head = f"{bold}{EVENT_NAMES.get(event, event)} ({v.severity_name}): {v.title}{bold}"
    lines = [head, v.summary]
    for p in v.posts[:3]:
        lines.append(f"> {p.author} ({p.who}), {p.platform}: „{p.text[:200]}“")
    lines.append(f"Jetzt handeln: {v.action_url}")
    return "\n".join(lines)


def slack(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    posts = "\n".join(f"> *{p.author}* ({p.who}), {p.platform}: „{p.text[:200]}“" for p in v.posts[:3])
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"{v.severity_name}: {v.title}"[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": v.summary[:2900]}},
    ]
    if posts:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": posts[:2900]}})
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Jetzt handeln"}, "url": v.action_url}
            ],
        }  # fmt: skip
    )
    return {"text": _markdown(v, event, "*"), "blocks": blocks}


def mattermost(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    return {"text": _markdown(v, event, "**"), "username": "Resonanz"}


def teams(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    facts = [
        {"title": "Schwere", "value": v.severity_name},
        {"title": "Betrifft", "value": v.subject},
        {"title": "Beginn", "value": _when(v.started_at)},
    ]
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
         "text": f"{EVENT_NAMES.get(event, event)}: {v.title}"},
        {"type": "TextBlock", "wrap": True, "text": v.summary},
        {"type": "FactSet", "facts": facts},
    ]  # fmt: skip
    for p in v.posts[:3]:
        body.append({"type": "TextBlock", "wrap": True, "isSubtle": True,
                     "text": f"{p.author} ({p.who}), {p.platform}: „{p.text[:200]}“"})  # fmt: skip
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "actions": [{"type": "Action.OpenUrl", "title": "Jetzt handeln", "url": v.action_url}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


BUILDERS = {"generic": generic, "slack": slack, "mattermost": mattermost, "teams": teams}


def body(fmt: str, v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    return BUILDERS[fmt](v, event, idempotency_key)
