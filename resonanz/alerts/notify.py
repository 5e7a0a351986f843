"""Sending alerts: e-mail (the digest's SMTP path) and webhooks, from the outbox ``alert_notification``.

* **Once**: a message is claimed (``pending`` -> ``sending``) before it goes out, so two processes
  (``resonanz run`` and ``resonanz alerts check``) never send it twice; every retry of one message carries
  the same ``Idempotency-Key`` header and ``idempotency_key`` field, so a receiver can drop a repeat that a
  lost answer caused. A claim older than :data:`STALE_CLAIM` (the process died mid-send) is retried.
* **Retry with backoff**: within a pass ``retry_attempts`` tries, ``retry_base_seconds`` doubling; then the
  message waits for a later pass (backoff doubling up to an hour) until ``max_attempts``, then it is marked
  failed and the alert's audit trail says why. HTTP 408/425/429/5xx and connection errors are retried; any
  other 4xx is a configuration error and fails at once (with what to check).
* **Quiet hours** (Europe/Berlin, ``alerts.quiet_hours``): messages of alerts below ``quiet_min_severity``
  wait until the quiet hours end; kritisch (an A customer leaving) goes out at once. A message that waits
  sends the alert's state at sending time: one message, not one per update.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.alerts.incidents import Channel
from resonanz.alerts.shapes import FORMATS, AlertView, body, subject_line, text_body, view
from resonanz.core import i18n
from resonanz.core.errors import AlertError, MailError, NotifyError
from resonanz.core.settings import Settings, WebhookSettings
from store.db import session_scope
from store.models import Alert, AlertEvent, AlertNotification
from store.types import as_utc, utcnow

log = logging.getLogger(__name__)

ACTOR = "resonanz-notify"
STALE_CLAIM = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
RETRY_STATUS = (408, 425, 429)
TIMEOUT = 15.0
USER_AGENT = "Resonanz-Alerts/1"


class TransientNotifyError(NotifyError):
    """Worth another try later (the receiver is down, busy or unreachable)."""


def parse_quiet_hours(spec: str) -> tuple[dtime, dtime] | None:
    """``"22:00-07:00"`` -> (22:00, 07:00); empty -> None."""
    if not spec.strip():
        return None
    try:
        start, end = (dtime.fromisoformat(part.strip()) for part in spec.split("-", 1))
    except ValueError:
        raise AlertError(
            f"alerts.quiet_hours {spec!r} ist ungültig; Form 'HH:MM-HH:MM' (z. B. '22:00-07:00') oder leer."
        ) from None
    return start, end


def quiet_until(now: datetime, spec: str, tz: str = "Europe/Berlin") -> datetime | None:
    """When the quiet hours that ``now`` falls into end (UTC), or None outside quiet hours."""
    window = parse_quiet_hours(spec)
    if window is None:
        return None
    start, end = window
    local = now.astimezone(ZoneInfo(tz))
    t = local.time().replace(tzinfo=None)
    if start == end:
        return None
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local.date() if t < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def recipients(settings: Settings) -> list[str]:
    return [r for r in (settings.alerts.email_recipients or settings.digest.recipients) if r]


def hook_name(hook: WebhookSettings, index: int) -> str:
    return hook.name or f"{hook.format}-{index + 1}"


def channels(settings: Settings) -> list[Channel]:
    """The configured channels: e-mail when there are recipients, one per webhook."""
    out = [Channel("email", 1)] if recipients(settings) else []
    for i, hook in enumerate(settings.alerts.webhooks):
        if hook.format not in FORMATS:
            raise AlertError(
                f"Webhook {hook_name(hook, i)}: format {hook.format!r} gibt es nicht; {', '.join(FORMATS)}."
            )
        out.append(Channel(f"webhook:{hook_name(hook, i)}", hook.min_severity))
    return out


def _hooks(settings: Settings) -> dict[str, WebhookSettings]:
    return {f"webhook:{hook_name(h, i)}": h for i, h in enumerate(settings.alerts.webhooks)}


# --- the senders ------------------------------------------------------------------------------------------


def email_message(v: AlertView, event: str, sender: str, to: Sequence[str], idempotency_key: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject_line(v, event)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(idstring=idempotency_key.replace(":", "-"), domain="resonanz.local")
    msg["X-Resonanz-Alert"] = str(v.id)
    msg.set_content(text_body(v, event))
    return msg


def send_email(
    settings: Settings, v: AlertView, event: str, key: str, ssl_context: ssl.SSLContext | None = None
) -> None:
    from resonanz.digest.mailer import deliver

    to = recipients(settings)
    msg = email_message(v, event, settings.smtp.sender, to, key)
    try:
        deliver(msg, settings.smtp, to, ssl_context)
    except MailError as exc:
        raise TransientNotifyError(f"E-Mail: {exc}") from exc


def send_webhook(
    hook: WebhookSettings, name: str, v: AlertView, event: str, key: str, transport: httpx.BaseTransport | None = None
) -> None:
    payload = body(hook.format, v, event, key)
    headers = {"Idempotency-Key": key, "User-Agent": USER_AGENT}
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False) as client:
            response = client.post(hook.url, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        raise TransientNotifyError(
            f"Webhook {name} nicht erreichbar ({type(exc).__name__}); läuft der Empfänger?"
        ) from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    if status in RETRY_STATUS or status >= 500:
        raise TransientNotifyError(f"Webhook {name} antwortet HTTP {status}; wird wiederholt.")
    raise NotifyError(
        f"Webhook {name} lehnt die Nachricht ab (HTTP {status}); URL und Format in [[alerts.webhooks]] prüfen."
    )


def with_retry(send: Callable[[], None], attempts: int, base_seconds: float, sleep: Callable[[float], None]) -> int:
    """Call ``send`` until it succeeds, at most ``attempts`` times, sleeping base x 2^i between tries on a
    :class:`TransientNotifyError`; returns the tries used. Other errors are raised at once."""
    last: TransientNotifyError | None = None
    for i in range(max(1, attempts)):
        try:
            send()
            return i + 1
        except TransientNotifyError as exc:
            last = exc
            log.info("alert message failed (try %d of %d): %s", i + 1, attempts, exc)
            if i + 1 < attempts:
                sleep(base_seconds * 2**i)
    assert last is not None
    raise last


# --- the outbox -------------------------------------------------------------------------------------------


@dataclass
class DispatchReport:
    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    retry_later: list[int] = field(default_factory=list)


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending, or claimed by a process that died mid-send (see :data:`STALE_CLAIM`)."""
    n = AlertNotification
    return or_(
        col(n.status) == "pending",
        and_(col(n.status) == "sending", col(n.next_attempt_at) < now - STALE_CLAIM),
    )


