"""What the Google collectors share: OAuth 2.0 access tokens and Google's JSON error shape.

Access tokens come from Google's token endpoint (``https://oauth2.googleapis.com/token``) by one of
two grants, both sent through the collector's :class:`PoliteClient` (retries, rate limits):

- **refresh token** (RFC 6749 §6): the business's Google account authorised an OAuth client once
  (Google Business Profile has no service accounts); ``client_id``/``client_secret``/``refresh_token``.
- **service account** (RFC 7523 JWT bearer): a JSON key file from the Google Cloud console (Google
  Play Developer API). The JWT is signed RS256 here in plain Python (RSASSA-PKCS1-v1_5 with SHA-256,
  RFC 8017 §8.2), so no crypto package is needed; the key never leaves this process.

Tokens live about an hour; a :class:`TokenSource` caches one and fetches a new one a minute before
it runs out, or at once after a 401. Google's error bodies look like
``{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED", "errors": [{"reason": ...}]}}``
(API calls) or ``{"error": "invalid_grant", "error_description": "..."}`` (token endpoint).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from collectors.errors import AuthError, ConfigurationError, HttpStatusError, MalformedResponseError, NotFoundError
from collectors.http import PoliteClient, redact_url

log = logging.getLogger(__name__)

TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_MARGIN = 60.0
"""Fetch a new token this many seconds before the current one expires."""
JWT_LIFETIME = 3600
_SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


# -- RS256 without a crypto package --------------------------------------------------------------------


def _der(data: bytes, pos: int, tag: int) -> tuple[int, int]:
    """The (start, end) of the DER value with ``tag`` at ``pos``."""
    if pos >= len(data) or data[pos] != tag:
        raise ValueError(f"unexpected DER tag at byte {pos} (expected 0x{tag:02x})")
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError("truncated DER value")
    return start, end


def _rsa_numbers(pem: str) -> tuple[int, int, int]:
    """``(n, e, d)`` of an RSA private key in PEM (PKCS#8 ``PRIVATE KEY`` or PKCS#1 ``RSA PRIVATE KEY``)."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    body = "".join(line for line in lines if line and not line.startswith("-----"))
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError as exc:
        raise ValueError("the private key is not valid base64") from exc
    if "BEGIN PRIVATE KEY" in pem:  # PKCS#8: SEQUENCE { version, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey } }
        start, _ = _der(der, 0, 0x30)
        _, pos = _der(der, start, 0x02)
        _, pos = _der(der, pos, 0x30)
        inner_start, inner_end = _der(der, pos, 0x04)
        der = der[inner_start:inner_end]
    elif "BEGIN RSA PRIVATE KEY" not in pem:
        raise ValueError("expected an RSA private key in PEM form (-----BEGIN PRIVATE KEY-----)")
    start, _ = _der(der, 0, 0x30)  # RSAPrivateKey: SEQUENCE { version, n, e, d, p, q, ... }
    numbers: list[int] = []
    pos = start
    for _ in range(4):
        value_start, value_end = _der(der, pos, 0x02)
        numbers.append(int.from_bytes(der[value_start:value_end], "big"))
        pos = value_end
    _, n, e, d = numbers
    return n, e, d


def rs256_sign(pem: str, message: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 signature with SHA-256 (JWS ``RS256``) of ``message``."""
    n, _, d = _rsa_numbers(pem)
    size = (n.bit_length() + 7) // 8
    digest = _SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    if size < len(digest) + 11:
        raise ValueError("the RSA key is too short for SHA-256 signatures")
    encoded = b"\x00\x01" + b"\xff" * (size - len(digest) - 3) + b"\x00" + digest
    return pow(int.from_bytes(encoded, "big"), d, n).to_bytes(size, "big")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def service_account_assertion(info: Mapping[str, Any], scope: str, now: float) -> str:
    """The signed JWT a service account exchanges for an access token (RFC 7523)."""
    header = {"alg": "RS256", "typ": "JWT"}
    if info.get("private_key_id"):
        header["kid"] = str(info["private_key_id"])
    claims = {
        "iss": str(info["client_email"]),
        "scope": scope,
        "aud": str(info.get("token_uri") or TOKEN_URL),
        "iat": int(now),
        "exp": int(now) + JWT_LIFETIME,
    }
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64url(rs256_sign(str(info['private_key']), signing_input.encode()))}"


def load_service_account(path: str, env: str) -> dict[str, Any]:
    """The service account key file at ``path``; a missing or wrong file says how to get the right one."""
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except OSError as exc:
        raise ConfigurationError(
            f"Die Schlüsseldatei des Dienstkontos ({path}) ist nicht lesbar: {exc.strerror or exc}. "
            f"Prüfe den Pfad in {env}."
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"{path} ist keine JSON-Schlüsseldatei eines Dienstkontos ({exc}). Lade in der Google Cloud Console "
            "unter IAM > Dienstkonten > Schlüssel einen neuen Schlüssel im JSON-Format herunter."
        ) from exc
    missing = [k for k in ("client_email", "private_key") if not (isinstance(info, dict) and info.get(k))]
    if missing:
        raise ConfigurationError(
            f"{path} fehlt {', '.join(missing)}: das ist keine Schlüsseldatei eines Dienstkontos. Lade in der "
            "Google Cloud Console unter IAM > Dienstkonten > Schlüssel einen Schlüssel im JSON-Format herunter."
        )
    return dict(info)


# -- tokens ---------------------------------------------------------------------------------------------


class TokenSource:
    """One cached access token; ``grant()`` builds the token request's form (called per fetch)."""

    def __init__(
        self, http: PoliteClient, grant: Callable[[], Mapping[str, str]], *, url: str = TOKEN_URL, advice: str
    ) -> None:
        self.http = http
        self.grant = grant
        self.url = url
        self.advice = advice
        self._token: str | None = None
        self._expires = 0.0

    def invalidate(self) -> None:
        self._token = None

    def headers(self) -> dict[str, str]:
        if self._token is None or self.http.clock() >= self._expires - TOKEN_MARGIN:
            self._fetch()
        return {"Authorization": f"Bearer {self._token}"}

    def _fetch(self) -> None:
        data, response = self.http.fetch_json("POST", self.url, data=dict(self.grant()), allow=(400, 401, 403))
        if response.status_code != 200:
            error = data.get("error") if isinstance(data, dict) else None
            detail = data.get("error_description") if isinstance(data, dict) else None
            if isinstance(error, dict):  # some token errors come in the API error shape
                detail, error = error.get("message"), error.get("status")
            # whatever status the token endpoint used (400 invalid_grant, 401 invalid_client): the credentials
            # are refused, nothing of the source can work, so the run stops (status 401, see base.credentials_refused)
            raise AuthError(
                f"{self.http.label}: Google hat kein Zugriffstoken ausgestellt ({error or response.status_code}"
                f"{': ' + str(detail) if detail else ''}). {self.advice}",
                status=401,
                url=redact_url(response.request.url),
            )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not token:
            raise MalformedResponseError(
                f"{self.http.label}: die Antwort von {self.url} enthält kein access_token.", url=self.url
            )
        self._token = str(token)
        self._expires = self.http.clock() + float(data.get("expires_in") or 3600)


def refresh_token_source(
    http: PoliteClient, client_id: str, client_secret: str, refresh_token: str, *, advice: str
) -> TokenSource:
    form = {
        "grant_type": "refresh_token",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
    }
    return TokenSource(http, lambda: form, advice=advice)


def service_account_source(http: PoliteClient, info: Mapping[str, Any], scope: str, *, advice: str) -> TokenSource:
    def grant() -> Mapping[str, str]:
        try:
            assertion = service_account_assertion(info, scope, http.clock())
        except ValueError as exc:
            raise ConfigurationError(
                f"Der private Schlüssel des Dienstkontos {info.get('client_email')} ist unlesbar ({exc}). "
                "Lade einen neuen JSON-Schlüssel herunter."
            ) from exc
        return {"grant_type": JWT_BEARER, "assertion": assertion}

    return TokenSource(http, grant, url=str(info.get("token_uri") or TOKEN_URL), advice=advice)


# -- API calls ------------------------------------------------------------------------------------------


def google_error(data: Any) -> tuple[str, str, set[str]]:
    """``(status, message, reasons)`` of a Google API error body (empty parts if it has another shape)."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return "", str(error or ""), set()
    reasons = {str(e.get("reason")) for e in error.get("errors") or [] if isinstance(e, dict) and e.get("reason")}
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("reason"):
            reasons.add(str(detail["reason"]))
    return str(error.get("status") or ""), str(error.get("message") or ""), reasons


def call(
    http: PoliteClient,
    tokens: TokenSource,
    url: str,
    params: Mapping[str, Any] | None,
    *,
    what: str,
    forbidden: str,
    allow: Collection[int] = (),
) -> tuple[Any, str, int]:
    """GET a Google JSON API with the bearer token: ``(body, shown url, status)``.

    A 401 fetches a new token and tries once more (then :class:`AuthError`, which stops the run); 403
    raises :class:`AuthError` with ``forbidden`` as advice, 404 :class:`NotFoundError`, other 4xx
    :class:`HttpStatusError` -- the sweep reports those as a refused listing and goes on with the others.
    429 and 5xx are retried by the client. Statuses in ``allow`` are returned as they are."""
    for attempt in range(2):
        data, response = http.fetch_json(
            "GET", url, params=params, headers=tokens.headers(), allow=(400, 401, 403, 404, *allow)
        )
        status = response.status_code
        shown = redact_url(response.request.url)
        if status < 300 or status in allow:
            return data, shown, status
        code, message, _ = google_error(data)
        detail = f"{code}: {message}" if code else message or str(status)
        if status == 401 and attempt == 0:
            log.info("%s: access token refused (%s); fetching a new one", http.label, detail)
            tokens.invalidate()
            continue
        if status in (401, 403):
            raise AuthError(f"{http.label}: {what} abgelehnt ({status} {detail}). {forbidden}", status=status,
                            url=shown, body=message)  # fmt: skip
        if status == 404:
            raise NotFoundError(
                f"{http.label}: {what} gibt es nicht ({detail}). Prüfe die IDs der Quelle.",
                status=status,
                url=shown,
                body=message,
            )
        raise HttpStatusError(f"{http.label}: {what}: {shown} antwortete {status} ({detail}).", status=status,
                              url=shown, body=message)  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover
