"""The procrastinate app for the configured PostgreSQL database, and running one worker process.

Every task of :mod:`resonanz.workers.tasks` is registered under the namespace ``resonanz`` (``resonanz:collect``,
``resonanz:score_range``, ...). The check for jobs of dead workers (:func:`~resonanz.workers.tasks.retry_stalled`)
is a procrastinate *periodic* task: every worker runs the periodic deferrer, the database lets exactly one of
them defer each tick, and one worker runs it.
"""

from __future__ import annotations

import logging
import os
import socket

from procrastinate import App, PsycopgConnector
from sqlalchemy.engine import make_url

from resonanz.core.db import checked_database_url
from resonanz.core.settings import Settings
from resonanz.workers.errors import NeedsPostgresError
from store.db import normalise_url

log = logging.getLogger(__name__)

NAMESPACE = "resonanz"
TASKS_MODULE = "resonanz.workers.tasks"
STALLED_TASK = f"{NAMESPACE}:retry_stalled"
WORKER_NAME = f"resonanz@{socket.gethostname()}:{os.getpid()}"


def is_postgres(settings: Settings) -> bool:
    """True when the configured database is PostgreSQL."""
    url = make_url(normalise_url(checked_database_url(settings.resolved_database_url())))
    return url.get_backend_name() == "postgresql"


def queue_conninfo(settings: Settings) -> str:
    """The configured database as a libpq URL for procrastinate; :class:`NeedsPostgresError` on anything else."""
    url = make_url(normalise_url(checked_database_url(settings.resolved_database_url())))
    if url.get_backend_name() != "postgresql":
        raise NeedsPostgresError(
            f"Mehrere Worker brauchen PostgreSQL, die Datenbank ist aber {url.get_backend_name()} "
            f"({url.render_as_string(hide_password=True)}). Entweder RESONANZ_DATABASE_URL auf einen "
            'PostgreSQL-Server setzen (siehe deploy/README.md) oder [workers] mode = "scheduler" lassen: '
            "dann erledigt `resonanz run` alle Aufgaben in einem Prozess."
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def stalled_cron(seconds: int) -> str:
    """A cron line (with procrastinate's optional seconds column) for every ``seconds`` (1-60) seconds."""
    return "* * * * *" if seconds >= 60 else f"* * * * * */{seconds}"


_APP: App | None = None


def build_app(settings: Settings) -> App:
    """The procrastinate app with every Resonanz task, connected (not yet opened) to the configured PostgreSQL.

    One app per process (procrastinate binds the tasks to it): a second call gives the same app a new connector;
    the check for dead workers keeps the schedule of the first call."""
    from resonanz.workers.tasks import STALLED_PRIORITY, blueprint

    global _APP
    connector = PsycopgConnector(conninfo=queue_conninfo(settings), kwargs={"application_name": WORKER_NAME[:63]})
    if _APP is not None:
        _APP.connector = _APP.job_manager.connector = connector
        return _APP
    app = App(connector=connector, import_paths=[TASKS_MODULE])
    app.add_tasks_from(blueprint, namespace=NAMESPACE)
    app.periodic(cron=stalled_cron(settings.workers.stalled_check_seconds), periodic_id="stalled",
                 queueing_lock=STALLED_TASK, priority=STALLED_PRIORITY)(app.tasks[STALLED_TASK])  # fmt: skip
    _APP = app
    return app


def run_worker(settings: Settings, *, queues: list[str] | None = None) -> None:
    """Run one worker in the foreground until SIGTERM/SIGINT (the running job is finished first).

    The caller (``resonanz worker``) has installed the queue schema and configured the task runtime."""
    workers = settings.workers
    app = build_app(settings)
    log.info("worker %s starting (%d job(s) at a time)", WORKER_NAME, workers.concurrency)
    app.run_worker(
        queues=queues,
        name=WORKER_NAME,
        concurrency=workers.concurrency,
        update_heartbeat_interval=workers.heartbeat_seconds,
        stalled_worker_timeout=workers.stalled_after_seconds,
        delete_jobs="never" if workers.keep_finished_jobs else "successful",
        install_signal_handlers=True,
    )
