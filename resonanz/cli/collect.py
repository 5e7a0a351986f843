"""``resonanz sources ...``, ``resonanz collect``, ``resonanz runs`` and ``resonanz run``."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from collectors import Batch, ConfigurationError, skip_summary
from resonanz.cli.common import engine_or_exit, err_console, fail
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from resonanz.pipeline.collect import RunSummary, SourceNotFoundError, collect
from resonanz.pipeline.source_health import FAILING, NEVER, OK, WARNING, SourceHealth, source_health_report
from resonanz.pipeline.sources import (
    BrandNameError,
    SourceExistsError,
    add_source,
    list_runs,
    list_sources,
    parse_interval,
    parse_options,
    remove_source,
    set_enabled,
    tag_source,
)

console = Console(soft_wrap=True)
ADD_HELP = N_(
    "Add a source. Examples:\n\n"
    "resonanz sources add mastodon brand-tag -q '#Lindenhof' -o instance=mastodon.social\n\n"
    "resonanz sources add rss blog-comments -q https://blog.example.de/comments/feed/ -i 30m\n\n"
    "resonanz sources add bluesky roestlicht -q 'Röstlicht Kaffee' --brand Röstlicht"
)
PLATFORM_HELP = N_(
    "The platform: appstore, bluesky, facebook, google_business, google_play, instagram, mastodon, reddit, rss, "
    "trustpilot or youtube."
)
"""Written out (a help text is a catalogue entry, not built at import); tests/test_cli_i18n.py checks it names every
platform of :func:`collectors.platforms`."""
sources_app = typer.Typer(
    help=N_(
        "Manage what is collected (platform, query/account, interval); without a command: how each source is doing."
    )
)


def _engine() -> Engine:
    return engine_or_exit()


def _local(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(get_settings().digest.timezone)).strftime("%Y-%m-%d %H:%M:%S")


HEALTH_COLOURS = {OK: "green", WARNING: "yellow", FAILING: "red", NEVER: "dim"}


def _health_table(rows: list[SourceHealth]) -> Table:
    table = Table("Quelle", "Plattform", "Zustand", "letzter Erfolg", "Fehlschläge in Folge", "Einträge/Lauf",
                  "übersprungen (letzter Lauf)")  # fmt: skip
    for h in rows:
        per_run = "-" if h.items_per_run is None else f"{h.items_per_run:.0f} (zuletzt {h.items_last_run})"
        skipped = h.skipped_short or "-"
        state = f"[{HEALTH_COLOURS.get(h.state, 'white')}]{h.state}[/]" + ("" if h.enabled else " (aus)")
        table.add_row(h.name, h.platform, state, _local(h.last_success_at), str(h.consecutive_failures), per_run,
                      skipped)  # fmt: skip
    return table


def _print_health(name: str | None, *, details: bool) -> None:
    rows = source_health_report(_engine(), name)
    if not rows:
        if name is not None:
            raise fail(SourceNotFoundError(f"no source named {name!r}; `resonanz sources list` shows them"))
        console.print("no sources yet; add one with `resonanz sources add`")
        return
    console.print(_health_table(rows))
    for h in rows:
        if not (details or h.advice):
            continue
        lines = [f"[bold]{h.name}[/bold]: {h.state}"]
        if details:
            lines.append(f"  letzter Lauf: {h.last_status or '-'} {_local(h.last_run_at)}; {h.runs} Läufe ausgewertet")
            lines += [f"  übersprungen: {line}" for line in h.skipped_lines]
        lines += [f"  Problem: {line}" for line in (h.problems if details else h.problems[:1])]
        lines += [f"  [bold]Zu tun:[/bold] {advice}" for advice in h.advice]
        console.print("\n".join(lines), highlight=False)


@sources_app.callback(invoke_without_command=True)
def sources_overview(ctx: typer.Context) -> None:
    """Without a command: each source's health -- last success, failed runs in a row, items per run, skips."""
    if ctx.invoked_subcommand is None:
        _print_health(None, details=False)


@sources_app.command(
    "health",
    help=N_("Each source's health in detail: problems of the latest runs, skipped items by reason, what to do."),
)
def sources_health(name: str | None = typer.Argument(None, help=N_("One source; default: all."))) -> None:
    """Each source's health in detail: problems of the latest runs, skipped items by reason, what to do."""
    _print_health(name, details=True)


