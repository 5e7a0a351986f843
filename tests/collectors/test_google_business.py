"""Google Business Profile: reviews per location (Filiale), OAuth refresh token, Google's error shape.

Contract tests on responses shaped as Google sends them: ``collectors/fixtures/google_business.json``
(its ``description`` names the source of every shape: the v4 reviews reference and generated models,
the Business Information API v1 locations reference, the OAuth 2.0 token endpoint and google.rpc.Status).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from collectors import AuthError, ConfigurationError, FetchError, SourceSpec
from collectors.google_business import GoogleBusinessCollector, original_text
from tests.collectors.helpers import NOW, Sleeps, creds, json_response, options, polite, posts_of, run

FX: dict[str, Any] = json.loads(
    resources.files("collectors").joinpath("fixtures", "google_business.json").read_text(encoding="utf-8")
)["responses"]
ACCOUNT = "114829048283456789012"
EHRENFELD = "12829448582318421457"
SUED = "4417190386532154998"
SPEC = SourceSpec("filialen", "google_business", account=f"accounts/{ACCOUNT}")
CREDS = creds(
    google_business_client_id="563018924417-abc.apps.googleusercontent.com",
    google_business_client_secret="GOCSPX-test-secret",
    google_business_refresh_token="1//09-test-refresh-token",
)


class FakeGoogle:
    """Serves the fixture like Google does; ``faults[path prefix]`` answers the next matching requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: dict[str, list[httpx.Response]] = {}

    def reviews_requests(self, location: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith(f"/locations/{location}/reviews")]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for prefix, queue in self.faults.items():
            if path.startswith(prefix) and queue:
                return queue.pop(0)
        if request.url.host == "oauth2.googleapis.com":
            assert request.method == "POST" and path == "/token"
            return json_response(FX["token"])
        assert request.headers["Authorization"] == "Bearer " + FX["token"]["access_token"]
        token = request.url.params.get("pageToken")
        if request.url.host == "mybusinessbusinessinformation.googleapis.com":
            assert path == f"/v1/accounts/{ACCOUNT}/locations"
            assert request.url.params["readMask"] == "name,title,storeCode,storefrontAddress,metadata"
            return json_response(FX["locations_page2" if token else "locations_page1"])
        assert request.url.host == "mybusiness.googleapis.com"
        assert request.url.params["orderBy"] == "updateTime desc" and request.url.params["pageSize"] == "50"
        if path == f"/v4/accounts/{ACCOUNT}/locations/{EHRENFELD}/reviews":
            if token is None:
                return json_response(FX["reviews_ehrenfeld_page1"])
            assert token == FX["reviews_ehrenfeld_page1"]["nextPageToken"]
            return json_response(FX["reviews_ehrenfeld_page2"])
        if path == f"/v4/accounts/{ACCOUNT}/locations/{SUED}/reviews":
            return json_response(FX["reviews_suedstadt"])
        return json_response({"error": {"code": 404, "message": "Requested entity was not found.",
                                        "status": "NOT_FOUND"}}, 404)  # fmt: skip


