"""post search: the database's German full-text index over posts, and saved searches

SQLite: the FTS5 table ``post_fts`` (external content = ``post``) and three triggers that keep it in step
with every insert, edit, redaction and delete; the existing posts are indexed once (``rebuild``).
PostgreSQL: the generated column ``post.search_vector`` (``to_tsvector('german', ...)``) with a GIN index.
Both: the ``saved_search`` table. See store/models/search.py.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of store.models.search.SQLITE_INDEX_DDL / POSTGRES_INDEX_DDL as of this revision.
SQLITE_UP = (
    "CREATE VIRTUAL TABLE post_fts USING fts5("
    "title, text, content='post', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER post_fts_ai AFTER INSERT ON post BEGIN "
    "INSERT INTO post_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER post_fts_ad AFTER DELETE ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER post_fts_au AFTER UPDATE OF title, text ON post BEGIN "
    "INSERT INTO post_fts(post_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO post_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO post_fts(post_fts) VALUES ('rebuild')",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS post_fts_au",
    "DROP TRIGGER IF EXISTS post_fts_ad",
    "DROP TRIGGER IF EXISTS post_fts_ai",
    "DROP TABLE IF EXISTS post_fts",
)
POSTGRES_UP = (
    "ALTER TABLE post ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('german'::regconfig, coalesce(title, '') || ' ' || text)) STORED",
    "CREATE INDEX ix_post_search_vector ON post USING gin (search_vector)",
)
POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_post_search_vector",
    "ALTER TABLE post DROP COLUMN IF EXISTS search_vector",
)


def upgrade() -> None:
    op.create_table(
        "saved_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("query", sa.String(length=500), nullable=False),
        sa.Column("filters", store.types.JSONType(), nullable=False),
        sa.Column("created_at", store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_search_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_saved_search_owner"), ["owner"], unique=False)
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else POSTGRES_UP if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN if dialect == "postgresql" else ():
        op.execute(statement)
    with op.batch_alter_table("saved_search", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_search_owner"))
        batch_op.drop_index(batch_op.f("ix_saved_search_name"))
    op.drop_table("saved_search")
