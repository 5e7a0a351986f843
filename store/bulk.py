"""The set-based writes of :mod:`store.ingest`: the rows of one call in a few statements per table.

- SQLite: one prepared ``INSERT … ON CONFLICT`` / ``UPDATE`` run with the driver's ``executemany``.
- PostgreSQL: ``COPY`` (psycopg 3 ``cursor.copy``) into a temporary table (dropped at commit), then one
  ``INSERT … SELECT … ON CONFLICT`` or ``UPDATE … FROM`` per table.

Values are converted here, once per row, exactly as the SQLAlchemy column types convert them (the types'
own bind processors for timestamps, ``json.dumps`` for JSON like :class:`store.types.JSONType`), so a row
reads back the same whichever path wrote it. JSON text that contains an escaped NUL is written from the
value without NUL (:func:`store.types.without_nul`): the same on both databases.

Rows are mappings with the column names of :data:`POST_COLUMNS`, :data:`UPDATE_COLUMNS` (plus ``id``;
``raw=None`` keeps the stored ``raw``) and :data:`IDENTITY_COLUMNS`. Errors of the driver are raised as
SQLAlchemy's ``DBAPIError`` subclasses (``OperationalError`` for a lost connection, ``DataError`` …), the same
as for every other statement.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, Table, any_, bindparam, func, insert, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from store.models import Post, SocialIdentity
from store.records import IDENTITY_FIELDS
from store.types import JSONType, without_nul

_POST: Table = Post.__table__  # type: ignore[attr-defined]
_IDENTITY: Table = SocialIdentity.__table__  # type: ignore[attr-defined]


def conflict_insert(dialect: str) -> Callable[[Table], Any]:
    """The ``insert`` of ``dialect`` that has ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (PostgreSQL's,
    else SQLite's): ``conflict_insert(session.get_bind().dialect.name)(table).values(...)``."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


POST_COLUMNS = ("platform", "external_id", "kind", "url", "text", "title", "language", "created_at", "edited_at",
                "deleted_at", "metrics", "identity_id", "source_id", "parent_id", "thread_root_id",
                "parent_external_id", "root_external_id", "raw", "fetched_at")  # fmt: skip
"""The columns a new post is inserted with (``voice`` and ``fingerprint`` are set later, by scoring)."""
UPDATE_COLUMNS = ("kind", "url", "text", "title", "language", "edited_at", "deleted_at", "metrics",
                  "identity_id", "parent_id", "thread_root_id", "parent_external_id", "root_external_id", "raw",
                  "fetched_at")  # fmt: skip
"""The columns an update of a stored post writes (by ``id``)."""
IDENTITY_COLUMNS = ("platform", "account_id", *IDENTITY_FIELDS, "first_seen", "last_seen")


def one_of(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN (:name)`` for a list parameter, as one parameter: ``column = ANY(:name)`` on PostgreSQL,
    ``column IN (SELECT value FROM json_each(:name))`` on SQLite. (Rendering an expanding ``IN`` of hundreds
    of values costs SQLAlchemy more time than the database needs to answer.)"""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    values: Select[Any] = select(literal_column("value")).select_from(func.json_each(bindparam(name, type_=JSON())))
    return column.in_(values)


def insert_chunked(executor: Any, table: Table, rows: Iterable[dict[str, Any]], size: int = 5000) -> int:
    """Insert ``rows`` into ``table`` with one ``executemany`` per ``size`` rows, through ``executor`` (a Session or a
    Connection: anything with ``execute``); a generator of rows is never held whole. Returns how many were written."""
    chunk: list[dict[str, Any]] = []
    written = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            executor.execute(insert(table), chunk)
            written, chunk = written + len(chunk), []
    if chunk:
        executor.execute(insert(table), chunk)
        written += len(chunk)
    return written


def json_text(value: Any) -> str:
    """``value`` as :class:`store.types.JSONType` writes it, without NUL characters."""
    text = json.dumps(value)
    return json.dumps(without_nul(value)) if "\\u0000" in text else text


Converter = Callable[[Any], Any]
_CONVERTERS: dict[tuple[str, str, tuple[str, ...]], list[tuple[int, Converter]]] = {}


def _converters(conn: Connection, table: Table, columns: Sequence[str]) -> list[tuple[int, Converter]]:
    """(position, conversion) of the columns whose values the driver does not take as they are."""
    key = (conn.dialect.name, table.name, tuple(columns))
    if key not in _CONVERTERS:
        found: list[tuple[int, Converter]] = []
        for position, name in enumerate(columns):
            kind = table.c[name].type
            convert = (
                json_text
                if isinstance(kind, JSONType)
                else kind.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            )
            if convert is not None:
                found.append((position, convert))
        _CONVERTERS[key] = found
    return _CONVERTERS[key]


def _tuples(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    """The rows as driver values, in the order of ``columns``."""
    converters = _converters(conn, table, columns)
    for row in rows:
        values = [row[name] for name in columns]
        for position, convert in converters:
            if values[position] is not None:
                values[position] = convert(values[position])
        yield tuple(values)


# -- SQLite: executemany through the driver --------------------------------------------------------------


def _names(columns: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in columns)


_SQLITE_INSERT_POST = (
    f"INSERT INTO post ({_names(POST_COLUMNS)}) VALUES ({', '.join('?' for _ in POST_COLUMNS)}) "
    "ON CONFLICT (platform, external_id) DO NOTHING"
)
_UPDATE_SET = ", ".join(f'"{name}" = ?' for name in UPDATE_COLUMNS if name != "raw")
_SQLITE_UPDATE_POST = f"UPDATE post SET {_UPDATE_SET}, raw = COALESCE(?, raw) WHERE id = ?"
_IDENTITY_SET = ", ".join(f"{name} = COALESCE(excluded.{name}, social_identity.{name})" for name in IDENTITY_FIELDS)
_SQLITE_UPSERT_IDENTITY = (
    f"INSERT INTO social_identity ({_names(IDENTITY_COLUMNS)}) VALUES ({', '.join('?' for _ in IDENTITY_COLUMNS)}) "
    f"ON CONFLICT (platform, account_id) DO UPDATE SET {_IDENTITY_SET}, last_seen = excluded.last_seen"
)
_UPDATE_ORDER = tuple(name for name in UPDATE_COLUMNS if name != "raw") + ("raw", "id")


# -- PostgreSQL: COPY into a temporary table -------------------------------------------------------------

_PG_POST_IN = "resonanz_post_in"
_PG_POST_UPDATE = "resonanz_post_update"
_PG_IDENTITY_IN = "resonanz_identity_in"
_PG_TEMP = {
    _PG_POST_IN: f"SELECT 0 AS n, {_names(POST_COLUMNS)} FROM post",
    _PG_POST_UPDATE: f"SELECT id, {_names(UPDATE_COLUMNS)} FROM post",
    _PG_IDENTITY_IN: f"SELECT {_names(IDENTITY_COLUMNS)} FROM social_identity",
}
_PG_INSERT_POST = (
    f"INSERT INTO post ({_names(POST_COLUMNS)}) SELECT {_names(POST_COLUMNS)} FROM {_PG_POST_IN} ORDER BY n "
    "ON CONFLICT (platform, external_id) DO NOTHING"
)
_PG_UPDATE_SET = ", ".join(f'"{name}" = u."{name}"' for name in UPDATE_COLUMNS if name != "raw")
_PG_UPDATE_POST = (
    f"UPDATE post AS p SET {_PG_UPDATE_SET}, raw = COALESCE(u.raw, p.raw) FROM {_PG_POST_UPDATE} AS u WHERE p.id = u.id"
)
_PG_UPSERT_IDENTITY = (
    f"INSERT INTO social_identity ({_names(IDENTITY_COLUMNS)}) SELECT {_names(IDENTITY_COLUMNS)} "
    f"FROM {_PG_IDENTITY_IN} ORDER BY platform, account_id "
    f"ON CONFLICT (platform, account_id) DO UPDATE SET {_IDENTITY_SET}, last_seen = excluded.last_seen "
    "RETURNING id, platform, account_id"
)


@contextmanager
def _driver_errors(conn: Connection, statement: str) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (callers tell a lost connection from a refused value by them)."""
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error, dialect=conn.dialect) from exc


def _copy_into(conn: Connection, temp: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Fill the (emptied) temporary table ``temp`` with ``rows`` by ``COPY``; it is dropped at commit."""
    create = f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS {_PG_TEMP[temp]} WITH NO DATA"
    copy_sql = f"COPY {temp} ({_names(columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert driver is not None
    with _driver_errors(conn, copy_sql), driver.cursor() as cursor:
        cursor.execute(f"{create}; TRUNCATE {temp}")  # one round trip, no parameters
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)


# -- the writes ----------------------------------------------------------------------------------------


def insert_posts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert new posts; a post stored meanwhile by another run is left as it is (``ON CONFLICT DO NOTHING``)."""
    if not rows:
        return
    values = _tuples(conn, _POST, POST_COLUMNS, rows)
    if conn.dialect.name == "postgresql":
        numbered = ((n, *row) for n, row in enumerate(values))
        _copy_into(conn, _PG_POST_IN, ("n", *POST_COLUMNS), numbered)
        conn.exec_driver_sql(_PG_INSERT_POST)
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_INSERT_POST, list(values))
    else:
        raise NotImplementedError(f"bulk ingest is not implemented for {conn.dialect.name}")


def update_posts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the new values of stored posts (by ``id``); ``raw=None`` keeps the stored ``raw``."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        _copy_into(conn, _PG_POST_UPDATE, ("id", *UPDATE_COLUMNS), _tuples(conn, _POST, ("id", *UPDATE_COLUMNS), rows))
        conn.exec_driver_sql(_PG_UPDATE_POST)
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_UPDATE_POST, list(_tuples(conn, _POST, _UPDATE_ORDER, rows)))
    else:
        raise NotImplementedError(f"bulk ingest is not implemented for {conn.dialect.name}")


def upsert_identities(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], int] | None:
    """Insert or refresh identities (known profile fields are never erased by a ``None``; ``last_seen`` moves).

    Returns their ids by (platform, account_id) where the database hands them back with the write
    (PostgreSQL), else ``None`` (the caller selects them). ``rows`` come in a fixed order (deadlocks)."""
    if not rows:
        return {}
    values = _tuples(conn, _IDENTITY, IDENTITY_COLUMNS, rows)
    if conn.dialect.name == "postgresql":
        _copy_into(conn, _PG_IDENTITY_IN, IDENTITY_COLUMNS, values)
        return {(row.platform, row.account_id): row.id for row in conn.exec_driver_sql(_PG_UPSERT_IDENTITY)}
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_SQLITE_UPSERT_IDENTITY, list(values))
        return None
    raise NotImplementedError(f"bulk ingest is not implemented for {conn.dialect.name}")
