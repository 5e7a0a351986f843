"""Migration 0010: ``source.brand`` (issue 17, part 6) on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from store.db import alembic_config, current_revision


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("source")}


def test_existing_sources_become_the_own_brand_and_the_column_goes_on_downgrade(engine: Engine) -> None:
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0009")
    assert "brand" not in _columns(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO source (name, platform, interval_seconds, enabled, config, cursor, created_at) "
                          "VALUES ('alt', 'rss', 900, true, '{}', '{}', '2026-11-01 00:00:00')"))  # fmt: skip
    command.upgrade(cfg, "head")
    assert current_revision(engine) is not None and "brand" in _columns(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT brand FROM source WHERE name = 'alt'")).scalar_one() is None
        conn.execute(text("UPDATE source SET brand = 'Röstlicht' WHERE name = 'alt'"))
    command.downgrade(cfg, "0009")
    assert "brand" not in _columns(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM source")).scalar_one() == 1  # the source itself stays
    command.upgrade(cfg, "head")