def test_reviews_of_every_location_with_the_filiale_in_the_post() -> None:
    google = FakeGoogle()
    batches, cursor = run(GoogleBusinessCollector(polite(google), CREDS), SPEC)
    posts = posts_of(batches)
    assert set(posts) == {"AbFvOqmY0n0gT8s3X1r2dQk", "AbFvOqkPz7cR2mQwE5nLxYs", "AbFvOqn3aK9wLm2ZtPq4Rcv",
                          "AbFvOqj8Hc3nVx5QkR0pLmz", "AbFvOqa2Lp6tRw9XcV4bNkq"}  # fmt: skip
    jana = posts["AbFvOqmY0n0gT8s3X1r2dQk"]
    assert jana.kind == "review" and jana.title == "Filiale Lindenhof Kaffee Ehrenfeld (Venloer Straße 210, 50823 Köln)"
    assert jana.text.startswith("Seit Wochen nur noch eine Person")
    assert jana.metrics["rating"] == 2 and jana.metrics["location"] == EHRENFELD
    assert (jana.metrics["store_code"], jana.metrics["city"]) == ("KOE-03", "Köln")
    assert jana.metrics["answered"] is True and jana.metrics["answered_at"] == "2026-11-19T18:02:10.551Z"
    assert jana.created_at == datetime(2026, 11, 12, 8, 14, 3, 417000, tzinfo=UTC)
    assert jana.edited_at == jana.listed_at == datetime(2026, 11, 19, 17, 40, 51, 208000, tzinfo=UTC)
    assert jana.url == "https://maps.google.com/maps?cid=1283746501928374651"
    assert jana.identity.display_name == "Jana Hoffmann"
    assert jana.identity.account_id == "https://lh3.googleusercontent.com/a-/ALV-UjWq0a1Rk3Hk2YbQmVn8"
    murat = posts["AbFvOqkPz7cR2mQwE5nLxYs"]
    assert murat.edited_at is None and murat.metrics["answered"] is False and murat.metrics["rating"] == 5
    # Google's translation envelope is dropped: the reviewer's own words remain
    chloe = posts["AbFvOqj8Hc3nVx5QkR0pLmz"]
    assert chloe.text == "Le paiement par carte ne marchait pas et personne n'a aidé."
    assert chloe.title == "Filiale Lindenhof Kaffee Südstadt (Severinstraße 95, 50677 Köln)"
    assert chloe.metrics["location_name"] == "Lindenhof Kaffee Südstadt"
    anonymous = posts["AbFvOqa2Lp6tRw9XcV4bNkq"]
    assert anonymous.identity is None and anonymous.text == "" and anonymous.metrics["rating"] == 4
    # the review without createTime is skipped and reported, the others stay
    errors = [e for b in batches for e in b.errors]
    assert len(errors) == 1 and "AbFvOqbroken" not in posts and "createTime" in errors[0]
    # the 2026-09-30 review is older than the 30-day backfill
    assert "AbFvOqh1Zr8yPq0VbN6sTuw" not in posts
    assert len(google.reviews_requests(EHRENFELD)) == 2 and len(google.reviews_requests(SUED)) == 1
    assert cursor["streams"][f"gbp:{EHRENFELD}"]["high_water"] == "2026-11-19T17:40:51.208000+00:00"
    assert set(cursor["locations"]) == {EHRENFELD, SUED}
    token_calls = [r for r in google.requests if r.url.host == "oauth2.googleapis.com"]
    assert len(token_calls) == 1  # one token for the whole run
    form = parse_qs(token_calls[0].content.decode())
    assert form == {"grant_type": ["refresh_token"], "client_id": ["563018924417-abc.apps.googleusercontent.com"],
                    "client_secret": ["GOCSPX-test-secret"], "refresh_token": ["1//09-test-refresh-token"]}  # fmt: skip
    assert all("refresh" not in str(r.url) and "ya29" not in str(r.url) for r in google.requests)


def test_the_filiale_title_reaches_the_topic_model() -> None:
    """``ask --topic Filiale`` works on these reviews: scoring reads title + text, and the default topics
    put a review whose text never mentions the store under 'Filiale' because of the title."""
    from nlp.preprocess import prepare_one
    from nlp.topics import TopicModel
    from resonanz.pipeline.scoring import post_text

    post = posts_of(run(GoogleBusinessCollector(polite(FakeGoogle()), CREDS), SPEC)[0])["AbFvOqkPz7cR2mQwE5nLxYs"]
    model = TopicModel.load()
    assert "Filiale" not in post.text
    assert "Filiale" in [m.name for m in model.match(prepare_one(post_text(post.text, post.title)))]
    assert "Filiale" not in [m.name for m in model.match(prepare_one(post.text))]


def test_the_next_run_reads_only_what_changed_since() -> None:
    google = FakeGoogle()
    _, cursor = run(GoogleBusinessCollector(polite(google), CREDS), SPEC)
    google.requests.clear()
    batches, _ = run(GoogleBusinessCollector(polite(google), CREDS), SPEC, cursor, options(now=NOW + timedelta(days=1)))
    # page 1 reaches back past the high-water mark (minus overlap): page 2 is not fetched again
    assert len(google.reviews_requests(EHRENFELD)) == 1
    assert set(posts_of(batches)) == {"AbFvOqmY0n0gT8s3X1r2dQk", "AbFvOqj8Hc3nVx5QkR0pLmz"}


def test_an_interrupted_sweep_resumes_at_the_stored_page_token() -> None:
    google = FakeGoogle()
    first, cursor = run(GoogleBusinessCollector(polite(google), CREDS), SPEC, opts=options(max_pages=1))
    assert "AbFvOqn3aK9wLm2ZtPq4Rcv" not in posts_of(first)
    sweep = cursor["streams"][f"gbp:{EHRENFELD}"]["sweep"]
    assert sweep["token"] == FX["reviews_ehrenfeld_page1"]["nextPageToken"]
    google.requests.clear()
    second, _ = run(GoogleBusinessCollector(polite(google), CREDS), SPEC, cursor, options(max_pages=1))
    assert google.reviews_requests(EHRENFELD)[0].url.params["pageToken"] == sweep["token"]
    assert "AbFvOqn3aK9wLm2ZtPq4Rcv" in posts_of(second)


