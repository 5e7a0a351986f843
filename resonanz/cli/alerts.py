"""``resonanz alerts ...``: evaluate now, list and show alerts, acknowledge and resolve them, see the rules."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col

from resonanz.alerts.evaluate import evaluate, load_rules
from resonanz.alerts.incidents import ACTIVE, STATUS_NAMES, acknowledge, get_alert, resolve
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.alerts.shapes import alert_title, text_body, view
from resonanz.cli.common import CANNOT_START, FAILED, engine_or_exit, fail
from resonanz.core.errors import ActionError, AlertError, NotFoundError
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from store.db import session_scope
from store.models import Alert, AlertEvent
from store.types import as_utc

console = Console(soft_wrap=True)
alerts_app = typer.Typer(
    help=N_("Alerts: important customers leaving, spikes, new topics, viral posts."), no_args_is_help=True
)


def _local(t: datetime | None) -> str:
    from zoneinfo import ZoneInfo

    return t.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y %H:%M") if t else "–"


@alerts_app.command(
    "check",
    help=N_(
        "Evaluate now (as `resonanz run` does after every collection): reads only what came in since the last run."
    ),
)
def check_command(
    now: str | None = typer.Option(
        None, "--now", help=N_("A point in time (ISO 8601) instead of now, e.g. for a re-check.")
    ),
    notify: bool = typer.Option(
        True, "--notify/--no-notify", help=N_("Send the messages that are due (e-mail, webhooks).")
    ),
) -> None:
    """Evaluate now (as `resonanz run` does after every collection): reads only what came in since the last run."""
    settings = get_settings()
    at = None
    if now:
        try:
            at = as_utc(datetime.fromisoformat(now))
        except ValueError:
            raise fail(
                _("--now {value} is not a point in time; form 2026-11-16T08:00+01:00").format(value=repr(now)),
                CANNOT_START,
            ) from None
    engine = engine_or_exit()
    try:
        report = evaluate(engine, settings, now=at, notify=notify)
    except AlertError as exc:
        raise fail(exc, CANNOT_START) from None
    inc = report.incidents
    console.print(
        _(
            "{posts} posts read, {findings} threshold breaches: {raised} new alerts, {updated} updated, "
            "{reopened} reopened, {correlated} assigned, {resolved} resolved; messages: {sent} sent, "
            "{held} in quiet hours, {failed} failed ({seconds} s)."
        ).format(
            posts=report.posts_read,
            findings=len(report.findings),
            raised=len(inc.raised),
            updated=len(inc.updated),
            reopened=len(inc.reopened),
            correlated=len(inc.correlated),
            resolved=len(inc.resolved),
            sent=report.sent,
            held=report.held,
            failed=report.failed,
            seconds=f"{report.seconds:.2f}",
        ),
        highlight=False,
    )
    for finding in report.findings:
        console.print(f"  [bold]{SEVERITY_NAMES[finding.severity]}[/bold] {finding.summary}", highlight=False)
    for line in report.held_back:
        console.print(f"  [dim]{line}[/dim]", highlight=False)
    if report.failed:
        raise typer.Exit(code=FAILED)


@alerts_app.command("list", help=N_("The alerts, newest first."))
def list_command(
    status: list[str] = typer.Option([], "--status", "-s", help=N_("open, acknowledged, resolved (default: open).")),
    limit: int = typer.Option(50, "--limit", "-n"),
) -> None:
    """The alerts, newest first."""
    wanted = status or list(ACTIVE)
    unknown = sorted(set(wanted) - set(STATUS_NAMES))
    if unknown:
        message = _("Status {unknown} does not exist; allowed: {allowed}.")
        raise fail(message.format(unknown=", ".join(unknown), allowed=", ".join(STATUS_NAMES)), CANNOT_START)
    engine = engine_or_exit()
    with session_scope(engine) as session:
        rows = session.execute(
            select(Alert).where(col(Alert.status).in_(wanted)).order_by(col(Alert.first_seen_at).desc()).limit(limit)
        ).scalars()
        table = Table(_("No."), _("since"), _("Severity"), _("Status"), _("Rule"), _("Alert"))
        shown = 0
        for a in rows:
            table.add_row(str(a.id), _local(a.first_seen_at), SEVERITY_NAMES[a.severity],
                          STATUS_NAMES.get(a.status, a.status), a.rule, alert_title(a))  # fmt: skip
            shown += 1
    console.print(table if shown else _("No alerts with this status."))


@alerts_app.command("show", help=N_("One alert with its explanation, posts and history."))
def show_command(alert_id: int = typer.Argument(..., help=N_("No. from `resonanz alerts list`."))) -> None:
    """One alert with its explanation, posts and history."""
    settings = get_settings()
    engine = engine_or_exit()
    with session_scope(engine) as session:
        try:
            alert = get_alert(session, alert_id)
        except NotFoundError as exc:
            raise fail(exc, FAILED) from None
        console.print(text_body(view(alert, settings.alerts.public_url, settings.digest.timezone), "new"),
                      highlight=False)  # fmt: skip
        events = session.execute(
            select(AlertEvent).where(col(AlertEvent.alert_id) == alert_id).order_by(col(AlertEvent.at))
        ).scalars()
        console.print("\n" + _("History") + ":")
        for e in events:
            console.print(f"  {_local(e.at)} {e.actor}: {e.action}", highlight=False)


def _act(action: str, alert_id: int, actor: str, note: str) -> None:
    engine = engine_or_exit()
    try:
        with session_scope(engine) as session:
            alert = (acknowledge if action == "ack" else resolve)(session, alert_id, actor, note)
            console.print(_("Alert {id}: {status}.").format(id=alert.id, status=STATUS_NAMES[alert.status]))
    except (NotFoundError, ActionError) as exc:
        raise fail(exc, FAILED) from None


@alerts_app.command("ack", help=N_("Acknowledge an open alert: someone is on it."))
def ack_command(
    alert_id: int = typer.Argument(...),
    actor: str = typer.Option("cli", "--by", help=N_("Who (for the history).")),
    note: str = typer.Option("", "--note"),
) -> None:
    """Acknowledge an open alert: someone is on it."""
    _act("ack", alert_id, actor, note)


@alerts_app.command("resolve", help=N_("Resolve an alert; the same incident stays quiet for the cool-down."))
def resolve_command(
    alert_id: int = typer.Argument(...),
    actor: str = typer.Option("cli", "--by", help=N_("Who (for the history).")),
    note: str = typer.Option("", "--note"),
) -> None:
    """Resolve an alert; the same incident stays quiet for the cool-down."""
    _act("resolve", alert_id, actor, note)


@alerts_app.command(
    "rules",  # \\[ : rich markup would swallow a [section]
    help=N_("The rules in effect: defaults, \\[alerts.rules] from the TOML file, changes from the web app."),
)
def rules_command() -> None:
    """The rules in effect: defaults, [alerts.rules] from the TOML file, changes from the web app."""
    settings = get_settings()
    engine = engine_or_exit()
    try:
        with session_scope(engine) as session:
            rules = load_rules(session, settings)
    except AlertError as exc:
        raise fail(exc, CANNOT_START) from None
    for r in rules:
        state = _("on") if r.enabled else _("off")
        head = _("({kind}, {state}, {severity}, source: {source})").format(
            kind=r.kind.value, state=state, severity=SEVERITY_NAMES[r.severity], source=r.source
        )
        console.print(f"[bold]{r.name}[/bold] {head} – {r.title}", highlight=False)
        console.print("  " + ", ".join(f"{k}={v}" for k, v in r.param_dict().items()), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
