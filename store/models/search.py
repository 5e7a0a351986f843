"""Full-text search over posts: saved searches, and the database's own index beside the ``post`` table.

The index is not a model: each database gets its own German full-text engine (migration 0009).

* SQLite: the FTS5 table ``post_fts`` (title and text, ``unicode61`` with diacritics removed, external
  content = ``post``), kept in sync by three triggers on ``post``. FTS5 has no German stemmer; the query
  side (``resonanz.answers.search``) stems and expands words through the index's vocabulary.
* PostgreSQL: the generated column ``post.search_vector`` =
  ``to_tsvector('german', coalesce(title, '') || ' ' || text)`` with the GIN index ``ix_post_search_vector``.

``SQLModel.metadata.create_all`` builds the same objects (the DDL events below), so a database made from
the models (tests, tools) is searchable too. Autogenerate and schema comparisons must leave these objects
alone: pass :func:`not_search_index` as ``include_object``. A later migration that makes SQLite rebuild
``post`` (a batch ``drop_column`` or type change) drops the triggers with the old table and must create
them again (:data:`SQLITE_INDEX_DDL`, then ``INSERT INTO post_fts(post_fts) VALUES('rebuild')``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Table, event
from sqlmodel import Field, SQLModel

from store.models.social import Post
from store.types import JSONType, UTCDateTime, utcnow

FTS_TABLE = "post_fts"
"""SQLite: the FTS5 table over ``post.title`` and ``post.text`` (rowid = ``post.id``)."""
FTS_TOKENIZER = "unicode61 remove_diacritics 2"
SEARCH_VECTOR = "search_vector"
"""PostgreSQL: the generated ``tsvector`` column of ``post``."""
SEARCH_VECTOR_INDEX = "ix_post_search_vector"
TEXT_SEARCH_CONFIG = "german"

SEARCH_INDEX_TABLES = frozenset(
    {FTS_TABLE, f"{FTS_TABLE}_data", f"{FTS_TABLE}_idx", f"{FTS_TABLE}_docsize", f"{FTS_TABLE}_config"}
)
"""The FTS5 table and its shadow tables (SQLite)."""

SQLITE_INDEX_DDL: tuple[str, ...] = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5("
    f"title, text, content='post', content_rowid='id', tokenize='{FTS_TOKENIZER}')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON post BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON post BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF title, text ON post BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    f"INSERT INTO {FTS_TABLE}(rowid, title, text) VALUES (new.id, new.title, new.text); END",
)
"""SQLite: the index and the triggers that keep it in step with every insert, edit, redaction and delete."""

POSTGRES_INDEX_DDL: tuple[str, ...] = (
    f"ALTER TABLE post ADD COLUMN IF NOT EXISTS {SEARCH_VECTOR} tsvector GENERATED ALWAYS AS "
    f"(to_tsvector('{TEXT_SEARCH_CONFIG}'::regconfig, coalesce(title, '') || ' ' || text)) STORED",
    f"CREATE INDEX IF NOT EXISTS {SEARCH_VECTOR_INDEX} ON post USING gin ({SEARCH_VECTOR})",
)


class SavedSearch(SQLModel, table=True):
    """A search someone kept: its words and filters, run again from the CLI, the web app, alerts or the digest."""

    __tablename__ = "saved_search"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True, index=True)
    owner: str = Field(max_length=100, index=True, description="web user name, or the CLI user")
    query: str = Field(max_length=500, description="the search words as typed (resonanz.answers.search syntax)")
    filters: dict[str, Any] = Field(
        default_factory=dict,
        sa_type=JSONType,
        description="classes, topics, platforms, sentiments, since/until/week/days",
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


def not_search_index(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Alembic ``include_object``: False for the search index objects the models do not declare."""
    if type_ == "table":
        return name not in SEARCH_INDEX_TABLES
    if type_ == "column":
        return name != SEARCH_VECTOR
    if type_ == "index":
        return name != SEARCH_VECTOR_INDEX
    return True


def _post_table() -> Table:
    table: Table = Post.__table__  # type: ignore[attr-defined]
    return table


def _ddl(statement: str, dialect: str) -> DDL:
    ddl = DDL(statement)  # type: ignore[no-untyped-call]
    return ddl.execute_if(dialect=dialect)


for _statement in SQLITE_INDEX_DDL:
    event.listen(_post_table(), "after_create", _ddl(_statement, "sqlite"))
for _statement in POSTGRES_INDEX_DDL:
    event.listen(_post_table(), "after_create", _ddl(_statement, "postgresql"))
event.listen(_post_table(), "after_drop", _ddl(f"DROP TABLE IF EXISTS {FTS_TABLE}", "sqlite"))
