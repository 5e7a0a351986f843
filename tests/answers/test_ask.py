"""The ask query against a fully known scenario, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.pareto import pareto
from resonanz.core.periods import iso_week
from tests.answers.factory import WEEK, Factory, Scenario

W47 = iso_week(WEEK)


def test_overall_weighted_and_unweighted_side_by_side(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    a = ask(session, AnswerFilter(period=W47))
    cur = a.current
    # 9 scored, not deleted posts; the reply is unscored, the deleted post is left out
    assert cur.posts == 9
    assert cur.authors == 6 and cur.customers == 4
    # weights: anna 5+5 (second from her value), ben 5, clara 2, dora 1, four prospect posts 0.5 each
    assert cur.weight == pytest.approx(20.0)
    assert cur.net == pytest.approx((5 - 3) / 9)  # 5 positive, 3 negative, 1 neutral
    assert cur.net_weighted == pytest.approx((7.5 - 10.5) / 20)
    assert cur.negative_share_weighted == pytest.approx(10.5 / 20)
    # the loud positive prospects hide that valuable customers are unhappy
    assert cur.net is not None and cur.net_weighted is not None
    assert cur.net > 0 > cur.net_weighted


def test_trend_against_previous_period_of_equal_length(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    a = ask(session, AnswerFilter(period=W47))
    assert a.previous_period.end == a.period.start
    assert a.previous.posts == 3
    assert a.previous.net_weighted == pytest.approx((5 - 0.5 - 0.5) / 6)


def test_class_filter_uses_latest_customer_value(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    a = ask(session, AnswerFilter(period=W47, classes=["A"]))
    # anna has an older 'C' value row: the latest ('A') counts
    assert a.current.posts == 3
    assert {q.segment for q in a.quotes} == {"A"}
    c = ask(session, AnswerFilter(period=W47, classes=["C"]))
    assert c.current.posts == 1  # dora only
    prospects = ask(session, AnswerFilter(period=W47, classes=["prospect"]))
    assert prospects.current.posts == 4 and prospects.current.customers == 0


def test_topic_platform_language_rfm_loyal_filters(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    assert ask(session, AnswerFilter(period=W47, topics=["Preis"])).current.posts == 2
    assert ask(session, AnswerFilter(period=W47, topics=["Preis", "App"])).current.posts == 4
    assert ask(session, AnswerFilter(period=W47, platforms=["bluesky"])).current.posts == 2
    assert ask(session, AnswerFilter(period=W47, languages=["en"])).current.posts == 1
    assert ask(session, AnswerFilter(period=W47, rfm_segments=["Loyal"])).current.posts == 1  # ben
    assert ask(session, AnswerFilter(period=W47, loyal=True)).current.posts == 2  # anna
    assert ask(session, AnswerFilter(period=W47, loyal=False)).current.posts == 7


def test_latest_score_per_post_or_a_named_model(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    latest = ask(session, AnswerFilter(period=W47, topics=["Preis"], classes=["A"]))
    assert latest.current.negative_share == 1.0  # anna2's newest score is negative
    old = ask(session, AnswerFilter(period=W47, topics=["Preis"], model_name="old"))
    assert old.current.posts == 1 and old.current.positive_share == 1.0


def test_topics_weighted_share_net_and_previous(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    a = ask(session, AnswerFilter(period=W47))
    topics = {t.topic: t for t in a.topics}
    assert set(topics) == {"Lieferung", "Preis", "Service", "App"}
    assert topics["Preis"].weighted_share == pytest.approx(7 / 20)  # anna2 5 + clara 2
    assert topics["Preis"].net_weighted == pytest.approx(-5 / 7)
    assert topics["Service"].posts == 4 and topics["Service"].share == pytest.approx(4 / 9)
    assert topics["Lieferung"].previous_posts == 2
    assert topics["Lieferung"].previous_weighted_share == pytest.approx(5.5 / 6)
    assert topics["App"].negative_weighted == pytest.approx(0.5)
    # ordered by value-weighted share, most important first
    shares = [t.weighted_share or 0.0 for t in a.topics]
    assert shares == sorted(shares, reverse=True)


def test_quotes_most_weighted_negative_positive_with_links(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    a = ask(session, AnswerFilter(period=W47), quote_limit=2)
    kinds = [q.kind for q in a.quotes]
    assert kinds == sorted(kinds, key=["most_weighted", "most_negative", "most_positive"].index)
    assert len({q.post_id for q in a.quotes}) == len(a.quotes), "each post is quoted once"
    weighted = a.quotes_of("most_weighted")
    assert [q.weight for q in weighted] == [5.0, 5.0]
    assert all(q.sentiment == "negative" for q in a.quotes_of("most_negative"))
    assert all(q.sentiment == "positive" for q in a.quotes_of("most_positive"))
    assert all(q.url and q.url.startswith("https://") for q in a.quotes)
    assert sc.posts["anna1"].id in {q.post_id for q in a.quotes}


def test_pareto_share_of_voice_vs_revenue(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    result = pareto(session, AnswerFilter(period=W47, classes=["A"]))  # segment filters are ignored
    rows = {r.segment: r for r in result.rows}
    assert [r.segment for r in result.rows] == ["A", "B", "C", "prospect"]
    assert result.total_revenue == pytest.approx(20000)
    assert rows["A"].revenue_share == pytest.approx(0.75)
    assert rows["A"].customer_share == pytest.approx(0.4)
    assert rows["A"].voice_share == pytest.approx(3 / 9)
    assert rows["prospect"].voice_share == pytest.approx(4 / 9) and rows["prospect"].revenue == 0
    assert rows["C"].customers == 2  # emil (pending link only) counts as a customer, not as a voice
    assert rows["A"].listening_ratio == pytest.approx((3 / 9) / 0.75)
    assert "lauten Rest" in result.verdict
    # ask() computes the same without a second query when it has no segment filter
    via_ask = ask(session, AnswerFilter(period=W47)).pareto
    assert via_ask is not None and via_ask.to_dict() == result.to_dict()


def test_unlinked_erased_and_rejected_are_prospects(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    f = Factory(session)
    gone = f.customer("Gustav Gone", "A", revenue=5000, erased=True)
    rejected = f.customer("Rita Rejected", "A", revenue=5000)
    ig, ir = f.identity("@gone@x"), f.identity("@rita@x")
    f.link(ig, gone)
    f.link(ir, rejected, status="rejected")
    f.post(ig, "weg", sc.posts["anna1"].created_at, topics=[])
    f.post(ir, "nein", sc.posts["anna1"].created_at, topics=[])
    session.commit()
    a = ask(session, AnswerFilter(period=W47, classes=["prospect"]))
    assert a.current.posts == 6
    rows = {r.segment: r for r in pareto(session, AnswerFilter(period=W47)).rows}
    assert rows["A"].customers == 3  # anna, ben, rita (the erased customer is left out)


def test_withdrawn_consent_makes_an_author_a_prospect_at_once(db: tuple[Session, Scenario]) -> None:
    session, sc = db
    f = Factory(session)
    before = ask(session, AnswerFilter(period=W47, classes=["prospect"])).current.posts
    withdrawn = f.customer("Wanda Withdrawn", "A", revenue=5000, consent="withdrawn")
    iw = f.identity("@wanda@x")
    f.link(iw, withdrawn, status="confirmed")  # the link run has not removed it yet
    f.post(iw, "kein Kommentar", sc.posts["anna1"].created_at, topics=[])
    session.commit()
    assert ask(session, AnswerFilter(period=W47, classes=["prospect"])).current.posts == before + 1
    assert all(q.segment != "A" or "kein Kommentar" not in q.text for q in ask(session, AnswerFilter(
        period=W47, classes=["A"])).quotes)  # fmt: skip


def test_empty_period_gives_empty_answer(db: tuple[Session, Scenario]) -> None:
    session, _ = db
    a = ask(session, AnswerFilter(period=iso_week("2020-W01")))
    assert a.current.posts == 0 and a.current.net is None and a.topics == [] and a.quotes == []
    assert a.pareto is not None and "Keine Beiträge" in a.pareto.verdict


def test_temporary_rows_are_dropped_even_after_an_error(db: tuple[Session, Scenario]) -> None:
    from sqlalchemy import inspect

    from resonanz.answers.sql import materialized, post_rows_select

    session, _ = db
    ask(session, AnswerFilter(period=W47))
    assert inspect(session.connection()).get_temp_table_names() == []
    flt = AnswerFilter(period=W47)
    with pytest.raises(RuntimeError), materialized(session, post_rows_select(flt, session.get_bind().dialect.name)):
        raise RuntimeError("boom")
    session.rollback()
    assert inspect(session.connection()).get_temp_table_names() == []


def test_em_estimated_shares_follow_the_models_training_prior(db: tuple[Session, Scenario]) -> None:
    """The EM estimate (nlp.calibration) is only computed with a known training prior; a model trained
    under a positive-heavy prior over-believes positive, so the estimate moves towards negative."""
    session, _ = db
    assert ask(session, AnswerFilter(period=W47)).current.estimated_shares is None
    flat = ask(session, AnswerFilter(period=W47), train_prior=[1 / 3, 1 / 3, 1 / 3]).current
    assert flat.estimated_shares is not None and flat.estimated_shares_weighted is not None
    assert sum(flat.estimated_shares) == pytest.approx(1.0, abs=1e-3)
    # valuable customers are the unhappy ones (see the first test): weighting moves the estimate negative
    assert flat.estimated_shares_weighted[0] > flat.estimated_shares[0]
    skewed = ask(session, AnswerFilter(period=W47), train_prior=[0.1, 0.1, 0.8]).current
    assert skewed.estimated_shares is not None
    assert skewed.estimated_shares[2] < flat.estimated_shares[2]
    assert skewed.estimated_shares[0] > flat.estimated_shares[0]
