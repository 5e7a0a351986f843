"""Opening the configured database for the CLI, web and scheduler."""

from __future__ import annotations

import logging
import re

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from resonanz.core.settings import ConfigError, Settings, get_settings
from store.db import normalise_url, open_engine
from store.errors import DatabaseUnavailableError

log = logging.getLogger(__name__)

SUPPORTED = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
"""Backends and drivers Resonanz runs on (``postgresql://`` and ``postgres://`` mean psycopg 3)."""
EXAMPLES = "sqlite:////pfad/zu/resonanz.db (eingebaut) oder postgresql://nutzer:passwort@host:5432/resonanz"


class DatabaseUrlError(ConfigError, DatabaseUnavailableError):
    """The database URL names a database Resonanz cannot use, or is no URL at all.

    Also a :class:`store.errors.StoreError`, so every command that reports an unreachable database reports
    this one the same way."""


def _masked(url: str) -> str:
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", url)


def checked_database_url(url: str, *, where: str = "RESONANZ_DATABASE_URL") -> str:
    """``url`` if Resonanz can open that kind of database; else :class:`DatabaseUrlError` saying what to write."""
    try:
        parsed = make_url(normalise_url(url.strip()))
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"{where} „{_masked(url)}“ ist keine Datenbank-URL. Beispiele: {EXAMPLES}; "
            "ohne Angabe nutzt Resonanz SQLite im Datenverzeichnis."
        ) from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    shown = parsed.render_as_string(hide_password=True)
    if backend not in SUPPORTED:
        raise DatabaseUrlError(
            f"{where} „{shown}“: {backend} wird nicht unterstützt. Resonanz läuft mit SQLite oder PostgreSQL, "
            f"z. B. {EXAMPLES}. Daten aus {backend} bitte exportieren und mit `resonanz import` einlesen."
        )
    if driver not in SUPPORTED[backend]:
        raise DatabaseUrlError(
            f"{where} „{shown}“: der Treiber {driver} ist nicht dabei. Bitte {backend}:// ohne +{driver} schreiben "
            f"(Resonanz nutzt {SUPPORTED[backend][0]})."
        )
    return url


def engine_from_settings(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    """The engine for ``RESONANZ_DATABASE_URL`` (default: SQLite in the data directory), migrated.

    Raises :class:`DatabaseUrlError` for a URL of an unsupported kind, :class:`store.errors.StoreError` when
    the database cannot be opened or migrated."""
    settings = settings or get_settings()
    url = checked_database_url(settings.resolved_database_url())
    if settings.uses_demo_database():
        log.warning(
            "Die Demo-Datenbank ist aktiv (%s). Eigene Daten: RESONANZ_DATABASE_URL setzen oder "
            "`resonanz demo --leave` ausführen.",
            make_url(normalise_url(url)).render_as_string(hide_password=True),
        )
    return open_engine(url, migrate=migrate)
