"""``/competitors``: share of voice and sentiment of the own brand against the tagged competitors (any logged-in
user); HTML, JSON or CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from resonanz.answers.competitors import CompetitorReport, to_csv, to_json, weekly_competitors
from resonanz.answers.sql import AnswerFilter
from resonanz.core.errors import InvalidFilterError
from resonanz.core.periods import iso_week, week_label
from resonanz.core.settings import Settings
from resonanz.digest.builder import data_uri
from resonanz.digest.competitors import brand_sentiment_chart, share_of_voice_chart
from resonanz.web.deps import current_user, get_session, get_settings
from resonanz.web.templating import render, request_language
from store.models import User

router = APIRouter(dependencies=[Depends(request_language)])


def _clean(values: list[str]) -> list[str]:
    return [v for v in (v.strip() for part in values for v in part.split(",")) if v]


def competitor_section(
    session: Session, settings: Settings, *, week: str, weeks: int, platforms: list[str], quote_limit: int = 0,
    classes: list[str] | None = None,
) -> CompetitorReport:  # fmt: skip
    """The comparison of ``weeks`` weeks up to ``week`` (``""``: the current one) for the page and the dashboard."""
    tz = settings.digest.timezone
    end = iso_week(week, tz).label if week else week_label(datetime.now(UTC), tz)
    base = AnswerFilter(
        period=iso_week(end, tz),
        platforms=platforms,
        classes=classes or [],
        default_weight=settings.value.prospect_weight,
    )
    return weekly_competitors(session, base, end_week=end, weeks=weeks, tz=tz, quote_limit=quote_limit)


@router.get("/competitors")
def competitors_page(
    request: Request,
    weeks: int = Query(default=8, ge=2, le=52),
    week: str = "",
    platform: list[str] = Query(default=[]),
    classes: list[str] = Query(default=[], alias="class"),
    format: str = Query(default="html", pattern="^(html|json|csv)$"),
    user: User = Depends(current_user),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings),
) -> Response:
    try:
        report = competitor_section(session, settings, week=week.strip(), weeks=weeks, platforms=_clean(platform),
                                    classes=_clean(classes), quote_limit=2)  # fmt: skip
    except InvalidFilterError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    if format == "json":
        return Response(to_json(report), media_type="application/json")
    if format == "csv":
        return PlainTextResponse(
            to_csv(report),
            media_type="text/csv",
            headers={"content-disposition": 'attachment; filename="resonanz-competitors.csv"'},
        )
    images = {}
    if report.has_competitors:
        images = {"share": data_uri(share_of_voice_chart(report)), "net": data_uri(brand_sentiment_chart(report))}
    return render(
        request,
        "competitors.html",
        report=report,
        images=images,
        weeks=weeks,
        week=week,
        platforms=_clean(platform),
        classes=_clean(classes),
        query=str(request.url.query),
    )
