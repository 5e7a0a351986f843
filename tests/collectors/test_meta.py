"""Facebook Page and Instagram (Meta Graph API): feeds, comment threads, mentions, tokens and rate limits.

Contract tests on responses shaped as Meta sends them: ``collectors/fixtures/meta.json`` follows the
recorded responses in python-facebook's test data (github.com/sns-sdks/python-facebook ``testdata/``:
feed and comment pages with their ``paging``, Instagram media, tagged media and comments, the
``X-Business-Use-Case-Usage`` header, the ``{"error": {...}}`` body) and the facebook-php-sdk's expired-
token response; the fixture's ``description`` names the file behind each shape.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
import pytest

from collectors import AuthError, ConfigurationError, RateLimitedError, SourceSpec
from collectors.meta import FacebookPageCollector, InstagramCollector
from tests.collectors.helpers import NOW, Sleeps, creds, json_response, options, polite, posts_of, run

FIXTURE: dict[str, Any] = json.loads(
    resources.files("collectors").joinpath("fixtures", "meta.json").read_text(encoding="utf-8")
)
FX: dict[str, Any] = FIXTURE["responses"]
HEADERS: dict[str, dict[str, str]] = FIXTURE["headers"]
PAGE: str = FIXTURE["page_id"]
IG: str = FIXTURE["ig_user_id"]
TOKEN = "EAAGm0PX4ZCpsBAtest-page-token"
V = "/" + FIXTURE["graph_version"]


class FakeGraph:
    """Routes by path; ``faults[path prefix]`` answers the next matching requests, ``headers[path prefix]``
    adds usage headers to every matching answer."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: dict[str, list[httpx.Response]] = {}
        self.headers: dict[str, dict[str, str]] = {}
        self.gone: set[str] = set()

    def calls(self, suffix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(suffix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert "access_token" not in request.url.params
        path = request.url.path
        for prefix, queue in self.faults.items():
            if path.startswith(V + prefix) and queue:
                return queue.pop(0)
        extra = next((h for prefix, h in self.headers.items() if path.startswith(V + prefix)), {})
        body = self.answer(path.removeprefix(V + "/"), request.url.params)
        return json_response(body, 400 if "error" in body else 200, headers=extra)

    def answer(self, path: str, params: httpx.QueryParams) -> Any:
        if path.split("/")[0] in self.gone:
            return FX["error_object_gone"]
        if path == "lindenhofkaffee":
            return FX["page_lookup"]
        if path == f"{PAGE}/feed":
            return FX["feed_page2" if "until" in params else "feed_page1"]
        if path == f"{PAGE}_122118830412345678/comments":
            assert params["filter"] == "stream" and params["order"] == "reverse_chronological"
            return FX["comments_page2" if "after" in params else "comments_page1"]
        if path == f"{IG}/media":
            return FX["ig_media_page2" if "after" in params else "ig_media_page1"]
        if path == f"{IG}/tags":
            return FX["ig_tags"]
        if path == f"{FX['ig_media_page1']['data'][0]['id']}/comments":
            assert "replies{" in params["fields"]
            return FX["ig_comments"]
        if path == f"{FX['ig_comments']['data'][0]['id']}/replies":
            assert params["after"] == "QVFIUnr1"
            return FX["ig_replies_page2"]
        if path.endswith("/comments"):
            return {"data": []}
        raise AssertionError(f"unexpected Graph API call: {path}")


def graph_error(name: str, status: int = 400, headers: dict[str, str] | None = None) -> httpx.Response:
    return json_response(FX[name], status, headers)


FB_SPEC = SourceSpec("fb", "facebook", account=PAGE)
IG_SPEC = SourceSpec("ig", "instagram", account=IG)
KEY = creds(meta_access_token=TOKEN)
P1, P2, P3, P4 = (f"{PAGE}_{n}" for n in ("122118830412345678", "122118790456789012", "122118750498765432",
                                          "122118650433221100"))  # fmt: skip
C1, C2, C3 = (f"122118830412345678_{n}" for n in ("1094857392019", "2294857392020", "3394857392021"))
M1, M2, M3 = "17895731045244887", "17896622936197745", "17870001234567890"
T1, T2, T3 = "17892354025952911", "17997587032316367", "17846368219941692"
IC1, IC2, IR1, IR2 = "17858154961981086", "17874875428706419", "17847314687296283", "17847314687296999"


# -- Facebook --------------------------------------------------------------------------------------


def test_page_feed_pages_and_the_comment_stream_of_a_post() -> None:
    graph = FakeGraph()
    batches, cursor = run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)
    posts = posts_of(batches)
    assert set(posts) == {P1, P2, P3, P4, C1, C2, C3}  # the 2026-09-01 post is beyond the backfill
    p1 = posts[P1]
    assert p1.kind == "post" and p1.text.startswith("Ab 1. Dezember gelten neue Abo-Preise")
    assert p1.metrics == {"comments": 3, "reactions": 41, "shares": 5}
    assert p1.created_at == datetime(2026, 11, 19, 16, 0, 12, tzinfo=UTC)
    assert p1.url == f"https://www.facebook.com/{PAGE}/posts/122118830412345678/"
    assert (p1.identity.account_id, p1.identity.display_name) == (PAGE, "Lindenhof Kaffee")
    assert posts[P2].text == "" and posts[P2].raw["story"].startswith("Lindenhof Kaffee hat das Titelbild")
    assert posts[P3].identity.display_name == "Sven Richter"
    # comments and replies of the stream, two pages, with their parents
    assert posts[C3].parent_external_id == C1 and posts[C3].root_external_id == P1
    assert posts[C2].parent_external_id == P1 and posts[C2].metrics == {"likes": 7, "replies": 0}
    assert posts[C1].metrics["replies"] == 1 and posts[C1].identity.account_id == "6612093847562211"
    (thread,) = [b.thread for b in batches if b.thread]
    assert thread.root_external_id == P1 and thread.present == frozenset({C1, C2, C3})
    # pagination: the time-based next link, stored and sent without the echoed access_token
    feed = graph.calls(f"{PAGE}/feed")
    assert len(feed) == 2 and feed[1].url.params["__paging_token"] == "enc_AdDpZBq7"
    assert all("access_token" not in json.dumps(b.cursor) for b in batches)
    assert cursor["streams"][f"fb:{PAGE}:feed"]["high_water"] == "2026-11-19T16:00:12+00:00"
    assert len(graph.calls(f"{P1}/comments")) == 2 and len(graph.requests) == 4  # posts without comments: no call


def test_app_secret_proof_signs_every_call() -> None:
    graph = FakeGraph()
    run(FacebookPageCollector(polite(graph), creds(meta_access_token=TOKEN, meta_app_secret="app-secret")), FB_SPEC)
    proof = hmac.new(b"app-secret", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert graph.requests and all(r.url.params["appsecret_proof"] == proof for r in graph.requests)
    assert all(len(r.url.params.get_list("appsecret_proof")) == 1 for r in graph.requests)


def test_the_next_run_stops_at_the_high_water_mark_and_a_deleted_post_becomes_a_tombstone() -> None:
    graph = FakeGraph()
    _, cursor = run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)
    graph.requests.clear()
    graph.gone.add(P1)
    batches, cursor2 = run(
        FacebookPageCollector(polite(graph), KEY), FB_SPEC, cursor, options(now=NOW + timedelta(hours=1))
    )
    assert len(graph.calls(f"{PAGE}/feed")) == 1
    assert posts_of(batches)[P1].deleted and P1 not in cursor2["threads"]


def test_a_page_username_is_resolved_once() -> None:
    graph = FakeGraph()
    spec = SourceSpec("fb", "facebook", account="https://www.facebook.com/lindenhofkaffee")
    _, cursor = run(FacebookPageCollector(polite(graph), KEY), spec)
    assert cursor["page"] == {"name": "lindenhofkaffee", "id": PAGE, "title": "Lindenhof Kaffee"}
    run(FacebookPageCollector(polite(graph), KEY), spec, cursor, options(now=NOW + timedelta(hours=1)))
    assert len(graph.calls("/lindenhofkaffee")) == 1


def test_an_expired_token_stops_the_run_with_what_to_do() -> None:
    graph = FakeGraph()
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_token_expired")]
    with pytest.raises(AuthError, match="Meta-Zugriffstoken ist abgelaufen.*code 190, subcode 463.*META_ACCESS_TOKEN"):
        run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)
    with pytest.raises(ConfigurationError, match="META_ACCESS_TOKEN"):
        run(FacebookPageCollector(polite(FakeGraph())), FB_SPEC)


