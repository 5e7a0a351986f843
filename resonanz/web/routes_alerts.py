"""The alert pages: the list (open / acknowledged / resolved), one alert with its explanation, posts, queue
items, messages and audit trail, the actions on it, and the rules (administrators change them)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session, col, select

from resonanz.alerts.evaluate import load_rules
from resonanz.alerts.incidents import ACTIVE, STATUS_NAMES, acknowledge, get_alert, reopen, resolve
from resonanz.alerts.rule_store import form_values, reset_override, save_override
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.alerts.shapes import alert_summary, alert_title, view
from resonanz.core.errors import ActionError, AlertRuleError, NotFoundError
from resonanz.core.i18n import N_, _
from resonanz.core.settings import Settings
from resonanz.web.deps import acting_user, admin_user, current_user, get_session, get_settings
from resonanz.web.templating import flash, render, request_language
from store.models import Alert, AlertEvent, AlertNotification, ReviewItem, User

router = APIRouter(dependencies=[Depends(request_language)])
PAGE = 100
EVENT_NAMES = {
    "raised": N_("raised"), "updated": N_("updated"), "escalated": N_("escalated"), "correlated": N_("correlated"),
    "reopened": N_("reopened"), "acknowledged": N_("acknowledged"), "resolved": N_("resolved"),
    "notified": N_("sent"), "notify_retry": N_("sending is retried"), "notify_failed": N_("sending failed"),
    "held_quiet_hours": N_("waits for the end of the quiet hours"),
}  # fmt: skip
"""English msgids, translated in alert.html."""


@router.get("/alerts")
def alerts_page(
    request: Request,
    status: str = Query(default="active", pattern="^(active|open|acknowledged|resolved|all)$"),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
) -> Response:
    query = select(Alert).order_by(col(Alert.first_seen_at).desc(), col(Alert.id).desc()).limit(PAGE)
    if status == "active":
        query = query.where(col(Alert.status).in_(ACTIVE))
    elif status != "all":
        query = query.where(col(Alert.status) == status)
    rows = session.exec(query).all()
    return render(request, "alerts.html", alerts=rows, status=status, status_names=STATUS_NAMES,
                  severity_names=SEVERITY_NAMES, alert_title=alert_title, alert_summary=alert_summary)  # fmt: skip


@router.get("/alerts/rules")
def rules_page(
    request: Request,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    error = None
    try:
        rules = load_rules(session, settings)
    except AlertRuleError as exc:
        rules, error = [], str(exc)
    return render(request, "alert_rules.html", rules=rules, forms={r.name: form_values(r) for r in rules},
                  severity_names=SEVERITY_NAMES, error=error)  # fmt: skip


@router.post("/alerts/rules/{name}")
async def save_rule(
    request: Request,
    name: str,
    user: User = Depends(admin_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "enabled") and isinstance(v, str)}
    values["enabled"] = "true" if form.get("enabled") else "false"
    try:
        save_override(session, settings, name, values, user.username)
        session.commit()
        flash(request, _("Rule {name} saved; it applies from the next evaluation pass on.").format(name=name), "ok")
    except (AlertRuleError, NotFoundError) as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse(f"/alerts/rules#rule-{name}", status_code=303)


@router.post("/alerts/rules/{name}/reset")
def reset_rule(
    request: Request, name: str, user: User = Depends(admin_user), session: Session = Depends(get_session)
) -> Response:
    if reset_override(session, name):
        session.commit()
        flash(request, _("Rule {name}: the values from the configuration apply again.").format(name=name), "ok")
    return RedirectResponse(f"/alerts/rules#rule-{name}", status_code=303)


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request,
    alert_id: int,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    alert = get_alert(session, alert_id)
    events = session.exec(
        select(AlertEvent).where(col(AlertEvent.alert_id) == alert_id).order_by(col(AlertEvent.id))
    ).all()
    messages = session.exec(
        select(AlertNotification).where(col(AlertNotification.alert_id) == alert_id).order_by(col(AlertNotification.id))
    ).all()  # fmt: skip
    item_ids = list(alert.review_item_ids or [])[-50:]
    items = session.exec(select(ReviewItem).where(col(ReviewItem.id).in_(item_ids))).all() if item_ids else []
    return render(
        request,
        "alert.html",
        a=alert,
        v=view(alert, "", settings.digest.timezone),
        explanation=alert.explanation or {},
        events=events,
        messages=messages,
        items=sorted(items, key=lambda i: -(i.id or 0)),
        status_names=STATUS_NAMES,
        severity_names=SEVERITY_NAMES,
        event_names=EVENT_NAMES,
    )


def _act(request: Request, alert_id: int, session: Session, user: User, action: str, note: str) -> Response:
    actions = {
        "ack": (acknowledge, N_("Alert {id} acknowledged.")),
        "resolve": (resolve, N_("Alert {id} resolved.")),
        "reopen": (reopen, N_("Alert {id} open again.")),
    }
    fn, done = actions[action]
    try:
        fn(session, alert_id, user.username, note.strip()[:2000])
        session.commit()
        flash(request, _(done).format(id=alert_id), "ok")
    except ActionError as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/ack")
def ack_alert(
    request: Request,
    alert_id: int,
    note: str = Form(""),
    user: User = Depends(acting_user),
    session: Session = Depends(get_session),
) -> Response:
    return _act(request, alert_id, session, user, "ack", note)


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(
    request: Request,
    alert_id: int,
    note: str = Form(""),
    user: User = Depends(acting_user),
    session: Session = Depends(get_session),
) -> Response:
    return _act(request, alert_id, session, user, "resolve", note)


@router.post("/alerts/{alert_id}/reopen")
def reopen_alert(
    request: Request,
    alert_id: int,
    note: str = Form(""),
    user: User = Depends(acting_user),
    session: Session = Depends(get_session),
) -> Response:
    return _act(request, alert_id, session, user, "reopen", note)
