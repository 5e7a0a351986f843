"""Jinja2 templates (always autoescaped: post texts are untrusted), translated, and the page render helper.

Every text of a template is in ``{% trans %}`` or ``_()`` (English msgids, German catalogue: resonanz/core/i18n.py);
numbers, shares, times and codes go through ``answers.format.TEMPLATE_FILTERS``, in the language of the request
(``settings.language``; :func:`request_language` sets it for each route, :func:`render` for each page).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from resonanz.answers.format import TEMPLATE_FILTERS
from resonanz.core import i18n
from resonanz.digest.render import safe_url
from resonanz.web.accounts import CAN_ACT
from resonanz.web.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    # the callables read the language at render time: one environment serves German and English pages
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(TEMPLATE_FILTERS, safe_url=safe_url)
    env.globals.update(language=i18n.current_language)
    return Jinja2Templates(env=env)


def compile_templates(templates: Jinja2Templates) -> int:
    """Compile every template now and keep them in the environment's cache; returns how many. Jinja compiles a
    template at its first render (the ask page's took 100-150 ms more on its first view than on later ones)."""
    env = templates.env
    names = env.list_templates(extensions=["html"])
    for name in names:
        env.get_template(name)
    return len(names)


def _request_language(request: Request) -> str:
    settings = getattr(request.app.state, "settings", None)
    return str(getattr(settings, "language", i18n.DEFAULT_LANGUAGE))


async def request_language(request: Request) -> None:
    """Router dependency: the route's flash messages and errors in the app's language (``settings.language``).

    Async on purpose: it runs in the request's own context, which FastAPI copies into the worker thread of a
    sync endpoint, so ``_()`` there sees the language.
    """
    i18n.use_language(_request_language(request))


def flash(request: Request, message: str, kind: str = "info") -> None:
    messages = list(request.session.get("flash", []))
    messages.append([kind, message])
    request.session["flash"] = messages[-5:]


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
    user = getattr(request.state, "user", None)
    templates: Jinja2Templates = request.app.state.templates
    base = {
        "user": user,
        "can_act": bool(user and user.role in CAN_ACT),
        "is_admin": bool(user and user.role == "admin"),
        "csrf_token": csrf_token(request),
        "flashes": request.session.pop("flash", []),
        "path": request.url.path,
    }
    with i18n.language(_request_language(request)):
        return templates.TemplateResponse(request, name, base | context, status_code=status_code)
