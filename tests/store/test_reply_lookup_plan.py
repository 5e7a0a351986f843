"""The item page's reply lookup stays a seek on SQLite when most posts have no parent (migration 0014).

With ``parent_id`` indexed alone, ``ANALYZE`` statistics of a store where nearly every post is top-level
say a million rows per parent value, and SQLite walked the whole ``created_at`` index instead: 1.5 s per item
page at a million posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from resonanz.core.tables import POST
from store.models import Post


def test_replies_of_a_post_use_the_parent_index_after_analyze(sqlite_engine: Engine) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{"platform": "mastodon", "external_id": str(i), "text": "x", "created_at": start + timedelta(minutes=i)}
            for i in range(3000)]  # fmt: skip
    with sqlite_engine.begin() as conn:
        conn.execute(insert(POST), rows)
        conn.execute(text("ANALYZE"))
        query = select(Post).where(Post.parent_id == 1).order_by(col(Post.created_at)).limit(50)  # as review/detail.py
        compiled = query.compile(sqlite_engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_post_parent_created" in plan, plan
