"""Google Play reviews (``reviews.list``): service-account JWT, token pagination, the 7-day window.

Contract tests on responses shaped as Google sends them: ``collectors/fixtures/google_play.json``
(its ``description`` names the source of every shape: the androidpublisher v3 reviews reference and
a reviews.list item recorded in a public reply-to-reviews script; a test-only service account key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from collectors import AuthError, ConfigurationError, SourceSpec
from collectors.base import Credentials
from collectors.google_api import _rsa_numbers, rs256_sign
from collectors.google_play import GooglePlayCollector, package_name
from tests.collectors.helpers import NOW, Sleeps, creds, json_response, options, polite, posts_of, run

FIXTURE: dict[str, Any] = json.loads(
    resources.files("collectors").joinpath("fixtures", "google_play.json").read_text(encoding="utf-8")
)
FX: dict[str, Any] = FIXTURE["responses"]
PACKAGE = "de.lindenhof.app"
SPEC = SourceSpec("app-android", "google_play", query=f"https://play.google.com/store/apps/details?id={PACKAGE}&hl=de")
KATRIN = FX["reviews_page1"]["reviews"][0]["reviewId"]
JONAS = FX["reviews_page1"]["reviews"][1]["reviewId"]
SCHULZ = FX["reviews_page2"]["reviews"][0]["reviewId"]


@pytest.fixture
def key_file(tmp_path: Path) -> Credentials:
    path = tmp_path / "play-service-account.json"
    path.write_text(json.dumps(FIXTURE["service_account"]), encoding="utf-8")
    return creds(google_play_service_account_file=str(path))


class FakePlay:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.faults: dict[str, list[httpx.Response]] = {}

    def reviews_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/reviews")]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for prefix, queue in self.faults.items():
            if request.url.path.startswith(prefix) and queue:
                return queue.pop(0)
        if request.url.host == "oauth2.googleapis.com":
            return json_response(FX["token"])
        assert request.headers["Authorization"] == "Bearer " + FX["token"]["access_token"]
        assert request.url.path == f"/androidpublisher/v3/applications/{PACKAGE}/reviews"
        assert request.url.params["maxResults"] == "100"
        token = request.url.params.get("token")
        if token is None:
            return json_response(FX["reviews_page1"])
        assert token == FX["reviews_page1"]["tokenPagination"]["nextPageToken"]
        return json_response(FX["reviews_page2"])


def jwt_part(part: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def test_rs256_matches_openssl() -> None:
    """Known answer: the signature openssl made with the test key (PKCS#1 v1.5 is deterministic)."""
    answer = FIXTURE["rs256_known_answer"]
    signature = rs256_sign(FIXTURE["service_account"]["private_key"], answer["message"].encode())
    assert base64.b64encode(signature).decode() == answer["signature_base64"]
    with pytest.raises(ValueError, match="RSA private key"):
        rs256_sign("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", b"x")


def test_package_name_from_url_or_plain() -> None:
    assert package_name(SPEC.query) == PACKAGE
    assert package_name(" de.lindenhof.app ") == PACKAGE
    assert package_name("Lindenhof App") is None


def test_reviews_pages_with_a_signed_service_account_token(key_file: Credentials) -> None:
    play = FakePlay()
    sleeps = Sleeps()
    batches, cursor = run(GooglePlayCollector(polite(play, sleeps), key_file), SPEC)
    posts = posts_of(batches)
    assert set(posts) == {KATRIN, JONAS, SCHULZ}
    katrin = posts[KATRIN]
    assert (katrin.kind, katrin.title) == ("review", "Bezahlen geht nicht mehr")
    assert katrin.text.startswith("Seit dem letzten Update wird der QR-Code")
    assert katrin.created_at == datetime(2026, 11, 20, 7, 12, 5, 412000, tzinfo=UTC)
    assert katrin.metrics["rating"] == 1 and katrin.metrics["thumbs_up"] == 7
    assert katrin.metrics["app_version"] == "3.2.1" and katrin.metrics["device"] == "a54x (Galaxy A54 5G)"
    assert katrin.metrics["device_language"] == "de" and katrin.language is None
    assert katrin.metrics["answered"] is True and katrin.metrics["answered_at"].startswith("2026-11-20T08:05:44")
    assert katrin.url == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId={KATRIN}"
    assert katrin.identity.display_name == "Katrin Weber" and katrin.identity.account_id == f"review:{KATRIN}"
    jonas = posts[JONAS]
    assert jonas.title is None and jonas.text == "Praktisch für die Bohnen-Punkte, läuft flüssig."
    assert jonas.metrics["answered"] is False and jonas.metrics["device"] is None
    assert posts[SCHULZ].metrics["device_language"] == "en"
    errors = [e for b in batches for e in b.errors]
    assert len(errors) == 1 and "lastModified" in errors[0]
    assert len(play.reviews_requests()) == 2
    assert cursor["streams"][f"play:{PACKAGE}"]["high_water"] == "2026-11-20T07:12:05.412000+00:00"
    # the token request: a JWT bearer grant signed with the service account's key
    (token_request,) = [r for r in play.requests if r.url.host == "oauth2.googleapis.com"]
    form = parse_qs(token_request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    head, body, signature = form["assertion"][0].split(".")
    account = FIXTURE["service_account"]
    assert jwt_part(head) == {"alg": "RS256", "typ": "JWT", "kid": account["private_key_id"]}
    claims = jwt_part(body)
    assert claims["iss"] == account["client_email"] and claims["aud"] == "https://oauth2.googleapis.com/token"
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    assert claims["iat"] == int(sleeps.clock()) and claims["exp"] == claims["iat"] + 3600
    n, e, _ = _rsa_numbers(account["private_key"])
    decoded = pow(int.from_bytes(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)), "big"), e, n)
    assert decoded.to_bytes(256, "big").endswith(hashlib.sha256(f"{head}.{body}".encode()).digest())


