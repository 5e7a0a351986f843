"""Settling a spam cluster while another writer does the same on one PostgreSQL (several workers or backfill
actors each end their scoring pass with ``merge_duplicates``): one item per cluster, no ``UniqueViolation``,
one audit event per change.

Each test makes the race deterministic: the rival holds its uncommitted writes until the pass under test is
seen waiting for a lock in ``pg_stat_activity``, then commits; both must end without an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from resonanz.pipeline import duplicates
from resonanz.pipeline.duplicates import SPAM_FLAG, merge_duplicates, places
from store.models import IdentityLink, Post, ReviewEvent, ReviewItem
from tests.answers.factory import MONDAY, Factory

pytestmark = pytest.mark.postgres

SPAM = "🔥🔥 GRATIS Gutschein im Wert von 100 € 🔥🔥 Nur heute: https://bit.ly/x{}"
PHISHING = {"flag": "phishing", "severity": 4, "reason": "phishing detected", "evidence": "bit.ly"}
WAIT_S = 60.0


@dataclass
class Run:
    """``merge_duplicates`` in a thread, with what it raised."""

    engine: Engine
    name: str
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._target, name=self.name, daemon=True)
        self.thread.start()

    def _target(self) -> None:
        try:
            merge_duplicates(self.engine)
        except BaseException as exc:  # reported by the test, not swallowed
            self.errors.append(exc)


def _start(engine: Engine, name: str) -> Run:
    return Run(engine, name)


def _wait_until_blocked(engine: Engine, run: Run) -> None:
    """Return once a session of this database waits for a lock (or the run ended without waiting)."""
    deadline = time.monotonic() + WAIT_S
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # a fresh view per query
        while run.thread.is_alive():
            if conn.execute(waiting).scalar_one():
                return
            if time.monotonic() > deadline:
                pytest.fail("the second writer neither waited for a lock nor finished")
            time.sleep(0.02)


def _finish(*runs: Run) -> None:
    for run in runs:
        run.thread.join(WAIT_S)
        assert not run.thread.is_alive(), f"{run.thread.name} hangs"
        assert run.errors == [], f"{run.thread.name}: {run.errors!r}"


def _cluster_items(engine: Engine, post_ids: list[int]) -> list[ReviewItem]:
    with Session(engine) as session:
        query = select(ReviewItem).where(col(ReviewItem.post_id).in_(post_ids))
        return list(session.execute(query).scalars())


def _events(engine: Engine, action: str) -> dict[int, int]:
    """Number of audit events ``action`` per review item."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(ReviewEvent.review_item_id), func.count())
            .where(col(ReviewEvent.action) == action)
            .group_by(col(ReviewEvent.review_item_id))
        ).all()
    return {item_id: n for item_id, n in rows}


def _spam_flag(item: ReviewItem) -> dict[str, Any]:
    return next(r for r in item.reasons if r["flag"] == SPAM_FLAG)


def _assert_whole_cluster(engine: Engine, post_ids: list[int], handles: list[str], active: ReviewItem) -> None:
    """Every account is evidence on the one active item, every copy is a place of it and spam."""
    assert sorted(_spam_flag(active)["evidence"]) == sorted(handles)
    with Session(engine) as session:
        assert {p["id"] for p in places(session, active.post_id)} == set(post_ids) - {active.post_id}
        voices = session.execute(select(col(Post.voice)).where(col(Post.id).in_(post_ids))).scalars().all()
    assert voices == ["spam"] * len(post_ids)


