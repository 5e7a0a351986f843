"""Column types shared by all tables: timezone-aware UTC timestamps and JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def without_nul(value: Any) -> Any:
    """``value`` with every NUL character removed from its strings, inside lists and mappings too.

    PostgreSQL refuses NUL in ``text`` and ``\\u0000`` in JSON, SQLite keeps it: removing it on the way in
    makes both databases store the same thing. NUL carries no meaning in a post, a name or an amount.
    """
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def as_utc(value: datetime | None) -> datetime | None:
    """Return ``value`` as aware UTC; naive datetimes are taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always stored and returned as timezone-aware UTC.

    SQLite has no time zones, so values are normalised to UTC on the way in and
    marked UTC on the way out; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        aware = as_utc(value)
        if dialect.name == "sqlite" and aware is not None:
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value)


class JSONType(TypeDecorator[Any]):
    """Portable JSON (SQLite TEXT, PostgreSQL JSON)."""

    impl = JSON
    cache_ok = True
