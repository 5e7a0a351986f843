"""Normalisation of names, places, e-mail addresses, phone numbers, handles and profile URLs.

Everything here is a pure string function. Folding follows German conventions: ä -> ae, ö -> oe,
ü -> ue, ß -> ss, other accents are dropped (é -> e), everything lowercase. So "Müller",
"MUELLER" and "mueller" are equal after folding; "Muller" (umlaut dropped without the e) is not
equal but has the same Kölner Phonetik code, which the probabilistic step uses.

Identifier keys (for the deterministic step) are strings like ``email:max@web.de``,
``phone:492211234567``, ``fedi:max@mastodon.social``, ``bsky:max.bsky.social``, ``reddit:max``,
``youtube:maxvlog``, ``x:max``, ``url:example.de/max``. The same person's handle written in any of
the usual forms yields the same key: ``@max@mastodon.social``, ``max@mastodon.social`` and
``https://mastodon.social/@max/`` all give ``fedi:max@mastodon.social``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss", "æ": "ae", "ø": "oe", "ł": "l"})
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
URL_RE = re.compile(
    r"(?:https?://|www\.)[^\s<>\"')\]]+"
    r"|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:de|at|ch|com|net|org|eu|io|social|app|shop|info)\b(?:/[^\s<>\"')\]]*)?",
    re.I,
)
PHONE_RE = re.compile(r"(?:\+|00|\b0)[1-9][\d\s/().\-]{6,}\d")

FREEMAIL = frozenset(
    {
        "gmail.com", "googlemail.com", "web.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch", "t-online.de",
        "yahoo.com", "yahoo.de", "outlook.com", "outlook.de", "hotmail.com", "hotmail.de", "live.de",
        "aol.com", "aol.de", "freenet.de", "posteo.de", "mailbox.org", "icloud.com", "me.com", "protonmail.com",
        "proton.me", "arcor.de", "bluewin.ch", "1und1.de", "online.de", "email.de", "kabelmail.de",
    }
)  # fmt: skip

CITY_ALIASES = {
    "cologne": "koeln", "koln": "koeln", "munich": "muenchen", "munchen": "muenchen", "nuremberg": "nuernberg",
    "nurnberg": "nuernberg", "vienna": "wien", "zurich": "zuerich", "zurich city": "zuerich", "hanover": "hannover",
    "brunswick": "braunschweig", "frankfurt am main": "frankfurt", "frankfurt a m": "frankfurt",
    "frankfurt main": "frankfurt", "ffm": "frankfurt", "duesseldorf city": "duesseldorf", "dusseldorf": "duesseldorf",
    "geneva": "genf", "basle": "basel", "berlin city": "berlin", "hamburg city": "hamburg",
}  # fmt: skip
_CITY_NOISE = frozenset(
    {"germany", "deutschland", "de", "austria", "oesterreich", "schweiz", "switzerland", "ch", "at", "eu",
     "nrw", "bayern", "bavaria", "hessen", "sachsen", "bw", "city", "stadt", "area", "region", "und", "umgebung",
     "near", "bei", "in", "aus", "the"}
)  # fmt: skip


@lru_cache(maxsize=131072)
def fold(text: str | None) -> str:
    """Lowercase, German umlaut and ß folding, accents dropped, non-alphanumerics -> single spaces."""
    if not text:
        return ""
    lowered = text.lower().translate(_FOLD)
    ascii_ = unicodedata.normalize("NFKD", lowered).encode("ascii", "ignore").decode("ascii")
    return " ".join(_NON_ALNUM.sub(" ", ascii_).split())


def fold_compact(text: str | None) -> str:
    """:func:`fold` without any separators: "Max Müller-Lü" -> "maxmuellerlue"."""
    return fold(text).replace(" ", "")


def name_tokens(text: str | None) -> list[str]:
    """Folded alphabetic tokens of a personal name ("Dr. Hans-Peter Müller" -> hans, peter, mueller)."""
    return [t for t in fold(text).split() if t.isalpha()]


@lru_cache(maxsize=65536)
def normalise_city(text: str | None) -> str | None:
    """A folded city key: "Köln, Germany" / "Koeln" / "Cologne 🇩🇪" -> "koeln"; None if nothing city-like."""
    if not text:
        return None
    first = re.split(r"[,/|(•·;]| - ", text)[0]
    words = [w for w in fold(first).split() if w not in _CITY_NOISE and not w.isdigit()]
    if not words:
        return None
    city = " ".join(words)
    return CITY_ALIASES.get(city, city)


def normalise_email(text: str | None) -> str | None:
    """Lowercase e-mail; googlemail.com -> gmail.com. None if it is not an address."""
    if not text:
        return None
    text = text.strip().strip("<>").lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :]
    if not EMAIL_RE.fullmatch(text):
        return None
    local, _, domain = text.rpartition("@")
    if domain == "googlemail.com":
        domain = "gmail.com"
    return f"{local}@{domain}"


def email_local_key(email: str) -> str:
    """The alphanumeric local part: "Max.Mueller_87@web.de" -> "maxmueller87"."""
    return fold_compact(email.rpartition("@")[0])


def personal_domain(email: str) -> str | None:
    """The e-mail domain unless it is a freemail provider (then it says nothing about the person)."""
    domain = email.rpartition("@")[2].lower()
    return None if domain in FREEMAIL else domain


def normalise_phone(text: str | None, default_country: str = "49") -> str | None:
    """Digits with country code: "+49 (0)221 123-4567", "0221 1234567", "0049 221 1234567" -> "492211234567"."""
    if not text:
        return None
    raw = text.strip()
    digits = re.sub(r"\D", "", raw.replace("(0)", ""))
    if raw.startswith("+"):
        pass
    elif digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = default_country + digits[1:]
    else:
        return None
    return digits if 9 <= len(digits) <= 15 else None


def emails_in(text: str | None) -> list[str]:
    if not text:
        return []
    found = (normalise_email(m) for m in EMAIL_RE.findall(text))
    return sorted({e for e in found if e})


def phones_in(text: str | None) -> list[str]:
    if not text:
        return []
    found = (normalise_phone(m) for m in PHONE_RE.findall(text))
    return sorted({p for p in found if p})


def urls_in(text: str | None) -> list[str]:
    if not text:
        return []
    text_wo_emails = EMAIL_RE.sub(" ", text)
    return sorted({m.rstrip(".,;:!?") for m in URL_RE.findall(text_wo_emails)})


def url_host(url: str) -> str | None:
    """The host of a URL without ``www.``; works without a scheme ("example.de/x")."""
    if not re.match(r"^[a-z][a-z0-9+.\-]*://", url, re.I):
        url = "https://" + url
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host
