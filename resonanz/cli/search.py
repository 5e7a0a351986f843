"""``resonanz search`` (full-text search over posts) and ``resonanz searches`` (saved searches: list, run, delete)."""

from __future__ import annotations

import getpass
import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from resonanz.cli.common import engine_or_exit, fail
from resonanz.core.errors import AnswersError
from resonanz.core.i18n import N_, TranslatedNames, _
from resonanz.core.i18n import date as format_date
from resonanz.core.i18n import datetime as format_datetime
from resonanz.core.settings import get_settings

if TYPE_CHECKING:
    from resonanz.answers.search import SearchPage

console = Console(soft_wrap=True)
SENTIMENTS = TranslatedNames({"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")})
searches_app = typer.Typer(help=N_("Saved searches: list, run again, delete."), invoke_without_command=True)

FORMATS = ("table", "json")


def _owner() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container without /etc/passwd entry
        return "cli"


def _print_page(page: SearchPage, output_format: str) -> None:
    if output_format == "json":
        typer.echo(json.dumps(page.to_dict(), ensure_ascii=False, indent=2))
        return
    what = _("“{query}”").format(query=page.query.text) if page.query.text else _("all posts")
    window = f", {page.period.label}" if page.period and page.filters.days is not None else ""
    console.print(
        _("{total} hits for {what} ({filters}{window}); page {page} of {pages}").format(
            total=page.total,
            what=escape(what),
            filters=escape(page.filters.describe()),
            window=escape(window),
            page=page.page,
            pages=page.pages,
        ),
        highlight=False,
    )
    if not page.hits:
        return
    table = Table(show_lines=False, expand=False)
    for heading in (_("Date"), _("Platform"), _("Class"), _("Sentiment"), _("Author"), _("Text"), _("Open")):
        table.add_column(heading, overflow="fold")
    for hit in page.hits:
        text = "".join(f"[bold yellow]{escape(s.text)}[/]" if s.hit else escape(s.text) for s in hit.snippet)
        if hit.title:
            text = f"[bold]{escape(hit.title)}[/bold] – {text}"
        where = (
            _("Queue #{id}").format(id=hit.review_item_id)
            if hit.review_item_id is not None
            else (hit.url or _("Post {id}").format(id=hit.post_id))
        )
        table.add_row(
            format_date(hit.created_at),
            hit.platform,
            hit.segment,
            SENTIMENTS.get(hit.sentiment or "", hit.sentiment or "–"),
            escape(hit.author or "–"),
            text,
            escape(where),
        )
    console.print(table)
    if page.has_next:
        console.print(_("Next page: --page {page}").format(page=page.page + 1), highlight=False)


