"""FastAPI dependencies: database session, settings, the logged-in user, roles and CSRF checks."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, HTTPException, Request
from sqlmodel import Session

from resonanz.core.i18n import _
from resonanz.core.settings import Settings
from resonanz.web.accounts import CAN_ACT
from resonanz.web.pagecache import PageCache
from resonanz.web.security import CSRF_FIELD, CSRF_HEADER, csrf_ok
from resonanz.web.sessions import session_user_id
from store.models import User


class LoginRequired(Exception):
    """Raised by ``current_user`` when nobody is logged in; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One database session per request, opened and closed on the event loop.

    Creating a session does no I/O and closing one only hands its connection back to the pool, so both
    run on the loop instead of costing a worker-thread hop each; the queries themselves run in the sync
    dependencies and endpoints (worker threads).
    """
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


def page_cache(request: Request) -> PageCache:
    """The app's cache of rendered pages (see :mod:`resonanz.web.pagecache`)."""
    cache: PageCache = request.app.state.page_cache
    return cache


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def current_user(request: Request, session: Session = Depends(get_session)) -> User:
    token = request.session.get("sid")
    uid = session_user_id(session, token)
    user = session.get(User, uid) if uid is not None else None
    # end the read transaction: the connection goes back to the pool while this request waits for a
    # worker thread for its endpoint (under load, held connections would otherwise exhaust the pool)
    session.commit()
    if user is None or not user.active:
        if token is not None:
            request.session.pop("sid", None)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path if request.method == "GET" else "/queue")
    request.state.user = user
    return user


async def verify_csrf(request: Request) -> None:
    """Every POST carries the session's token as form field ``csrf_token`` (or header X-CSRF-Token)."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not csrf_ok(request, sent):
        raise HTTPException(
            status_code=403, detail=_("The form has expired or is not from this site. Reload the page.")
        )


def acting_user(user: User = Depends(current_user), _csrf: None = Depends(verify_csrf)) -> User:
    """Community managers and admins work the queue; analysts only read."""
    if user.role not in CAN_ACT:
        raise HTTPException(status_code=403, detail=_("Your role can read the queue but not act on it."))
    return user


def admin_reader(user: User = Depends(current_user)) -> User:
    if user.role != "admin":
        raise HTTPException(status_code=403, detail=_("Only administrators manage users."))
    return user


def admin_user(user: User = Depends(admin_reader), _csrf: None = Depends(verify_csrf)) -> User:
    return user
