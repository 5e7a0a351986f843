"""The days the rollups mark come from the database's UTC hours of the posts (one row per hour, not per post):
posts just before and after midnight Europe/Berlin, in summer and in winter time, mark their Berlin day; on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers import rollup
from tests.answers.factory import Factory

MOMENTS = {
    datetime(2026, 7, 1, 21, 59, tzinfo=UTC): date(2026, 7, 1),  # 23:59 summer time
    datetime(2026, 7, 1, 22, 30, tzinfo=UTC): date(2026, 7, 2),  # 00:30 summer time
    datetime(2026, 12, 1, 22, 59, tzinfo=UTC): date(2026, 12, 1),  # 23:59 winter time
    datetime(2026, 12, 1, 23, 0, tzinfo=UTC): date(2026, 12, 2),  # 00:00 winter time
    datetime(2026, 10, 25, 0, 30, tzinfo=UTC): date(2026, 10, 25),  # 02:30 summer time, the night it ends
}


def test_each_post_marks_its_berlin_day(engine: Engine) -> None:
    with Session(engine) as session:
        make = Factory(session)
        author = make.identity("@nachtschwärmer")
        posts = {make.post(author, f"Beitrag {i}", moment).id: day for i, (moment, day) in enumerate(MOMENTS.items())}
        session.commit()
        rollup.rebuild(session)
        session.commit()
        assert not rollup.dirty_days(session)
        for post_id, day in posts.items():
            assert post_id is not None
            assert rollup.mark_posts(session, [post_id]) == 1
            assert rollup.dirty_days(session) == [day]
            session.rollback()
        assert rollup.mark_posts(session, [p for p in posts if p is not None]) == len(set(MOMENTS.values()))
