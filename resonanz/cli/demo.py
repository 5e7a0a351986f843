"""``resonanz demo``: the whole pipeline on the embedded default, printed stage by stage."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from resonanz.core.settings import Settings, data_dir, get_settings

console = Console(soft_wrap=False)
log = logging.getLogger(__name__)
T = TypeVar("T")


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
    from resonanz.demo.collect import demo_collection
    from resonanz.demo.linking import demo_linking_summary
    from resonanz.demo.load import load_demo_data
    from resonanz.pipeline.linking import link_identities
    from resonanz.pipeline.scoring import score_posts
    from resonanz.pipeline.valuation import compute_values
    from resonanz.pipeline.weighting import apply_weights
    from store.db import open_engine

    url = settings.resolved_database_url()
    engine = open_engine(url)
    console.print(Panel.fit(
        "Resonanz demo — Lindenhof Kaffee: German social posts, 200 CRM customers, two years of orders.\n"
        f"database: {engine.url.render_as_string(hide_password=True)}",
    ))  # fmt: skip

    loaded = _stage("1. Import CRM customers, orders and exported posts", lambda: load_demo_data(engine))
    for report in loaded.reports:
        console.print(f"  {report.summary()}", highlight=False)
        for err in report.errors[:5]:
            console.print(f"    [red]rejected[/red] {err}", highlight=False)

    collected = _stage("2. Collect from a (local) Mastodon instance", lambda: demo_collection(engine, settings))
    run = collected.run
    console.print(
        f"  source {run.source}: {run.status}, {run.fetched} fetched, {run.new} new, {run.updated} updated, "
        f"{run.errors} errors -> {collected.posts} posts, {collected.replies} replies, {collected.identities} authors"
    )
    for handle, text in collected.samples[:3]:
        console.print(f"    {handle}: {text[:90]}", highlight=False)

    scored = _stage(
        f"3. Score sentiment, topics and flags (offline German model '{settings.nlp.sentiment_model}')",
        lambda: score_posts(engine, settings),
    )
    _print_scores(engine, scored)

    linked = _stage("4. Link social identities to customers (consent only)", lambda: link_identities(engine, settings))
    console.print(
        f"  {linked.evaluated} identities checked against {linked.linkable_customers} consenting customers: "
        f"{linked.auto} auto-linked, {linked.pending} for review, {linked.rejected} rejected "
        f"({linked.deterministic} deterministic, {linked.probabilistic} probabilistic)"
    )
    values = _stage("5. Customer value: ABC/Pareto, RFM, CLV, loyalty", lambda: compute_values(engine, settings))
    info = values.to_dict()
    console.print(
        f"  {info['customers']} customers valued ({info['basis']}, {info['method']}): {_classes(info['classes'])}; "
        f"top 20 % hold {_share(info['pareto_top20_share'])} of revenue; CLV model: {info['clv_model']}"
    )
    weighted = apply_weights(engine, settings)
    console.print(f"  {weighted} scores weighted by their author's customer value")
    console.print(demo_linking_summary(engine))

    answer_text, digest_path = _stage("6. What do our A-customers say? + the weekly digest", lambda: _answers(
        engine, settings, out_dir))  # fmt: skip
    console.print(answer_text, highlight=False)
    console.print(f"  weekly digest written to [bold]{digest_path}[/bold]")

    console.rule("[bold]What is in the store now")
    console.print(status_table(engine))
    console.print(
        "Next: `resonanz ask --class A`, `resonanz serve` (review queue; create a login with "
        "`resonanz users add NAME --role admin`), `resonanz digest --week 2026-W47`."
    )


def _classes(classes: dict[str, dict[str, float]]) -> str:
    return ", ".join(
        f"{name} {int(c['customers'])} customers ({c['share']:.0%} of revenue)" for name, c in sorted(classes.items())
    )


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


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
    console.print(f"  sentiment: {counts}; {flagged} posts flagged for the review queue")
    console.print(table)


def demo(
    database: str = typer.Option(
        "", "--database", help="Database URL to use instead of a fresh SQLite file in the data directory."
    ),
    output: Path = typer.Option(None, "--output", help="Directory for the demo digest (default: <data dir>/demo)."),
) -> None:
    """Load the bundled German demo data into a fresh database and run every stage."""
    settings = get_settings()
    url = database or _fresh_sqlite(data_dir() / "demo.db")
    settings = settings.model_copy(update={"database_url": url})
    out_dir = output or data_dir() / "demo"
    out_dir.mkdir(parents=True, exist_ok=True)
    run_demo(settings, out_dir)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
