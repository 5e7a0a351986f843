"""A fake Google Business Profile (the routes the collector uses) over a mutable set of locations and reviews.

Shapes follow ``collectors/fixtures/google_business.json`` (the v4 ``accounts.locations.reviews`` reference,
the Business Information API v1 ``accounts.locations.list`` reference, Google's OAuth 2.0 token endpoint and
the ``google.rpc.Status`` error body):

* ``POST /token`` (``oauth2.googleapis.com``) exchanges the refresh token for an access token; a wrong
  client or refresh token answers ``400 invalid_grant``. An access token works for ``token_calls`` API
  calls, then answers ``401 UNAUTHENTICATED`` (``ACCESS_TOKEN_EXPIRED``), as an expired one does;
* ``GET /v1/accounts/{a}/locations`` (``readMask``, ``pageSize``, ``pageToken``) lists the locations;
* ``GET /v4/accounts/{a}/locations/{l}/reviews`` (``orderBy=updateTime desc``, ``pageSize``, ``pageToken``)
  lists a location's reviews, the most recently changed first. A page holds at most ``max_page`` reviews
  (Google returns *up to* ``pageSize``). ``nextPageToken`` is opaque: base64 of a small protobuf naming the
  last review of the page (as the recorded tokens look); the next page goes on after that review wherever it
  now stands, and a token whose review is gone answers ``400 INVALID_ARGUMENT``, as Google does for a page
  token that no longer fits the listing. ``refused = True`` answers every reviews call with the 403
  ``SERVICE_DISABLED`` body of a project without the Google My Business API.

The shared parts of the two Google fakes (:class:`GoogleTokens`, :func:`google_error`) live here too.
"""

from __future__ import annotations

import base64
import copy
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from collectors.testing.server import Reply, Request

STARS = ("ONE", "TWO", "THREE", "FOUR", "FIVE")
PROJECT = "563018924417"


