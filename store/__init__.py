"""Resonanz store: SQLModel tables, migrations and persistence helpers."""

from store.db import make_engine, open_engine, session_scope, upgrade
from store.errors import DatabaseUnavailableError, MigrationError, StoreError
from store.types import as_utc, utcnow

__all__ = [
    "DatabaseUnavailableError",
    "MigrationError",
    "StoreError",
    "as_utc",
    "make_engine",
    "open_engine",
    "session_scope",
    "upgrade",
    "utcnow",
]
