"""The cached default answers (:func:`resonanz.answers.rollup.warm`) are served while the rollups are unchanged
and never once a correction or a new score changed them: every recomputation of a day raises the version."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col
from sqlmodel import select as select_model
from typer.testing import CliRunner

from resonanz.answers import ask as ask_module
from resonanz.answers import rollup
from resonanz.answers.ask import ask
from resonanz.answers.dashboard import dashboard
from resonanz.answers.sql import AnswerFilter
from resonanz.cli.main import app
from resonanz.core.periods import resolve_period
from resonanz.core.settings import reset_settings_cache
from resonanz.core.tables import POST, mark_current_values
from resonanz.review.corrections import apply_corrections
from store.db import open_engine
from store.models import LabelFeedback, Post
from tests.answers.factory import MONDAY, Factory, build_scenario
from tests.answers.test_rollup_equivalence import _close

NOW = MONDAY + timedelta(days=3)
READERS = ("_sums_by_segment", "_voice_sums", "_topic_sums")


@pytest.fixture
def built(engine: Engine) -> Engine:
    """The scenario of :func:`build_scenario` with its rollups, on SQLite and on PostgreSQL (``engine``)."""
    with Session(engine) as session:
        build_scenario(session)
        session.commit()
        rollup.rebuild(session)
        session.commit()
    return engine


def _answers(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
    """The default ``ask`` and the default dashboard, as :func:`rollup.warm` caches them."""
    weeks = rollup.DASHBOARD_WEEKS
    base = AnswerFilter(period=resolve_period(days=7 * weeks, tz=rollup.TZ, now=NOW))
    board = asdict(dashboard(session, now=NOW, weeks=weeks, tz=rollup.TZ, base=base))
    return ask(session, AnswerFilter(period=resolve_period(tz=rollup.TZ, now=NOW))).to_dict(), board


def _from_posts(session: Session, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    with monkeypatch.context() as patch:
        patch.setattr(rollup, "prepare", lambda *args, **kwargs: False)
        return _answers(session)


def _from_cache_only(session: Session, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers with the rollup readers switched off: they come from the cache or not at all."""

    def no_read(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("read the rollups instead of the cache")

    with monkeypatch.context() as patch:
        for reader in READERS:
            patch.setattr(rollup, reader, no_read)
        patch.setattr(ask_module, "quotes", no_read)  # which posts are quoted is cached too (their texts are not)
        return _answers(session)


def _cached_entries(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(rollup.CACHE)).scalar_one())


