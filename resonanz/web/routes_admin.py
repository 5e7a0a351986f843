"""User management (administrators only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from resonanz.core.errors import NotFoundError, UserError
from resonanz.web.accounts import ROLES, add_user, list_users, set_active, set_role
from resonanz.web.deps import admin_reader, admin_user, get_session
from resonanz.web.templating import flash, render
from store.models import User

router = APIRouter(prefix="/admin")


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
        flash(request, f"User {username.strip()} added as {role.replace('_', ' ')}.", "ok")
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
        flash(request, "You cannot deactivate yourself; ask another administrator.", "error")
        return RedirectResponse("/admin/users", status_code=303)
    try:
        set_active(session, username, active == "1")
        session.commit()
        flash(request, f"{username} {'activated' if active == '1' else 'deactivated'}.", "ok")
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
        flash(request, f"{username} is now {role.replace('_', ' ')}.", "ok")
    except (UserError, NotFoundError) as exc:
        session.rollback()
        flash(request, str(exc), "error")
    return RedirectResponse("/admin/users", status_code=303)
