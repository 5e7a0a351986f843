"""``/sources``: how each source is collecting, and what to do when it is not (any logged-in user)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from resonanz.pipeline.source_health import FAILING, NEVER, OK, WARNING, source_health
from resonanz.web.deps import current_user, get_session
from resonanz.web.templating import render, request_language
from store.models import User

router = APIRouter(dependencies=[Depends(request_language)])

STATE_CLASSES = {OK: "ok", WARNING: "", FAILING: "error", NEVER: ""}
"""The ``flash`` style of the advice boxes by state."""


@router.get("/sources")
def sources_page(
    request: Request, user: User = Depends(current_user), session: Session = Depends(get_session)
) -> Response:
    rows = source_health(session)
    return render(request, "sources.html", rows=rows, state_classes=STATE_CLASSES,
                  failing=sum(1 for h in rows if h.state == FAILING))  # fmt: skip
