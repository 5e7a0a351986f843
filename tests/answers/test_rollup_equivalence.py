"""The daily rollups give the same answers as the raw posts: random small data sets, after a rebuild and after the
pipeline's writes (a person's correction, a class change, new weights) marked and recomputed their days; on SQLite
and PostgreSQL. The default answers are cached (:func:`rollup.warm`) before each change: a cached answer the change
made stale would differ from the raw one."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from resonanz.answers import rollup
from resonanz.answers.ask import ask
from resonanz.answers.dashboard import dashboard, weekly_periods
from resonanz.answers.posts import posts_behind
from resonanz.answers.sql import ALL_BRANDS, AnswerFilter
from resonanz.core.periods import Period, iso_week, resolve_period
from resonanz.core.settings import Settings
from resonanz.core.tables import mark_current_values
from resonanz.pipeline.weighting import apply_weights
from resonanz.review.corrections import apply_corrections
from store.db import open_engine
from store.models import CustomerValue, LabelFeedback, Source
from tests.answers.factory import Factory
from tests.pg import create_database

WEEK = iso_week("2026-W47")  # W46 before it: no change of summer time in between, both start at midnight
NOW = WEEK.start + timedelta(days=4)
TOPICS = ["Lieferung", "Preis", "Kaffee"]
POLARITIES = [None, "positive", "negative", "neutral"]
PRIOR = [0.3, 0.45, 0.25]
"""A sentiment model's training prior: with it ``ask`` also estimates the stream's shares (EM)."""

post_st = st.fixed_dictionaries(
    {
        "author": st.integers(-1, 3),  # -1: no account
        "hours": st.integers(-24 * 7 * 3, 24 * 7 - 1),  # from W44 to the end of W47
        "sentiment": st.sampled_from(["negative", "neutral", "positive"]),
        "topics": st.lists(st.tuples(st.sampled_from(TOPICS), st.sampled_from(POLARITIES)), max_size=3),
        "weight": st.one_of(st.none(), st.floats(0.1, 20.0)),
        "platform": st.sampled_from(["mastodon", "bluesky"]),
        "language": st.sampled_from(["de", "en"]),
        "source": st.sampled_from([None, "own", "rival"]),
        "advocate": st.booleans(),
    }
)
world_st = st.fixed_dictionaries(
    {
        "classes": st.lists(st.sampled_from(["A", "B", "C", None]), min_size=1, max_size=4),
        "links": st.lists(
            st.tuples(st.integers(0, 5), st.integers(0, 1), st.sampled_from(["confirmed", "auto", "pending"])),
            min_size=2,
            unique_by=lambda link: link[:2],
        ),
        "posts": st.lists(post_st, min_size=1, max_size=20),
        "corrected": st.integers(0, 19),
        "new_class": st.sampled_from(["A", "B", "C"]),
    }
)


def _post(author: int, hours: int, weight: float | None) -> dict[str, Any]:
    return {
        "author": author, "hours": hours, "sentiment": "negative", "topics": [], "weight": weight,
        "platform": "mastodon", "language": "de", "source": None, "advocate": False,
    }  # fmt: skip


TIED_DAYS = {
    "classes": ["A"],
    "links": [(0, 0, "confirmed")],
    "posts": [_post(0, day * 24 + hour, 5.0) for day in (0, 1, 2) for hour in (9, 11, 13, 15)]
    + [_post(-1, 30 + hour, None) for hour in range(4)],
    "corrected": 0,
    "new_class": "A",
}
"""Many posts of the same weight on each of three days: the pages (2, 4) and (5, 25) start inside such a group."""


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("rollup") / "rollup.db"
        eng = open_engine(f"sqlite:///{path}")
    else:
        eng = open_engine(create_database(request.getfixturevalue("pg_server"), f"t_{uuid.uuid4().hex[:12]}"))
    yield eng
    eng.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(delete(table))


def _close(a: Any, b: Any, path: str = "") -> None:
    """Counts equal, weighted numbers to 1e-9."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            _close(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert b is not None and a is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    else:
        assert a == b, (path, a, b)


def _raw_and_rollup(session: Session, monkeypatch: pytest.MonkeyPatch, flt: AnswerFilter) -> None:
    assert rollup.prepare(session, flt, [flt.period.previous(rollup.TZ), flt.period])  # the rollup really answers
    for top in (10, 1):  # 1 of the 3 topics: the rollups read the voices of the shown topic only
        from_rollup = ask(session, flt, train_prior=PRIOR, top_topics=top).to_dict()  # EM shares: rollup packs
        assert from_rollup["current"]["estimated_shares"] is not None or not from_rollup["current"]["posts"]
        with monkeypatch.context() as patch:
            patch.setattr(rollup, "prepare", lambda *args, **kwargs: False)
            from_posts = ask(session, flt, train_prior=PRIOR, top_topics=top).to_dict()
        _close(from_posts, from_rollup)
    _pages(session, monkeypatch, flt)


def _pages(session: Session, monkeypatch: pytest.MonkeyPatch, flt: AnswerFilter) -> None:
    """The posts behind the answer, a page at a time: picked among the rollups' candidates (the heaviest, ordered
    by their times) as from the query over every post (ties in weight are many: posts without a weight, and a
    customer's posts weigh alike)."""
    for offset, limit in ((0, 3), (2, 4), (5, 25)):
        from_rollup = posts_behind(session, flt, limit=limit, offset=offset)
        with monkeypatch.context() as patch:
            patch.setattr(rollup, "prepare", lambda *args, **kwargs: False)
            from_posts = posts_behind(session, flt, limit=limit, offset=offset)
        assert from_rollup.total == from_posts.total
        assert [p.post_id for p in from_rollup.posts] == [p.post_id for p in from_posts.posts], (offset, limit)
        assert from_rollup.posts == from_posts.posts


