"""Opening the configured database for the CLI, web and scheduler."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine

from resonanz.core.settings import Settings, get_settings
from store.db import open_engine

log = logging.getLogger(__name__)


def engine_from_settings(settings: Settings | None = None, *, migrate: bool = True) -> Engine:
    """The engine for ``RESONANZ_DATABASE_URL`` (default: SQLite in the data directory), migrated."""
    settings = settings or get_settings()
    url = settings.resolved_database_url()
    return open_engine(url, migrate=migrate)
