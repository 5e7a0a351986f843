"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from resonanz.core.errors import NotFoundError
from resonanz.core.settings import Settings
from resonanz.digest import charts
from resonanz.review.standing import refresh_standing
from resonanz.web import (
    routes_admin,
    routes_alerts,
    routes_auth,
    routes_competitors,
    routes_pages,
    routes_queue,
    routes_search,
    routes_sources,
)
from resonanz.web.deps import LoginRequired
from resonanz.web.pagecache import PageCache
from resonanz.web.security import SecurityHeaders, secret_key
from resonanz.web.sessions import LoginThrottle
from resonanz.web.templating import compile_templates, make_templates, render
from store.db import session_scope

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "resonanz_session"
SESSION_MAX_AGE = 12 * 3600
"""The cookie's lifetime; the server-side session (resonanz.web.sessions) ends at the same age or at logout."""


def create_app(settings: Settings, engine: Engine | None = None, *, preload: bool = False) -> FastAPI:
    """The web app. Without ``engine`` the configured database is opened (and migrated) at startup.
    ``preload``: load in background threads now what the first pages would load (what ``resonanz serve`` does):
    matplotlib (:func:`resonanz.digest.charts.preload`) and the compiled templates; and it sends itself one request
    before it returns (:func:`warm_routes`)."""
    app = FastAPI(title="Resonanz", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.templates = make_templates()
    if preload:
        charts.preload()
        threading.Thread(
            target=compile_templates, args=(app.state.templates,), name="resonanz-templates-preload", daemon=True
        ).start()
    if engine is None:
        from resonanz.core.db import engine_from_settings

        engine = engine_from_settings(settings)
        with session_scope(engine) as session:  # an upgraded database: the queue's order kept on its items, once
            refresh_standing(session, missing_only=True)
    app.state.engine = engine
    app.state.page_cache = PageCache(engine)
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key(settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.web.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (routes_auth, routes_queue, routes_pages, routes_admin, routes_sources, routes_alerts, routes_search,
                   routes_competitors):  # fmt: skip
        app.include_router(module.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={_quote(exc.next_path)}", status_code=303)

    @app.exception_handler(NotFoundError)
    async def _missing(request: Request, exc: NotFoundError) -> Response:
        return render(request, "error.html", status_code=404, message=str(exc))

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> Response:
        # an id or number beyond what the database stores (/queue/99999999999999999999): a bad request
        return render(request, "error.html", status_code=400, message="Wert außerhalb des gültigen Bereichs.")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return render(request, "error.html", status_code=exc.status_code, message=str(exc.detail))

    if preload:  # before the app serves: in a thread of its own, as the factory may run inside uvicorn's event loop
        warm_up = threading.Thread(target=_warm_up, args=(app,), name="resonanz-routes-warm-up", daemon=True)
        warm_up.start()
        warm_up.join()
    return app


WARM_PATH = "/.well-known/resonanz-warm-up"
"""The path of :func:`warm_routes`' request: no route has it, so every router is matched against it."""


def warm_routes(app: FastAPI) -> int:
    """Send the app one request for a path no route has (:data:`WARM_PATH`, answered 404 with the error page), in
    this thread, and return its status.

    Why: FastAPI (0.165) works out each router's routes and their dependencies when a request first meets them,
    and Starlette builds the middleware stack on the first request: 0.35-0.5 s on a 2-core machine that the first
    page of every web worker paid. A request that matches nothing meets every router. It goes through the ASGI
    interface only, with no client, cookie or session. :func:`create_app` waits for it (the server starts that much
    later) rather than running it beside the first requests: building the routes swaps the process's warning filters,
    which is not safe while another thread does the same."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": WARM_PATH, "raw_path": WARM_PATH.encode(), "root_path": "", "query_string": b"", "headers": [],
        "client": None, "server": ("warm-up", 80), "app": app,
    }  # fmt: skip
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))

    asyncio.run(app(scope, receive, send))
    log.debug("routes warmed up (%s)", status[0] if status else "no answer")
    return status[0] if status else 0


def _warm_up(app: FastAPI) -> None:
    """:func:`warm_routes`; a failure is logged and the app served all the same (its first request does the work)."""
    try:
        warm_routes(app)
    except Exception:
        log.warning("the warm-up request failed; the first page builds the routes instead", exc_info=True)


def app_from_settings() -> FastAPI:
    """The app of the configured settings: the factory each ``resonanz serve --workers N`` process calls."""
    from resonanz.core.settings import get_settings

    return create_app(get_settings(), preload=True)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")