def test_a_page_rate_limit_waits_as_long_as_meta_estimates() -> None:
    graph = FakeGraph()
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_page_limit", 400, HEADERS["buc_throttled"])]
    sleeps = Sleeps()
    batches, _ = run(FacebookPageCollector(polite(graph, sleeps), KEY), FB_SPEC)
    assert sleeps.calls == [120.0] and P1 in posts_of(batches)


def test_an_app_rate_limit_without_estimate_backs_off_doubling() -> None:
    graph = FakeGraph()
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_app_limit", 403)] * 2
    sleeps = Sleeps()
    batches, _ = run(FacebookPageCollector(polite(graph, sleeps), KEY), FB_SPEC)
    assert sleeps.calls == [60.0, 120.0] and P1 in posts_of(batches)
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_app_limit", 403)] * 4
    with pytest.raises(RateLimitedError, match="Meta drosselt weiterhin"):
        run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)


def test_a_rate_limit_longer_than_the_run_may_wait_ends_the_run_cleanly() -> None:
    graph = FakeGraph()
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_page_limit", 400, HEADERS["buc_blocked_an_hour"])]
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError, match="60 Minuten") as info:
        run(FacebookPageCollector(polite(graph, sleeps), KEY), FB_SPEC)
    assert sleeps.calls == [] and info.value.retry_at == sleeps.clock() + 3600


