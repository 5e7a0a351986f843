"""Login and logout."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from resonanz.core.i18n import _
from resonanz.web.accounts import authenticate
from resonanz.web.deps import current_user, get_session, verify_csrf
from resonanz.web.security import csrf_token, safe_next
from resonanz.web.sessions import LoginThrottle, open_session, revoke_session
from resonanz.web.templating import render, request_language
from store.models import User

log = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(request_language)])


@router.get("/login")
def login_page(request: Request, next: str = "/queue") -> Response:
    return render(request, "login.html", next=safe_next(next), error=None)


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    next: str = Form("/queue"),
    session: Session = Depends(get_session),
) -> Response:
    throttle: LoginThrottle = request.app.state.login_throttle
    account, address = username.strip(), request.client.host if request.client else "-"
    wait = throttle.retry_after(account, address)
    if wait:
        log.warning("login for %r from %s throttled for %d s", account, address, wait)
        return render(
            request,
            "login.html",
            status_code=429,
            next=safe_next(next),
            error=_("Too many failed logins. Please try again in {minutes} minutes.").format(
                minutes=max(1, -(-wait // 60))
            ),
        )
    user = authenticate(session, account, password)
    if user is None:
        throttle.failed(account, address)
        log.warning("failed login for %r", username)
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            error=_("Wrong user name or password, or the account is deactivated."),
        )
    throttle.succeeded(account)
    assert user.id is not None
    token = open_session(session, user.id)
    session.commit()
    request.session.clear()  # a fresh session (and CSRF token) after login
    request.session["sid"] = token
    csrf_token(request)
    log.info("%s logged in", user.username)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request, user: User = Depends(current_user), session: Session = Depends(get_session)) -> Response:
    revoke_session(session, request.session.get("sid"))  # a copied cookie is worth nothing after this
    session.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