def test_warm_answers_are_served_from_the_cache_and_equal_the_raw_answers(
    built: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(built) as session:
        assert rollup.warm(session, now=NOW) > 0
        session.commit()
        cached = _from_cache_only(session, monkeypatch)
        assert cached == _answers(session)  # the same numbers as the reads they replace, to the last bit
        _close(_from_posts(session, monkeypatch), cached)


def test_the_key_customers_default_answer_is_cached_too(built: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    key = AnswerFilter(period=resolve_period(tz=rollup.TZ, now=NOW), classes=["A"])

    def disabled() -> Any:
        with monkeypatch.context() as patch:
            for reader in READERS:
                patch.setattr(rollup, reader, lambda *args, **kwargs: pytest.fail("read the rollups, not the cache"))
            return ask(session, key).to_dict()

    with Session(built) as session:
        rollup.warm(session, now=NOW)
        session.commit()
        with pytest.raises(pytest.fail.Exception):  # without key classes only the unfiltered answers are cached
            disabled()
        entries = _cached_entries(session)
        assert rollup.warm(session, now=NOW, key_classes=["A"]) > entries
        session.commit()
        cached = disabled()
        assert cached == ask(session, key).to_dict() and cached["current"]["posts"] > 0
        with monkeypatch.context() as patch:
            patch.setattr(rollup, "prepare", lambda *args, **kwargs: False)
            _close(ask(session, key).to_dict(), cached)  # the raw posts give the same answer


def test_a_correction_is_seen_at_once(built: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with Session(built) as session:
        rollup.warm(session, now=NOW)
        session.commit()
        before = _from_cache_only(session, monkeypatch)
        post = session.exec(select_model(Post).where(col(Post.text) == "Viel zu teuer geworden.")).one()
        assert post.id is not None
        session.add(LabelFeedback(post_id=post.id, field="sentiment", new_value="positive", actor="cm"))
        session.flush()
        apply_corrections(session, [post.id])
        session.commit()
        after = _answers(session)
        assert after != before
        _close(_from_posts(session, monkeypatch), after)


def test_a_new_score_is_seen_at_once_and_the_pipeline_warms_the_cache_again(
    built: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(built) as session:
        rollup.warm(session, now=NOW)
        session.commit()
        before = _from_cache_only(session, monkeypatch)
        version = rollup._state(session, rollup.VERSION)
        post = session.exec(select_model(Post).where(col(Post.text) == "Viel zu teuer geworden.")).one()
        Factory(session).score(post, "positive", topics=["Preis"], scored_at=post.created_at + timedelta(days=1))
        session.commit()
        # no refresh yet: the answer itself finds the new score (watermark) and recomputes the day
        after = _answers(session)
        assert after != before
        _close(_from_posts(session, monkeypatch), after)
        assert rollup._state(session, rollup.VERSION) != version
        session.commit()

    rollup.refresh_rollups(built, now=NOW)  # the end of a pipeline job: caches the new version's answers
    with Session(built) as session:
        current = rollup._state(session, rollup.VERSION)
        versions = set(session.execute(select(rollup.CACHE.c.version)).scalars())
        assert versions == {current} and _cached_entries(session) > 0
        assert _from_cache_only(session, monkeypatch) == after


def test_rebuild_rollups_command_caches_the_default_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``resonanz db rebuild-rollups`` empties the cache (a rebuild changes every day) and fills it again for the
    configured prospect weight, so the first ``ask`` after a rebuild is not a cold one."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_engine(url)
    with Session(engine) as session:
        build_scenario(session)
        session.commit()
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    monkeypatch.setenv("RESONANZ_VALUE__PROSPECT_WEIGHT", "0.3")
    reset_settings_cache()
    try:
        result = CliRunner().invoke(app, ["db", "rebuild-rollups"])
        assert result.exit_code == 0, result.output
        with Session(engine) as session, monkeypatch.context() as patch:
            assert rollup.is_built(session) and _cached_entries(session) > 0
            for reader in READERS:  # today's default ask with the configured weight comes from the cache alone
                patch.setattr(rollup, reader, lambda *args, **kwargs: pytest.fail("not cached"))
            ask(session, AnswerFilter(period=resolve_period(tz=rollup.TZ), default_weight=0.3))
            # and what a product team asks most: the key customers (settings.review.key_classes, default A), as the
            # CLI asks it
            asked = CliRunner().invoke(app, ["ask", "--class", "a"])
            assert asked.exit_code == 0, asked.output
    finally:
        engine.dispose()
        reset_settings_cache()


def test_warm_caches_the_em_estimated_shares_of_the_default_ask(built: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """``resonanz ask`` and the web page pass the model's training prior: the EM-estimated shares read every post
    of the period, so the default ask is only fast when they are cached too (and only for that prior)."""
    import resonanz.answers.ask as ask_module

    prior = [0.3, 0.5, 0.2]
    flt = AnswerFilter(period=resolve_period(tz=rollup.TZ, now=NOW))
    with Session(built) as session:
        live = ask(session, flt, train_prior=prior).to_dict()
        assert live["current"]["estimated_shares"] is not None
        rollup.warm(session, now=NOW, train_prior=prior)
        session.commit()
        with monkeypatch.context() as patch:
            for reader in (*READERS, "probabilities"):  # the rollups' readers, the posts' probabilities among them
                patch.setattr(rollup, reader, lambda *args, **kwargs: pytest.fail("not cached"))
            patch.setattr(ask_module, "_estimate_shares", lambda *args, **kwargs: pytest.fail("read the raw posts"))
            assert ask(session, flt, train_prior=prior).to_dict() == live
            with pytest.raises(pytest.fail.Exception):  # another prior is another answer
                ask(session, flt, train_prior=[0.2, 0.5, 0.3])


def test_the_pipeline_warms_at_most_once_a_minute_and_not_when_nothing_changed(built: Engine) -> None:
    """Workers end a scoring job every few seconds; warming at a million posts takes seconds."""

    def cached_versions() -> set[int]:
        with Session(built) as session:
            return set(session.execute(select(rollup.CACHE.c.version)).scalars())

    def change() -> None:
        with Session(built) as session:
            post = session.exec(select_model(Post).where(col(Post.text) == "Viel zu teuer geworden.")).one()
            Factory(session).score(post, "positive", topics=["Preis"], scored_at=post.created_at + timedelta(days=1))
            session.commit()

    rollup.refresh_rollups(built, now=NOW)
    first = cached_versions()
    assert len(first) == 1
    rollup.refresh_rollups(built, now=NOW, warm_every=0)  # nothing changed: the cache is current, no warming
    assert cached_versions() == first
    change()
    rollup.refresh_rollups(built, now=NOW)  # changed, but warmed less than a minute ago: left cold
    assert cached_versions() == first
    with Session(built) as session:
        assert rollup._state(session, rollup.VERSION) not in first  # so the stale entries are never read
    rollup.refresh_rollups(built, now=NOW, warm_every=0)
    with Session(built) as session:
        assert cached_versions() == {rollup._state(session, rollup.VERSION)}


def test_em_shares_of_a_large_period_come_from_every_kth_post(built: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``EM_SAMPLE`` posts per period the estimate reads every k-th post by id (at a million posts the full
    read was 8 s of 9.5 s); below it, every post (the same as from the raw posts)."""
    import resonanz.answers.ask as ask_module
    from resonanz.answers.sql import materialized, post_rows_select

    prior = [0.3, 0.5, 0.2]
    flt = AnswerFilter(period=resolve_period(tz=rollup.TZ, now=NOW))
    with Session(built) as session:
        full = ask(session, flt, train_prior=prior)
        raw = ask(session, flt, train_prior=prior, quote_limit=ask_module.QUOTE_LIMIT_FROM_ROLLUP + 1)  # raw path
        assert full.current.estimated_shares == raw.current.estimated_shares  # small: every post
        posts = max(full.previous.posts, full.current.posts)
        assert posts >= 4
        monkeypatch.setattr(ask_module, "EM_SAMPLE", posts // 2)
        step = -(-posts // (posts // 2))
        sampled = ask(session, flt, train_prior=prior)
        periods = [flt.period.previous(rollup.TZ), flt.period]
        query = post_rows_select(flt, "sqlite" if built.dialect.name == "sqlite" else "postgresql", periods)
        with materialized(session, query.where(POST.c.id % step == 0)) as rows:
            expected = ask_module._estimate_shares(session, rows, prior, 2)
        assert [sampled.previous.estimated_shares, sampled.current.estimated_shares] == [e[0] for e in expected]
        assert sampled.current.estimated_shares != full.current.estimated_shares or step == 1


def test_the_cached_revenue_per_class_follows_a_valuation_and_an_erasure(built: Engine) -> None:
    """The revenue per class is cached with the default answers but does not depend on the rollups: a valuation
    that changes revenues and no class (no day is recomputed, the rollups' version stays) and an erasure must
    still be in the next answer."""
    from resonanz.answers.pareto import _revenue_by_class, revenue_by_class
    from store.models import Customer, CustomerValue

    with Session(built) as session:
        rollup.warm(session, now=NOW)
        session.commit()
        version = rollup._state(session, rollup.VERSION)
        before = revenue_by_class(session)
        assert before == _revenue_by_class(session)
        with pytest.MonkeyPatch.context() as patch:  # served from the cache while nothing changed
            patch.setattr("resonanz.answers.pareto._revenue_by_class", lambda *args: pytest.fail("not cached"))
            assert revenue_by_class(session) == before
        latest = session.exec(select_model(CustomerValue).order_by(col(CustomerValue.id).desc())).first()
        assert latest is not None and latest.abc_class is not None
        session.add(
            CustomerValue(
                customer_id=latest.customer_id, computed_at=latest.computed_at + timedelta(hours=1),
                abc_class=latest.abc_class, revenue=latest.revenue + 1000.0, weight=latest.weight,
            )
        )  # fmt: skip
        session.flush()
        mark_current_values(session)
        session.commit()
        assert rollup._state(session, rollup.VERSION) == version  # the cache of this version is still read
        fresh = _revenue_by_class(session)
        assert revenue_by_class(session) == fresh
        customer = session.get(Customer, latest.customer_id)
        assert customer is not None
        customer.erased_at = MONDAY
        session.commit()
        assert revenue_by_class(session) == _revenue_by_class(session) != fresh


def test_the_cached_quotes_show_the_posts_as_they_are_now(built: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default answer's quotes are cached as posts (which ones, under which heading); their texts, links and
    authors are read with each answer, so an edited text is in the next cached answer."""
    with Session(built) as session:
        rollup.warm(session, now=NOW)
        session.commit()
        before = _from_cache_only(session, monkeypatch)[0]["quotes"]
        assert before
        post = session.get(Post, before[0]["post_id"])
        assert post is not None
        post.text = "Nachträglich bearbeitet."
        session.commit()
        after = _from_cache_only(session, monkeypatch)[0]["quotes"]
        assert [(q["kind"], q["post_id"]) for q in after] == [(q["kind"], q["post_id"]) for q in before]
        assert after[0]["text"] == "Nachträglich bearbeitet." and after[1:] == before[1:]