def iso_ms(value: datetime) -> str:
    """``2026-11-12T08:14:03.417Z``: Google's timestamps in JSON."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def google_error(status: int, code: str, message: str, reason: str | None = None, **metadata: str) -> Reply:
    """A ``google.rpc.Status`` error body (``{"error": {"code", "message", "status", "details"}}``)."""
    error: dict[str, Any] = {"code": status, "message": message, "status": code}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                             "domain": "googleapis.com", "metadata": dict(metadata)}]  # fmt: skip
    return Reply.json({"error": error}, status)


class GoogleTokens:
    """Google's token endpoint and the bearer check of the APIs: each issued token works ``calls`` times."""

    def __init__(self, prefix: str, calls: int | None = None) -> None:
        self.prefix = prefix
        self.calls = calls
        self.issued = 0
        self.expired = 0
        self._left: dict[str, int | None] = {}

    def issue(self) -> Reply:
        self.issued += 1
        token = f"{self.prefix}-{self.issued}"
        self._left[token] = self.calls
        return Reply.json({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def check(self, request: Request, service: str) -> Reply | None:
        """``None`` if the request carries a working token, else the 401 Google answers."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self._left:
            return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected "
                                "OAuth 2 access token, login cookie or other valid authentication credential.",
                                "CREDENTIALS_MISSING", service=service)  # fmt: skip
        left = self._left[token]
        if left is not None:
            if left <= 0:
                self.expired += 1
                return google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                                    "Expected OAuth 2 access token, login cookie or other valid authentication "
                                    "credential.", "ACCESS_TOKEN_EXPIRED", service=service)  # fmt: skip
            self._left[token] = left - 1
        return None


def form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def page_token(review_id: str) -> str:
    """An opaque page token: protobuf field 1 (the review id), field 2 = 1, base64url."""
    raw = review_id.encode()
    return base64.urlsafe_b64encode(b"\n" + bytes([len(raw)]) + raw + b"\x10\x01").decode().rstrip("=")


def token_review(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    if len(raw) < 2 or raw[0] != 0x0A or len(raw) < 2 + raw[1]:
        return None
    try:
        return raw[2 : 2 + raw[1]].decode()
    except UnicodeDecodeError:
        return None


def make_location(location_id: str, title: str, *, store_code: str, street: str, postcode: str, city: str,
                  maps_cid: str) -> dict[str, Any]:  # fmt: skip
    """A Business Information API ``Location`` with the fields of the collector's ``readMask``."""
    return {"name": f"locations/{location_id}", "title": title, "storeCode": store_code,
            "storefrontAddress": {"regionCode": "DE", "languageCode": "de", "postalCode": postcode, "locality": city,
                                  "addressLines": [street]},
            "metadata": {"mapsUri": f"https://maps.google.com/maps?cid={maps_cid}",
                         "placeId": f"ChIJ{maps_cid[:12]}"}}  # fmt: skip


def make_review(
    account: str,
    location_id: str,
    review_id: str,
    created: datetime,
    comment: str | None,
    *,
    stars: int,
    reviewer: str | None,
    photo: str | None = None,
    translated: str | None = None,
) -> dict[str, Any]:
    """A v4 ``Review``; ``reviewer=None``: anonymous; ``translated``: Google's English translation envelope."""
    review: dict[str, Any] = {
        "name": f"accounts/{account}/locations/{location_id}/reviews/{review_id}",
        "reviewId": review_id,
        "reviewer": {"displayName": "A Google User", "isAnonymous": True}
        if reviewer is None
        else {"profilePhotoUrl": photo, "displayName": reviewer}
        if photo
        else {"displayName": reviewer},
        "starRating": STARS[stars - 1],
        "createTime": iso_ms(created),
        "updateTime": iso_ms(created),
    }
    if comment:
        review["comment"] = f"(Translated by Google) {translated}\n\n(Original)\n{comment}" if translated else comment
    return review


class FakeGoogleBusiness:
    """Token endpoint, locations and reviews of one account. Thread-safe; ``add_*``/``edit``/``delete`` change it."""

    def __init__(
        self,
        account: str,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        max_page: int = 50,
        location_page: int = 100,
        token_calls: int | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.account = account
        self.client = (client_id, client_secret, refresh_token)
        self.max_page = max_page
        self.location_page = location_page
        self.tokens = GoogleTokens("ya29.a0AfB_gbp", token_calls)
        self.locations: dict[str, dict[str, Any]] = {}
        self.reviews: dict[str, dict[str, dict[str, Any]]] = {}  # location id -> review id -> review
        self.refused = False
        self.stale_tokens = 0

    # -- changing the world ---------------------------------------------------------------------------

    def add_location(self, location: dict[str, Any]) -> None:
        with self._lock:
            location_id = location["name"].rsplit("/", 1)[-1]
            self.locations[location_id] = copy.deepcopy(location)
            self.reviews.setdefault(location_id, {})

    def add_review(self, location_id: str, review: dict[str, Any]) -> None:
        with self._lock:
            self.reviews[location_id][review["reviewId"]] = copy.deepcopy(review)

    def edit(self, location_id: str, review_id: str, at: datetime, change: Callable[[dict[str, Any]], None]) -> None:
        """Change a review (``change`` edits its JSON); its ``updateTime`` becomes ``at``."""
        with self._lock:
            review = self.reviews[location_id][review_id]
            change(review)
            review["updateTime"] = iso_ms(at)

    def delete(self, location_id: str, review_id: str) -> None:
        with self._lock:
            del self.reviews[location_id][review_id]

    # -- serving --------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            if request.path == "/token":
                return self._token(request)
            parts = request.path.strip("/").split("/")
            if parts[:3] == ["v1", "accounts", self.account] and parts[3:] == ["locations"]:
                denied = self.tokens.check(request, "mybusinessbusinessinformation.googleapis.com")
                return denied if denied is not None else self._locations(request)
            if parts[:3] == ["v4", "accounts", self.account] and len(parts) == 6 and parts[5] == "reviews":
                denied = self.tokens.check(request, "mybusiness.googleapis.com")
                return denied if denied is not None else self._reviews(request, parts[4])
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def _token(self, request: Request) -> Reply:
        grant = form(request)
        client_id, secret, refresh = self.client
        if grant.get("client_id") != client_id or grant.get("client_secret") != secret:
            return Reply.json({"error": "invalid_client", "error_description": "The OAuth client was not found."}, 401)
        if grant.get("grant_type") != "refresh_token" or grant.get("refresh_token") != refresh:
            return Reply.json({"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
                              400)  # fmt: skip
        return self.tokens.issue()

    def _locations(self, request: Request) -> Reply:
        start = int(request.arg("pageToken") or 0) if (request.arg("pageToken") or "0").isdigit() else 0
        size = min(int(request.arg("pageSize") or 10), 100, self.location_page)
        ordered = list(self.locations.values())
        body: dict[str, Any] = {"locations": copy.deepcopy(ordered[start : start + size])}
        if start + size < len(ordered):
            body["nextPageToken"] = str(start + size)
        return Reply.json(body)

    def _reviews(self, request: Request, location_id: str) -> Reply:
        if location_id not in self.locations:
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")
        if self.refused:
            return google_error(
                403, "PERMISSION_DENIED", f"Google My Business API has not been used in project {PROJECT} before or "
                "it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
                f"mybusiness.googleapis.com/overview?project={PROJECT} then retry.", "SERVICE_DISABLED",
                consumer=f"projects/{PROJECT}", service="mybusiness.googleapis.com",
            )  # fmt: skip
        if request.arg("orderBy", "updateTime desc") != "updateTime desc":
            return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
        ordered = newest_changed_first(self.reviews[location_id].values())
        start = 0
        token = request.arg("pageToken")
        if token:
            anchor = token_review(token)
            ids = [r["reviewId"] for r in ordered]
            if anchor not in ids:
                self.stale_tokens += 1
                return google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
            start = ids.index(anchor) + 1
        size = min(int(request.arg("pageSize") or 50), 50, self.max_page)
        page = ordered[start : start + size]
        body: dict[str, Any] = {}
        if page:
            body["reviews"] = copy.deepcopy(page)
        if ordered:
            stars = [STARS.index(r["starRating"]) + 1 for r in ordered]
            body["averageRating"] = round(sum(stars) / len(stars), 1)
            body["totalReviewCount"] = len(ordered)
        if start + size < len(ordered):
            body["nextPageToken"] = page_token(page[-1]["reviewId"])
        return Reply.json(body)


def newest_changed_first(reviews: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(reviews, key=lambda r: (r["updateTime"], r["reviewId"]), reverse=True)
