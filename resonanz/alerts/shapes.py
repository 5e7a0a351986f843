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

from resonanz.alerts.findings import SEGMENT_LABELS, shown
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.core import i18n
from resonanz.core.i18n import N_, _
from store.models import Alert

FORMATS = ("generic", "slack", "mattermost", "teams")
EVENT_NAMES = {"new": N_("New alert"), "update": N_("Updated"), "resolved": N_("Resolved")}
"""English msgids; :func:`event_name` translates (``settings.language``, set by the sender)."""


def event_name(event: str) -> str:
    return _(EVENT_NAMES[event]) if event in EVENT_NAMES else event


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


def alert_summary(alert: Alert) -> str:
    """The alert's summary in the current language (the stored text for alerts stored without a code)."""
    return shown(alert.summary, ((alert.explanation or {}).get("texts") or {}).get("summary"))


def alert_title(alert: Alert) -> str:
    """The alert's title in the current language (the stored text for alerts stored without a code)."""
    return shown(alert.title, ((alert.explanation or {}).get("texts") or {}).get("title"))


def _who(p: dict[str, Any]) -> str:
    segment = str(p.get("segment") or "prospect")
    parts = [SEGMENT_LABELS.get(segment, segment)]
    if p.get("customer"):
        parts[0] += f" {p['customer']}"
    if p.get("revenue") is not None:
        parts.append(_("{revenue} revenue").format(revenue=i18n.currency(float(p["revenue"]))))
    parts.append(_("weight {weight}").format(weight=i18n.number(float(p.get("weight") or 0.0), 1)))
    return ", ".join(parts)


def view(alert: Alert, public_url: str, tz: str = "Europe/Berlin") -> AlertView:
    assert alert.id is not None
    base = public_url.rstrip("/")
    explanation = alert.explanation or {}
    zone = ZoneInfo(tz)
    posts = tuple(
        PostLine(
            author=str(p.get("author") or _("unknown")),
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
        title=alert_title(alert),
        summary=alert_summary(alert),
        subject=alert.subject,
        started_at=alert.started_at.astimezone(zone),
        first_seen_at=alert.first_seen_at.astimezone(zone),
        observed=alert.observed,
        expected=alert.expected,
        statistic=alert.statistic,
        posts=posts,
        related=tuple(shown(str(r.get("summary", "")), r.get("text")) for r in explanation.get("related", [])),
        action_url=action,
        alert_url=alert_url,
        updates=alert.updates,
    )


def subject_line(v: AlertView, event: str) -> str:
    prefix = "" if event == "new" else f"{event_name(event)}: "
    return f"[Resonanz {v.severity_name}] {prefix}{v.title}"[:200]


def _when(t: datetime) -> str:
    """Europe/Berlin with its zone: ``24.11.2026, 09:15 MEZ``."""
    return i18n.datetime(t, tz=str(t.tzinfo) if t.tzinfo else i18n.TIME_ZONE)


def text_body(v: AlertView, event: str) -> str:
    """The plain-text message (e-mail, and the Markdown of chat formats without the asterisks)."""
    lines = [
        f"{event_name(event)} · {v.severity_name} · {v.subject}",
        "",
        v.summary,
        "",
        _("Started: {start} · detected: {seen}").format(start=_when(v.started_at), seen=_when(v.first_seen_at)),
    ]
    if v.posts:
        lines += ["", _("Top posts:")]
        for p in v.posts:
            lines.append(
                _("- {author} ({who}) on {platform}, {when}: „{text}“").format(
                    author=p.author, who=p.who, platform=p.platform, when=p.when, text=p.text
                )
            )
            if p.url:
                lines.append(f"  {p.url}")
    if v.related:
        lines += ["", _("Also part of this:")] + [f"- {r}" for r in v.related]
    lines += ["", _("Act now: {url}").format(url=v.action_url)]
    if v.action_url != v.alert_url:
        lines.append(_("Alert: {url}").format(url=v.alert_url))
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
    head = f"{bold}{event_name(event)} ({v.severity_name}): {v.title}{bold}"
    lines = [head, v.summary]
    for p in v.posts[:3]:
        lines.append(f"> {p.author} ({p.who}), {p.platform}: „{p.text[:200]}“")
    lines.append(_("Act now: {url}").format(url=v.action_url))
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
            "elements": [{"type": "button", "text": {"type": "plain_text", "text": _("Act now")}, "url": v.action_url}],
        }  # fmt: skip
    )
    return {"text": _markdown(v, event, "*"), "blocks": blocks}


def mattermost(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    return {"text": _markdown(v, event, "**"), "username": "Resonanz"}


def teams(v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    facts = [
        {"title": _("Severity"), "value": v.severity_name},
        {"title": _("Concerns"), "value": v.subject},
        {"title": _("Started"), "value": _when(v.started_at)},
    ]
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": True,
         "text": f"{event_name(event)}: {v.title}"},
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
        "actions": [{"type": "Action.OpenUrl", "title": _("Act now"), "url": v.action_url}],
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


BUILDERS = {"generic": generic, "slack": slack, "mattermost": mattermost, "teams": teams}


def body(fmt: str, v: AlertView, event: str, idempotency_key: str) -> dict[str, Any]:
    return BUILDERS[fmt](v, event, idempotency_key)
