"""``/search``: full-text search over posts with filter lists from the data, and saved searches."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from resonanz.answers.search import (
    SearchFilters,
    SearchPage,
    delete_saved,
    filter_options,
    get_saved,
    save_search,
    saved_searches,
    search,
    validate_filters,
)
from resonanz.core.errors import InvalidFilterError
from resonanz.core.i18n import _
from resonanz.core.settings import Settings
from resonanz.web.deps import current_user, get_session, get_settings, verify_csrf
from resonanz.web.templating import flash, render, request_language
from store.models import User

router = APIRouter(dependencies=[Depends(request_language)])
PER_PAGE = 20
MAX_PAGE = 10_000


def _clean(values: list[str]) -> list[str]:
    return [v for v in (v.strip() for v in values) if v]


def search_query(q: str, flt: SearchFilters) -> str:
    """The /search URL query for a query and its filters (a saved search's link)."""
    pairs: list[tuple[str, str]] = [("q", q)]
    pairs += [("class", v) for v in flt.classes] + [("topic", v) for v in flt.topics]
    pairs += [("platform", v) for v in flt.platforms] + [("sentiment", v) for v in flt.sentiments]
    pairs += [(k, str(getattr(flt, k))) for k in ("since", "until", "week", "days") if getattr(flt, k) is not None]
    return urlencode(pairs)


def _page(
    request: Request,
    session: Session,
    *,
    q: str,
    flt: SearchFilters | None,
    result: SearchPage | None,
    error: str | None,
    status_code: int,
) -> Response:
    user: User = request.state.user
    form = {
        "q": q,
        "class": (flt.classes[0] if flt and flt.classes else request.query_params.get("class", "")),
        "topic": (flt.topics[0] if flt and flt.topics else request.query_params.get("topic", "")),
        "platform": (flt.platforms[0] if flt and flt.platforms else request.query_params.get("platform", "")),
        "sentiment": (flt.sentiments[0] if flt and flt.sentiments else request.query_params.get("sentiment", "")),
        "since": (flt.since if flt else request.query_params.get("since")) or "",
        "until": (flt.until if flt else request.query_params.get("until")) or "",
        "week": (flt.week if flt else request.query_params.get("week")) or "",
        "days": (flt.days if flt else None),
    }
    saved = [
        {
            "record": s,
            "describe": SearchFilters.from_json(s.filters).describe(),
            "href": "/search?" + search_query(s.query, SearchFilters.from_json(s.filters)),
            "can_delete": s.owner == user.username or user.role == "admin",
        }
        for s in saved_searches(session)
    ]
    return render(
        request,
        "search.html",
        status_code=status_code,
        options=filter_options(session),
        form=form,
        result=result,
        error=error,
        saved=saved,
        pager_query=search_query(q, flt) if flt else "",
    )


@router.get("/search")
def search_page(
    request: Request,
    q: str = Query(default="", max_length=2000),
    classes: list[str] = Query(default=[], alias="class"),
    topic: list[str] = Query(default=[]),
    platform: list[str] = Query(default=[]),
    sentiment: list[str] = Query(default=[]),
    since: str = "",
    until: str = "",
    week: str = "",
    days: int | None = Query(default=None, ge=1, le=3660),
    page: int = Query(default=1, ge=1, le=MAX_PAGE),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    """The search form; with ``q`` in the URL (the form always sends it) also the results."""
    flt: SearchFilters | None = None
    result = None
    try:
        flt = validate_filters(
            session,
            classes=_clean(classes),
            topics=_clean(topic),
            platforms=_clean(platform),
            sentiments=_clean(sentiment),
            since=since,
            until=until,
            week=week,
            days=days,
            tz=settings.digest.timezone,
        )
        if "q" in request.query_params:
            result = search(session, q, flt, page=page, per_page=PER_PAGE, tz=settings.digest.timezone)
    except InvalidFilterError as exc:
        return _page(request, session, q=q, flt=flt, result=None, error=str(exc), status_code=400)
    return _page(request, session, q=q, flt=flt, result=result, error=None, status_code=200)


@router.post("/search/save", dependencies=[Depends(verify_csrf)])
def save_page(
    request: Request,
    name: str = Form(default=""),
    q: str = Form(default=""),
    classes: list[str] = Form(default=[], alias="class"),
    topic: list[str] = Form(default=[]),
    platform: list[str] = Form(default=[]),
    sentiment: list[str] = Form(default=[]),
    since: str = Form(default=""),
    until: str = Form(default=""),
    week: str = Form(default=""),
    days: int | None = Form(default=None, ge=1, le=3660),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    """Keep the current search under a name (every logged-in user may; analysts too)."""
    flt: SearchFilters | None = None
    try:
        flt = validate_filters(
            session,
            classes=_clean(classes),
            topics=_clean(topic),
            platforms=_clean(platform),
            sentiments=_clean(sentiment),
            since=since,
            until=until,
            week=week,
            days=days,
            tz=settings.digest.timezone,
        )
        saved = save_search(session, name, user.username, q, flt)
    except InvalidFilterError as exc:
        return _page(request, session, q=q, flt=flt, result=None, error=str(exc), status_code=400)
    flash(request, _("Search „{name}“ saved.").format(name=saved.name), "ok")
    return RedirectResponse("/search?" + search_query(saved.query, flt), status_code=303)


@router.post("/search/saved/{saved_id}/delete", dependencies=[Depends(verify_csrf)])
def delete_page(
    request: Request,
    saved_id: int,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
) -> Response:
    """Delete a saved search: its owner or an admin."""
    saved = get_saved(session, saved_id)
    if saved.owner != user.username and user.role != "admin":
        raise HTTPException(
            status_code=403,
            detail=_("Only {owner} or an admin can delete the search „{name}“.").format(
                owner=saved.owner, name=saved.name
            ),
        )
    delete_saved(session, saved_id)
    flash(request, _("Saved search „{name}“ deleted.").format(name=saved.name), "ok")
    return RedirectResponse("/search", status_code=303)
