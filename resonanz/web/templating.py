"""Jinja2 templates (always autoescaped: post texts are untrusted) and the page render helper."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from resonanz.answers.format import QUOTE_TITLES, SEGMENT_NAMES, net, pct, shorten
from resonanz.digest.render import safe_url
from resonanz.web.accounts import CAN_ACT
from resonanz.web.security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"
SEGMENT_SHORT = {"A": "A", "B": "B", "C": "C", "prospect": "prospect", "unvalued": "not valued"}


def _local(value: datetime | None, fmt: str = "%d.%m.%Y %H:%M") -> str:
    if value is None:
        return "–"
    return value.astimezone(ZoneInfo("Europe/Berlin")).strftime(fmt)


def make_templates() -> Jinja2Templates:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
    env.filters.update(pct=pct, net=net, safe_url=safe_url, local=_local, shorten=shorten)
    env.globals.update(segment_names=SEGMENT_NAMES, segment_short=SEGMENT_SHORT, quote_titles=QUOTE_TITLES)
    return Jinja2Templates(env=env)


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
    return templates.TemplateResponse(request, name, base | context, status_code=status_code)