def test_high_usage_pauses_before_the_limit_is_hit() -> None:
    graph = FakeGraph()
    graph.headers[f"/{PAGE}/feed"] = HEADERS["app_usage_high"]
    sleeps = Sleeps()
    run(FacebookPageCollector(polite(graph, sleeps), KEY), FB_SPEC)
    assert sleeps.calls == [300.0, 300.0]  # before feed page 2 and before the comments call
    graph.headers[f"/{PAGE}/feed"] = HEADERS["app_usage_low"]
    sleeps = Sleeps()
    run(FacebookPageCollector(polite(graph, sleeps), KEY), FB_SPEC)
    assert sleeps.calls == []


def test_a_missing_permission_is_reported_with_the_permissions_needed() -> None:
    graph = FakeGraph()
    graph.faults[f"/{PAGE}/feed"] = [graph_error("error_permission", 403)]
    batches, _ = run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)
    (refused,) = [b for b in batches if b.failed]
    assert re.search(r"\(#10\).*pages_read_user_content", refused.errors[0]) and posts_of(batches) == {}


def test_a_next_link_to_another_host_is_not_followed() -> None:
    graph = FakeGraph()
    page = json.loads(json.dumps(FX["feed_page1"]))
    page["paging"]["next"] = "https://graph.evil.example/v24.0/feed?until=1"
    graph.faults[f"/{PAGE}/feed"] = [json_response(page)]
    batches, _ = run(FacebookPageCollector(polite(graph), KEY), FB_SPEC)
    assert all(r.url.host == "graph.facebook.com" for r in graph.requests)
    assert any("anderen Host" in e for b in batches for e in b.errors)


# -- Instagram -------------------------------------------------------------------------------------


def test_own_media_their_comments_and_replies_and_the_media_the_brand_is_tagged_in() -> None:
    graph = FakeGraph()
    batches, cursor = run(InstagramCollector(polite(graph), KEY), IG_SPEC)
    posts = posts_of(batches)
    assert set(posts) == {M1, M2, T1, T2, IC1, IC2, IR1, IR2}  # M3 and T3 are beyond the backfill
    m1 = posts[M1]
    assert (m1.kind, m1.url) == ("post", "https://www.instagram.com/p/DCgf9BChwVq/")
    assert m1.text.startswith("Die Herbstmischung ist da") and m1.metrics["likes"] == 230
    assert (m1.identity.account_id, m1.identity.handle, m1.metrics["tagged"]) == (IG, "lindenhof.kaffee", False)
    assert m1.created_at == datetime(2026, 11, 19, 8, 25, 28, tzinfo=UTC)
    # mentions: media others published with the brand tagged, keyed on their username
    t2 = posts[T2]
    assert t2.metrics["tagged"] is True and t2.text.startswith("Warteschlange bis draußen")
    assert (t2.identity.account_id, t2.identity.handle) == ("@koeln.isst", "koeln.isst")
    # the comment thread: top-level comments, their nested replies and a further page of replies
    assert posts[IC1].parent_external_id == M1 and posts[IC1].root_external_id == M1
    assert posts[IC1].identity.account_id == "17841400000000001" and posts[IC1].identity.handle == "anna_k"
    assert posts[IR1].parent_external_id == IC1 and posts[IR2].parent_external_id == IC1
    assert posts[IR2].root_external_id == M1 and posts[IC2].metrics == {"likes": 0}
    (thread,) = [b.thread for b in batches if b.thread]
    assert thread.root_external_id == M1 and thread.present == frozenset({IC1, IC2, IR1, IR2})
    assert len(graph.calls(f"{IG}/media")) == 2 and len(graph.calls(f"{IG}/tags")) == 1
    assert graph.calls(f"{IG}/media")[1].url.params["after"] == "QVFIUmhafter"
    assert cursor["streams"][f"ig:{IG}:tags"]["high_water"] == "2026-11-18T08:16:22+00:00"
    assert cursor["streams"][f"ig:{IG}:media"]["high_water"] == "2026-11-19T08:25:28+00:00"


def test_instagram_next_run_reads_only_new_media() -> None:
    graph = FakeGraph()
    _, cursor = run(InstagramCollector(polite(graph), KEY), IG_SPEC)
    graph.requests.clear()
    batches, _ = run(InstagramCollector(polite(graph), KEY), IG_SPEC, cursor, options(now=NOW + timedelta(hours=1)))
    assert len(graph.calls(f"{IG}/media")) == 1 and len(graph.calls(f"{IG}/tags")) == 1
    assert not [e for b in batches for e in b.errors]


def test_instagram_needs_the_professional_account_id() -> None:
    with pytest.raises(ConfigurationError, match="17841"):
        InstagramCollector.validate(SourceSpec("ig", "instagram", account="@lindenhof.kaffee"))
