"""Administration (administrators only): users, and the brand's own voice."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from resonanz.answers.format import role_label
from resonanz.core.errors import NotFoundError, UserError
from resonanz.core.i18n import N_, _
from resonanz.pipeline.brand import KINDS, BrandMarkerError, add_marker, list_markers, remove_marker
from resonanz.web.accounts import ROLES, add_user, list_users, set_active, set_role
from resonanz.web.deps import admin_reader, admin_user, get_session
from resonanz.web.templating import flash, render, request_language
from store.models import User

router = APIRouter(prefix="/admin", dependencies=[Depends(request_language)])


@router.get("/users")
def users_page(
    request: Request, user: User = Depends(admin_reader), session: Session = Depends(get_session)
) -> Response:
    return render(request, "users.html", users=list_users(session), roles=ROLES)


@router.post("/users")
def create_user(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    role: str = Form(...),
    user: User = Depends(admin_user),
    session: Session = Depends(get_session),
) -> Response:
    try:
        add_user(session, username.strip(), password, role)
        session.commit()
        flash(request, _("User {name} added as {role}.").format(name=username.strip(), role=role_label(role)), "ok")
    except UserError as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/active")
def change_active(
    request: Request,
    username: str,
    active: str = Form(...),
    user: User = Depends(admin_user),
    session: Session = Depends(get_session),
) -> Response:
    if username == user.username and active != "1":
        flash(request, _("You cannot deactivate yourself; ask another administrator."), "error")
        return RedirectResponse("/admin/users", status_code=303)
    try:
        set_active(session, username, active == "1")
        session.commit()
        done = _("{name} activated.") if active == "1" else _("{name} deactivated.")
        flash(request, done.format(name=username), "ok")
    except NotFoundError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{username}/role")
def change_role(
    request: Request,
    username: str,
    role: str = Form(...),
    user: User = Depends(admin_user),
    session: Session = Depends(get_session),
) -> Response:
    try:
        set_role(session, username, role)
        session.commit()
        flash(request, _("{name} is now {role}.").format(name=username, role=role_label(role)), "ok")
    except (UserError, NotFoundError) as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/users", status_code=303)


BRAND_KIND_LABELS = {"account": N_("Own account"), "signature": N_("Signature"), "advocate": N_("Employee")}
"""English msgids, translated in brand.html."""


@router.get("/brand")
def brand_page(
    request: Request, user: User = Depends(admin_reader), session: Session = Depends(get_session)
) -> Response:
    return render(request, "brand.html", markers=list_markers(session), kinds=KINDS, labels=BRAND_KIND_LABELS)


@router.post("/brand")
def brand_add(
    request: Request,
    kind: str = Form(...),
    value: str = Form(...),
    note: str = Form(""),
    user: User = Depends(admin_user),
) -> Response:
    try:
        report = add_marker(request.app.state.engine, kind, value, user.username, note.strip() or None)
        flash(request, _("Added. {summary}.").format(summary=report.summary()), "ok")
    except BrandMarkerError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/brand", status_code=303)


@router.post("/brand/{marker_id}/delete")
def brand_remove(request: Request, marker_id: int, user: User = Depends(admin_user)) -> Response:
    try:
        report = remove_marker(request.app.state.engine, marker_id)
        flash(request, _("Removed. {summary}.").format(summary=report.summary()), "ok")
    except BrandMarkerError as exc:
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/brand", status_code=303)
