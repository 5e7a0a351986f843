"""resonanz.pipeline.collect: several pages per transaction (prefetched_groups, take_group, store_pages).

What must hold whatever the grouping: the stored posts are exactly those the stored cursor covers (a crash
between or inside groups resumes there and loses nothing), a refused post costs only itself, edits and
repeats are applied in page order, and SQLite and PostgreSQL end with the same rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

import store.bulk
from collectors import Batch, CollectedPost, ThreadSnapshot
from collectors.testing import FakeMastodon
from resonanz.pipeline.collect import (
    NOTHING,
    RunSummary,
    find_source,
    prefetched_groups,
    run_source,
    store_pages,
    take_group,
)
from store.db import session_scope
from store.models import CollectorRun, Post, SocialIdentity
from tests.collectors.helpers import NOW, app_handler
from tests.collectors.test_collect import SETTINGS, cursor_of, runs, source, statuses, stored

# -- grouping (pure) --------------------------------------------------------------------------------------


def page(*ids: str, thread: bool = False) -> Batch:
    posts = [CollectedPost(platform="mastodon", external_id=i, kind="post", url=None, text=f"Text {i}",
                           created_at=NOW) for i in ids]  # fmt: skip
    snapshot = ThreadSnapshot(platform="mastodon", root_external_id=ids[0], present=frozenset(ids)) if thread else None
    return Batch(posts=posts, cursor={"last": ids[-1]}, thread=snapshot)


def waiting(*items: Any) -> Any:
    """``ready`` for take_group: the items already fetched, then nothing."""
    queue = list(items)
    return lambda: queue.pop(0) if queue else NOTHING


def test_a_group_takes_the_waiting_pages_up_to_its_limits() -> None:
    pages = [page(f"{i}a", f"{i}b") for i in range(6)]
    group, rest = take_group(pages[0], waiting(*pages[1:]), max_pages=4, max_posts=100)
    assert (group, rest) == (pages[:4], NOTHING)
    group, rest = take_group(pages[0], waiting(*pages[1:]), max_pages=10, max_posts=5)
    assert group == pages[:3]  # 6 posts: the one that reached the limit is the last
    group, rest = take_group(pages[0], waiting(pages[1]), max_pages=10, max_posts=100)
    assert (group, rest) == (pages[:2], NOTHING)  # never waits for pages not fetched yet


def test_a_group_ends_with_a_thread_and_before_a_repeat_or_the_end() -> None:
    first, thread, after = page("1"), page("root", "r1", thread=True), page("2")
    assert take_group(first, waiting(thread, after), max_pages=10, max_posts=100) == ([first, thread], NOTHING)
    assert take_group(thread, waiting(after), max_pages=10, max_posts=100) == ([thread], NOTHING)
    edited = page("3", "1")  # repeats post 1: stored after the group that holds the first version
    assert take_group(first, waiting(page("4"), edited), max_pages=10, max_posts=100)[1] is edited
    end, error = object(), RuntimeError("fetch failed")
    assert take_group(first, waiting(end), max_pages=10, max_posts=100) == ([first], end)
    assert take_group(first, waiting(error), max_pages=10, max_posts=100) == ([first], error)


def test_groups_start_with_one_page_and_double_while_pages_wait() -> None:
    fetched = threading.Event()

    def pages() -> Iterator[Batch]:
        for i in range(20):
            yield page(str(i))
        fetched.set()  # the fetching thread asks for more only once the last page is queued

    sizes = []
    for group in prefetched_groups(pages(), threading.Event()):
        sizes.append(len(group))
        assert fetched.wait(timeout=30)
    assert sizes == [1, 2, 4, 8, 5]


def test_a_fetch_error_comes_after_the_pages_fetched_before_it() -> None:
    fetched = threading.Event()

    def pages() -> Iterator[Batch]:
        yield page("1")
        yield page("2")
        fetched.set()
        raise RuntimeError("Verbindung verloren")

    seen: list[list[str]] = []
    with pytest.raises(RuntimeError, match="Verbindung verloren"):
        for group in prefetched_groups(pages(), threading.Event()):
            fetched.wait(timeout=30)
            seen.append([p.external_id for b in group for p in b.posts])
    assert [i for ids in seen for i in ids] == ["1", "2"]


# -- storing groups ------------------------------------------------------------------------------------


def texts(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {ext: text for ext, text in session.execute(select(col(Post.external_id), col(Post.text)))}


def stored_in_order(engine: Engine, pages: list[Batch]) -> RunSummary:
    """Store ``pages`` as run_source does, in the groups prefetched_groups forms: the first page alone, then
    (all pages being fetched by then) two, four, ... pages per transaction."""
    with session_scope(engine) as session:
        src = find_source(session, "brand")
        run = CollectorRun(source_id=int(src.id or 0), started_at=NOW, status="running")
        session.add(run)
        session.flush()
        run_id = int(run.id or 0)
    summary = RunSummary(source="brand", platform="mastodon", run_id=run_id)
    fetched = threading.Event()

    def fetching() -> Iterator[Batch]:
        yield from pages
        fetched.set()

    for group in prefetched_groups(fetching(), threading.Event()):
        assert fetched.wait(timeout=30)
        store_pages(engine, src, run_id, group, summary)
    return summary


def edited(batch: Batch, external_id: str, text: str) -> Batch:
    posts = [replace(p, text=text) if p.external_id == external_id else p for p in batch.posts]
    return Batch(posts=posts, cursor=batch.cursor)


def test_a_post_repeated_on_a_later_page_ends_with_its_last_version(engine: Engine) -> None:
    source(engine)
    pages = [page("0"), page("1", "2"), edited(page("3", "1"), "1", "Text 1, bearbeitet"), page("4")]
    summary = stored_in_order(engine, pages)  # pages 2 and 3 would be one group but for the repeat
    assert (summary.fetched, summary.new, summary.updated, summary.errors) == (6, 5, 1, 0)
    assert texts(engine)["1"] == "Text 1, bearbeitet" and len(texts(engine)) == 5
    assert cursor_of(engine) == {"last": "4"}


def test_a_deletion_on_a_later_page_deletes_the_post_of_an_earlier_one(engine: Engine) -> None:
    source(engine)
    gone = CollectedPost(platform="mastodon", external_id="2", kind="post", url=None, text="", created_at=NOW,
                         deleted=True)  # fmt: skip
    summary = stored_in_order(engine, [page("0"), page("1", "2"), Batch(posts=[gone], cursor={"last": "2"})])
    assert (summary.new, summary.updated) == (3, 1)  # merged into one call it would be skipped, never stored
    with Session(engine) as session:
        deleted = session.execute(select(col(Post.external_id)).where(col(Post.deleted_at).is_not(None)))
        assert deleted.scalars().all() == ["2"]


# -- through run_source ---------------------------------------------------------------------------------


def test_a_refused_post_costs_only_itself_when_pages_are_stored_together(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resonanz.pipeline.collect as collect_module

    source(engine)
    posts = statuses(200)  # five pages
    bad_id = posts[130]["uri"]
    original = collect_module.post_record

    def buggy(post: Any) -> dict[str, Any]:
        record = dict(original(post))
        return {**record, "created_at": "gestern"} if record["external_id"] == bad_id else record

    monkeypatch.setattr(collect_module, "post_record", buggy)
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(FakeMastodon(posts))),
                         now=NOW)  # fmt: skip
    assert (summary.status, summary.fetched, summary.new, summary.errors) == ("partial", 200, 199, 1)
    assert sorted(stored(engine)) == sorted(s["uri"] for s in posts if s["uri"] != bad_id)
    assert f"Beitrag mastodon/{bad_id} nicht gespeichert" in (runs(engine)[0].error or "")
    assert cursor_of(engine)["streams"]["tag:brühwerk"]["sweep"] is None  # the sweep finished past the bad post


def test_a_database_failure_inside_a_group_resumes_after_the_last_stored_page(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database goes away while a group of pages is being stored: that group is rolled back as a whole,
    the stored posts are exactly those the stored cursor covers, and the next run stores the rest once."""
    source(engine)
    posts = statuses(400)
    calls = {"n": 0}
    original = store.bulk.insert_posts

    def fails_on_third_group(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OperationalError("INSERT INTO post", {}, Exception("server closed the connection"))
        original(*args)

    monkeypatch.setattr(store.bulk, "insert_posts", fails_on_third_group)
    app = FakeMastodon(posts)
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert summary.status == "failed" and "server closed the connection" in (summary.error or "")
    token = cursor_of(engine)["streams"]["tag:brühwerk"]["sweep"]["token"]
    covered = [s["uri"] for s in posts[: [s["id"] for s in posts].index(token) + 1]]
    assert sorted(stored(engine)) == sorted(covered)
    assert 80 <= len(covered) < 400 and len(covered) % 40 == 0  # two groups of at least a page each
    assert summary.new == len(covered) and runs(engine)[0].new == len(covered)

    monkeypatch.undo()
    again = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)),
                       now=NOW + timedelta(minutes=5))  # fmt: skip
    assert (again.status, again.new) == ("ok", 400 - len(covered))
    assert sorted(stored(engine)) == sorted(s["uri"] for s in posts)