def _claim(engine: Engine, note_id: int, now: datetime) -> bool:
    with session_scope(engine) as session:
        result = session.execute(
            update(AlertNotification)
            .where(col(AlertNotification.id) == note_id, _claimable(now))
            .values(status="sending", next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1


def dispatch(
    engine: Engine,
    settings: Settings,
    now: datetime | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> DispatchReport:
    """Send every message that is due at ``now`` (see the module docstring)."""
    now = now or utcnow()
    cfg = settings.alerts
    tz = settings.digest.timezone
    report = DispatchReport()
    hooks = _hooks(settings)
    quiet_end = quiet_until(now, cfg.quiet_hours, tz)
    with session_scope(engine) as session:
        n = AlertNotification
        due = session.execute(
            select(col(n.id), col(n.alert_id), col(Alert.severity))
            .join(Alert, col(Alert.id) == col(n.alert_id))
            .where(_claimable(now), or_(col(n.status) == "sending", col(n.next_attempt_at) <= now))
            .order_by(col(n.id))
        ).all()
    for note_id, alert_id, severity in due:
        if quiet_end is not None and severity < cfg.quiet_min_severity:
            _hold(engine, note_id, alert_id, quiet_end, now)
            report.held.append(note_id)
            continue
        if not _claim(engine, note_id, now):
            continue
        _send_one(engine, settings, note_id, hooks, now, report, sleep, transport, ssl_context)
    return report


def dispatch_due(engine: Engine, settings: Settings, now: datetime) -> tuple[int, int, int]:
    """:func:`dispatch` for the evaluation pass: (sent, failed, held). Quiet hours use ``now``."""
    r = dispatch(engine, settings, now, sleep=time.sleep)
    return len(r.sent), len(r.failed), len(r.held)


def _hold(engine: Engine, note_id: int, alert_id: int, until: datetime, now: datetime) -> None:
    with session_scope(engine) as session:
        note = session.get(AlertNotification, note_id)
        if note is None or (as_utc(note.next_attempt_at) or now) >= until:
            return
        note.next_attempt_at = until
        session.add(note)
        session.add(AlertEvent(alert_id=alert_id, actor=ACTOR, action="held_quiet_hours", at=now,
                               detail={"channel": note.channel, "until": until.isoformat()}))  # fmt: skip


def _send_one(
    engine: Engine,
    settings: Settings,
    note_id: int,
    hooks: dict[str, WebhookSettings],
    now: datetime,
    report: DispatchReport,
    sleep: Callable[[float], None],
    transport: httpx.BaseTransport | None,
    ssl_context: ssl.SSLContext | None,
) -> None:
    cfg = settings.alerts
    with session_scope(engine) as session:
        note = session.get(AlertNotification, note_id)
        assert note is not None
        alert = session.get(Alert, note.alert_id)
        assert alert is not None
        with i18n.language(settings.language):
            v = view(alert, cfg.public_url, settings.digest.timezone)
        channel, event, key = note.channel, note.event, note.idempotency_key
    hook = hooks.get(channel)

    def send() -> None:
        with i18n.language(settings.language):  # the message's texts, numbers and times
            if channel == "email":
                send_email(settings, v, event, key, ssl_context)
            elif hook is not None:
                send_webhook(hook, channel.removeprefix("webhook:"), v, event, key, transport)
            else:
                raise NotifyError(f"Kanal {channel} ist nicht mehr konfiguriert; die Nachricht wird verworfen.")

    error: NotifyError | None = None
    permanent = False
    tries = 0
    try:
        tries = with_retry(send, cfg.retry_attempts, cfg.retry_base_seconds, sleep)
    except TransientNotifyError as exc:
        error, tries = exc, cfg.retry_attempts
    except NotifyError as exc:
        error, permanent, tries = exc, True, 1
    with session_scope(engine) as session:
        note = session.get(AlertNotification, note_id)
        assert note is not None
        note.attempts += tries
        done = utcnow()
        if error is None:
            note.status, note.sent_at, note.last_error = "sent", done, None
            report.sent.append(note_id)
            action, detail = "notified", {"channel": channel, "event": event, "attempts": note.attempts}
        elif permanent or note.attempts >= cfg.max_attempts:
            note.status, note.last_error = "failed", str(error)
            report.failed.append(note_id)
            action, detail = "notify_failed", {"channel": channel, "event": event, "error": str(error)}
            log.error("alert %s: message to %s failed for good: %s", note.alert_id, channel, error)
        else:
            backoff = min(timedelta(seconds=cfg.retry_base_seconds * 2**note.attempts), MAX_BACKOFF)
            note.status, note.last_error, note.next_attempt_at = "pending", str(error), now + backoff
            report.retry_later.append(note_id)
            action, detail = "notify_retry", {"channel": channel, "event": event, "error": str(error),
                                              "next": note.next_attempt_at.isoformat()}  # fmt: skip
        session.add(note)
        session.add(AlertEvent(alert_id=note.alert_id, actor=ACTOR, action=action, detail=detail, at=done))
