"""Competitors (issue 17, part 6): share of voice and sentiment of the own brand against tagged competitors.

The data is small enough to compute every number by hand (see :func:`_world`); SQLite and PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.alerts.posts import load_posts
from resonanz.answers.ask import ask
from resonanz.answers.competitors import (
    CSV_FIELDS,
    BrandSeries,
    CompetitorReport,
    competitor_report,
    to_csv,
    to_json,
    weekly_competitors,
    wilson,
)
from resonanz.answers.sql import AnswerFilter
from resonanz.core.errors import InvalidFilterError
from resonanz.core.periods import iso_week
from resonanz.pipeline.sources import BrandNameError, add_source, known_brands, tag_source
from resonanz.review.competitors import close_competitor_items
from resonanz.review.queue import QueueFilter, list_queue
from tests.answers.competitor_world import BRIX, RL, World, build_world
from tests.answers.factory import MONDAY, WEEK, Factory


@pytest.fixture
def world(engine: Engine) -> Iterator[tuple[Session, World]]:
    with Session(engine, expire_on_commit=False) as session:
        yield session, build_world(session)


def _periods() -> list:  # type: ignore[type-arg]
    return [iso_week("2026-W46"), iso_week(WEEK)]


def _report(session: Session, **filters: object) -> CompetitorReport:
    return competitor_report(session, AnswerFilter(period=iso_week(WEEK), **filters), _periods())  # type: ignore[arg-type]


def _by_label(report: CompetitorReport) -> dict[str | None, BrandSeries]:
    return {b.brand: b for b in report.brands}


def test_share_of_voice_and_sentiment_per_brand_and_week(world: tuple[Session, World]) -> None:
    session, _w = world
    report = _report(session)
    assert [b.brand for b in report.brands] == [None, RL, BRIX]  # own first, then by posts over the span
    own, rl, brix = report.brands
    assert report.posts == [2, 6] and report.weight == pytest.approx([1.0, 12.0])
    # W47: own 2 of 6 posts, weight 5.5 of 12; Röstlicht 3 posts, weight 6; Brix 1 post, weight 0.5
    assert [own.weeks[1].posts, rl.weeks[1].posts, brix.weeks[1].posts] == [2, 3, 1]
    assert own.weeks[1].share == pytest.approx(2 / 6) and rl.weeks[1].share == pytest.approx(3 / 6)
    assert own.weeks[1].share_weighted == pytest.approx(5.5 / 12)
    assert rl.weeks[1].share_weighted == pytest.approx(6 / 12) and brix.weeks[1].share_weighted == pytest.approx(
        0.5 / 12
    )
    assert sum(b.weeks[1].share or 0 for b in report.brands) == pytest.approx(1.0)
    # sentiment: own (-1 + 1) / 2 plain, (-5 + 0.5) / 5.5 weighted; Röstlicht (1 - 1 + 0) / 3, (5 - 0.5) / 6
    assert own.weeks[1].net == pytest.approx(0.0) and own.weeks[1].net_weighted == pytest.approx(-4.5 / 5.5)
    assert rl.weeks[1].net == pytest.approx(0.0) and rl.weeks[1].net_weighted == pytest.approx(4.5 / 6)
    assert rl.weeks[1].negative_share == pytest.approx(1 / 3) and rl.weeks[1].negative_share_weighted == pytest.approx(
        0.5 / 6
    )
    assert brix.weeks[1].net == pytest.approx(-1.0) and brix.weeks[1].authors == 1
    # W46: Röstlicht had no posts: a share of 0, no sentiment
    assert rl.weeks[0].posts == 0 and rl.weeks[0].share == 0.0 and rl.weeks[0].net is None
    assert own.weeks[0].share == pytest.approx(0.5) and brix.weeks[0].net == pytest.approx(1.0)
    # the span: 8 posts, own 3, Röstlicht 3, Brix 2; own authors anna and p1, one of them a customer
    assert [own.total.posts, rl.total.posts, brix.total.posts] == [3, 3, 2]
    assert own.total.share == pytest.approx(3 / 8) and (own.total.authors, own.total.customers) == (2, 1)
    assert own.share_interval == pytest.approx(wilson(3, 8))
    # weighted share of voice: last week minus the week before
    assert rl.share_change_weighted == pytest.approx(0.5 - 0.0)
    assert brix.share_change_weighted == pytest.approx(0.5 / 12 - 0.5)


def test_what_each_brand_rests_on(world: tuple[Session, World]) -> None:
    session, _w = world
    by = _by_label(_report(session))
    assert by[None].sources == ["eigen"] and by[RL].sources == ["roestlicht-tag"]
    assert by[BRIX].platforms == ["bluesky"]


def test_filters_apply_to_every_brand(world: tuple[Session, World]) -> None:
    session, _w = world
    a_only = _by_label(_report(session, classes=["a"]))  # case-insensitive, as in ask
    assert {k: v.total.posts for k, v in a_only.items()} == {None: 1, RL: 1, BRIX: 0}
    assert a_only[RL].total.share == pytest.approx(0.5)
    bluesky = _by_label(_report(session, platforms=["bluesky"]))
    assert {k: v.total.posts for k, v in bluesky.items()} == {None: 0, RL: 0, BRIX: 2}
    with pytest.raises(InvalidFilterError):
        _report(session, classes=["D"])


def test_the_own_brands_answers_leave_competitors_out(world: tuple[Session, World]) -> None:
    """Tagging a source with a competitor takes its posts out of ask (and so dashboard and digest)."""
    session, _w = world
    flt = AnswerFilter(period=iso_week(WEEK))
    assert ask(session, flt, with_pareto=False).current.posts == 2
    assert ask(session, AnswerFilter(period=iso_week(WEEK), brand=RL), with_pareto=False).current.posts == 3


def test_a_competitor_report_without_competitors_has_only_the_own_brand(engine: Engine) -> None:
    with Session(engine) as session:
        f = Factory(session)
        f.post(f.identity("@solo@social.example"), "solo", MONDAY, sentiment="positive")
        session.commit()
        report = weekly_competitors(session, AnswerFilter(period=iso_week(WEEK)), end_week=WEEK, weeks=3)
    assert not report.has_competitors and [b.own for b in report.brands] == [True]
    assert report.brands[0].total.share == 1.0 and report.labels == ["2026-W45", "2026-W46", WEEK]


def test_quotes_per_brand(world: tuple[Session, World]) -> None:
    session, w = world
    report = competitor_report(session, AnswerFilter(period=iso_week(WEEK)), _periods(), quote_limit=1)
    by = _by_label(report)
    rl_quotes = {q.post_id for q in by[RL].quotes}
    assert rl_quotes and rl_quotes <= {w.posts[k].id for k in ("rl_ben", "rl_p2_neg", "rl_p2_neu")}
    assert w.posts["rl_ben"].id in rl_quotes  # the most weighted Röstlicht post


def test_csv_and_json_carry_every_brand_and_week(world: tuple[Session, World]) -> None:
    session, _w = world
    report = _report(session)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 3 * (2 + 1)
    rl47 = next(r for r in rows if r["brand"] == RL and r["week"] == WEEK)
    assert (int(rl47["posts"]), float(rl47["share"])) == (3, 0.5)
    assert next(r for r in rows if r["week"] == "all" and r["own"] == "True")["brand"] == ""
    data = json.loads(to_json(report))
    assert [b["brand"] for b in data["brands"]] == [None, RL, BRIX] and data["weeks"] == ["2026-W46", WEEK]
    assert data["brands"][1]["weeks"][1]["posts"] == 3


def test_wilson_interval() -> None:
    low, high = wilson(3, 8) or (0.0, 0.0)
    assert low == pytest.approx(0.1368, abs=1e-3) and high == pytest.approx(0.6943, abs=1e-3)  # textbook values
    low, high = wilson(5, 5) or (0.0, 0.0)
    assert low == pytest.approx(0.5655, abs=1e-3) and high == 1.0 and wilson(0, 0) is None


# --- tagging (resonanz.pipeline.sources) -----------------------------------------------------------------


def test_tagging_moves_a_sources_posts_between_brands(world: tuple[Session, World], engine: Engine) -> None:
    session, _w = world
    moved = tag_source(engine, "brix-suche", None)
    assert (moved.previous, moved.brand, moved.posts) == (BRIX, None, 2)
    session.expire_all()
    by = _by_label(_report(session))
    assert BRIX not in by and by[None].total.posts == 5
    again = tag_source(engine, "brix-suche", "  röstlicht ")  # the existing tag's spelling
    assert again.brand == RL and known_brands(session) == [RL]


def test_brand_names_are_checked(engine: Engine) -> None:
    src = add_source(
        engine, platform="rss", name="feed", query="https://example.org/feed", brand="  Brix   Kaffeehafen "
    )
    assert src.brand == BRIX
    for bad in ("*", "x" * 201):
        with pytest.raises(BrandNameError):
            tag_source(engine, "feed", bad)
    assert tag_source(engine, "feed", "   ").brand is None  # blank: back to the own brand


def test_queue_and_alerts_leave_competitors_posts_out(world: tuple[Session, World]) -> None:
    """Competitors' posts are compared, not answered or alerted on: the review queue and the alerts' post reader
    skip them (the own brand's posts, also those without a source, stay)."""
    session, w = world
    f = Factory(session)
    for key in ("own_anna", "own_p1", "rl_p2_neg", "brix_p1"):
        f.review_item(w.posts[key])  # items opened before the sources were tagged
    session.commit()
    # the rule closes them (run by every scoring pass and by tagging a source), the queue lists active items only
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    assert close_competitor_items(engine) == 2
    queued = {r.post_id for r in list_queue(session, QueueFilter()).rows}
    assert queued == {w.posts["own_anna"].id, w.posts["own_p1"].id}
    everything = QueueFilter(statuses=("open", "dismissed"))  # a view of closed items leaves them out as well
    assert {r.post_id for r in list_queue(session, everything).rows} == queued
    week = iso_week(WEEK)
    alerted = {p.post_id for p in load_posts(session, week.start, week.end, prospect_weight=0.5)}
    assert alerted == {w.posts["own_anna"].id, w.posts["own_p1"].id}