def test_the_next_run_stops_at_what_it_has(key_file: Credentials) -> None:
    play = FakePlay()
    _, cursor = run(GooglePlayCollector(polite(play), key_file), SPEC)
    play.requests.clear()
    batches, _ = run(GooglePlayCollector(polite(play), key_file), SPEC, cursor, options(now=NOW + timedelta(days=1)))
    assert len(play.reviews_requests()) == 1 and set(posts_of(batches)) == {KATRIN}
    assert not [e for b in batches for e in b.errors]


def test_a_gap_longer_than_the_seven_day_window_is_reported(key_file: Credentials) -> None:
    cursor = {"last_success": (NOW - timedelta(days=10)).isoformat()}
    batches, _ = run(GooglePlayCollector(polite(FakePlay()), key_file), SPEC, cursor)
    errors = [e for b in batches for e in b.errors]
    assert len([e for e in errors if "letzten 7 Tage" in e]) == 1 and "10.11.2026" in errors[0]


def test_missing_or_wrong_key_files_are_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="GOOGLE_PLAY_SERVICE_ACCOUNT_FILE"):
        run(GooglePlayCollector(polite(FakePlay())), SPEC)
    with pytest.raises(ConfigurationError, match="nicht lesbar"):
        run(GooglePlayCollector(polite(FakePlay()), creds(google_play_service_account_file=str(tmp_path / "x"))), SPEC)
    oauth_client = tmp_path / "client.json"
    oauth_client.write_text(json.dumps({"installed": {"client_id": "x"}}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="client_email, private_key"):
        run(GooglePlayCollector(polite(FakePlay()), creds(google_play_service_account_file=str(oauth_client))), SPEC)
    with pytest.raises(ConfigurationError, match="Paketnamen"):
        GooglePlayCollector.validate(SourceSpec("x", "google_play", query="Lindenhof"))


def test_a_refused_service_account_and_missing_permissions_stop_with_advice(key_file: Credentials) -> None:
    play = FakePlay()
    play.faults["/token"] = [json_response(FX["token_invalid_jwt"], 400)]
    with pytest.raises(AuthError, match="Invalid JWT Signature.*Schlüssel"):
        run(GooglePlayCollector(polite(play), key_file), SPEC)
    play = FakePlay()
    play.faults["/androidpublisher"] = [json_response(FX["error_insufficient_permissions"], 403)]
    batches, _ = run(GooglePlayCollector(polite(play), key_file), SPEC)
    (refused,) = [b for b in batches if b.failed]
    assert re.search("insufficient permissions.*Play Console", refused.errors[0])


def test_an_unknown_package_fails_the_run_with_the_platforms_message(key_file: Credentials) -> None:
    play = FakePlay()
    play.faults["/androidpublisher"] = [json_response(FX["error_package_not_found"], 404)]
    batches, cursor = run(GooglePlayCollector(polite(play), key_file), SPEC)
    (refused,) = [b for b in batches if b.failed]
    assert "Package not found: de.lindenhof.falsch." in refused.errors[0] and posts_of(batches) == {}
    assert cursor["streams"][f"play:{PACKAGE}"]["sweep"]["token"] is None
