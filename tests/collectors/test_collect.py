"""resonanz.pipeline.collect: run records, commit per page, resuming after a crash, isolation between sources."""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors.testing import FakeMastodon, make_account, make_status, snowflake
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.demo.collect import demo_collection
from resonanz.pipeline.collect import collect, run_source
from resonanz.pipeline.sources import add_source
from store.db import session_scope
from store.models import CollectorRun, Post, Source
from tests.collectors.helpers import NOW, Sleeps, app_handler, json_response

ANNA = make_account("1", "anna", "mastodon.social")
SETTINGS = Settings(collectors=CollectorSettings(max_retries=2))


def statuses(n: int, *, start_minutes: float = 0, step_minutes: float = 30) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        created = NOW - timedelta(minutes=start_minutes + i * step_minutes)
        out.append(make_status(snowflake(created, i), created, f"<p>Post {i} #Brühwerk</p>", ANNA, tags=["Brühwerk"]))
    return out


def source(engine: Engine, name: str = "brand", instance: str = "https://a.example", **config: Any) -> None:
    add_source(engine, platform="mastodon", name=name, query="#Brühwerk",
               options={"instance": instance, "replies": False, **config})  # fmt: skip


def runs(engine: Engine) -> list[CollectorRun]:
    with Session(engine) as session:
        return list(session.execute(select(CollectorRun).order_by(col(CollectorRun.id))).scalars())


def stored(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.execute(select(col(Post.external_id))).scalars())


def cursor_of(engine: Engine, name: str = "brand") -> dict[str, Any]:
    with Session(engine) as session:
        return session.execute(select(col(Source.cursor)).where(col(Source.name) == name)).scalar_one()


def test_a_run_is_recorded_and_a_second_run_changes_nothing(engine: Engine) -> None:
    source(engine)
    app = FakeMastodon(statuses(100))
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert (summary.status, summary.fetched, summary.new, summary.updated, summary.errors) == ("ok", 100, 100, 0, 0)
    record = runs(engine)[0]
    assert record.status == "ok" and record.finished_at is not None and record.new == 100
    assert record.cursor_before == {} and record.cursor_after == cursor_of(engine)
    assert cursor_of(engine)["streams"]["tag:brühwerk"]["sweep"] is None
    again = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)),
                       now=NOW + timedelta(minutes=15))  # fmt: skip
    assert (again.status, again.new, again.updated) == ("ok", 0, 0)
    assert len(stored(engine)) == 100


def test_a_crash_mid_run_keeps_stored_pages_and_the_next_run_resumes(engine: Engine) -> None:
    source(engine)
    all_statuses = statuses(100)
    good = app_handler(FakeMastodon(all_statuses))
    calls = {"n": 0}

    def dies_on_third_page(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("process killed")  # anything unexpected, mid-run
        return good(request)

    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(dies_on_third_page), now=NOW)
    assert summary.status == "failed" and "process killed" in (summary.error or "")
    assert len(stored(engine)) == 80  # two pages of 40 were committed
    sweep = cursor_of(engine)["streams"]["tag:brühwerk"]["sweep"]
    assert sweep["token"] == all_statuses[79]["id"]
    seen: list[httpx.Request] = []
    summary2 = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(FakeMastodon(
        all_statuses), seen)), now=NOW + timedelta(minutes=5))  # fmt: skip
    assert summary2.status == "ok" and summary2.new == 20
    assert seen[0].url.params["max_id"] == all_statuses[79]["id"]
    assert stored(engine) == sorted(s["uri"] for s in all_statuses)
    assert [r.status for r in runs(engine)] == ["failed", "ok"]


def test_one_failing_source_does_not_stop_the_others(engine: Engine) -> None:
    source(engine, "down", "https://down.example")
    source(engine, "up", "https://up.example")
    good = app_handler(FakeMastodon(statuses(3)))

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.example":
            return httpx.Response(503)
        return good(request)

    sleeps = Sleeps()
    summaries = collect(engine, SETTINGS, transport=httpx.MockTransport(handler), sleep=sleeps, now=NOW)
    by_name = {s.source: s for s in summaries}
    assert by_name["down"].status == "failed" and "503" in (by_name["down"].error or "")
    assert by_name["up"].status == "ok" and by_name["up"].new == 3
    assert len(sleeps.calls) == 2  # down.example was retried twice with backoff


def test_stop_request_ends_the_run_after_the_current_page(engine: Engine) -> None:
    source(engine)
    app = FakeMastodon(statuses(100))
    stop = threading.Event()

    def progress(name: str, batch: Any, summary: Any) -> None:
        stop.set()  # SIGTERM arrives while the first page is being stored

    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW,
                         stop=stop, progress=progress)  # fmt: skip
    assert summary.status == "interrupted" and summary.fetched == 40
    assert len(stored(engine)) == 40 and runs(engine)[0].status == "interrupted"
    summary2 = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert summary2.status == "ok" and len(stored(engine)) == 100


def test_page_errors_make_a_partial_run_with_the_messages(engine: Engine) -> None:
    source(engine)
    good = app_handler(FakeMastodon(statuses(3)))

    def handler(request: httpx.Request) -> httpx.Response:
        response = good(request)
        return json_response([*response.json(), {"id": "broken"}])

    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(handler), now=NOW)
    assert summary.status == "partial" and summary.errors == 1 and summary.new == 3
    assert "malformed item" in (runs(engine)[0].error or "")


def test_rate_limit_beyond_patience_is_a_clean_partial_stop(engine: Engine) -> None:
    source(engine)
    handler = lambda r: json_response({"error": "Too many requests"}, 429, {"Retry-After": "7200"})  # noqa: E731
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(handler), now=NOW)
    assert summary.status == "partial" and "7200" in (summary.error or "")


