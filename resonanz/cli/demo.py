"""``resonanz demo``: the whole pipeline on the embedded default, printed stage by stage."""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from resonanz.core.i18n import N_, _, percent
from resonanz.core.settings import Settings, data_dir, forget_demo_database, get_settings, remember_demo_database
from resonanz.demo.story import story

console = Console(soft_wrap=False)
log = logging.getLogger(__name__)
T = TypeVar("T")
DEMO_HELP = N_(
    "Load the bundled German demo data into a fresh database and run every stage.\n\n"
    "Afterwards the demo's database is the default for later commands while no database is configured "
    "(until ``resonanz demo --leave``)."
)


def _stage(title: str, func: Callable[[], T]) -> T:
    console.rule(f"[bold]{title}")
    started = time.perf_counter()
    with console.status(f"{title} ..."):
        result = func()
    console.print(f"[dim]({time.perf_counter() - started:.1f} s)[/dim]")
    return result


def _fresh_sqlite(path: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def run_demo(settings: Settings, out_dir: Path) -> None:
    from resonanz.cli.store import status_table
    from resonanz.demo.alerts import demo_alerts, demo_alerts_summary
    from resonanz.demo.collect import demo_collection
    from resonanz.demo.linking import demo_linking_summary
    from resonanz.demo.load import load_demo_data
    from resonanz.pipeline.linking import link_identities
    from resonanz.pipeline.scoring import score_posts
    from resonanz.pipeline.valuation import compute_values
    from resonanz.pipeline.weighting import apply_weights
    from store.db import open_engine

    url = settings.resolved_database_url()
    forget_demo_database()  # while the demo fills it, its database is nobody's default
    engine = open_engine(url)
    console.print(Panel.fit(
        _("Resonanz demo — Lindenhof Kaffee: German social posts, 200 CRM customers, two years of orders.") + "\n"
        + _("database: {url}").format(url=engine.url.render_as_string(hide_password=True)),
    ))  # fmt: skip

    loaded = _stage(_("1. Import CRM customers, orders and exported posts"), lambda: load_demo_data(engine))
    for report in loaded.reports:
        console.print(f"  {report.summary()}", highlight=False)
        for err in report.errors[:5]:
            console.print("    [red]" + _("rejected") + f"[/red] {err}", highlight=False)

    collected = _stage(_("2. Collect from a (local) Mastodon instance"), lambda: demo_collection(engine, settings))
    run = collected.run
    console.print(
        "  "
        + _(
            "source {source}: {status}, {fetched} fetched, {new} new, {updated} updated, {errors} errors -> "
            "{posts} posts, {replies} replies, {authors} authors"
        ).format(
            source=run.source,
            status=run.status,
            fetched=run.fetched,
            new=run.new,
            updated=run.updated,
            errors=run.errors,
            posts=collected.posts,
            replies=collected.replies,
            authors=collected.identities,
        )
    )
    for handle, text in collected.samples[:3]:
        console.print(f"    {handle}: {text[:90]}", highlight=False)

    scored = _stage(
        _("3. Score sentiment, topics and flags (offline German model '{model}')").format(
            model=settings.nlp.sentiment_model
        ),
        lambda: score_posts(engine, settings),
    )
    _print_scores(engine, scored)

    linked = _stage(
        _("4. Link social identities to customers (consent only)"), lambda: link_identities(engine, settings)
    )
    console.print(
        "  "
        + _(
            "{evaluated} identities checked against {customers} consenting customers: {auto} auto-linked, "
            "{pending} for review, {rejected} rejected ({deterministic} deterministic, {probabilistic} probabilistic)"
        ).format(
            evaluated=linked.evaluated,
            customers=linked.linkable_customers,
            auto=linked.auto,
            pending=linked.pending,
            rejected=linked.rejected,
            deterministic=linked.deterministic,
            probabilistic=linked.probabilistic,
        )
    )
    as_of = story().end(settings.digest.timezone)  # the story's clock: the same values in any year
    values = _stage(
        _("5. Customer value: ABC/Pareto, RFM, CLV, loyalty"), lambda: compute_values(engine, settings, as_of=as_of)
    )
    info = values.to_dict()
    console.print(
        "  "
        + _(
            "{customers} customers valued ({basis}, {method}): {classes}; top 20 % hold {share} of revenue; "
            "CLV model: {model}"
        ).format(
            customers=info["customers"],
            basis=info["basis"],
            method=info["method"],
            classes=_classes(info["classes"]),
            share=_share(info["pareto_top20_share"]),
            model=info["clv_model"],
        )
    )
    weighted = apply_weights(engine, settings)
    console.print("  " + _("{n} scores weighted by their author's customer value").format(n=weighted))
    console.print(demo_linking_summary(engine))

    answer_text, digest_path = _stage(_("6. What do our A-customers say? + the weekly digest"), lambda: _answers(
        engine, settings, out_dir))  # fmt: skip
    console.print(answer_text, highlight=False)
    console.print("  " + _("weekly digest written to {path}").format(path=f"[bold]{digest_path}[/bold]"))

    alerts = _stage(_("7. Alerts: the eight weeks replayed hour by hour (nothing is sent)"),
                    lambda: demo_alerts(engine, settings))  # fmt: skip
    console.print(demo_alerts_summary(alerts))

    console.rule("[bold]" + _("What is in the store now"))
    console.print(status_table(engine))
    _print_next_steps(url, out_dir)


def _print_next_steps(url: str, out_dir: Path) -> None:
    """Make the demo the default database of later commands (unless one is configured) and print what to try."""
    from resonanz.demo.story import next_steps

    week = story().week
    configured = get_settings().database_url
    if configured and configured != url:
        prefix = f"RESONANZ_DATABASE_URL={shlex.quote(url)} "
        where = _("A database of your own is configured, so the commands name the demo database ({database}).").format(
            database=_shown(url)
        )
    else:
        prefix = ""
        if not configured:
            remember_demo_database(url, week)
        where = _(
            "Later commands use the demo database ({database}) until you configure one of your own "
            "(RESONANZ_DATABASE_URL) or run `resonanz demo --leave`."
        ).format(database=_shown(url))
    console.rule("[bold]" + _("Next in the demo: the story week {week}").format(week=week))
    for step in next_steps(week, str(out_dir), env_prefix=prefix):
        console.print(f"  [bold]{escape(step.command)}[/bold]", highlight=False, soft_wrap=True)
        console.print(f"      {escape(step.shows)}", highlight=False, soft_wrap=True)
    console.print(where, highlight=False, soft_wrap=True)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    from store.db import normalise_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _classes(classes: dict[str, dict[str, float]]) -> str:
    return ", ".join(
        _("{name} {n} customers ({share} of revenue)").format(
            name=name, n=int(c["customers"]), share=percent(c["share"])
        )
        for name, c in sorted(classes.items())
    )


def _share(value: float | None) -> str:
    return _("n/a") if value is None else percent(value, 1)


def _answers(engine: Any, settings: Settings, out_dir: Path) -> tuple[str, Path]:
    from resonanz.demo.answers import demo_answers

    return demo_answers(engine, settings, out_dir)


def _print_scores(engine: Any, report: Any) -> None:
    from sqlalchemy import func, select
    from sqlmodel import Session, col

    from store.models import Post, ReviewItem, Score

    console.print(f"  {report.summary()}", highlight=False)
    with Session(engine) as session:
        counts = dict(session.execute(select(col(Score.sentiment), func.count()).group_by(col(Score.sentiment))).all())
        flagged = session.execute(select(func.count()).select_from(ReviewItem)).scalar_one()
        table = Table(title="Beispiele", title_justify="left", show_lines=False)
        for heading in ("Stimmung", "p(neg/neu/pos)", "Themen", "Flags", "Text"):
            table.add_column(heading, overflow="fold")
        rows = list(
            session.execute(
                select(Score, col(Post.text))
                .join(Post, col(Post.id) == col(Score.post_id))
                .order_by(col(Score.p_negative).desc())
                .limit(4)
            ).all()
        )
        rows += session.execute(
            select(Score, col(Post.text))
            .join(Post, col(Post.id) == col(Score.post_id))
            .order_by(col(Score.p_positive).desc())
            .limit(3)
        ).all()
        for score, text in rows:
            table.add_row(
                score.sentiment,
                f"{score.p_negative:.2f}/{score.p_neutral:.2f}/{score.p_positive:.2f}",
                ", ".join(str(t.get("topic")) for t in score.topics[:3]),
                ", ".join(str(f.get("flag")) for f in score.flags[:3]),
                text[:100],
            )
    console.print(
        "  " + _("sentiment: {counts}; {n} posts flagged for the review queue").format(counts=counts, n=flagged)
    )
    console.print(table)


def demo(
    database: str = typer.Option(
        "", "--database", help=N_("Database URL to use instead of a fresh SQLite file in the data directory.")
    ),
    output: Path = typer.Option(None, "--output", help=N_("Directory for the demo digest (default: <data dir>/demo).")),
    leave: bool = typer.Option(
        False, "--leave", help=N_("Stop using the demo database as the default (its data is kept).")
    ),
) -> None:
    from resonanz.cli.common import fail
    from resonanz.core.db import DatabaseUrlError, checked_database_url

    if leave:
        if forget_demo_database():
            console.print(_("The demo database is no longer the default; the commands use your own again."))
        else:
            console.print(_("No demo database was set as the default."))
        return
    settings = get_settings()
    try:
        url = checked_database_url(database, where="--database") if database else None
    except DatabaseUrlError as exc:
        raise fail(exc) from None
    url = url or _fresh_sqlite(data_dir() / "demo.db")
    settings = settings.model_copy(update={"database_url": url})
    out_dir = output or data_dir() / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    run_demo(settings, out_dir)


def register(app: typer.Typer) -> None:
    app.command("demo", help=DEMO_HELP)(demo)
