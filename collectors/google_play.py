"""Google Play reviews of the brand's own Android app (Google Play Developer API, ``reviews.list``).

Source fields: ``query`` is the app's package name (``de.lindenhof.app``, or a Play Store URL with
``id=``). Credentials: ``RESONANZ_COLLECTORS__GOOGLE_PLAY_SERVICE_ACCOUNT_FILE``, the JSON key of a
service account that is invited in the Play Console (Users and permissions) with the permission to
see and reply to reviews, in a Cloud project with the Google Play Android Developer API enabled.

``GET androidpublisher.googleapis.com/androidpublisher/v3/applications/{package}/reviews`` with
``maxResults`` and ``token`` (``tokenPagination.nextPageToken``) lists the most recently created or
modified review first. **The API only returns reviews created or modified in the last seven days**
and only those with a written comment (star-only ratings are not in it), and only for the
production track. So a source must run at least once a week, better daily: a run whose previous
success lies more than seven days back reports the gap in its errors; older reviews can only be
imported from a Play Console export (``resonanz import posts``).

Parsing: the first ``userComment`` is the review. Its ``text`` carries ``title<TAB>body`` where the
reviewer wrote a title (the title goes to ``title``). The API has no creation time, only
``lastModified`` (``{"seconds": "...", "nanos": ...}``): that is ``created_at``, and an edited review
comes in again as an update. ``starRating`` is ``metrics["rating"]``; ``reviewerLanguage`` is the
device's language, not necessarily the review's, so it goes to ``metrics["device_language"]`` and
the language is detected from the text. The developer's reply (``developerComment``) is recorded as
``metrics["answered"]``/``["answered_at"]``, its text stays in ``raw``. Authors have a display name
only; a Play user writes one review per app, so the identity is keyed on the review id.
Errors: 403 (not invited / no permission) and a refused service account stop the run with advice;
429 answers are retried with backoff by the client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from collectors.base import Collector, Listing, Page
from collectors.errors import ConfigurationError, MalformedResponseError
from collectors.google_api import TokenSource, call, load_service_account, service_account_source
from collectors.items import CollectedIdentity, CollectedPost, CollectOptions, SourceSpec
from collectors.text import from_epoch, language_code, normalise_whitespace, parse_time

log = logging.getLogger(__name__)

API = "https://androidpublisher.googleapis.com/androidpublisher/v3"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
PAGE_SIZE = 100
WINDOW = timedelta(days=7)
"""reviews.list only returns reviews created or modified within this window."""
ENV = "RESONANZ_COLLECTORS__GOOGLE_PLAY_SERVICE_ACCOUNT_FILE"
TOKEN_ADVICE = (
    f"Prüfe die Schlüsseldatei in {ENV}: ein gelöschter oder deaktivierter Schlüssel muss in der Google Cloud "
    "Console (IAM > Dienstkonten > Schlüssel) neu erstellt werden."
)
FORBIDDEN_ADVICE = (
    "Lade das Dienstkonto in der Play Console unter 'Nutzer und Berechtigungen' ein und gib ihm für diese App "
    "die Berechtigung, Bewertungen anzusehen und zu beantworten; im Cloud-Projekt muss die Google Play Android "
    "Developer API aktiviert sein. Neue Berechtigungen wirken teils erst nach bis zu 24 Stunden."
)
_PACKAGE = re.compile(r"(?:[?&]id=)?([A-Za-z][\w]*(?:\.[A-Za-z_][\w]*)+)")


def package_name(query: str | None) -> str | None:
    text = (query or "").strip()
    match = re.search(r"[?&]id=([\w.]+)", text) or _PACKAGE.fullmatch(text)
    return match.group(1) if match else None


def timestamp(value: Any) -> datetime:
    """A protobuf ``Timestamp`` as JSON (``{"seconds": "1486482936", "nanos": 525000000}``) in UTC."""
    if not isinstance(value, Mapping) or value.get("seconds") is None:
        raise ValueError(f"unreadable lastModified: {value!r}")
    return from_epoch(int(value["seconds"]) + int(value.get("nanos") or 0) / 1e9)


class GooglePlayCollector(Collector):
    platform = "google_play"
    overlap = timedelta(hours=2)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tokens: TokenSource | None = None

    @classmethod
    def validate(cls, spec: SourceSpec) -> None:
        if not package_name(spec.query):
            raise ConfigurationError(
                f"Die Google-Play-Quelle {spec.name!r} braucht --query mit dem Paketnamen der App (z. B. "
                "de.firma.app, steht in der Play-Store-URL hinter id=)."
            )

    def _token_source(self) -> TokenSource:
        if self._tokens is None:
            path = self.credentials.google_play_service_account_file
            if not path:
                raise ConfigurationError(
                    f"Google Play braucht ein Dienstkonto: setze {ENV} auf den Pfad seiner JSON-Schlüsseldatei "
                    "(Google Cloud Console > IAM > Dienstkonten > Schlüssel) und lade das Dienstkonto in der "
                    "Play Console mit der Berechtigung für Bewertungen ein."
                )
            info = load_service_account(path, ENV)
            self._tokens = service_account_source(self.http, info, SCOPE, advice=TOKEN_ADVICE)
        return self._tokens

    def listings(self, spec: SourceSpec, state: dict[str, Any], options: CollectOptions) -> list[Listing]:
        self.validate(spec)
        package = str(package_name(spec.query))
        self._token_source()
        gap: list[str] = []
        last = parse_time(state.get("last_success"))
        if last is not None and options.now - last > WINDOW:
            message = (
                f"{self.http.label}: der letzte erfolgreiche Lauf war am {last:%d.%m.%Y}; Google Play liefert nur "
                f"Bewertungen der letzten 7 Tage, ältere Änderungen dazwischen fehlen. Lass die Quelle mindestens "
                "wöchentlich laufen; Fehlendes lässt sich aus dem Play-Console-Export importieren."
            )
            log.warning("%s", message)
            gap.append(message)

        def fetch(token: str | None) -> Page:
            page = self._page(spec, package, token)
            if gap:  # reported once, on the first page of the run
                page.errors.insert(0, gap.pop())
            return page

        return [Listing(f"play:{package}", fetch)]

    def _page(self, spec: SourceSpec, package: str, token: str | None) -> Page:
        base = str(spec.config.get("api_url") or API).rstrip("/")
        params: dict[str, Any] = {"maxResults": PAGE_SIZE}
        if token:
            params["token"] = token
        what = f"Bewertungen von {package}"
        data, shown, _ = call(self.http, self._token_source(), f"{base}/applications/{package}/reviews", params,
                              what=what, forbidden=FORBIDDEN_ADVICE)  # fmt: skip
        if not isinstance(data, dict):
            raise MalformedResponseError(f"{self.http.label}: {shown} ist kein JSON-Objekt.", url=shown)
        reviews = data.get("reviews") or []
        if not isinstance(reviews, list):
            raise MalformedResponseError(f"{self.http.label}: {shown}: 'reviews' ist keine Liste.", url=shown)
        posts, errors = self.parse_items(reviews, lambda r: self.parse_review(r, package), shown)
        next_token = (data.get("tokenPagination") or {}).get("nextPageToken")
        return Page(posts=posts, next_token=next_token, url=shown, errors=errors, seen=len(reviews))

    def parse_review(self, review: Mapping[str, Any], package: str) -> CollectedPost:
        review_id = str(review["reviewId"])
        comments = review.get("comments") or []
        user = next(c["userComment"] for c in comments if isinstance(c, Mapping) and c.get("userComment"))
        developer = next((c["developerComment"] for c in comments if isinstance(c, Mapping)
                          and c.get("developerComment")), None)  # fmt: skip
        raw_text = str(user.get("text") or "")
        title: str | None = None
        if "\t" in raw_text:
            head, raw_text = raw_text.split("\t", 1)
            title = head.strip() or None
        device = user.get("deviceMetadata") or {}
        author = review.get("authorName")
        return CollectedPost(
            platform=self.platform,
            external_id=review_id,
            kind="review",
            url=f"https://play.google.com/store/apps/details?id={package}&reviewId={review_id}",
            text=normalise_whitespace(raw_text),
            title=title,
            created_at=timestamp(user.get("lastModified")),
            metrics={
                "rating": int(user["starRating"]) if user.get("starRating") is not None else None,
                "thumbs_up": int(user.get("thumbsUpCount") or 0),
                "thumbs_down": int(user.get("thumbsDownCount") or 0),
                "app_version": user.get("appVersionName"),
                "app_version_code": user.get("appVersionCode"),
                "android_sdk": user.get("androidOsVersion"),
                "device": device.get("productName") or user.get("device"),
                "device_language": language_code(user.get("reviewerLanguage")),
                "answered": developer is not None,
                "answered_at": timestamp(developer.get("lastModified")).isoformat()
                if developer and developer.get("lastModified")
                else None,
            },
            raw=dict(review),
            identity=CollectedIdentity(
                platform=self.platform, account_id=f"review:{review_id}", display_name=str(author)
            )  # fmt: skip
            if author
            else None,
        )