def test_a_dead_process_run_is_closed_and_a_live_one_blocks_a_second_run(engine: Engine) -> None:
    source(engine)
    with session_scope(engine) as session:
        source_id = session.execute(select(col(Source.id))).scalar_one()
        session.add(CollectorRun(source_id=source_id, status="running", started_at=NOW - timedelta(hours=3),
                                 heartbeat_at=NOW - timedelta(hours=2)))  # fmt: skip
    app = FakeMastodon(statuses(2))
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert summary.status == "ok"
    assert runs(engine)[0].status == "interrupted"
    with session_scope(engine) as session:
        session.add(CollectorRun(source_id=source_id, status="running", started_at=NOW, heartbeat_at=NOW))
    blocked = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert blocked.status == "skipped" and "already being collected" in (blocked.error or "")


def test_missing_credentials_fail_with_advice(engine: Engine) -> None:
    add_source(engine, platform="mastodon", name="search", query="Brühwerk Lieferung",
               options={"instance": "https://a.example"})  # fmt: skip
    summary = run_source(engine, "search", SETTINGS, transport=httpx.MockTransport(lambda r: json_response({})))
    assert summary.status == "failed" and "RESONANZ_COLLECTORS__MASTODON_TOKEN" in (summary.error or "")


def test_disabled_sources_are_skipped_by_collect_all(engine: Engine) -> None:
    source(engine)
    with session_scope(engine) as session:
        session.execute(update(Source).values(enabled=False))
    assert collect(engine, SETTINGS, transport=httpx.MockTransport(lambda r: json_response([]))) == []


@pytest.mark.parametrize("repeat", [1, 2])
def test_demo_collection(engine: Engine, repeat: int) -> None:
    for _ in range(repeat):
        result = demo_collection(engine, SETTINGS)
    assert result.run.status == "ok"
    assert (result.posts, result.replies, result.identities) == (20, 11, 11)
    assert len(result.samples) == 5 and all(handle.startswith("@") for handle, _ in result.samples)
    with Session(engine) as session:
        replies = session.execute(select(Post).where(col(Post.kind) == "comment")).scalars().all()
        assert all(r.parent_id is not None and r.thread_root_id is not None for r in replies)
        assert session.execute(select(col(Source.enabled))).scalar_one() is False


def test_a_killed_process_run_is_taken_over_at_once(engine: Engine) -> None:
    """kill -9 leaves a 'running' run with a fresh heartbeat: its process is gone, so the next run starts now."""
    import subprocess
    import sys

    from resonanz.pipeline.collect import owner_is_gone

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone_owner = f"{socket.gethostname()}:{dead.stdout.strip()}"
    assert owner_is_gone(gone_owner) and not owner_is_gone(f"{socket.gethostname()}:{os.getpid()}")
    assert not owner_is_gone(f"another-host:{dead.stdout.strip()}")  # another host: judged by heartbeat
    source(engine)
    with session_scope(engine) as session:
        source_id = session.execute(select(col(Source.id))).scalar_one()
        session.add(CollectorRun(source_id=source_id, status="running", started_at=NOW, heartbeat_at=NOW,
                                 owner=gone_owner))  # fmt: skip
    app = FakeMastodon(statuses(2))
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert summary.status == "ok"
    first = runs(engine)[0]
    assert first.status == "interrupted" and "is gone" in (first.error or "")


def test_nul_characters_are_stored_the_same_on_both_databases(engine: Engine) -> None:
    """PostgreSQL refuses NUL in text and JSON; the store removes it, so nothing is refused or lost."""
    source(engine)
    posts = statuses(3)
    posts[1]["content"] = "<p>Kaffee\x00 kalt</p>"
    posts[1]["account"] = {**posts[1]["account"], "display_name": "An\x00na"}
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(FakeMastodon(posts))),
                         now=NOW)  # fmt: skip
    assert (summary.status, summary.new, summary.errors) == ("ok", 3, 0)
    with Session(engine) as session:
        texts = sorted(session.execute(select(col(Post.text))).scalars())
    assert "Kaffee kalt" in texts and not any("\x00" in t for t in texts)


def test_a_post_the_store_refuses_is_reported_and_the_rest_of_its_page_kept(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One post that cannot be stored (here: a collector bug gives it a text as its time) costs only that post:
    the others of its page are stored, the refusal names the post and why, and the run goes on. Once the bug
    is fixed, the next run's look-back fetches the refused post again and stores it."""
    import resonanz.pipeline.collect as collect_module

    source(engine)
    posts = statuses(5)
    bad_id = posts[2]["uri"]
    original = collect_module.post_record

    def buggy(post: Any) -> dict[str, Any]:
        record = dict(original(post))
        return {**record, "created_at": "gestern"} if record["external_id"] == bad_id else record

    monkeypatch.setattr(collect_module, "post_record", buggy)
    app = FakeMastodon(posts)
    summary = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)), now=NOW)
    assert (summary.status, summary.new, summary.errors) == ("partial", 4, 1)
    assert bad_id not in stored(engine) and len(stored(engine)) == 4
    message = runs(engine)[0].error or ""
    assert f"Beitrag mastodon/{bad_id} nicht gespeichert" in message and "tzinfo" in message
    monkeypatch.undo()
    again = run_source(engine, "brand", SETTINGS, transport=httpx.MockTransport(app_handler(app)),
                       now=NOW + timedelta(minutes=15))  # fmt: skip
    assert (again.status, again.new, again.errors) == ("ok", 1, 0)
    assert stored(engine) == sorted(s["uri"] for s in posts)
