"""Mastodon: hashtag/account/search listings, Link pagination, contexts, edits, deletions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from collectors import ConfigurationError, SourceSpec
from collectors.mastodon import MastodonCollector
from collectors.testing import FakeMastodon, make_account, make_status, snowflake
from collectors.text import parse_time
from tests.collectors.helpers import NOW, Sleeps, app_handler, creds, json_response, options, polite, posts_of, run

INSTANCE = "https://social.example"
SPEC = SourceSpec("brand", "mastodon", query="#Brühwerk", config={"instance": INSTANCE})
ANNA = make_account("1", "anna", "mastodon.social", display_name="Anna K.", note="<p>Kaffee &amp; Rad</p>",
                    fields=[("Ort", "<a href='https://de.wikipedia.org/wiki/Hamburg'>Hamburg</a>")])  # fmt: skip
BEN = make_account("2", "ben", "social.example", display_name="Ben")


def status(
    n: int, hours_ago: float, text: str = "", *, reply_to: dict[str, Any] | None = None, who: dict[str, Any] = ANNA
) -> dict[str, Any]:
    created = NOW - timedelta(hours=hours_ago)
    return make_status(snowflake(created, n), created, f"<p>{text or f'Beitrag {n} über'} #Brühwerk</p>", who,
                       in_reply_to=reply_to, tags=[] if reply_to else ["Brühwerk"])  # fmt: skip


def collector(app: FakeMastodon, requests: list[httpx.Request] | None = None, **kw: object) -> MastodonCollector:
    return MastodonCollector(polite(app_handler(app, requests)), creds(**kw))


def timeline_requests(requests: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in requests if "/timelines/tag/" in r.url.path]


def test_first_run_backfills_through_link_pages_down_to_the_horizon() -> None:
    statuses = [status(i, hours_ago=i * 10) for i in range(90)]  # one every 10 hours, 37 days back
    requests: list[httpx.Request] = []
    batches, cursor = run(collector(FakeMastodon(statuses), requests), SPEC, opts=options(backfill_days=30,
                                                                                     fetch_replies=False))  # fmt: skip
    within = [s for s in statuses if datetime.fromisoformat(s["created_at"]) >= NOW - timedelta(days=30)]
    assert set(posts_of(batches)) == {s["uri"] for s in within}
    pages = timeline_requests(requests)
    assert len(pages) == 2  # 40 + 40 statuses, the second page reaches past the horizon
    assert pages[0].url.raw_path.startswith(b"/api/v1/timelines/tag/Br%C3%BChwerk?")
    assert "max_id" not in pages[0].url.params
    assert pages[1].url.params["max_id"] == statuses[39]["id"]  # taken from the Link header
    newest = datetime.fromisoformat(statuses[0]["created_at"])
    assert cursor["streams"]["tag:brühwerk"] == {"high_water": newest.astimezone(UTC).isoformat(), "sweep": None}


def test_next_run_reads_only_the_new_top_of_the_timeline() -> None:
    statuses = [status(i, hours_ago=i * 10) for i in range(90)]
    app = FakeMastodon(statuses)
    _, cursor = run(collector(app), SPEC, opts=options(fetch_replies=False))
    later = NOW + timedelta(hours=2)
    new = [status(1000 + i, hours_ago=-1 - i * 0.2, text=f"Neu {i}") for i in range(3)]
    for s in new:
        app.add(s)
    requests: list[httpx.Request] = []
    batches, cursor2 = run(collector(app, requests), SPEC, cursor, options(now=later, fetch_replies=False))
    # the new statuses plus what lies within the overlap below the previous newest
    assert set(posts_of(batches)) == {s["uri"] for s in new} | {statuses[0]["uri"]}
    assert len(timeline_requests(requests)) == 1
    assert cursor2["streams"]["tag:brühwerk"]["high_water"] > cursor["streams"]["tag:brühwerk"]["high_water"]


def test_replies_come_from_the_context_with_parent_and_root() -> None:
    root = status(1, hours_ago=3, text="Wo bleibt meine Bestellung?")
    root["replies_count"] = 2
    first = status(2, hours_ago=2, text="Schreib uns per DM", reply_to=root, who=BEN)
    second = status(3, hours_ago=1, text="Danke!", reply_to=first)
    batches, cursor = run(collector(FakeMastodon([root, first, second])), SPEC)
    posts = posts_of(batches)
    assert posts[first["uri"]].parent_external_id == root["uri"]
    assert posts[second["uri"]].parent_external_id == first["uri"]
    assert posts[second["uri"]].root_external_id == root["uri"]
    assert posts[first["uri"]].kind == "comment"
    assert posts[root["uri"]].root_external_id is None
    snapshots = [b.thread for b in batches if b.thread]
    assert snapshots and snapshots[0].present == {first["uri"], second["uri"]}
    assert parse_time(cursor["threads"][root["id"]]["r"]) == NOW


def test_edits_metrics_and_deleted_replies_show_up_in_the_next_run() -> None:
    root = status(1, hours_ago=3, text="Original")
    reply = status(2, hours_ago=2, text="Antwort", reply_to=root)
    app = FakeMastodon([root, reply])
    _, cursor = run(collector(app), SPEC)
    edited = NOW + timedelta(minutes=5)
    app.edit(root["id"], "<p>Korrigiert #Brühwerk</p>", edited)
    app.delete(reply["id"])
    batches, _ = run(collector(app), SPEC, cursor, options(now=NOW + timedelta(minutes=15)))
    post = posts_of(batches)[root["uri"]]
    assert post.text == "Korrigiert #Brühwerk"
    assert post.edited_at == edited.astimezone(UTC).replace(microsecond=0)
    snapshot = next(b.thread for b in batches if b.thread)
    assert snapshot.root_external_id == root["uri"] and snapshot.present == frozenset()


def test_a_deleted_status_becomes_a_tombstone_and_is_no_longer_followed() -> None:
    root = status(1, hours_ago=3)
    app = FakeMastodon([root])
    _, cursor = run(collector(app), SPEC)
    app.delete(root["id"])
    batches, cursor2 = run(collector(app), SPEC, cursor, options(now=NOW + timedelta(minutes=15)))
    post = posts_of(batches)[root["uri"]]
    assert post.deleted
    assert root["id"] not in cursor2["threads"]


def test_threads_older_than_the_lookback_are_dropped() -> None:
    root = status(1, hours_ago=3)
    app = FakeMastodon([root])
    _, cursor = run(collector(app), SPEC)
    requests: list[httpx.Request] = []
    _, cursor2 = run(collector(app, requests), SPEC, cursor, options(now=NOW + timedelta(days=3)))
    assert cursor2["threads"] == {}
    assert not [r for r in requests if "/statuses/" in r.url.path]


def test_identity_uses_the_account_uri_full_handle_bio_and_location() -> None:
    local = status(2, hours_ago=1, who=BEN)
    batches, _ = run(collector(FakeMastodon([status(1, hours_ago=2), local])), SPEC, opts=options(fetch_replies=False))
    posts = list(posts_of(batches).values())
    anna = next(p.identity for p in posts if p.identity.display_name == "Anna K.")
    assert anna.account_id == "https://mastodon.social/users/anna"
    assert anna.handle == "@anna@mastodon.social"
    assert anna.bio == "Kaffee & Rad"
    assert anna.location == "Hamburg"
    ben = next(p.identity for p in posts if p.identity.display_name == "Ben")
    assert ben.handle == "@ben@social.example"
    ben_local = make_status("9", NOW, "<p>x</p>", {**BEN, "acct": "ben"})  # a local account's acct has no domain
    identity = MastodonCollector(polite(lambda r: json_response([]))).parse_status(ben_local).identity
    assert identity is not None and identity.handle == "@ben"


def test_content_warning_language_and_metrics() -> None:
    s = status(1, hours_ago=1, text="Zu teuer")
    s.update(spoiler_text="Meckerei", language="de", replies_count=0, reblogs_count=2, favourites_count=5)
    batches, _ = run(collector(FakeMastodon([s])), SPEC, opts=options(fetch_replies=False))
    post = posts_of(batches)[s["uri"]]
    assert (post.title, post.language, post.metrics) == (
        "Meckerei",
        "de",
        {"replies": 0, "reblogs": 2, "favourites": 5},
    )
    assert post.url == s["url"]


def test_a_malformed_page_is_reported_and_retried_by_the_next_run() -> None:
    statuses = [status(i, hours_ago=i) for i in range(60)]
    good = app_handler(FakeMastodon(statuses))

    def broken(request: httpx.Request) -> httpx.Response:
        if "max_id" in request.url.params:
            return httpx.Response(200, content=b'[{"id": "1", "uri": ')  # truncated JSON
        return good(request)

    batches, cursor = run(MastodonCollector(polite(broken)), SPEC, opts=options(fetch_replies=False))
    assert len(posts_of(batches)) == 40
    errors = [e for b in batches for e in b.errors]
    assert len(errors) == 1 and "max_id" in errors[0] and "brand" not in errors[0].split(":")[1]
    sweep = cursor["streams"]["tag:brühwerk"]["sweep"]
    assert sweep["token"] == statuses[39]["id"] and sweep["failures"] == 1
    requests: list[httpx.Request] = []
    batches2, cursor2 = run(collector(FakeMastodon(statuses), requests), SPEC, cursor, options(fetch_replies=False))
    assert requests[0].url.params["max_id"] == statuses[39]["id"]  # resumes at the failed page
    assert {s["uri"] for s in statuses[40:]} <= set(posts_of(batches2))
    assert cursor2["streams"]["tag:brühwerk"]["sweep"] is None


def test_a_malformed_status_is_skipped_and_the_rest_kept() -> None:
    good = status(1, hours_ago=1)
    bad = dict(status(2, hours_ago=2))
    del bad["account"]
    handler = lambda r: json_response([good, bad, "nonsense"])  # noqa: E731
    batches, _ = run(MastodonCollector(polite(handler)), SPEC, opts=options(fetch_replies=False))
    assert list(posts_of(batches)) == [good["uri"]]
    assert len([e for b in batches for e in b.errors]) == 2


def test_rate_limited_page_waits_and_continues() -> None:
    statuses = [status(i, hours_ago=i) for i in range(50)]
    good = app_handler(FakeMastodon(statuses))
    calls = {"n": 0}

    def limited(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 2:
            return json_response({"error": "Too many requests"}, 429, {"Retry-After": "5"})
        return good(request)

    sleeps = Sleeps()
    batches, _ = run(MastodonCollector(polite(limited, sleeps)), SPEC, opts=options(fetch_replies=False))
    assert len(posts_of(batches)) == 50
    assert sleeps.calls == [5.0]


def test_account_statuses_are_looked_up_once() -> None:
    statuses = [status(i, hours_ago=i * 10, who=BEN) for i in range(3)]  # only the newest lies in the overlap
    spec = SourceSpec("ben", "mastodon", account="@ben@social.example")
    requests: list[httpx.Request] = []
    batches, cursor = run(collector(FakeMastodon(statuses), requests), spec, opts=options(fetch_replies=False))
    assert len(posts_of(batches)) == 3
    assert cursor["streams"]["account:ben@social.example"]["account_id"] == "2"
    assert requests[0].url.host == "social.example" and requests[0].url.path == "/api/v1/accounts/lookup"
    assert requests[1].url.params["exclude_reblogs"] == "true"
    requests.clear()
    run(collector(FakeMastodon(statuses), requests), spec, cursor, options(fetch_replies=False))
    assert [r.url.path for r in requests] == ["/api/v1/accounts/2/statuses"]


def test_search_needs_a_token_and_sends_it() -> None:
    spec = SourceSpec("s", "mastodon", query="Brühwerk Lieferung", config={"instance": INSTANCE})
    with pytest.raises(ConfigurationError, match="MASTODON_TOKEN"):
        run(MastodonCollector(polite(lambda r: json_response({}))), spec)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response({"accounts": [], "statuses": [status(1, hours_ago=1)], "hashtags": []})

    batches, _ = run(MastodonCollector(polite(handler), creds(mastodon_token="tok")), spec,
                     opts=options(fetch_replies=False))  # fmt: skip
    assert len(posts_of(batches)) == 1
    assert seen[0].url.path == "/api/v2/search" and seen[0].url.params["type"] == "statuses"
    assert seen[0].headers["Authorization"] == "Bearer tok"


def test_validation_messages() -> None:
    with pytest.raises(ConfigurationError, match="instance="):
        MastodonCollector.validate(SourceSpec("x", "mastodon", query="#a"))
    MastodonCollector.validate(SourceSpec("x", "mastodon", account="@a@b.example"))


def test_empty_timeline_is_fine() -> None:
    batches, cursor = run(collector(FakeMastodon([])), SPEC)
    assert posts_of(batches) == {}
    assert cursor["streams"]["tag:brühwerk"]["sweep"] is None
    assert "high_water" not in cursor["streams"]["tag:brühwerk"]


def test_a_status_that_federates_hours_late_is_still_collected() -> None:
    """Issue 13: a remote status created 3 hours before the newest one seen reaches the instance later."""
    statuses = [status(i, hours_ago=i * 10) for i in range(5)]
    app = FakeMastodon(statuses)
    _, cursor = run(collector(app), SPEC, opts=options(fetch_replies=False))
    late = status(500, hours_ago=3, text="Spät föderiert")  # older than the newest seen, arrives now
    app.add(late)
    batches, _ = run(collector(app), SPEC, cursor, options(now=NOW + timedelta(hours=1), fetch_replies=False))
    assert late["uri"] in posts_of(batches)


def test_quote_fallback_alt_text_and_poll_options_reach_the_text() -> None:
    """Issue 14: shapes of the Mastodon API (entities Status, MediaAttachment, Poll; Mastodon 4.4 adds the quote
    fallback ``<p class="quote-inline">RE: <a href="…">…</a></p>`` for old clients)."""
    quote = status(1, hours_ago=1)
    quote["content"] = (
        '<p>Das sehe ich genauso!</p><p class="quote-inline">RE: <a href="https://social.example/@ben/1" '
        'target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://</span>'
        '<span class="">social.example/@ben/1</span><span class="invisible"></span></a></p>'
    )
    quote["quote"] = {"state": "accepted", "quoted_status": None}
    picture = status(2, hours_ago=2)
    picture["content"] = ""
    picture["media_attachments"] = [
        {"id": "1", "type": "image", "url": "https://files.example/1.jpg", "preview_url": "https://files.example/p.jpg",
         "remote_url": None, "description": "Zwei Tassen Cappuccino auf dem Tresen", "blurhash": "UFE"},
        {"id": "2", "type": "gifv", "url": "https://files.example/2.mp4", "description": None},
    ]  # fmt: skip
    poll = status(3, hours_ago=3, text="Welche Röstung?")
    poll["poll"] = {"id": "34830", "expires_at": None, "expired": False, "multiple": False, "votes_count": 10,
                    "voters_count": 10, "options": [{"title": "Hell", "votes_count": 6},
                                                    {"title": "Dunkel", "votes_count": 4}], "emojis": []}  # fmt: skip
    batches, _ = run(collector(FakeMastodon([quote, picture, poll])), SPEC, opts=options(fetch_replies=False))
    posts = posts_of(batches)
    assert posts[quote["uri"]].text == "Das sehe ich genauso!"
    assert posts[picture["uri"]].text == "[Bild: Zwei Tassen Cappuccino auf dem Tresen]\n\n[GIF]"
    assert posts[poll["uri"]].text == "Welche Röstung? #Brühwerk\n\n[Umfrage: Hell | Dunkel]"


def test_a_reply_hidden_under_a_deleted_reply_is_checked_and_kept() -> None:
    """Issue 14: Mastodon's context leaves out a deleted status together with the replies under it; only the
    deleted one may count as deleted, the one under it is looked up (``/api/v1/statuses/:id``) and kept."""
    root = status(1, hours_ago=3, text="Wo bleibt meine Bestellung?")
    root["replies_count"] = 1
    middle = status(2, hours_ago=2, text="Bei mir auch", reply_to=root, who=BEN)
    under = status(3, hours_ago=1, text="Schon angekommen", reply_to=middle)
    app = FakeMastodon([root, middle, under])
    _, cursor = run(collector(app), SPEC)
    assert cursor["threads"][root["id"]]["m"] == {middle["id"]: middle["uri"], under["id"]: under["uri"]}
    app.delete(middle["id"])
    requests: list[httpx.Request] = []
    batches, cursor = run(collector(app, requests), SPEC, cursor, options(now=NOW + timedelta(minutes=15)))
    snapshot = next(b.thread for b in batches if b.thread)
    assert snapshot.present == {under["uri"]}
    checked = {r.url.path for r in requests if r.url.path.startswith("/api/v1/statuses/") and "context" not in
               r.url.path and root["id"] not in r.url.path}  # fmt: skip
    assert checked == {f"/api/v1/statuses/{middle['id']}", f"/api/v1/statuses/{under['id']}"}
