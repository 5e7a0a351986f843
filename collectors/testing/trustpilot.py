"""A fake Trustpilot API (the routes the collector uses) over a mutable set of reviews of one business unit.

Shapes follow ``collectors/fixtures/trustpilot.json`` (Trustpilot's API documentation and the recorded schemas
and pagination of Airbyte's source-trustpilot connector):

* ``GET /v1/business-units/find?name=<domain>`` resolves the domain (404 ``{"message": "Not found"}`` otherwise);
* ``GET /v1/business-units/{id}/reviews`` (``page``, ``perPage``, ``orderBy=createdat.desc``) lists the reviews
  newest first, ``page`` counted from 1 -- page numbers, so a review added or removed between two pages shifts
  the later ones, as on Trustpilot. At most ``max_page`` per page; the top-level ``links`` carry ``next-page``
  and ``prev-page`` as absolute URLs on ``base_url``;
* ``GET /v1/reviews/{id}`` answers one review, 404 once it is removed.

Every call needs the ``apikey`` header (401 with the API gateway's ``fault`` body otherwise). ``refused = True``
answers the reviews listing 403 with that ``fault`` body (a key without access to the resource).
"""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from collectors.testing.server import Reply, Request

API = "https://api.trustpilot.com"


def iso_ms(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def fault(status: int, text: str, code: str) -> Reply:
    """The API gateway's error body."""
    return Reply.json({"fault": {"faultstring": text, "detail": {"errorcode": code}}}, status)


def not_found() -> Reply:
    return Reply.json({"message": "Not found"}, 404)


def _query(page: int, per_page: int) -> dict[str, Any]:
    return {"page": page, "perPage": per_page, "orderBy": "createdat.desc"}


def _link(href: str, rel: str) -> dict[str, str]:
    return {"href": href, "method": "GET", "rel": rel}


class FakeTrustpilot:
    """Business-unit lookup, reviews listing and single reviews. Thread-safe; ``add``/``edit``/``delete``."""

    def __init__(self, unit_id: str, domain: str, display_name: str, *, api_key: str, max_page: int = 100,
                 base_url: str = API) -> None:  # fmt: skip
        self._lock = threading.Lock()
        self.unit_id = unit_id
        self.domain = domain
        self.display_name = display_name
        self.api_key = api_key
        self.max_page = max_page
        self.base_url = base_url.rstrip("/")
        self.reviews: dict[str, dict[str, Any]] = {}
        self.refused = False

    def make_review(self, review_id: str, created: datetime, title: str, text: str, *, stars: int,
                    consumer_id: str, consumer_name: str, location: str | None = None) -> dict[str, Any]:  # fmt: skip
        """A review as the business-unit listing and ``/v1/reviews/{id}`` show it."""
        unit_href = f"{self.base_url}/v1/business-units/{self.unit_id}"
        return {
            "links": [_link(f"{self.base_url}/v1/reviews/{review_id}", "reviews"),
                      _link(f"{self.base_url}/v1/reviews/{review_id}/web-links", "reviews-web-links")],
            "id": review_id,
            "consumer": {"links": [_link(f"{self.base_url}/v1/consumers/{consumer_id}", "consumers")],
                         "id": consumer_id, "displayName": consumer_name, "displayLocation": "DE",
                         "numberOfReviews": 1},
            "businessUnit": {"links": [_link(unit_href, "business-units")], "id": self.unit_id,
                             "identifyingName": self.domain, "displayName": self.display_name},
            "location": {"id": f"loc-{location.lower().replace(' ', '-')}", "name": location,
                         "urlFormattedName": location.lower().replace(" ", "-"), "externalId": None}
            if location else None,
            "stars": stars,
            "title": title,
            "text": text,
            "language": "de",
            "createdAt": iso_ms(created),
            "experiencedAt": created.astimezone(UTC).strftime("%Y-%m-%dT00:00:00.000Z"),
            "updatedAt": None,
            "companyReply": None,
            "isVerified": False,
            "numberOfLikes": 0,
            "status": "active",
            "reportData": None,
            "complianceLabels": [],
            "countsTowardsTrustScore": True,
            "countsTowardsLocationTrustScore": None,
            "invitation": None,
            "businessUnitHistory": [],
            "reviewVerificationLevel": "not-verified",
        }  # fmt: skip

    # -- changing the world ---------------------------------------------------------------------------

    def add(self, review: dict[str, Any]) -> None:
        with self._lock:
            self.reviews[review["id"]] = copy.deepcopy(review)

    def edit(self, review_id: str, at: datetime, text: str, *, stars: int | None = None) -> None:
        """The consumer updates the review: new text (and stars), ``updatedAt`` = ``at``."""
        with self._lock:
            review = self.reviews[review_id]
            review["text"] = text
            review["updatedAt"] = iso_ms(at)
            if stars is not None:
                review["stars"] = stars

    def reply(self, review_id: str, at: datetime, text: str) -> None:
        with self._lock:
            self.reviews[review_id]["companyReply"] = {"text": text, "authorBusinessUserId": "5f2a8c1e9b3d4e0001a7c9f0",
                                                       "authorBusinessUserName": "Lea (Kundenservice)",
                                                       "createdAt": iso_ms(at), "updatedAt": None}  # fmt: skip

    def delete(self, review_id: str) -> None:
        with self._lock:
            del self.reviews[review_id]

    # -- serving --------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            if request.headers.get("apikey") != self.api_key:
                return fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
            path = request.path.rstrip("/")
            if path == "/v1/business-units/find":
                if (request.arg("name") or "").lower() != self.domain:
                    return not_found()
                return Reply.json({
                    "links": [_link(f"{self.base_url}/v1/business-units/{self.unit_id}", "business-units")],
                    "id": self.unit_id,
                    "displayName": self.display_name,
                    "name": {"identifying": self.domain, "referring": [self.domain, f"www.{self.domain}"]},
                    "websiteUrl": f"https://www.{self.domain}",
                    "country": "DE",
                    "status": "active",
                    "numberOfReviews": {"total": len(self.reviews)},
                })  # fmt: skip
            if path == f"/v1/business-units/{self.unit_id}/reviews":
                return self._listing(request)
            if path.startswith("/v1/reviews/"):
                review = self.reviews.get(path.rsplit("/", 1)[-1])
                return Reply.json(copy.deepcopy(review)) if review is not None else not_found()
            return not_found()

    def _listing(self, request: Request) -> Reply:
        if self.refused:
            return fault(403, "Invalid ApiKey for given resource", "oauth.v2.InvalidApiKeyForGivenResource")
        if request.arg("orderBy", "createdat.desc") != "createdat.desc":
            return Reply.json({"message": "Not supported in this fake: orderBy"}, 400)
        number = max(int(request.arg("page") or 1), 1)
        asked = min(int(request.arg("perPage") or 20), 100)
        size = min(asked, self.max_page)
        ordered = sorted(self.reviews.values(), key=lambda r: (r["createdAt"], r["id"]), reverse=True)
        page = ordered[(number - 1) * size : number * size]
        base = f"{self.base_url}/v1/business-units/{self.unit_id}/reviews"
        links = []
        if number * size < len(ordered):
            links.append(_link(f"{base}?{urlencode(_query(number + 1, asked))}", "next-page"))
        if number > 1:
            links.append(_link(f"{base}?{urlencode(_query(number - 1, asked))}", "prev-page"))
        return Reply.json({"links": links, "reviews": copy.deepcopy(page)})
