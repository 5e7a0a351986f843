"""Trustpilot: business-unit reviews, links-based pagination, review refreshes, the gateway's errors.

Contract tests on responses shaped as Trustpilot sends them: ``collectors/fixtures/trustpilot.json``
(its ``description`` names the source of every shape: Trustpilot's API documentation and the
recorded schemas and pagination of Airbyte's source-trustpilot connector).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any

import httpx
import pytest

from collectors import AuthError, ConfigurationError, SourceSpec
from collectors.trustpilot import TrustpilotCollector
from tests.collectors.helpers import NOW, Sleeps, creds, json_response, options, polite, posts_of, run

FIXTURE: dict[str, Any] = json.loads(
    resources.files("collectors").joinpath("fixtures", "trustpilot.json").read_text(encoding="utf-8")
)
FX: dict[str, Any] = FIXTURE["responses"]
UNIT = FIXTURE["business_unit"]
SPEC = SourceSpec("trustpilot", "trustpilot", query="Lindenhof-Kaffee.de")
KEY = creds(trustpilot_api_key="tp-test-api-key")
R1, R2, R3, R4 = (
    "673c9a1f4e2b8d0001c3a7e1",
    "673b1e2a9c4f7a0001d5b3c2",
    "6736f0b3d1e84c0001a2f9d4",
    "6733aa0c7b5e2d0001f8e6a5",
)


class FakeTrustpilot:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: dict[str, list[httpx.Response]] = {}
        self.reviews: dict[str, Any] = {R1: FX["reviews_page1"]["reviews"][0]}

    def paths(self, prefix: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(prefix)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["apikey"] == "tp-test-api-key" and "apikey" not in request.url.params
        path = request.url.path
        for prefix, queue in self.faults.items():
            if path.startswith(prefix) and queue:
                return queue.pop(0)
        if path == "/v1/business-units/find":
            assert request.url.params["name"] == "lindenhof-kaffee.de"
            return json_response(FX["find"])
        if path == f"/v1/business-units/{UNIT}/reviews":
            params = request.url.params
            assert (params["perPage"], params["orderBy"]) == ("100", "createdat.desc")
            return json_response(FX["reviews_page2" if params.get("page") == "2" else "reviews_page1"])
        if path.startswith("/v1/reviews/") and path.rsplit("/", 1)[-1] in self.reviews:
            return json_response(self.reviews[path.rsplit("/", 1)[-1]])
        return json_response(FX["error_not_found"], 404)


def test_reviews_follow_the_next_page_link_down_to_the_horizon() -> None:
    tp = FakeTrustpilot()
    batches, cursor = run(TrustpilotCollector(polite(tp), KEY), SPEC)
    posts = posts_of(batches)
    assert set(posts) == {R1, R2, R3}  # R4 (2026-10-01) is older than the 30-day backfill
    r1 = posts[R1]
    assert (r1.kind, r1.title, r1.language) == ("review", "Abo gekündigt", "de")
    assert r1.text.startswith("Seit der Preiserhöhung zahle ich im Abo mehr")
    assert r1.created_at == datetime(2026, 11, 19, 20, 31, 7, tzinfo=UTC)
    assert r1.edited_at == datetime(2026, 11, 19, 21, 5, 44, tzinfo=UTC)
    assert r1.metrics["rating"] == 1 and r1.metrics["likes"] == 2 and r1.metrics["verified"] is True
    assert r1.metrics["answered"] is True and r1.metrics["answered_at"] == "2026-11-20T07:48:12.000Z"
    assert r1.url == f"https://www.trustpilot.com/reviews/{R1}"
    assert (r1.identity.account_id, r1.identity.display_name) == ("5d343e748c9ca11205e98599", "Petra Becker")
    assert r1.identity.profile_url == "https://www.trustpilot.com/users/5d343e748c9ca11205e98599"
    assert posts[R2].edited_at is None and posts[R2].metrics["location_name"] == "Lindenhof Kaffee Ehrenfeld"
    assert posts[R2].metrics["answered"] is False and posts[R3].metrics["verified"] is False
    errors = [e for b in batches for e in b.errors]
    assert len(errors) == 1 and "createdAt" in errors[0]
    review_pages = tp.paths(f"/v1/business-units/{UNIT}/reviews")
    assert [r.url.params.get("page") for r in review_pages] == [None, "2"]
    assert cursor["business_unit"] == {"name": "lindenhof-kaffee.de", "id": UNIT, "display_name": "Lindenhof Kaffee"}
    assert cursor["streams"][f"trustpilot:{UNIT}"]["high_water"] == "2026-11-19T20:31:07+00:00"
    assert all("tp-test-api-key" not in json.dumps(b.cursor) for b in batches)


def test_the_next_run_skips_the_lookup_stops_early_and_refreshes_recent_reviews() -> None:
    tp = FakeTrustpilot()
    lookback = timedelta(hours=72)
    _, cursor = run(TrustpilotCollector(polite(tp), KEY), SPEC, opts=options(reply_lookback=lookback))
    assert set(cursor["threads"]) == {R1, R2}  # R3 (2026-11-12) is beyond the lookback
    tp.requests.clear()
    tp.reviews[R1] = FX["review_r1_edited"]  # edited, now 3 stars; R2 was removed (404)
    later = options(now=NOW + timedelta(hours=1), reply_lookback=lookback)
    batches, cursor2 = run(TrustpilotCollector(polite(tp), KEY), SPEC, cursor, later)
    assert tp.paths("/v1/business-units/find") == []
    assert len(tp.paths(f"/v1/business-units/{UNIT}/reviews")) == 1
    posts = posts_of(batches)
    assert posts[R1].metrics["rating"] == 3 and posts[R1].text.startswith("Update:")
    assert posts[R1].edited_at == datetime(2026, 11, 20, 12, 30, tzinfo=UTC)
    assert posts[R2].deleted and R2 not in cursor2["threads"]


def test_a_business_unit_id_needs_no_lookup_and_unknown_domains_are_explained() -> None:
    tp = FakeTrustpilot()
    run(TrustpilotCollector(polite(tp), KEY), SourceSpec("tp", "trustpilot", query=UNIT))
    assert tp.paths("/v1/business-units/find") == []
    tp.faults["/v1/business-units/find"] = [json_response(FX["error_not_found"], 404)]
    with pytest.raises(ConfigurationError, match="keine Firma unter 'lindenhof-kaffee.de'"):
        run(TrustpilotCollector(polite(tp), KEY), SPEC)


def test_an_invalid_key_stops_the_run_with_advice() -> None:
    tp = FakeTrustpilot()
    tp.faults["/v1/business-units"] = [json_response(FX["error_invalid_key"], 401)]
    with pytest.raises(AuthError, match=r"Invalid ApiKey \(oauth.v2.InvalidApiKey\).*TRUSTPILOT_API_KEY"):
        run(TrustpilotCollector(polite(tp), KEY), SourceSpec("tp", "trustpilot", query=UNIT))
    with pytest.raises(ConfigurationError, match="TRUSTPILOT_API_KEY"):
        run(TrustpilotCollector(polite(tp)), SPEC)


def test_spike_arrest_429_waits_as_asked() -> None:
    tp = FakeTrustpilot()
    tp.faults[f"/v1/business-units/{UNIT}/reviews"] = [
        json_response(FX["error_spike_arrest"], 429, headers={"Retry-After": "3"})
    ]
    sleeps = Sleeps()
    batches, _ = run(TrustpilotCollector(polite(tp, sleeps), KEY), SPEC)
    assert sleeps.calls == [3.0] and R1 in posts_of(batches)


def test_a_next_page_link_to_another_host_is_not_followed() -> None:
    tp = FakeTrustpilot()
    page = json.loads(json.dumps(FX["reviews_page1"]))
    page["links"][0]["href"] = "https://evil.example/v1/reviews?page=2"
    tp.faults[f"/v1/business-units/{UNIT}/reviews"] = [json_response(page)]
    batches, _ = run(TrustpilotCollector(polite(tp), KEY), SPEC)
    assert all(r.url.host == "api.trustpilot.com" for r in tp.requests)
    assert any("anderen Host" in e for b in batches for e in b.errors)
