"""Read-only pages: dashboard, ask, and the digest archive."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from sqlalchemy import select as core_select
from sqlmodel import Session, col

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.competitors import CompetitorReport
from resonanz.answers.dashboard import dashboard
from resonanz.answers.format import numbers_sheet, to_csv, to_json
from resonanz.answers.posts import PAGE_SIZE, PostPage, posts_behind, posts_csv, posts_xlsx
from resonanz.core.errors import InvalidFilterError
from resonanz.core.i18n import _
from resonanz.core.periods import iso_week, resolve_period
from resonanz.core.settings import Settings
from resonanz.digest import charts
from resonanz.digest.competitors import share_of_voice_chart
from resonanz.pipeline.sources import known_brands
from resonanz.web.deps import current_user, get_session, get_settings
from resonanz.web.routes_competitors import competitor_section
from resonanz.web.routes_dashboard_charts import dashboard_charts
from resonanz.web.security import DIGEST_CSP
from resonanz.web.templating import render, request_language
from store.models import Digest, User

router = APIRouter(dependencies=[Depends(request_language)])


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _clean(values: list[str]) -> list[str]:
    return [v for v in (v.strip() for v in values) if v]


@router.get("/dashboard")
def dashboard_page(
    request: Request,
    weeks: int = Query(default=12, ge=2, le=52),
    week: str = "",
    platform: list[str] = Query(default=[]),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    tz = settings.digest.timezone
    try:
        now = iso_week(week, tz).end - timedelta(seconds=1) if week else datetime.now(UTC)
    except InvalidFilterError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    base = AnswerFilter(
        period=resolve_period(days=7 * weeks, tz=tz, now=now),
        platforms=_clean(platform),
        default_weight=settings.value.prospect_weight,
    )
    board = dashboard(session, now=now, weeks=weeks, tz=tz, base=base)
    linked, links = dashboard_charts(board, _clean(platform))  # each point links to its posts, as its table cell
    images: dict[str, str] = {}
    if board.pareto:
        images["pareto"] = data_uri(charts.pareto_chart(board.pareto))
    rivals = _competitors(session, settings, week, weeks, _clean(platform))
    if rivals is not None:
        images["competitors"] = data_uri(share_of_voice_chart(rivals))
    return render(request, "dashboard.html", board=board, images=images, weeks=weeks, week=week,
                  platforms=_clean(platform), rivals=rivals, linked=linked, links=links)  # fmt: skip


def _competitors(
    session: Session, settings: Settings, week: str, weeks: int, platforms: list[str]
) -> CompetitorReport | None:
    """The dashboard's competitor section: the same weeks and platforms, once a source is tagged with one."""
    if not known_brands(session):
        return None
    return competitor_section(session, settings, week=week, weeks=weeks, platforms=platforms)


@router.get("/ask")
def ask_page(
    request: Request,
    classes: list[str] = Query(default=[], alias="class"),
    rfm: list[str] = Query(default=[]),
    loyal: str = "",
    topic: list[str] = Query(default=[]),
    platform: list[str] = Query(default=[]),
    language: list[str] = Query(default=[]),
    since: str = "",
    until: str = "",
    week: str = "",
    format: str = Query(default="html", pattern="^(html|json|csv|xlsx)$"),
    posts: bool = False,
    page: int = Query(default=1, ge=1, le=100_000),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    """The answer; below it the posts behind the numbers (a page of them), and downloads: JSON, the numbers as
    CSV, the posts as CSV (``format=csv&posts=true``) and XLSX (``format=xlsx``: the posts and the numbers)."""
    error = None
    answer = None
    chart = None
    listed: PostPage | None = None
    try:
        period = resolve_period(
            since=since or None, until=until or None, week=week or None, tz=settings.digest.timezone
        )
        flt = AnswerFilter(
            period=period,
            classes=_clean(classes),
            rfm_segments=_clean(rfm),
            loyal={"yes": True, "no": False}.get(loyal),
            topics=_clean(topic),
            platforms=_clean(platform),
            languages=_clean(language),
            default_weight=settings.value.prospect_weight,
            model_name=None,
        )
        from resonanz.pipeline.scoring import sentiment_train_prior

        answer = ask(session, flt, train_prior=sentiment_train_prior(settings))
        if format == "html" or (format == "json" and posts):
            listed = posts_behind(session, flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        elif format == "xlsx" or posts:
            listed = posts_behind(session, flt, limit=None)
    except InvalidFilterError as exc:
        if format != "html":
            raise HTTPException(status_code=400, detail=str(exc)) from exc
        error = str(exc)
    tz = settings.digest.timezone
    if answer is not None and format == "json":
        return Response(to_json(answer, listed), media_type="application/json")
    if answer is not None and listed is not None and format == "xlsx":
        return Response(
            posts_xlsx(listed.posts, tz, summary=numbers_sheet(answer)),
            media_type=XLSX,
            headers={"content-disposition": 'attachment; filename="resonanz-posts.xlsx"'},
        )
    if answer is not None and listed is not None and format == "csv":
        return PlainTextResponse(
            posts_csv(listed.posts, tz),
            media_type="text/csv",
            headers={"content-disposition": 'attachment; filename="resonanz-posts.csv"'},
        )
    if answer is not None and format == "csv":
        return PlainTextResponse(
            to_csv(answer),
            media_type="text/csv",
            headers={"content-disposition": 'attachment; filename="resonanz-answer.csv"'},
        )
    if answer is not None and answer.pareto:
        chart = data_uri(charts.pareto_chart(answer.pareto))
    return render(
        request,
        "ask.html",
        answer=answer,
        listed=listed,
        error=error,
        chart=chart,
        form={
            "class": _clean(classes),
            "rfm": ", ".join(_clean(rfm)),
            "loyal": loyal,
            "topic": ", ".join(_clean(topic)),
            "platform": ", ".join(_clean(platform)),
            "language": ", ".join(_clean(language)),
            "since": since,
            "until": until,
            "week": week,
        },
        query=_question(request),
        topic_query=_question(request, "topic"),
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _question(request: Request, *without: str) -> str:
    """The page's query without paging and output format (and ``without``): what the download, paging and topic
    links build on."""
    drop = ("page", "format", "posts", *without)
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in drop])


@router.get("/digests")
def digests_page(
    request: Request, user: User = Depends(current_user), session: Session = Depends(get_session)
) -> Response:
    digests = session.exec(  # type: ignore[call-overload]
        core_select(
            col(Digest.id),
            col(Digest.period_label),
            col(Digest.created_at),
            col(Digest.sent_at),
            col(Digest.recipients),
        )
        .order_by(col(Digest.period_start).desc())
        .limit(200)
    ).all()
    return render(request, "digests.html", digests=digests)


def _digest(session: Session, digest_id: int) -> Digest:
    digest = session.get(Digest, digest_id)
    if digest is None:
        raise HTTPException(status_code=404, detail=_("Digest {id} does not exist.").format(id=digest_id))
    return digest


@router.get("/digests/{digest_id}")
def digest_page(
    request: Request,
    digest_id: int,
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
) -> Response:
    return render(request, "digest.html", digest=_digest(session, digest_id))


@router.get("/digests/{digest_id}/html")
def digest_html(
    digest_id: int, user: User = Depends(current_user), session: Session = Depends(get_session)
) -> Response:
    """The archived HTML itself, sandboxed (no scripts; only inline styles and embedded images)."""
    return HTMLResponse(_digest(session, digest_id).content_html, headers={"content-security-policy": DIGEST_CSP})
