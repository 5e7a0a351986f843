"""``resonanz competitors``: share of voice and sentiment of the own brand against the tagged competitors."""

from __future__ import annotations

import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from resonanz.answers.competitors import BrandSeries, CompetitorReport
from resonanz.cli.common import fail
from resonanz.core import i18n
from resonanz.core.errors import AnswersError
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from store.errors import StoreError

console = Console(soft_wrap=True)
HELP = N_(
    "The own brand against named competitors: share of voice (plain and value-weighted) and sentiment per week. "
    "A source counts for the competitor it is tagged with (resonanz sources tag NAME --brand X); untagged sources "
    "and posts without a source (imports) are the own brand. Only customer voice is compared: the brand's own "
    "accounts, employees and spam never count."
)


def competitors_command(
    week: str | None = typer.Option(None, help=N_("The last week shown, e.g. 2026-W47 (default: last complete week).")),
    weeks: int = typer.Option(8, min=2, max=52, help=N_("How many ISO weeks up to --week.")),
    classes: list[str] = typer.Option([], "--class", "-c", help=N_("Only authors of ABC class A/B/C or 'prospect'.")),
    platforms: list[str] = typer.Option([], "--platform", "-p", help=N_("Only this platform. Repeat.")),
    languages: list[str] = typer.Option([], "--language", "-l", help=N_("Language code, e.g. de. Repeat.")),
    topics: list[str] = typer.Option([], "--topic", "-t", help=N_("Only posts about this topic. Repeat.")),
    quotes: int = typer.Option(0, "--quotes", "-q", min=0, max=10, help=N_("Posts per brand and kind to quote.")),
    output_format: str = typer.Option("table", "--format", "-f", help=N_("table, json or csv.")),
) -> None:
    """``resonanz competitors``: see :data:`HELP`."""
    from resonanz.answers.competitors import to_csv, to_json, weekly_competitors
    from resonanz.answers.sql import AnswerFilter
    from resonanz.core.db import engine_from_settings
    from resonanz.core.periods import iso_week, last_complete_week

    if output_format not in ("table", "json", "csv"):
        raise fail(ValueError(_("unknown format {format!r}; use table, json or csv").format(format=output_format)))
    settings = get_settings()
    tz = settings.digest.timezone
    try:
        end = iso_week(week, tz) if week else last_complete_week(tz=tz)
        base = AnswerFilter(
            period=end,
            classes=classes,
            platforms=platforms,
            languages=languages,
            topics=topics,
            default_weight=settings.value.prospect_weight,
        )
        with Session(engine_from_settings(settings)) as session:
            report = weekly_competitors(session, base, end_week=end.label, weeks=weeks, tz=tz, quote_limit=quotes)
    except (AnswersError, StoreError) as exc:
        raise fail(exc) from None
    if output_format == "json":
        typer.echo(to_json(report))
    elif output_format == "csv":
        typer.echo(to_csv(report), nl=False)
    else:
        console.print(renderables(report))


def _pct_n(share: float | None, posts: int) -> str:
    return f"{i18n.percent(share)} (n={i18n.number(posts)})"


def _change(value: float | None) -> str:
    """A change of a share in percentage points: ``+4,2 pp``."""
    if value is None:
        return i18n.MISSING
    return _("{value} pp").format(value=i18n.signed(value * 100, 1))


def _interval(b: BrandSeries) -> str:
    if b.share_interval is None:
        return i18n.MISSING
    return f"{i18n.percent(b.share_interval[0])} – {i18n.percent(b.share_interval[1])}"


def renderables(report: CompetitorReport) -> Group:
    """The report for the terminal: the span per brand, then share of voice and net sentiment per week."""
    first, last = report.labels[0], report.labels[-1]
    parts: list[Table | str] = [
        "[bold]" + escape(_("Competitors: share of voice {first} – {last}").format(first=first, last=last)) + "[/bold]"
    ]
    span = Table(
        _("Brand"),
        _("Posts"),
        _("Share of voice"),
        _("Confidence interval"),
        _("Share (weighted)"),
        _("Change, last week (weighted)"),
        _("Net (weighted)"),
        _("Negative (weighted)"),
        _("Sources"),
        title=_("All weeks"),
        title_justify="left",
    )
    for b in report.brands:
        span.add_row(
            escape(b.label),
            i18n.number(b.total.posts),
            i18n.percent(b.total.share),
            _interval(b),
            i18n.percent(b.total.share_weighted),
            _change(b.share_change_weighted),
            i18n.signed(b.total.net_weighted),
            i18n.percent(b.total.negative_share_weighted),
            escape(", ".join([*b.sources, _("posts without a source")] if b.own else b.sources)) or i18n.MISSING,
        )
    parts.append(span)
    brands = [escape(b.label) for b in report.brands]
    shares_title = _("Share of voice per week (value-weighted; n = the brand's posts)")
    nets_title = _("Net sentiment per week (value-weighted; n = the brand's posts)")
    shares = Table(_("Week"), *brands, _("Posts"), title=shares_title, title_justify="left")
    nets = Table(_("Week"), *brands, title=nets_title, title_justify="left")
    for i, label in enumerate(report.labels):
        shares.add_row(label, *(_pct_n(b.weeks[i].share_weighted, b.weeks[i].posts) for b in report.brands),
                       i18n.number(report.posts[i]))  # fmt: skip
        nets.add_row(
            label,
            *(f"{i18n.signed(b.weeks[i].net_weighted)} (n={i18n.number(b.weeks[i].posts)})" for b in report.brands),
        )
    parts += [shares, nets]
    if any(b.quotes for b in report.brands):
        parts.append("[bold]" + escape(_("Voices per brand")) + "[/bold]")
    for b in report.brands:
        for q in b.quotes:
            parts.append(
                f"  [{escape(b.label)}] {escape(q.text[:160])} [dim]({q.platform}, {i18n.date(q.created_at)})[/dim]"
            )
    if not report.has_competitors:
        parts.append(
            escape(
                _("No source is tagged with a competitor yet: {command}").format(
                    command='resonanz sources tag NAME --brand "Competitor"'
                )
            )
        )
    parts.append(
        "[dim]"
        + escape(
            _(
                "Own brand: untagged sources and posts without a source (imports). Customer voice only: the "
                "brand's own accounts, employees and spam never count."
            )
        )
        + "[/dim]"
    )
    return Group(*parts)


def register(app: typer.Typer) -> None:
    app.command("competitors", help=HELP)(competitors_command)
