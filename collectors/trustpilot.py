"""Trustpilot reviews of the brand's own business unit (Trustpilot Business Units API, public).

Source fields: ``query`` is the business unit id (24 hex digits, Trustpilot Business > Integrations)
or the domain it is listed under (``lindenhof.de``, resolved once with ``/v1/business-units/find``
and kept in the cursor). Credentials: ``RESONANZ_COLLECTORS__TRUSTPILOT_API_KEY``, the API key of a
Trustpilot API application, sent in the ``apikey`` header (never in URLs).

``GET api.trustpilot.com/v1/business-units/{id}/reviews?perPage=100&orderBy=createdat.desc`` lists
the newest review first; the next page is the ``href`` of the response's ``links`` entry with
``rel: next-page`` (followed only on the API's own host; the sweep stores it without any key).
A listing ends at the previous run's high-water mark (``createdAt``). The links count pages
(``page=2``), so a review removed above a stored link moves every later one up a place: a sweep
that resumes a link of an earlier run (after a crash, a page that failed, a rate limit) steps back
a page at a time until its page reaches the last review handed out before (kept in the cursor as
``page_anchor``), re-reading a few reviews instead of skipping one. Reviews stay *threads* for
``reply_lookback``: each is re-read with ``GET /v1/reviews/{id}`` to pick up edits (``updatedAt``),
the company's reply and removals (404: the review is marked deleted).

Parsing: ``stars`` is ``metrics["rating"]``, ``title``/``text``/``language`` as given,
``createdAt`` the creation time, ``updatedAt`` (``null`` until edited) ``edited_at``,
``experiencedAt``, ``isVerified``, ``numberOfLikes`` and a Trustpilot location's name go to
``metrics``. The company's reply (``companyReply``) is recorded as ``metrics["answered"]`` and
``["answered_at"]``, its text stays in ``raw``. Authors are keyed on the consumer id.

Errors: 401/403 (an invalid or unauthorised key; Trustpilot's gateway answers
``{"fault": {"faultstring": ..., "detail": {"errorcode": ...}}}``) stop the run with advice; 429
(quota, spike arrest) is retried by the client, honouring ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from collectors.base import Collector, Listing, Page, ThreadRef, ThreadResult, iso
from collectors.errors import AuthError, ConfigurationError, HttpStatusError, MalformedResponseError, NotFoundError
from collectors.http import redact_url
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec, tombstone
from collectors.text import normalise_whitespace, parse_time, require_time

log = logging.getLogger(__name__)

API = "https://api.trustpilot.com/v1"
PAGE_SIZE = 100
ENV = "RESONANZ_COLLECTORS__TRUSTPILOT_API_KEY"
_UNIT_ID = re.compile(r"^[0-9a-f]{24}$")


def error_text(data: Any) -> str:
    """The message of a Trustpilot error body: the gateway's ``fault`` or a plain ``message``."""
    if not isinstance(data, dict):
        return ""
    fault = data.get("fault")
    if isinstance(fault, dict):
        code = (fault.get("detail") or {}).get("errorcode")
        return f"{fault.get('faultstring')}" + (f" ({code})" if code else "")
    return str(data.get("message") or data.get("errorMessage") or "")


def next_page(data: Mapping[str, Any]) -> str | None:
    for link in data.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "next-page" and link.get("href"):
            return str(link["href"])
    return None


