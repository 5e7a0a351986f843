"""``resonanz db rebuild-rollups``: recompute the answers' daily rollups from the stored posts."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from resonanz.answers.rollup import rebuild, warm
from resonanz.cli.common import engine_or_exit, fail
from resonanz.cli.store import db_app
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from store.db import session_scope

console = Console(soft_wrap=True)


@db_app.command(
    "rebuild-rollups",
    help=N_(
        "Recompute the daily rollups that ask and the dashboard read, for every day, and switch them on "
        "(afterwards the pipeline keeps them current)."
    ),
)
def rebuild_rollups() -> None:
    engine = engine_or_exit()
    start = time.perf_counter()
    try:
        with console.status(_("Recomputing the daily rollups …")), session_scope(engine) as session:
            report = rebuild(session)
        with console.status(_("Caching the default answers …")), session_scope(engine) as session:
            from resonanz.pipeline.scoring import answer_cache_options  # the model's prior: no torch, a file header

            warm(session, **answer_cache_options(get_settings()))
    except SQLAlchemyError as exc:
        raise fail(
            _("could not rebuild the rollups ({error}); nothing was changed, run the command again").format(
                error=type(exc).__name__
            ),
            code=1,
        ) from None
    console.print(
        _("Rollups rebuilt: {posts} posts on {days} days, {rows} rows ({seconds:.1f} s).").format(
            posts=report.posts, days=report.days, rows=report.cells, seconds=time.perf_counter() - start
        )
    )


def register(app: typer.Typer) -> None:
    """The command hangs on ``resonanz db`` (:data:`resonanz.cli.store.db_app`); nothing to add to ``app``."""
