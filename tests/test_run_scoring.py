"""``resonanz run`` scores what its collections store and evaluates the alerts right after: an A customer's
churn threat, collected from a (local, fake) Mastodon server, becomes an alert without ``resonanz score``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.testing import FakeMastodon, LocalServer, make_account, make_status, snowflake
from nlp.errors import NlpError
from resonanz.core.settings import (
    AlertSettings,
    ConfigError,
    NlpSettings,
    ScoreSettings,
    Settings,
    get_settings,
    reset_settings_cache,
)
from resonanz.pipeline import scheduler as sched
from resonanz.pipeline.jobs import scheduled_jobs
from resonanz.pipeline.scheduler import SCORE_JOB_ID, build_scheduler, run_forever, start
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from store.models import Alert, CollectorRun, Post, Score, SocialIdentity
from store.types import utcnow
from tests.answers.factory import Factory

CHURN = "Das war die letzte Lieferung, ich kündige unseren Gastro-Vertrag zum Monatsende. #lindenhof"
FAST_NLP = NlpSettings(offensive_model=None, embedding_model=None, flag_model=None, threads=1)
"""The default sentiment model with the keyword flag rules: the real scoring path, loaded in seconds."""


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = open_engine(f"sqlite:///{tmp_path / 'run.db'}")
    yield eng
    eng.dispose()


def hotel_account() -> dict[str, Any]:
    return make_account("7", "rheinblick", "hotel.example", display_name="Hotel Rheinblick")


def link_a_customer(engine: Engine, account: dict[str, Any]) -> int:
    """The account as a known identity, confirmed as an A customer who consented."""
    with Session(engine) as session:
        f = Factory(session)
        customer = f.customer("Hotel Rheinblick", "A", revenue=34000.0, weight=5.0)
        ident = SocialIdentity(platform="mastodon", account_id=account["uri"], handle="@rheinblick@hotel.example")
        session.add(ident)
        session.flush()
        f.link(ident, customer)
        session.commit()
        assert customer.id is not None
        return customer.id


def add_local_source(engine: Engine, url: str, interval: int = 3600) -> int:
    source = add_source(engine, platform="mastodon", name="lokal", query="#lindenhof", interval_seconds=interval,
                        options={"instance": url, "replies": False})  # fmt: skip
    assert source.id is not None
    return source.id


def wait_for(predicate: Any, seconds: float) -> Any:
    deadline = time.time() + seconds
    while time.time() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    return predicate()


@pytest.mark.slow
def test_run_scores_a_collected_churn_threat_and_raises_the_alert(engine: Engine) -> None:
    account = hotel_account()
    customer_id = link_a_customer(engine, account)
    now = utcnow()
    status = make_status(snowflake(now - timedelta(minutes=2)), now - timedelta(minutes=2), f"<p>{CHURN}</p>",
                         account, tags=["lindenhof"])  # fmt: skip
    # the fallback interval is long: only the run's own start and its collection can have scored the post
    settings = Settings(nlp=FAST_NLP, score=ScoreSettings(interval_minutes=600), alerts=AlertSettings(quiet_hours=""))
    stop, started = threading.Event(), threading.Event()
    with LocalServer(FakeMastodon([status])) as server:
        add_local_source(engine, server.url)
        worker = threading.Thread(target=run_forever, args=(engine, settings),
                                  kwargs={"extra_jobs": scheduled_jobs(settings), "stop": stop,
                                          "on_started": lambda s, r: started.set()}, daemon=True)  # fmt: skip
        worker.start()
        try:
            assert started.wait(30)

            def alerts() -> list[Alert]:
                with Session(engine) as session:
                    return list(session.execute(select(Alert).where(col(Alert.kind) == "customer")).scalars())

            raised = wait_for(alerts, 240)
        finally:
            stop.set()
            worker.join(60)
    assert not worker.is_alive()
    with Session(engine) as session:
        post = session.execute(select(Post)).scalar_one()
        score = session.execute(select(Score).where(col(Score.post_id) == post.id)).scalar_one()
        run = session.execute(select(CollectorRun)).scalar_one()
    assert run.new == 1
    assert "churn" in {f["flag"] for f in score.flags}
    assert len(raised) == 1
    alert = raised[0]
    assert alert.post_ids == [post.id] and alert.severity == 3
    assert alert.explanation["details"]["customer_id"] == customer_id and alert.explanation["details"]["churn"]
    assert alert.first_seen_at >= score.scored_at  # raised by the pass right after scoring


def test_the_scoring_job_is_scheduled_from_the_settings() -> None:
    settings = Settings(score=ScoreSettings(interval_minutes=7))
    jobs = {job.id: job for job in scheduled_jobs(settings)}
    job = jobs[SCORE_JOB_ID]
    assert job.trigger.interval == timedelta(minutes=7) and job.run_at_start
    assert job.func == "resonanz.pipeline.scheduler:score_job"
    assert SCORE_JOB_ID not in {job.id for job in scheduled_jobs(Settings(score=ScoreSettings(enabled=False)))}


@pytest.mark.parametrize(("variable", "value"), [("INTERVAL_MINUTES", "0"), ("BATCH_SIZE", "-5")])
def test_invalid_score_settings_say_what_to_change(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(f"RESONANZ_SCORE__{variable}", value)
    reset_settings_cache()
    with pytest.raises(ConfigError, match=f"RESONANZ_SCORE__{variable}") as info:
        get_settings()
    assert "erwartet ist eine ganze Zahl von 1 bis" in str(info.value)


def test_a_collection_that_stores_posts_moves_the_scoring_forward(engine: Engine) -> None:
    account = hotel_account()
    now = utcnow()
    status = make_status(snowflake(now - timedelta(minutes=3)), now - timedelta(minutes=3), f"<p>{CHURN}</p>",
                         account, tags=["lindenhof"])  # fmt: skip
    settings = Settings(score=ScoreSettings(interval_minutes=600))
    with LocalServer(FakeMastodon([status])) as server:
        source_id = add_local_source(engine, server.url)
        scheduler = build_scheduler(engine, settings, extra_jobs=[j for j in scheduled_jobs(settings)
                                                                  if j.id == SCORE_JOB_ID])  # fmt: skip
        start(scheduler, engine)
        scheduler.pause()
        try:
            scheduler.modify_job(SCORE_JOB_ID, next_run_time=now + timedelta(hours=10))  # as after a pass
            sched.run_source_job(source_id)  # the source's job, as the scheduler runs it
            moved = scheduler.get_job(SCORE_JOB_ID).next_run_time
            sched.run_source_job(source_id)  # nothing new this time: no request
        finally:
            scheduler.shutdown(wait=False)
    assert moved <= utcnow()


def test_a_request_during_a_pass_makes_it_go_round_once_more(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []

    def fake_pass(rt: Any) -> int:
        passes.append(len(passes))
        if len(passes) == 1:
            sched.request_scoring()  # a collection stores posts while this pass runs
            assert sched.score_job() == 0  # a second start is not a second pass
        return 3

    monkeypatch.setattr(sched, "_score_pass", fake_pass)
    build_scheduler(engine, Settings())
    assert sched.score_job() == 6
    assert passes == [0, 1]
    assert sched.score_job() == 3 and len(passes) == 3  # the request was used up


def test_a_failing_model_is_logged_and_does_not_stop_the_job(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(settings: Settings) -> Any:
        raise NlpError("Modell nicht lesbar")

    monkeypatch.setattr(sched, "shared_analyzer", broken)
    build_scheduler(engine, Settings())
    with caplog.at_level(logging.ERROR, logger="resonanz.pipeline.scheduler"):
        assert sched.score_job() == 0
    assert "scoring failed: Modell nicht lesbar" in caplog.text
    assert not sched._SCORING.locked()