class TrustpilotCollector(Collector):
    platform = "trustpilot"
    overlap = timedelta(hours=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._issued: set[str] = set()
        """Next-page links this run received itself; any other link is resumed from an earlier run."""

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not (spec.query or "").strip():
            raise ConfigurationError(
                f"Die Trustpilot-Quelle {spec.name!r} braucht --query mit der Business-Unit-ID (24 Zeichen, "
                "Trustpilot Business > Integrationen) oder der Domain, unter der die Firma gelistet ist."
            )

    def _key(self) -> str:
        if not self.credentials.trustpilot_api_key:
            raise ConfigurationError(
                f"Trustpilot braucht einen API-Schlüssel: setze {ENV} (Trustpilot Business > Integrationen > "
                "API-Anwendung anlegen; der 'API Key' der Anwendung)."
            )
        return self.credentials.trustpilot_api_key

    def _base(self, spec: SourceSpec) -> str:
        return str(spec.config.get("api_url") or API).rstrip("/")

    def _get(self, url: str, params: Mapping[str, Any] | None, what: str) -> tuple[Any, str, int]:
        data, response = self.http.fetch_json(
            "GET", url, params=params, headers={"apikey": self._key()}, allow=(400, 401, 403, 404)
        )
        status = response.status_code
        shown = redact_url(response.request.url)
        if status < 300:
            return data, shown, status
        detail = error_text(data) or str(status)
        if status in (401, 403):
            raise AuthError(
                f"{self.http.label}: Trustpilot lehnt den API-Schlüssel ab ({status}: {detail}). Prüfe {ENV}; "
                "der Schlüssel muss zu einer aktiven API-Anwendung des Trustpilot-Business-Kontos gehören.",
                status=401 if status == 401 else 403,
                url=shown,
                body=detail,
            )
        if status == 404:
            raise NotFoundError(f"{self.http.label}: {what} gibt es bei Trustpilot nicht ({detail}).", status=status,
                                url=shown, body=detail)  # fmt: skip
        raise HttpStatusError(f"{self.http.label}: {what}: {shown} antwortete {status} ({detail}).", status=status,
                              url=shown, body=detail)  # fmt: skip

    # -- the business unit --------------------------------------------------------------------------

    def _business_unit(self, spec: SourceSpec, state: dict[str, Any]) -> str:
        query = str(spec.query).strip().lower()
        if _UNIT_ID.match(query):
            return query
        known = state.get("business_unit") or {}
        if known.get("name") == query and known.get("id"):
            return str(known["id"])
        try:
            data, shown, _ = self._get(f"{self._base(spec)}/business-units/find", {"name": query},
                                       f"die Firma {query!r}")  # fmt: skip
        except NotFoundError as exc:
            raise ConfigurationError(
                f"Trustpilot kennt keine Firma unter {query!r}. Gib in --query die Domain an, unter der sie auf "
                "trustpilot.com gelistet ist, oder die Business-Unit-ID."
            ) from exc
        unit = data.get("id") if isinstance(data, dict) else None
        if not unit:
            raise MalformedResponseError(f"{self.http.label}: {shown} enthält keine Business-Unit-ID.", url=shown)
        state["business_unit"] = {"name": query, "id": str(unit), "display_name": data.get("displayName")}
        return str(unit)

    # -- listings -----------------------------------------------------------------------------------

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        self._key()
        unit = self._business_unit(spec, state)
        return [Listing(f"trustpilot:{unit}", partial(self._page, spec, unit, state))]

    def _reviews_of(self, url: str, params: Mapping[str, Any] | None, unit: str) -> tuple[list[Any], Any, str]:
        data, shown, _ = self._get(url, params, f"die Bewertungen der Business Unit {unit}")
        reviews = data.get("reviews") if isinstance(data, dict) else None
        if not isinstance(reviews, list):
            raise MalformedResponseError(f"{self.http.label}: {shown} enthält keine Liste 'reviews'.", url=shown)
        return reviews, data, shown

    def _resumed(self, link: str, anchor: datetime | None, unit: str) -> tuple[list[Any], Any, str]:
        """The page of a link stored by an earlier run, or an earlier page: reviews removed since moved the later
        ones up, so step back until the page's newest review is no older than ``anchor`` (the last review handed
        out before) -- then nothing between the two lies on a page this sweep skips. Without an anchor (a page set
        aside and retried later) one page back covers up to a page of removals."""
        url = httpx.URL(link)
        number = int(url.params.get("page") or 1) if str(url.params.get("page") or "1").isdigit() else 1
        if anchor is None:
            return self._reviews_of(str(url.copy_set_param("page", str(max(number - 1, 1)))), None, unit)
        while True:
            reviews, data, shown = self._reviews_of(str(url), None, unit)
            times = [t for r in reviews if isinstance(r, Mapping) and (t := parse_time(r.get("createdAt")))]
            if number <= 1 or (times and max(times) >= anchor):
                return reviews, data, shown
            number -= 1
            log.info("%s: page %d of the resumed sweep starts below its last review; reading page %d again",
                     self.http.label, number + 1, number)  # fmt: skip
            url = url.copy_set_param("page", str(number))

    def _page(self, spec: SourceSpec, unit: str, state: dict[str, Any], token: str | None) -> Page:
        base = self._base(spec)
        params: dict[str, Any] | None = {"perPage": PAGE_SIZE, "orderBy": "createdat.desc"}
        url = f"{base}/business-units/{unit}/reviews"
        if token:
            if httpx.URL(token).host != httpx.URL(base).host:
                raise MalformedResponseError(
                    f"{self.http.label}: der Weiter-Link zeigt auf einen anderen Host ({redact_url(token)}); "
                    "nicht gefolgt.",
                    url=redact_url(token),
                )
            url, params = token, None
        anchor = state.get("page_anchor") or {}
        if token and token not in self._issued:  # resumed from an earlier run
            after = parse_time(anchor.get("after")) if anchor.get("link") == token else None
            reviews, data, shown = self._resumed(token, after, unit)
        else:
            reviews, data, shown = self._reviews_of(url, params, unit)
        posts, errors = self.parse_items(reviews, self.parse_review, shown)
        threads = [ThreadRef(p.external_id, p.external_id, p.created_at, complete=True) for p in posts]
        link = next_page(data)
        if link:  # kept in the cursor: without any key
            parsed = httpx.URL(link)
            link = str(parsed.copy_with(params=[(k, v) for k, v in parsed.params.multi_items() if k != "apikey"]))
            self._issued.add(link)
            oldest = min((p.created_at for p in posts), default=None)
            state["page_anchor"] = {"link": link, "after": iso(oldest) if oldest else anchor.get("after")}
        else:
            state.pop("page_anchor", None)
        return Page(posts=posts, next_token=link, url=shown, errors=errors, threads=threads, seen=len(reviews))

    def refresh_thread(
        self, spec: SourceSpec, key: str, entry: dict[str, Any], state: dict[str, Any], options: CollectOptions
    ) -> ThreadResult:
        try:
            data, shown, _ = self._get(f"{self._base(spec)}/reviews/{key}", None, f"die Bewertung {key}")
        except NotFoundError:
            return ThreadResult(posts=[tombstone(self.platform, key, kind="review", now=options.now)], gone=True)
        posts, errors = self.parse_items([data], self.parse_review, shown)
        return ThreadResult(posts=posts, url=shown, errors=errors)

    # -- parsing ------------------------------------------------------------------------------------

    def parse_review(self, review: Mapping[str, Any]) -> CollectedPost:
        review_id = str(review["id"])
        created = require_time(review["createdAt"], "createdAt")
        updated = parse_time(review.get("updatedAt"))
        consumer = review.get("consumer") or {}
        reply = review.get("companyReply") or {}
        location = review.get("location") or {}
        consumer_id = consumer.get("id")
        return CollectedPost(
            platform=self.platform,
            external_id=review_id,
            kind="review",
            url=f"https://www.trustpilot.com/reviews/{review_id}",
            text=normalise_whitespace(str(review.get("text") or "")),
            title=str(review.get("title") or "").strip() or None,
            language=str(review.get("language") or "")[:8] or None,
            created_at=created,
            edited_at=updated if updated and updated > created else None,
            metrics={
                "rating": int(review["stars"]) if review.get("stars") is not None else None,
                "likes": int(review.get("numberOfLikes") or 0),
                "verified": bool(review.get("isVerified")),
                "experienced_at": review.get("experiencedAt"),
                "location_name": location.get("name"),
                "answered": bool(reply.get("text")),
                "answered_at": reply.get("createdAt"),
            },
            raw=dict(review),
            identity=CollectedIdentity(
                platform=self.platform,
                account_id=str(consumer_id),
                display_name=consumer.get("displayName"),
                location=consumer.get("displayLocation"),
                profile_url=f"https://www.trustpilot.com/users/{consumer_id}",
            )
            if consumer_id
            else None,
        )
