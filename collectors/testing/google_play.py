"""A fake Google Play Developer API (``reviews.list``) over a mutable set of reviews of one app.

Shapes follow ``collectors/fixtures/google_play.json`` (the androidpublisher v3 ``reviews`` reference and a
``reviews.list`` item recorded in a public reply-to-reviews script):

* ``POST /token`` takes the service account's signed JWT (RFC 7523); the fake checks the RS256 signature
  against the key's public half and the claims (issuer, scope, audience), else ``400 invalid_grant``. An
  access token works for ``token_calls`` calls, then answers ``401 UNAUTHENTICATED``;
* ``GET /androidpublisher/v3/applications/{package}/reviews`` (``maxResults``, ``token``) lists the reviews
  created or modified in the last seven days before :attr:`FakeGooglePlay.now` (older ones are not in the API,
  as documented), the most recently modified first, at most ``max_page`` per page. The next page's token
  (``tokenPagination.nextPageToken``) is opaque: base64 of the last review's ``lastModified`` and id, so the
  next page goes on below that point whatever changed meanwhile. ``refused = True`` answers 403
  ``PERMISSION_DENIED`` (a service account without the permission for reviews); an unknown package 404.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.google_api import JWT_BEARER, _rsa_numbers
from collectors.testing.google_business import GoogleTokens, form, google_error
from collectors.testing.server import Reply, Request

WINDOW = timedelta(days=7)
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def timestamp(value: datetime) -> dict[str, Any]:
    """A protobuf ``Timestamp`` as the API writes it: seconds as a string, nanos as a number."""
    micros = round(value.timestamp() * 1_000_000)
    return {"seconds": str(micros // 1_000_000), "nanos": (micros % 1_000_000) * 1000}


def modified(review: dict[str, Any]) -> tuple[int, int]:
    stamp = user_comment(review)["lastModified"]
    return int(stamp["seconds"]), int(stamp["nanos"])


def user_comment(review: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(c["userComment"] for c in review["comments"] if "userComment" in c)
    return found


def make_review(review_id: str, author: str | None, at: datetime, text: str, *, stars: int, title: str = "",
                version: str = "3.2.1", language: str = "de_DE") -> dict[str, Any]:  # fmt: skip
    """A ``Review`` with one ``userComment`` (``title<TAB>text``, as the API joins them)."""
    comment: dict[str, Any] = {
        "text": f"{title}\t{text}",
        "lastModified": timestamp(at),
        "starRating": stars,
        "reviewerLanguage": language,
        "device": "a54x",
        "androidOsVersion": 34,
        "appVersionCode": 3020100,
        "appVersionName": version,
        "thumbsUpCount": 0,
        "thumbsDownCount": 0,
        "deviceMetadata": {"productName": "a54x (Galaxy A54 5G)", "manufacturer": "Samsung", "ramMb": 7680},
    }
    review: dict[str, Any] = {"reviewId": review_id, "comments": [{"userComment": comment}]}
    if author:
        review["authorName"] = author
    return review


def _b64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def verify_rs256(pem: str, signing_input: bytes, signature: bytes) -> bool:
    """RSASSA-PKCS1-v1_5/SHA-256 verification with the public half of ``pem``."""
    n, e, _ = _rsa_numbers(pem)
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(signing_input).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    return pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big") == expected


def _page_token(review: dict[str, Any]) -> str:
    seconds, nanos = modified(review)
    raw = json.dumps([seconds, nanos, review["reviewId"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _token_key(token: str) -> tuple[int, int, str] | None:
    try:
        seconds, nanos, review_id = _b64json(token)
        return int(seconds), int(nanos), str(review_id)
    except (ValueError, TypeError):
        return None


class FakeGooglePlay:
    """Token endpoint and ``reviews.list`` of one app. Thread-safe; ``add``/``edit``/``delete`` change it."""

    def __init__(
        self,
        package: str,
        service_account: dict[str, Any],
        *,
        max_page: int = 100,
        token_calls: int | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self.package = package
        self.account = service_account
        self.max_page = max_page
        self.tokens = GoogleTokens("ya29.c.c0ASRK0Gb", token_calls)
        self.now = now or (lambda: datetime.now(UTC))
        self.reviews: dict[str, dict[str, Any]] = {}
        self.refused = False

    # -- changing the world ---------------------------------------------------------------------------

    def add(self, review: dict[str, Any]) -> None:
        with self._lock:
            self.reviews[review["reviewId"]] = copy.deepcopy(review)

    def edit(self, review_id: str, at: datetime, text: str, *, stars: int | None = None, title: str = "") -> None:
        """The reviewer changes the review: new text (and stars), ``lastModified`` = ``at``."""
        with self._lock:
            comment = user_comment(self.reviews[review_id])
            comment["text"] = f"{title}\t{text}"
            comment["lastModified"] = timestamp(at)
            if stars is not None:
                comment["starRating"] = stars

    def reply(self, review_id: str, at: datetime, text: str) -> None:
        """The developer answers (``developerComment``)."""
        with self._lock:
            comments = [c for c in self.reviews[review_id]["comments"] if "developerComment" not in c]
            comments.append({"developerComment": {"text": text, "lastModified": timestamp(at)}})
            self.reviews[review_id]["comments"] = comments

    def delete(self, review_id: str) -> None:
        with self._lock:
            del self.reviews[review_id]

    # -- serving --------------------------------------------------------------------------------------

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            if request.path == "/token":
                return self._token(request)
            prefix = "/androidpublisher/v3/applications/"
            if request.path.startswith(prefix) and request.path.endswith("/reviews"):
                denied = self.tokens.check(request, "androidpublisher.googleapis.com")
                if denied is not None:
                    return denied
                return self._reviews(request, request.path[len(prefix) : -len("/reviews")])
            return google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def _token(self, request: Request) -> Reply:
        grant = form(request)
        refused = Reply.json({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, 400)
        parts = str(grant.get("assertion") or "").split(".")
        if grant.get("grant_type") != JWT_BEARER or len(parts) != 3:
            return refused
        try:
            claims = _b64json(parts[1])
            signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        except ValueError:
            return refused
        if not isinstance(claims, dict):
            return refused
        signed = verify_rs256(str(self.account["private_key"]), f"{parts[0]}.{parts[1]}".encode(), signature)
        if not signed or claims.get("iss") != self.account["client_email"] or claims.get("scope") != SCOPE:
            return refused
        if claims.get("aud") != self.account["token_uri"] or int(claims.get("exp", 0)) <= int(claims.get("iat", 0)):
            return Reply.json({"error": "invalid_grant", "error_description": "Invalid JWT: Token must be a "
                               "short-lived token (60 minutes) and in a reasonable timeframe."}, 400)  # fmt: skip
        return self.tokens.issue()

    def _reviews(self, request: Request, package: str) -> Reply:
        if package != self.package:
            return google_error(404, "NOT_FOUND", f"Package not found: {package}.")
        if self.refused:
            return google_error(403, "PERMISSION_DENIED", "The current user has insufficient permissions to perform "
                                "the requested operation.")  # fmt: skip
        since = self.now() - WINDOW
        window = [r for r in self.reviews.values() if modified(r) >= (int(since.timestamp()), 0)]
        ordered = sorted(window, key=lambda r: (modified(r), r["reviewId"]), reverse=True)
        token = request.arg("token")
        if token:
            key = _token_key(token)
            if key is None:
                return google_error(400, "INVALID_ARGUMENT", "Invalid pagination token.")
            ordered = [r for r in ordered if (*modified(r), r["reviewId"]) < key]
        size = min(int(request.arg("maxResults") or 100), 100, self.max_page)
        page = ordered[:size]
        body: dict[str, Any] = {"pageInfo": {"totalResults": len(window), "resultPerPage": len(page),
                                             "startIndex": len(window) - len(ordered)}}  # fmt: skip
        if len(ordered) > size:
            body["tokenPagination"] = {"nextPageToken": _page_token(page[-1])}
        if page:  # Google leaves empty lists out
            body["reviews"] = copy.deepcopy(page)
        return Reply.json(body)
