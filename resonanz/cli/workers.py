"""``resonanz worker`` (one worker of the distributed mode) and ``resonanz run``'s distributed mode.

With ``[workers] mode = "procrastinate"`` on PostgreSQL, ``resonanz run`` only defers the jobs (:func:`defer_forever`)
and any number of ``resonanz worker`` processes run them (resonanz/workers/, deploy/README.md).
"""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from resonanz.cli.common import engine_or_exit, fail
from resonanz.core.i18n import N_, _
from resonanz.core.settings import Settings, get_settings
from resonanz.workers.errors import WorkerError

console = Console(soft_wrap=True)
QUIET = ("procrastinate", "apscheduler.scheduler", "apscheduler.executors.default")


def _quiet_libraries() -> None:
    """procrastinate narrates every job and periodic tick at INFO; keep that for ``--verbose``."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)


def _unreachable(exc: BaseException) -> typer.Exit:
    return fail(_("The job queue in PostgreSQL cannot be reached ({error}). Check RESONANZ_DATABASE_URL and that "
                  "the server is running; the worker can simply be started again.").format(error=exc))  # fmt: skip


def worker_cmd(
    schema_only: bool = typer.Option(
        False,
        "--schema-only",
        help=N_("Only create or upgrade the database schema (Resonanz's tables and the job queue's), then exit."),
    ),
) -> None:
    from procrastinate import exceptions as queue_errors

    from resonanz.workers.app import WORKER_NAME, queue_conninfo, run_worker
    from resonanz.workers.schema import ensure_queue_schema
    from resonanz.workers.tasks import configure

    settings = get_settings()
    try:
        conninfo = queue_conninfo(settings)
        console.print(ensure_queue_schema(conninfo), highlight=False)
    except WorkerError as exc:
        raise fail(exc) from None
    if schema_only:
        engine_or_exit().dispose()  # Resonanz's own tables (Alembic), before N processes start at once
        return
    if settings.workers.mode != "procrastinate":
        console.print(_('[workers] mode is not "procrastinate": `resonanz run` does every job itself and defers '
                        "none; this worker only runs jobs that others defer."), markup=False)  # fmt: skip
    configure(settings, engine_or_exit())
    _quiet_libraries()
    console.print(_("worker {name} running; Ctrl-C or SIGTERM stops it after the current job").format(name=WORKER_NAME),
                  highlight=False)  # fmt: skip
    try:
        run_worker(settings)
    except (queue_errors.ConnectorException, OSError) as exc:
        raise _unreachable(exc) from None
    console.print(_("worker stopped"))


def defer_forever(engine: Engine, settings: Settings) -> None:
    """``resonanz run`` with ``[workers] mode = "procrastinate"``: defer the jobs until Ctrl-C or SIGTERM."""
    from procrastinate import exceptions as queue_errors

    from resonanz.workers.deferring import run_deferring

    def started() -> None:
        console.print(_("resonanz run defers the jobs; `resonanz worker` processes run them. Ctrl-C or SIGTERM "
                        "stops it."))  # fmt: skip

    _quiet_libraries()
    try:
        run_deferring(engine, settings, on_started=started)
    except WorkerError as exc:
        raise fail(exc) from None
    except (queue_errors.ConnectorException, OSError) as exc:
        raise _unreachable(exc) from None
    console.print(_("stopped"))


def register(app: typer.Typer) -> None:
    app.command(
        "worker",
        help=N_('Run the jobs that `resonanz run` defers (\\[workers] mode = "procrastinate", PostgreSQL); start as '
                "many as you like, on any machines."),  # \\[ : rich markup would swallow a [section]
    )(worker_cmd)  # fmt: skip