@sources_app.command("add", help=ADD_HELP)
def sources_add(
    platform: str = typer.Argument(..., help=PLATFORM_HELP),
    name: str = typer.Argument(..., help=N_("A unique name for this source.")),
    query: str | None = typer.Option(
        None, "--query", "-q", help=N_("Hashtag (#tag), search words, feed URL, video ids.")
    ),
    account: str | None = typer.Option(None, "--account", "-a", help=N_("Account, subreddit (r/name) or channel id.")),
    interval: str = typer.Option("15m", "--interval", "-i", help=N_("How often to collect: 900, 90s, 15m, 1h ...")),
    option: list[str] = typer.Option(
        [], "--option", "-o", help=N_("key=value, repeatable (e.g. instance=mastodon.social).")
    ),
    disabled: bool = typer.Option(False, "--disabled", help=N_("Add it without scheduling it.")),
    brand: str | None = typer.Option(
        None,
        "--brand",
        "-b",
        help=N_(
            "The competitor this source listens to (its posts count for that brand in `resonanz competitors` "
            "and stay out of the own brand's answers). Without it: the own brand."
        ),
    ),
) -> None:
    """Add a source. Examples:

    resonanz sources add mastodon brand-tag -q '#Lindenhof' -o instance=mastodon.social

    resonanz sources add rss blog-comments -q https://blog.example.de/comments/feed/ -i 30m

    resonanz sources add bluesky roestlicht -q 'Röstlicht Kaffee' --brand Röstlicht
    """
    try:
        source = add_source(
            _engine(),
            platform=platform,
            name=name,
            query=query,
            account=account,
            interval_seconds=parse_interval(interval),
            options=parse_options(option),
            enabled=not disabled,
            brand=brand,
        )
    except (ConfigurationError, SourceExistsError, ValueError) as exc:
        raise fail(exc) from None
    state = "disabled" if disabled else f"every {source.interval_seconds} s"
    console.print(f"added source [bold]{source.name}[/bold] ({source.platform}, {state})", highlight=False)
    if source.brand:
        console.print(_("It listens to the competitor {brand}.").format(brand=source.brand), highlight=False)
    collectors_cfg = get_settings().collectors
    if source.platform == "bluesky" and source.query and not collectors_cfg.bluesky_app_password:
        from collectors.bluesky import SEARCH_NEEDS_LOGIN

        err_console.print(f"[yellow]Hinweis:[/yellow] {SEARCH_NEEDS_LOGIN.format(name=source.name)}", highlight=False)


@sources_app.command("list", help=N_("Show the configured sources with their last run and stored posts."))
def sources_list() -> None:
    """Show the configured sources with their last run and stored posts."""
    rows = list_sources(_engine())
    if not rows:
        console.print("no sources yet; add one with `resonanz sources add`")
        return
    tagged = any(row.source.brand for row in rows)  # the brand column once a competitor is tagged
    headers = ["name", "platform", "query / account", *([_("brand")] if tagged else []), "every", "enabled",
               "posts", "last run"]  # fmt: skip
    table = Table()
    for header in headers:
        table.add_column(header, overflow="fold")  # wrap in a narrow terminal instead of cutting to "…"
    for row in rows:
        s = row.source
        what = " / ".join(x for x in (s.query, s.account) if x) or "-"
        last = f"{row.last_status} {_local(row.last_started)}" if row.last_status else "never"
        brand = [s.brand or _("own brand")] if tagged else []
        table.add_row(s.name, s.platform, what, *brand, f"{s.interval_seconds}s", "yes" if s.enabled else "no",
                      str(row.posts), last)  # fmt: skip
    console.print(table)


@sources_app.command("remove", help=N_("Remove a source and its run history; the posts it collected are kept."))
def sources_remove(
    name: str,
    yes: bool = typer.Option(False, "--yes", "-y", help=N_("Do not ask.")),
) -> None:
    """Remove a source and its run history; the posts it collected are kept."""
    if not yes and not typer.confirm(f"Remove source {name!r} and its run history (posts are kept)?"):
        raise typer.Exit(code=1)
    try:
        removed = remove_source(_engine(), name)
    except SourceNotFoundError as exc:
        raise fail(exc) from None
    console.print(f"removed {removed.name}: {removed.runs_deleted} runs deleted, {removed.posts_kept} posts kept")


TAG_HELP = N_(
    "Tag a source with the competitor it listens to, or give it back to the own brand (--own). Untagged sources "
    "and posts without a source (imports) are the own brand. The source's posts, also those already collected, "
    "count for the new brand at once (resonanz competitors, the web page /competitors, the digest) and stay out "
    "of the own brand's answers, queue and alerts. A post that several sources found counts once, for the source "
    "that stored it first."
)


@sources_app.command("tag", help=TAG_HELP)
def sources_tag(
    name: str = typer.Argument(..., help=N_("The source.")),
    brand: str | None = typer.Option(None, "--brand", "-b", help=N_("The competitor this source listens to.")),
    own: bool = typer.Option(False, "--own", help=N_("Back to the own brand (untagged).")),
) -> None:
    if own == (brand is not None):
        raise fail(_("give either --brand NAME or --own"))
    try:
        tagged = tag_source(_engine(), name, None if own else brand)
    except (SourceNotFoundError, BrandNameError) as exc:
        raise fail(exc) from None
    if tagged.brand is None:
        message = _("{name} now listens to the own brand; its {posts} posts count for it.")
    else:
        message = _("{name} now listens to the competitor {brand}; its {posts} posts count for it.")
    console.print(message.format(name=tagged.name, brand=tagged.brand, posts=tagged.posts), highlight=False)