def _dashboards(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    # 6 weeks: back to W42, across the change to winter time; 12: the one rollup.warm caches
    # and the top topic alone: the span's topic voices are read for the shown topics only
    for count, top in ((6, 5), (rollup.DASHBOARD_WEEKS, 5), (rollup.DASHBOARD_WEEKS, 1)):
        weeks = weekly_periods("2026-W47", count, "Europe/Berlin")
        span = AnswerFilter(period=Period(weeks[0].start, weeks[-1].end, f"{count} Wochen"))
        assert rollup.prepare(session, span, weeks)  # the rollup really answers
        from_rollup = asdict(dashboard(session, now=NOW, weeks=count, top_topics=top))
        with monkeypatch.context() as patch:
            patch.setattr(rollup, "prepare", lambda *args, **kwargs: False)
            from_posts = asdict(dashboard(session, now=NOW, weeks=count, top_topics=top))
        _close(from_posts, from_rollup)


def _build(session: Session, world: dict[str, Any]) -> list[int]:
    make = Factory(session)
    own, rival = Source(name="eigen", platform="mastodon"), Source(name="rivale", platform="mastodon", brand="Rival")
    session.add_all([own, rival])
    session.flush()
    sources = {None: None, "own": own.id, "rival": rival.id}
    customers = [
        make.customer(f"Kundin {i}", cls, weight=1.0 + i, revenue=100.0 * (i + 1))
        for i, cls in enumerate(world["classes"])
    ]
    identities = [make.identity(f"@user{i}@social.example", "mastodon" if i % 2 else "bluesky") for i in range(6)]
    for ident, cust, status in world["links"]:
        if cust < len(customers):
            make.link(identities[ident], customers[cust], status=status)
    post_ids = []
    for p in world["posts"]:
        aspects = {t: pol for t, pol in p["topics"] if pol}
        post = make.post(
            identities[p["author"]] if p["author"] >= 0 else None,
            "Beitrag",
            WEEK.start + timedelta(hours=p["hours"], minutes=30),
            sentiment=p["sentiment"],
            topics=[t for t, _ in p["topics"]],
            aspects=aspects,
            weight=p["weight"],
            platform=p["platform"],
            language=p["language"],
        )
        post.source_id = sources[p["source"]]
        post.voice = "advocate" if p["advocate"] else None
        session.add(post)
        post_ids.append(int(post.id or 0))
    session.commit()
    return post_ids


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking these worlds takes minutes
)
@given(world=world_st)
@example(world=TIED_DAYS)
def test_rollup_answers_equal_the_raw_answers(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, world: dict[str, Any]
) -> None:
    _empty(engine)
    with Session(engine, expire_on_commit=False) as session:
        post_ids = _build(session, world)
        rollup.rebuild(session)
        rollup.warm(session, now=NOW)
        session.commit()
        filters = [
            AnswerFilter(period=WEEK),
            AnswerFilter(period=WEEK, classes=["A", "prospect"]),
            AnswerFilter(period=WEEK, platforms=["bluesky"], languages=["de"], default_weight=0.7),
            AnswerFilter(period=WEEK, brand=ALL_BRANDS),
            AnswerFilter(period=WEEK, brand="Rival"),
            AnswerFilter(period=WEEK, voice="advocate"),
            # one day (and the day before): a short read of the per-voice table, by day instead of by voice
            AnswerFilter(period=Period(WEEK.start + timedelta(days=2), WEEK.start + timedelta(days=3), "Mittwoch")),
            # the default period (today and the 27 days before), across the end of summer time on 25 October
            AnswerFilter(period=resolve_period(days=28, now=NOW)),
        ]
        for flt in filters:
            _raw_and_rollup(session, monkeypatch, flt)
        _dashboards(session, monkeypatch)

        rollup.warm(session, now=NOW)  # cached again before each change
        # a person's correction (marks the post's day through apply_corrections) ...
        corrected = post_ids[world["corrected"] % len(post_ids)]
        session.add(LabelFeedback(post_id=corrected, field="sentiment", new_value="positive", actor="cm"))
        session.flush()
        apply_corrections(session, [corrected])
        session.commit()
        for flt in filters:
            _raw_and_rollup(session, monkeypatch, flt)
        rollup.warm(session, now=NOW)
        # ... a class change from a new valuation (marked as the valuation does) ...
        for customer_id in set(session.exec(select(CustomerValue.customer_id)).all()):
            session.add(
                CustomerValue(
                    customer_id=customer_id,
                    computed_at=datetime.now(UTC),
                    abc_class=world["new_class"],
                    revenue=50.0,
                    weight=3.0,
                )
            )
        session.flush()
        mark_current_values(session)
        rollup.mark_drift(session)
        session.commit()
        for flt in filters:
            _raw_and_rollup(session, monkeypatch, flt)
        rollup.warm(session, now=NOW)
        session.commit()

    # ... and new weights (apply_weights marks the changed scores and recomputes in its transaction)
    apply_weights(engine, Settings())
    with Session(engine) as session:
        assert not rollup.dirty_days(session)
        for flt in filters:
            _raw_and_rollup(session, monkeypatch, flt)
        _dashboards(session, monkeypatch)
