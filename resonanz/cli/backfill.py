"""``resonanz backfill``: score the stored posts that the current model has not scored on a Ray cluster.

The work is in :mod:`resonanz.backfill`; deployment (starting a cluster, what a crash costs) in deploy/README.md.
Ray is the optional ``cluster`` extra: it is imported when the command runs, never when ``resonanz`` starts.
"""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from resonanz.backfill.driver import DEFAULT_CHUNK, RETRIES
from resonanz.cli.common import CANNOT_START, FAILED, engine_or_exit, fail
from resonanz.core import i18n
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings

console = Console(soft_wrap=True)


def _quiet_ray() -> None:
    """Ray narrates every start and every dataset on the console at INFO; keep that for ``--verbose`` (Ray Data's
    own log file in the session directory keeps everything)."""
    from resonanz.backfill import RayMissingError, import_ray

    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return
    try:
        import_ray()  # Ray Data sets up its loggers on import
    except RayMissingError:
        return  # said when Ray is needed
    for handler in logging.getLogger("ray.data").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setLevel(logging.WARNING)
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": ours shows


def backfill_cmd(
    address: str = typer.Option(
        "local",
        "--address",
        help=N_(
            "Where Ray runs: local (started for this run on this machine), auto (the cluster this machine "
            "joined with `ray start`) or ray://host:10001 (a remote cluster)."
        ),
    ),
    actors: int = typer.Option(
        2, "--actors", min=1, help=N_("Actors scoring at the same time; each loads the models once.")
    ),
    cpus_per_actor: float = typer.Option(
        1.0, "--cpus-per-actor", min=0.1, help=N_("CPUs Ray reserves per actor (also its scoring threads).")
    ),
    chunk: int = typer.Option(
        DEFAULT_CHUNK,
        "--chunk",
        min=1,
        help=N_("Posts per range: the unit an actor scores at a time, and what a dead actor costs at most."),
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help=N_("Score at most this many posts.")),
    retries: int = typer.Option(
        RETRIES, "--retries", min=0, help=N_("How often a range is tried again when its actor dies or fails.")
    ),
) -> None:
    from nlp.errors import NlpError
    from resonanz.backfill import BackfillError, RangeFailedError, require_postgres, run_backfill
    from resonanz.workers.errors import ModelMismatchError
    from store.errors import StoreError

    settings = get_settings()
    try:
        require_postgres(settings)  # before the database is opened or a model loaded
        _quiet_ray()
        engine = engine_or_exit()
        report = run_backfill(engine, settings, address=address, actors=actors, cpus_per_actor=cpus_per_actor,
                              chunk=chunk, limit=limit, retries=retries)  # fmt: skip
    except BackfillError as exc:  # the work failed (1), or Ray, the cluster or the database cannot start it (2)
        raise fail(exc, FAILED if isinstance(exc, RangeFailedError | ModelMismatchError) else CANNOT_START) from None
    except (NlpError, StoreError) as exc:
        raise fail(exc) from None
    if not report.ranges:
        console.print(_("Nothing to score: every post has a score from {model} {version}.").format(
            model=report.model_name, version=report.model_version), highlight=False)  # fmt: skip
        return
    console.print(
        _("{scored} of {planned} posts scored in {ranges} ranges by {actors} actors ({rate} posts/s, {seconds} s); "
          "{flagged} flagged, {created} new and {updated} updated review items.").format(
            scored=i18n.number(report.scored), planned=i18n.number(report.planned), ranges=i18n.number(report.done),
            actors=report.actors, rate=i18n.number(report.posts_per_second, 1), seconds=i18n.number(report.seconds),
            flagged=i18n.number(report.flagged), created=i18n.number(report.review_created),
            updated=i18n.number(report.review_updated)),
        highlight=False,
    )  # fmt: skip
    if report.left:
        console.print(_("{left} planned posts still have no score: run `resonanz backfill` again.").format(
            left=i18n.number(report.left)), highlight=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command(
        "backfill",
        help=N_("Score the stored posts without a score from the current model on a Ray cluster (needs PostgreSQL, "
                "and Ray: the cluster extra of resonanz, see deploy/README.md)."),
    )(backfill_cmd)  # fmt: skip