def test_edits_found_by_a_later_run_update_the_stored_posts(engine: Engine) -> None:
    source(engine)
    pages = [page(*(f"{i}-{j}" for j in range(40))) for i in range(6)]
    first = stored_in_order(engine, pages)
    assert (first.new, first.updated) == (240, 0)
    later = NOW + timedelta(hours=1)
    correction = replace(pages[4].posts[0], text="Korrigiert", edited_at=later)  # the platform's edit time
    refetched = [edited(pages[1], "1-5", "Korrigiert: Kaffee war kalt"), pages[2],
                 Batch(posts=[correction], cursor={"last": "x"})]  # fmt: skip
    again = stored_in_order(engine, refetched)
    assert (again.new, again.updated, again.fetched) == (0, 2, 81)
    assert texts(engine)["1-5"] == "Korrigiert: Kaffee war kalt" and texts(engine)["4-0"] == "Korrigiert"
    with Session(engine) as session:
        edited_at = {ext: at for ext, at in session.execute(select(col(Post.external_id), col(Post.edited_at)))}
    assert edited_at["4-0"] == later and edited_at["1-5"] is not None and edited_at["1-6"] is None


@pytest.mark.postgres
def test_a_run_stores_the_same_rows_on_sqlite_and_postgresql(sqlite_engine: Engine, pg_engine: Engine) -> None:
    dumps = []
    for engine in (sqlite_engine, pg_engine):
        source(engine)
        app = FakeMastodon(statuses(300, step_minutes=2))
        summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
        assert (summary.status, summary.new) == ("ok", 300)
        with Session(engine) as session:
            posts = session.execute(select(Post).order_by(col(Post.external_id))).scalars().all()
            idents = session.execute(select(SocialIdentity).order_by(col(SocialIdentity.account_id))).scalars()
            dumps.append((
                [(p.external_id, p.text, p.created_at, p.metrics, p.raw, p.url, p.language) for p in posts],
                [(i.account_id, i.handle, i.display_name, i.profile_url) for i in idents],
                cursor_of(engine),
            ))  # fmt: skip
    assert dumps[0] == dumps[1]