def test_query_restricts_to_some_locations_and_unknown_ones_are_explained() -> None:
    google = FakeGoogle()
    spec = SourceSpec("sued", "google_business", account=ACCOUNT, query=f"locations/{SUED}")
    batches, _ = run(GoogleBusinessCollector(polite(google), CREDS), spec)
    assert google.reviews_requests(EHRENFELD) == [] and len(google.reviews_requests(SUED)) == 1
    assert {p.metrics["location"] for p in posts_of(batches).values()} == {SUED}
    wrong = SourceSpec("x", "google_business", account=ACCOUNT, query="999")
    with pytest.raises(ConfigurationError, match=f"999.*{SUED}"):
        run(GoogleBusinessCollector(polite(FakeGoogle()), CREDS), wrong)


def test_missing_account_or_credentials_say_what_to_set() -> None:
    with pytest.raises(ConfigurationError, match="--account"):
        GoogleBusinessCollector.validate(SourceSpec("x", "google_business"))
    with pytest.raises(ConfigurationError, match="GOOGLE_BUSINESS_REFRESH_TOKEN"):
        run(GoogleBusinessCollector(polite(FakeGoogle())), SPEC)


def test_a_revoked_refresh_token_is_an_auth_error_with_advice() -> None:
    google = FakeGoogle()
    google.faults["/token"] = [json_response(FX["token_invalid_grant"], 400)]
    with pytest.raises(AuthError, match="invalid_grant.*Token has been expired or revoked.*REFRESH_TOKEN"):
        run(GoogleBusinessCollector(polite(google), CREDS), SPEC)


def test_a_refused_location_is_reported_with_what_to_enable_and_the_others_go_on() -> None:
    google = FakeGoogle()
    google.faults[f"/v4/accounts/{ACCOUNT}/locations/{EHRENFELD}"] = [json_response(FX["error_service_disabled"], 403)]
    batches, cursor = run(GoogleBusinessCollector(polite(google), CREDS), SPEC)
    (refused,) = [b for b in batches if b.failed]
    assert re.search("PERMISSION_DENIED.*Google My Business API has not been used.*freigeschaltet", refused.errors[0])
    assert {p.metrics["location"] for p in posts_of(batches).values()} == {SUED}
    assert cursor["streams"][f"gbp:{EHRENFELD}"]["refused"]["status"] == 403


def test_an_expired_access_token_is_replaced_once() -> None:
    google = FakeGoogle()
    google.faults[f"/v4/accounts/{ACCOUNT}/locations/{EHRENFELD}"] = [json_response(FX["error_unauthenticated"], 401)]
    batches, _ = run(GoogleBusinessCollector(polite(google), CREDS), SPEC)
    assert len([r for r in google.requests if r.url.host == "oauth2.googleapis.com"]) == 2
    assert "AbFvOqmY0n0gT8s3X1r2dQk" in posts_of(batches)


def test_quota_429_is_retried_with_backoff() -> None:
    google = FakeGoogle()
    google.faults[f"/v4/accounts/{ACCOUNT}/locations/{SUED}"] = [json_response(FX["error_quota"], 429)] * 2
    sleeps = Sleeps()
    batches, _ = run(GoogleBusinessCollector(polite(google, sleeps), CREDS), SPEC)
    assert sleeps.calls == [0.75, 1.5] and "AbFvOqj8Hc3nVx5QkR0pLmz" in posts_of(batches)


def test_locations_of_the_previous_run_are_used_when_the_listing_fails() -> None:
    google = FakeGoogle()
    _, cursor = run(GoogleBusinessCollector(polite(google), CREDS), SPEC)
    google.faults["/v1/accounts"] = [httpx.Response(503)] * 4
    later = options(now=NOW + timedelta(hours=8))
    batches, _ = run(GoogleBusinessCollector(polite(google), CREDS), SPEC, cursor, later)
    assert posts_of(batches)["AbFvOqmY0n0gT8s3X1r2dQk"].title.startswith("Filiale Lindenhof Kaffee Ehrenfeld")
    google.faults["/v1/accounts"] = [httpx.Response(503)] * 4
    with pytest.raises(FetchError, match="503"):
        run(GoogleBusinessCollector(polite(google), CREDS), SPEC)  # no previous run: nothing to fall back on


def test_translation_envelope_only_when_google_added_one() -> None:
    assert original_text("(Translated by Google) Great\n\n(Original)\nSuper") == "Super"
    assert original_text("Ganz normal (Original) geschrieben") == "Ganz normal (Original) geschrieben"
