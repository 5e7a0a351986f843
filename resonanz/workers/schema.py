"""The job queue's own tables in the Resonanz database: installed and upgraded by Resonanz, not by Alembic.

procrastinate ships its schema (``schema.sql``, the whole schema of the installed version) and one SQL file per
schema change (``sql/migrations/<version>_<n>_<name>.sql``). :func:`ensure_queue_schema` installs the schema into
an empty database and records the version in a comment on ``procrastinate_jobs``; after an upgrade of the
``procrastinate`` pin it applies the migration files newer than the recorded version, in order. It runs under a
PostgreSQL advisory lock, so N workers starting at once install it once. ``resonanz worker`` calls it at start,
``resonanz run`` in the distributed mode as well, and ``resonanz worker --schema-only`` does nothing else.

Why not an Alembic revision in ``store/migrations``: these tables are procrastinate's, not ours (like
``apscheduler_jobs``); SQLite databases never get them; and their upgrades come with procrastinate, as
procrastinate's own migration files.
"""

from __future__ import annotations

import logging
import re
from importlib.metadata import version as package_version
from pathlib import Path

import psycopg
from procrastinate.schema import SchemaManager

from resonanz.workers.errors import QueueSchemaError

log = logging.getLogger(__name__)

LOCK_KEY = 0x7265736F6E616E7A & 0x7FFFFFFFFFFFFFFF
"""``pg_advisory_xact_lock`` key: 'resonanz' as a number."""
MARKER = "procrastinate "
Version = tuple[int, int, int]


def _version(text: str) -> Version:
    found = re.match(r"(\d+)\.(\d+)\.(\d+)", text.strip())
    if not found:
        raise QueueSchemaError(f"Die Version „{text}“ der Warteschlange ist nicht lesbar.")
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def installed_version() -> Version:
    return _version(package_version("procrastinate"))


def migrations_after(recorded: Version, up_to: Version) -> list[Path]:
    """procrastinate's migration files for the versions after ``recorded`` up to ``up_to``, in order."""
    folder = Path(SchemaManager.get_migrations_path())
    files = [(_version(path.name), path) for path in folder.glob("*.sql")]
    return [path for ver, path in sorted(files) if recorded < ver <= up_to]


def recorded_version(conn: psycopg.Connection[tuple[object, ...]]) -> Version | None:
    """The schema version recorded in the database; None when the queue is not installed."""
    row = conn.execute(
        "SELECT to_regclass('procrastinate_jobs') IS NOT NULL, obj_description(to_regclass('procrastinate_jobs'))"
    ).fetchone()
    if row is None or not row[0]:
        return None
    comment = str(row[1] or "")
    if not comment.startswith(MARKER):
        raise QueueSchemaError(
            "Die Tabelle procrastinate_jobs gibt es schon, aber nicht von Resonanz angelegt (keine Versionsangabe). "
            "Wurde `procrastinate schema --apply` von Hand ausgeführt? Dann die Version eintragen: "
            f"COMMENT ON TABLE procrastinate_jobs IS '{MARKER}<version>' und erneut starten."
        )
    return _version(comment[len(MARKER) :])


def ensure_queue_schema(conninfo: str) -> str:
    """Install or upgrade the queue tables; returns what was done (for the CLI). Raises :class:`QueueSchemaError`."""
    target = installed_version()
    shown = ".".join(map(str, target))
    try:
        with psycopg.connect(conninfo) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            recorded = recorded_version(conn)
            if recorded is None:
                conn.execute(SchemaManager.get_schema())  # procrastinate's own SQL
                done = f"Warteschlange (procrastinate {shown}) angelegt"
            elif recorded > target:
                raise QueueSchemaError(
                    f"Die Warteschlange stammt von procrastinate {'.'.join(map(str, recorded))}, installiert ist "
                    f"{shown}: bitte Resonanz auf diesem Rechner aktualisieren (pip install -U resonanz)."
                )
            else:
                files = migrations_after(recorded, target)
                for path in files:
                    log.info("applying %s", path.name)
                    conn.execute(path.read_text(encoding="utf-8"))
                done = (
                    f"Warteschlange auf procrastinate {shown} gebracht ({len(files)} Migration(en))"
                    if files
                    else f"Warteschlange ist aktuell (procrastinate {shown})"
                )
            conn.execute(f"COMMENT ON TABLE procrastinate_jobs IS '{MARKER}{shown}'")
    except psycopg.Error as exc:
        raise QueueSchemaError(
            f"Die Tabellen der Warteschlange lassen sich nicht anlegen: {exc}. Läuft der PostgreSQL-Server, und darf "
            "der Benutzer aus RESONANZ_DATABASE_URL Tabellen und Funktionen anlegen?"
        ) from exc
    log.info(done)
    return done
