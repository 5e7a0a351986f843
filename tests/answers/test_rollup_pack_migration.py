"""Migration 0016 (the per-account rollup rows packed per day and cell) on a database whose rollups were built:
every day is marked for recomputation and the cached answers are dropped, so the next answer recomputes the days it
reads and equals the one before the upgrade; on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers import rollup
from store.db import alembic_config
from tests.answers.factory import build_scenario
from tests.answers.test_rollup_cache import NOW, _answers


def _count(session: Session, table: object) -> int:
    return int(session.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_upgrading_marks_every_day_and_the_next_answer_is_the_same(engine: Engine) -> None:
    with Session(engine) as session:
        build_scenario(session)
        session.commit()
        rollup.rebuild(session)
        rollup.warm(session, now=NOW)
        session.commit()
        before = _answers(session)
        days = {d for (d,) in session.execute(select(rollup.ROLLUP.c.day).distinct())}
        assert days and _count(session, rollup.PACK) > 0
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0015")
    assert "answer_rollup_voice" in inspect(engine).get_table_names()
    assert "answer_rollup_pack" not in inspect(engine).get_table_names()
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        assert set(rollup.dirty_days(session)) == days
        assert _count(session, rollup.PACK) == 0 and _count(session, rollup.CACHE) == 0
        assert _answers(session) == before  # the answer recomputed the days it reads
        assert _count(session, rollup.PACK) > 0