def _switch(name: str, enabled: bool) -> None:
    try:
        set_enabled(_engine(), name, enabled)
    except SourceNotFoundError as exc:
        raise fail(exc) from None
    console.print(f"{name} {'enabled' if enabled else 'disabled'}")


@sources_app.command("enable", help=N_("Schedule a source again."))
def sources_enable(name: str) -> None:
    """Schedule a source again."""
    _switch(name, True)


@sources_app.command("disable", help=N_("Stop scheduling a source (it keeps its cursor and posts)."))
def sources_disable(name: str) -> None:
    """Stop scheduling a source (it keeps its cursor and posts)."""
    _switch(name, False)


@contextmanager
def _stop_on_sigterm() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _summary_table(summaries: list[RunSummary]) -> Table:
    table = Table("source", "status", "fetched", "new", "updated", "errors", "seconds")
    colours = {"ok": "green", "partial": "yellow", "failed": "red", "interrupted": "yellow", "skipped": "yellow"}
    for s in summaries:
        status = f"[{colours.get(s.status, 'white')}]{s.status}[/]"
        table.add_row(s.source, status, str(s.fetched), str(s.new), str(s.updated), str(s.errors),
                      f"{s.duration_s:.1f}")  # fmt: skip
    return table


def collect_cmd(
    source: str | None = typer.Argument(None, help=N_("One source; default: every enabled source.")),
) -> None:
    """Collect once: new posts and replies since the last run (a first run backfills)."""
    engine = _engine()
    with (
        _stop_on_sigterm() as stop,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar,
    ):
        tasks: dict[str, TaskID] = {}

        def progress(name: str, batch: Batch, summary: RunSummary) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name)
            bar.update(tasks[name], description=f"{name}: {summary.fetched} fetched, {summary.new} new")

        try:
            summaries = collect(
                engine, get_settings(), names=[source] if source else None, stop=stop, progress=progress
            )
        except SourceNotFoundError as exc:
            raise fail(exc) from None
        except KeyboardInterrupt:
            console.print("[yellow]interrupted[/yellow]: what was fetched is stored; the next run resumes")
            raise typer.Exit(code=130) from None
    if not summaries:
        console.print("no enabled sources; add one with `resonanz sources add`")
        return
    console.print(_summary_table(summaries))
    for s in summaries:
        if s.error:
            console.print(f"[bold]{s.source}[/bold]: {s.error}", highlight=False)
        if s.skipped:
            console.print(f"[bold]{s.source}[/bold]: übersprungen: {skip_summary(s.skipped)}", highlight=False)
    if any(s.status == "failed" for s in summaries):
        raise typer.Exit(code=1)


def runs_cmd(
    source: str | None = typer.Option(None, "--source", "-s", help=N_("Only this source.")),
    limit: int = typer.Option(20, "--limit", "-n", help=N_("How many runs.")),
) -> None:
    """Show recent collector runs: when, how long, what came in, what went wrong."""
    try:
        rows = list_runs(_engine(), source, limit)
    except SourceNotFoundError as exc:
        raise fail(exc) from None
    if not rows:
        console.print("no runs yet; `resonanz collect` runs every enabled source once")
        return
    table = Table("run", "source", "started", "seconds", "status", "fetched", "new", "updated", "errors", "error")
    for name, run in rows:
        seconds = f"{(run.finished_at - run.started_at).total_seconds():.1f}" if run.finished_at else "-"
        error = (run.error or "").splitlines()[0][:80] if run.error else ""
        table.add_row(str(run.id), name, _local(run.started_at), seconds, run.status, str(run.fetched), str(run.new),
                      str(run.updated), str(run.errors), error)  # fmt: skip
    console.print(table)


def run_cmd() -> None:
    """Run the scheduler in the foreground: every enabled source on its interval, until Ctrl-C or SIGTERM."""
    from resonanz.pipeline.jobs import scheduled_jobs
    from resonanz.pipeline.scheduler import run_forever

    engine = _engine()
    settings = get_settings()
    if settings.workers.mode == "procrastinate":  # PostgreSQL: only defer; `resonanz worker` processes run the jobs
        from resonanz.cli.workers import defer_forever

        return defer_forever(engine, settings)

    def started(_scheduler: object, result: object) -> None:
        console.print("scheduler running; Ctrl-C or SIGTERM stops it after the current pages")

    run_forever(engine, settings, extra_jobs=scheduled_jobs(settings), on_started=started)
    console.print("stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")
    app.command("collect", help=N_("Collect once: new posts and replies since the last run (a first run backfills)."))(
        collect_cmd
    )
    app.command("runs", help=N_("Show recent collector runs: when, how long, what came in, what went wrong."))(runs_cmd)
    app.command(
        "run",
        help=N_("Run the scheduler in the foreground: every enabled source on its interval, until Ctrl-C or SIGTERM."),
    )(run_cmd)