def search_command(
    query: str = typer.Argument(
        "", help=N_('Search words: Lieferung, "kam zu spät", liefer*, -Abo, Mühle OR Mahlwerk.')
    ),
    classes: list[str] = typer.Option(
        [], "--class", "-c", help=N_("Customer class A/B/C, prospect, unvalued. Repeat.")
    ),
    topics: list[str] = typer.Option(
        [], "--topic", "-t", help=N_("Topic (upper or lower case does not matter). Repeat.")
    ),
    platforms: list[str] = typer.Option([], "--platform", "-p", help=N_("mastodon, bluesky, reddit ... Repeat.")),
    sentiments: list[str] = typer.Option(
        [], "--sentiment", "-s", help=N_("negative, neutral, positive (German words work too). Repeat.")
    ),
    since: str | None = typer.Option(None, help=N_("From this day (2026-11-01).")),
    until: str | None = typer.Option(None, help=N_("Up to and including this day (2026-11-30).")),
    week: str | None = typer.Option(None, help=N_("An ISO week, e.g. 2026-W47.")),
    days: int | None = typer.Option(None, help=N_("The last N days (for saved searches: always up to today).")),
    page: int = typer.Option(1, "--page", min=1, help=N_("Page of the results.")),
    per_page: int = typer.Option(20, "--per-page", min=1, max=100, help=N_("Results per page.")),
    output_format: str = typer.Option("table", "--format", "-f", help=N_("table or json.")),
    save: str | None = typer.Option(None, "--save", help=N_("Save the search under this name.")),
    owner: str | None = typer.Option(None, "--owner", help=N_("Who owns the saved search (default: your login).")),
) -> None:
    """Full-text search over all posts (German word forms: Lieferung finds Lieferungen)."""
    from resonanz.answers.search import save_search, search, validate_filters

    if output_format not in FORMATS:
        raise fail(_("unknown format “{format}”; use table or json").format(format=output_format))
    settings = get_settings()
    engine = engine_or_exit()
    try:
        with Session(engine) as session:
            flt = validate_filters(
                session,
                classes=classes,
                topics=topics,
                platforms=platforms,
                sentiments=sentiments,
                since=since,
                until=until,
                week=week,
                days=days,
                tz=settings.digest.timezone,
            )
            result = search(session, query, flt, page=page, per_page=per_page, tz=settings.digest.timezone)
            if save is not None:
                saved = save_search(session, save, owner or _owner(), query, flt)
    except AnswersError as exc:
        raise fail(exc) from None
    _print_page(result, output_format)
    if save is not None:
        (console if output_format == "table" else Console(stderr=True)).print(
            _('Saved as “{name}”: `resonanz searches run "{name}"` runs it again.').format(name=escape(saved.name)),
            highlight=False,
        )


@searches_app.callback()
def searches_list(ctx: typer.Context) -> None:
    """Saved searches (without a command: list them)."""
    if ctx.invoked_subcommand is not None:
        return
    list_command()


@searches_app.command("list", help=N_("List all saved searches."))
def list_command() -> None:
    """List all saved searches."""
    from resonanz.answers.search import SearchFilters, saved_searches

    engine = engine_or_exit()
    with Session(engine) as session:
        found = saved_searches(session)
    if not found:
        console.print(_('No saved searches yet. To save one: resonanz search "Lieferung" --save NAME'))
        return
    table = Table(title=_("Saved searches"), title_justify="left")
    for heading in (_("Name"), _("Search"), _("Filters"), _("By"), _("Created")):
        table.add_column(heading, overflow="fold")
    for saved in found:
        table.add_row(
            escape(saved.name),
            escape(saved.query or "–"),
            escape(SearchFilters.from_json(saved.filters).describe()),
            escape(saved.owner),
            format_datetime(saved.created_at),
        )
    console.print(table)


@searches_app.command("run", help=N_("Run a saved search again."))
def run_command(
    name: str = typer.Argument(..., help=N_("Name of the saved search.")),
    page: int = typer.Option(1, "--page", min=1),
    per_page: int = typer.Option(20, "--per-page", min=1, max=100),
    output_format: str = typer.Option("table", "--format", "-f", help=N_("table or json.")),
) -> None:
    """Run a saved search again."""
    from resonanz.answers.search import get_saved, run_saved

    if output_format not in FORMATS:
        raise fail(_("unknown format “{format}”; use table or json").format(format=output_format))
    engine = engine_or_exit()
    try:
        with Session(engine) as session:
            result = run_saved(
                session, get_saved(session, name), page=page, per_page=per_page, tz=get_settings().digest.timezone
            )
    except AnswersError as exc:
        raise fail(exc) from None
    _print_page(result, output_format)


@searches_app.command("delete", help=N_("Delete a saved search."))
def delete_command(name: str = typer.Argument(..., help=N_("Name of the saved search."))) -> None:
    """Delete a saved search."""
    from resonanz.answers.search import delete_saved

    engine = engine_or_exit()
    try:
        with Session(engine) as session:
            deleted = delete_saved(session, name)
    except AnswersError as exc:
        raise fail(exc) from None
    console.print(_("Saved search “{name}” deleted.").format(name=escape(deleted.name)), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("search", help=N_("Full-text search over all posts (German word forms: Lieferung finds Lieferungen)."))(
        search_command
    )
    app.add_typer(searches_app, name="searches")
