"""Google Business Profile: the reviews of a business's own locations (Filialen).

Source fields: ``account`` is the Business Profile account (``accounts/123`` or ``123``); ``query``
optionally restricts to some of its locations (ids or ``locations/456``, comma or space separated;
default: every location of the account). Credentials (OAuth, the business's own Google account; the
Business Profile APIs accept no service accounts): ``RESONANZ_COLLECTORS__GOOGLE_BUSINESS_CLIENT_ID``,
``..._CLIENT_SECRET`` and ``..._REFRESH_TOKEN`` (scope ``https://www.googleapis.com/auth/business.manage``).

Per run: the account's locations come from the Business Information API
(``GET mybusinessbusinessinformation.googleapis.com/v1/accounts/{a}/locations``, ``readMask``,
``nextPageToken``); then one listing per location reads
``GET mybusiness.googleapis.com/v4/accounts/{a}/locations/{l}/reviews`` with ``orderBy=updateTime desc``,
``pageSize=50`` and ``pageToken``/``nextPageToken``, newest change first, until the previous run's
high-water mark. A review sorts by ``updateTime``, so an edited review (or one whose stars changed)
comes in again and is updated in the store.

**Where the location goes** (so ``ask --topic Filiale`` and store comparisons work): the post's
``title`` is ``Filiale <name> (<street>, <postcode> <city>)``. Scoring reads title and text together,
so the topic model sees "Filiale" and the store's name on every review; quotes show the title.
The location is also in ``metrics`` (``location``, ``location_name``, ``store_code``, ``city``) for
grouping, and in ``raw["location"]``.

Other choices: the star enum (``ONE`` ... ``FIVE``) becomes ``metrics["rating"]`` 1-5 (``None`` if
unspecified). Google appends its machine translation to foreign-language reviews
(``(Translated by Google) ... (Original) ...``); the text keeps the reviewer's original words. The
owner's reply (``reviewReply``) is not a post of its own: ``metrics["answered"]`` and
``metrics["answered_at"]`` record it (answer rates), the reply text stays in ``raw``. Reviewers have no
stable id in this API: the identity is keyed on the profile photo URL, which is per Google account;
without one, on the review itself (never two people merged because they share a name); anonymous
reviewers get no identity. Quota: 300 requests a minute per project; 429 answers are retried with
backoff by the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from functools import partial
from typing import Any

from collectors.base import Collector, Listing, Page
from collectors.errors import ConfigurationError, FetchError, MalformedResponseError
from collectors.google_api import TokenSource, call, refresh_token_source
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec
from collectors.text import normalise_whitespace, require_time

log = logging.getLogger(__name__)

REVIEWS_API = "https://mybusiness.googleapis.com/v4"
INFO_API = "https://mybusinessbusinessinformation.googleapis.com/v1"
PAGE_SIZE = 50
"""The most ``reviews.list`` returns per page."""
LOCATION_PAGE_SIZE = 100
READ_MASK = "name,title,storeCode,storefrontAddress,metadata"
STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
ENV = "RESONANZ_COLLECTORS__GOOGLE_BUSINESS_"
TOKEN_ADVICE = (
    f"Prüfe {ENV}CLIENT_ID, {ENV}CLIENT_SECRET und {ENV}REFRESH_TOKEN. Ein widerrufenes oder abgelaufenes "
    "Refresh-Token (bei OAuth-Apps im Status 'Testing' nach 7 Tagen) muss neu erzeugt werden, z. B. im OAuth "
    "Playground mit dem Scope https://www.googleapis.com/auth/business.manage."
)
FORBIDDEN_ADVICE = (
    "Das Google-Konto des Refresh-Tokens muss Inhaber oder Verwalter der Standorte sein, und im Cloud-Projekt "
    "müssen die Business Profile APIs freigeschaltet (Antrag bei Google) und aktiviert sein: Google My Business "
    "API, My Business Business Information API."
)
_TRANSLATED = re.compile(r"^\(Translated by Google\).*?\n\n\(Original\)\n(?P<original>.*)$", re.DOTALL)


def _ids(value: str | None, prefix: str) -> list[str]:
    found = []
    for part in re.split(r"[\s,]+", value or ""):
        part = part.strip().strip("/")
        if part:
            found.append(part.rsplit("/", 1)[-1] if part.startswith(prefix) else part)
    return list(dict.fromkeys(found))


def original_text(comment: str) -> str:
    """The reviewer's own words: Google's translation envelope removed."""
    match = _TRANSLATED.match(comment.strip())
    return (match.group("original") if match else comment).strip()


def location_info(location: Mapping[str, Any]) -> dict[str, Any]:
    """What a review needs to know about its location (Business Information API ``Location``)."""
    address = location.get("storefrontAddress") or {}
    lines = [str(line) for line in address.get("addressLines") or [] if line]
    city = address.get("locality")
    place = " ".join(str(p) for p in (address.get("postalCode"), city) if p)
    return {
        "id": str(location["name"]).rsplit("/", 1)[-1],
        "name": str(location.get("title") or location["name"]),
        "store_code": location.get("storeCode"),
        "address": ", ".join([*lines, place] if place else lines),
        "city": city,
        "maps_uri": (location.get("metadata") or {}).get("mapsUri"),
    }


def filiale_title(info: Mapping[str, Any]) -> str:
    return f"Filiale {info['name']} ({info['address']})" if info.get("address") else f"Filiale {info['name']}"


class GoogleBusinessCollector(Collector):
    platform = "google_business"
    overlap = timedelta(hours=6)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: TokenSource | None = None

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not _ids(spec.account, "accounts"):
            raise ConfigurationError(
                f"Die Google-Business-Profile-Quelle {spec.name!r} braucht --account mit der Konto-ID "
                "(accounts/123...; zu finden über die Account Management API oder in der Business-Profile-URL)."
            )

    def _token_source(self) -> TokenSource:
        if self._tokens is None:
            c = self.credentials
            if not (c.google_business_client_id and c.google_business_client_secret
                    and c.google_business_refresh_token):  # fmt: skip
                raise ConfigurationError(
                    f"Google Business Profile braucht OAuth-Zugangsdaten: setze {ENV}CLIENT_ID, {ENV}CLIENT_SECRET "
                    f"und {ENV}REFRESH_TOKEN (OAuth-Client aus der Google Cloud Console, Refresh-Token eines "
                    "Google-Kontos, das die Standorte verwaltet, Scope business.manage)."
                )
            self._tokens = refresh_token_source(
                self.http, c.google_business_client_id, c.google_business_client_secret,
                c.google_business_refresh_token, advice=TOKEN_ADVICE,
            )  # fmt: skip
        return self._tokens

    def _get(self, spec: SourceSpec, url: str, params: Mapping[str, Any], what: str) -> tuple[Any, str]:
        data, shown, _ = call(self.http, self._token_source(), url, params, what=what, forbidden=FORBIDDEN_ADVICE)
        if not isinstance(data, dict):
            raise MalformedResponseError(f"{self.http.label}: {shown} ist kein JSON-Objekt.", url=shown)
        return data, shown

    # -- locations ----------------------------------------------------------------------------------

    def _locations(self, spec: SourceSpec, account: str, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
        base = str(spec.config.get("info_api_url") or INFO_API).rstrip("/")
        found: dict[str, dict[str, Any]] = {}
        token: str | None = None
        try:
            while True:
                params: dict[str, Any] = {"readMask": READ_MASK, "pageSize": LOCATION_PAGE_SIZE}
                if token:
                    params["pageToken"] = token
                data, shown = self._get(spec, f"{base}/accounts/{account}/locations", params, "Standortliste")
                for location in data.get("locations") or []:
                    try:
                        info = location_info(location)
                    except (KeyError, TypeError, AttributeError) as exc:
                        log.warning("%s: skipped a malformed location on %s: %s", self.http.label, shown, exc)
                        continue
                    found[info["id"]] = info
                token = data.get("nextPageToken")
                if not token:
                    break
        except (FetchError, MalformedResponseError) as exc:
            cached = state.get("locations")
            if not cached:
                raise
            log.warning("%s: %s; using the locations of the previous run", self.http.label, exc)
            return dict(cached)
        state["locations"] = found
        return found

    # -- listings -----------------------------------------------------------------------------------

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        account = _ids(spec.account, "accounts")[0]
        locations = self._locations(spec, account, state)
        wanted = _ids(spec.query, "locations")
        unknown = [w for w in wanted if w not in locations]
        if unknown:
            raise ConfigurationError(
                f"Die Standorte {', '.join(unknown)} gehören nicht zum Konto accounts/{account} (bekannt: "
                f"{', '.join(sorted(locations)) or 'keine'}). Prüfe --query der Quelle {spec.name!r}."
            )
        chosen = wanted or sorted(locations)
        return [Listing(f"gbp:{loc}", partial(self._reviews, spec, account, locations[loc])) for loc in chosen]

    def _reviews(self, spec: SourceSpec, account: str, info: Mapping[str, Any], token: str | None) -> Page:
        base = str(spec.config.get("api_url") or REVIEWS_API).rstrip("/")
        params: dict[str, Any] = {"pageSize": PAGE_SIZE, "orderBy": "updateTime desc"}
        if token:
            params["pageToken"] = token
        url = f"{base}/accounts/{account}/locations/{info['id']}/reviews"
        data, shown = self._get(spec, url, params, f"Bewertungen von {filiale_title(info)}")
        reviews = data.get("reviews") or []
        if not isinstance(reviews, list):
            raise MalformedResponseError(f"{self.http.label}: {shown}: 'reviews' ist keine Liste.", url=shown)
        posts, errors = self.parse_items(reviews, lambda r: self.parse_review(r, info), shown)
        return Page(posts=posts, next_token=data.get("nextPageToken"), url=shown, errors=errors, seen=len(reviews))

    # -- parsing ------------------------------------------------------------------------------------

    def parse_review(self, review: Mapping[str, Any], info: Mapping[str, Any]) -> CollectedPost:
        review_id = str(review["reviewId"])
        created = require_time(review["createTime"], "createTime")
        updated = require_time(review.get("updateTime") or review["createTime"], "updateTime")
        reply = review.get("reviewReply") or {}
        reviewer = review.get("reviewer") or {}
        name = reviewer.get("displayName")
        photo = reviewer.get("profilePhotoUrl")
        identity = None
        if not reviewer.get("isAnonymous") and (name or photo):
            identity = CollectedIdentity(
                platform=self.platform,
                account_id=str(photo) if photo else f"review:{review_id}",
                display_name=name,
            )
        return CollectedPost(
            platform=self.platform,
            external_id=review_id,
            kind="review",
            url=info.get("maps_uri"),
            text=normalise_whitespace(original_text(str(review.get("comment") or ""))),
            title=filiale_title(info),
            created_at=created,
            edited_at=updated if updated > created else None,
            listed_at=updated,
            metrics={
                "rating": STARS.get(str(review.get("starRating"))),
                "location": info["id"],
                "location_name": info["name"],
                "store_code": info.get("store_code"),
                "city": info.get("city"),
                "answered": bool(reply.get("comment")),
                "answered_at": reply.get("updateTime"),
            },
            raw={**dict(review), "location": dict(info)},
            identity=identity,
        )