def test_a_pass_flags_the_item_a_scoring_chunk_opened_meanwhile(pg_engine: Engine) -> None:
    with Session(pg_engine, expire_on_commit=False) as session:
        f = Factory(session)
        spammers = [f.identity(f"@promo{i}@mastodon.social") for i in range(3)]
        posts = [
            f.post(s, SPAM.format(i), MONDAY + timedelta(minutes=i), sentiment="positive")
            for i, s in enumerate(spammers)
        ]
        session.commit()
        ids = [p.id for p in posts if p.id is not None]
        handles = [s.handle or "" for s in spammers]

    with Session(pg_engine) as chunk:  # a scoring chunk flags the earliest copy and has not committed yet
        chunk.add(ReviewItem(post_id=ids[0], reasons=[PHISHING], severity=4))
        chunk.flush()
        run = _start(pg_engine, "pass")
        _wait_until_blocked(pg_engine, run)  # the pass wants an item for the same post
        chunk.commit()
    _finish(run)

    items = _cluster_items(pg_engine, ids)
    assert [i.post_id for i in items] == [ids[0]]  # the chunk's item, now also the cluster's
    assert [r["flag"] for r in items[0].reasons] == ["phishing", SPAM_FLAG]
    assert items[0].severity == 4 and items[0].status == "open"
    _assert_whole_cluster(pg_engine, ids, handles, items[0])


@pytest.fixture
def pause_first_pass(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The thread named ``pass-a`` stops after settling its cluster, before its commit, until released."""
    settled, release = threading.Event(), threading.Event()
    settle = duplicates._spam_cluster

    def paused(session: Session, posts: list[dict[str, Any]], report: duplicates.DuplicateReport) -> None:
        settle(session, posts, report)
        if threading.current_thread().name == "pass-a":
            settled.set()
            release.wait(WAIT_S)

    monkeypatch.setattr(duplicates, "_spam_cluster", paused)
    yield settled, release
    release.set()


def _unlinked_cluster(engine: Engine, *, items_on: tuple[int, ...]) -> tuple[list[int], list[str]]:
    """Three accounts posted one text; two of them were linked to one customer (one author, no cluster) until
    the link was rejected: now the cluster is there, its fingerprints committed, and nothing is settled yet."""
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        accounts = [f.identity(f"@promo{i}@mastodon.social") for i in range(3)]
        customer = f.customer("Pia Promo")
        links = [f.link(accounts[0], customer), f.link(accounts[1], customer)]
        posts = [
            f.post(a, SPAM.format(i), MONDAY + timedelta(minutes=i), sentiment="positive")
            for i, a in enumerate(accounts)
        ]
        for i in items_on:  # scoring flagged these copies
            f.review_item(posts[i], 4, reason="phishing")
        session.commit()
        ids = [p.id for p in posts if p.id is not None]
        handles = [a.handle or "" for a in accounts]
    assert merge_duplicates(engine).spam_clusters == 0  # two authors so far
    with Session(engine) as session:
        session.execute(update(IdentityLink).where(col(IdentityLink.id) == links[1].id).values(status="rejected"))
        session.commit()
    return ids, handles


def _two_passes(engine: Engine, settled: threading.Event, release: threading.Event) -> None:
    first = _start(engine, "pass-a")
    assert settled.wait(WAIT_S), "pass-a did not settle the cluster"
    second = _start(engine, "pass-b")
    _wait_until_blocked(engine, second)
    release.set()
    _finish(first, second)


def test_two_passes_open_one_item_for_a_new_cluster(
    pg_engine: Engine, pause_first_pass: tuple[threading.Event, threading.Event]
) -> None:
    ids, handles = _unlinked_cluster(pg_engine, items_on=())
    _two_passes(pg_engine, *pause_first_pass)

    items = _cluster_items(pg_engine, ids)
    assert [i.post_id for i in items] == [ids[0]]
    assert _events(pg_engine, "flagged") == {items[0].id: 1}
    _assert_whole_cluster(pg_engine, ids, handles, items[0])


def test_two_passes_merge_each_item_once(
    pg_engine: Engine, pause_first_pass: tuple[threading.Event, threading.Event]
) -> None:
    ids, handles = _unlinked_cluster(pg_engine, items_on=(1, 2))
    _two_passes(pg_engine, *pause_first_pass)

    items = {i.post_id: i for i in _cluster_items(pg_engine, ids)}
    assert {p: i.status for p, i in items.items()} == {ids[1]: "open", ids[2]: "merged"}
    assert _events(pg_engine, "merged") == {items[ids[2]].id: 1}  # one audit event, not one per pass
    _assert_whole_cluster(pg_engine, ids, handles, items[ids[1]])
