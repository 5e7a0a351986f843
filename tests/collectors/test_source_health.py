"""Source health (issue 14): per source the last success, failed runs in a row, items per run, skipped items
with their reasons and what the user must do -- from the run records, in ``resonanz sources`` and the CLI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from collectors.testing import FakeMastodon, make_account, make_status, snowflake
from collectors.testing.bluesky import FakeBluesky, make_author, make_post
from resonanz.cli.main import app
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.collect import run_source
from resonanz.pipeline.source_health import FAILING, NEVER, OK, WARNING, advice_for, source_health_report
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from tests.collectors.helpers import NOW, app_handler

SETTINGS = Settings(collectors=CollectorSettings(max_retries=1))
ANNA = make_account("1", "anna", "mastodon.social")


def world() -> tuple[FakeMastodon, FakeBluesky]:
    statuses = []
    for i in range(5):
        created = NOW - timedelta(minutes=30 * (i + 1))
        statuses.append(make_status(snowflake(created, i), created, f"<p>Post {i} #Brühwerk</p>", ANNA,
                                    tags=["Brühwerk"]))  # fmt: skip
    author = make_author("did:plc:anna", "anna.bsky.social")
    posts = [make_post(author, f"p{i}", NOW - timedelta(minutes=20 * (i + 1)), f"Brühwerk {i}") for i in range(3)]
    return FakeMastodon(statuses), FakeBluesky(posts)


def transport(mastodon: FakeMastodon, bluesky: FakeBluesky, broken: set[str] | None = None) -> httpx.MockTransport:
    handlers = {"social.test": app_handler(mastodon), "bsky.test": app_handler(bluesky)}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host in (broken or set()):
            return httpx.Response(200, content=b'[{"id": ')  # truncated, every time
        return handlers[request.url.host](request)

    return httpx.MockTransport(handler)


def collect_world(engine: Engine) -> None:
    add_source(engine, platform="mastodon", name="tag", query="#Brühwerk",
               options={"instance": "https://social.test", "replies": False})  # fmt: skip
    add_source(engine, platform="bluesky", name="suche", query="Brühwerk",
               options={"appview": "https://bsky.test", "replies": False})  # fmt: skip
    add_source(engine, platform="mastodon", name="neu", query="#Neu", options={"instance": "https://social.test"})
    mastodon, bluesky = world()
    for run_no, broken in enumerate([set(), set(), {"social.test"}]):
        now = NOW + timedelta(minutes=15 * run_no)
        for name in ("tag", "suche"):
            run_source(engine, name, SETTINGS, transport=transport(mastodon, bluesky, broken), now=now,
                       sleep=lambda s: None)  # fmt: skip


def by_name(engine: Engine) -> dict[str, Any]:
    return {h.name: h for h in source_health_report(engine)}


def test_health_shows_success_failures_items_skips_and_what_to_do(sqlite_engine: Engine) -> None:
    collect_world(sqlite_engine)
    health = by_name(sqlite_engine)
    tag, search, new = health["tag"], health["suche"], health["neu"]
    # two good runs, then the instance answers garbage: the last run is partial, the source is not failing yet
    assert tag.last_success_at is not None and tag.consecutive_failures == 0 and tag.runs == 3
    assert tag.items_per_run == (5 + 5 + 0) / 3 and tag.items_last_run == 0  # the overlap re-reads the 5
    assert tag.state in (WARNING, FAILING) and any("unlesbare Antworten" in a for a in tag.advice)
    # the Bluesky search without login: every run failed, nothing pinned, and the advice names the fix
    assert search.state == FAILING and search.consecutive_failures == 3 and search.last_success_at is None
    assert search.advice[0].startswith("Die Bluesky-Suche braucht seit 2025 eine Anmeldung")
    assert len(search.advice) == 1  # not followed by the generic advice for a 403
    assert "BLUESKY_APP_PASSWORD" in search.advice[0] and search.problems
    assert new.state == NEVER and new.runs == 0 and new.advice == []


def test_skipped_items_of_the_last_run_are_shown_by_reason(sqlite_engine: Engine) -> None:
    add_source(sqlite_engine, platform="bluesky", name="konto", account="anna.bsky.social",
               options={"appview": "https://bsky.test", "replies": False})  # fmt: skip
    anna = make_author("did:plc:anna", "anna.bsky.social")
    own = make_post(anna, "own", NOW - timedelta(minutes=5), "Mein Kaffee")

    def handler(request: httpx.Request) -> httpx.Response:
        repost = {
            "post": make_post(make_author("did:plc:x", "x.bsky.social"), "x", NOW, "Fremd"),
            "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": anna, "indexedAt": "2026-11-20T08:00Z"},
        }
        broken = {"post": {"uri": "at://did:plc:anna/app.bsky.feed.post/kaputt", "author": anna}}  # no record
        return httpx.Response(200, json={"feed": [{"post": own}, repost, repost, broken]})  # fmt: skip

    summary = run_source(sqlite_engine, "konto", SETTINGS, transport=httpx.MockTransport(handler), now=NOW)
    assert summary.status == "partial"
    health = by_name(sqlite_engine)["konto"]
    assert health.skipped == {"repost": 2, "malformed": 1} and health.state == WARNING
    assert health.skipped_lines == ["1 × unlesbare Einträge (fehlende oder falsche Felder)",
                                    "2 × Reposts/Boosts (nicht vom Konto selbst geschrieben)"]  # fmt: skip
    assert health.skipped_short == "1 unlesbar, 2 Reposts"


def test_advice_is_specific_and_falls_back_to_the_run_log() -> None:
    assert "Intervall" in advice_for(["tag: https://x/api rate limited (429) and asks to wait 4000 s"], "tag")[0]
    assert "gibt es auf der Plattform nicht" in advice_for(["x: https://x/feed does not exist (404)."], "x")[0]
    assert advice_for(["etwas völlig Unbekanntes"], "quelle") == ["Die vollständigen Meldungen zeigt "
                                                                   "`resonanz runs -s quelle`."]  # fmt: skip
    assert advice_for([], "quelle") == []


def test_resonanz_sources_prints_the_health_and_what_to_do(db_url: str) -> None:
    engine = open_engine(db_url)
    collect_world(engine)
    engine.dispose()
    result = CliRunner().invoke(app, ["sources"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 5}
    assert FAILING in rows["suche"] and "│ 3 " in rows["suche"]
    assert NEVER in rows["neu"] and OK not in rows["neu"].split("│")[3]
    assert "Zu tun: Die Bluesky-Suche braucht seit 2025 eine Anmeldung" in " ".join(result.output.split())
    detail = CliRunner().invoke(app, ["sources", "health", "suche"], env={"COLUMNS": "200"})
    assert detail.exit_code == 0 and "Problem:" in detail.output and "letzter Lauf: failed" in detail.output
    missing = CliRunner().invoke(app, ["sources", "health", "gibtsnicht"])
    assert missing.exit_code != 0 and "no source named 'gibtsnicht'" in missing.output
