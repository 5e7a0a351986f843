"""Comparison features for the probabilistic step: one flat row per customer and per identity.

Both sides get the same columns, computed in Python (folding, nicknames, Kölner Phonetik and
handle splitting have no SQL equivalent), so that Splink only compares ready-made values:

``first_name`` / ``last_name``  folded tokens; a single letter is an initial ("Max M.")
``first_alt`` / ``last_alt``    a second full reading from the handle, if it differs (identities only)
``first_canon``                 nickname group key (Hans and Johannes share "johannes")
``first_initial`` / ``last_initial``
``last_phon``                   Kölner Phonetik code of the last name (None for initials)
``city``                        folded city key ("Köln, NRW" and "Cologne" -> "koeln"); for identities
                                from the location field, else the bio ("Aus Köln."), else the
                                handle ("sabine_krueger_koeln"), see :mod:`linker.identity.gazetteer`
``city_known``                  the city is a known place (always for the CRM's cities; for identities
                                when the gazetteer knows it): only a known place can contradict
``contact_keys``                e-mail user names and personal domains: ``local:maxmueller87``,
                                ``domain:mueller-design.de``; on the identity side from the bio and
                                from handles that contain digits (people reuse "maxmueller87"); not
                                a user name that only spells the name (see :func:`name_spellings`)
``tf_*``                        smoothed term frequencies (see :func:`term_frequencies`)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from linker.identity.evidence import text as evidence_text
from linker.identity.gazetteer import ABBREVIATIONS, city_in_text
from linker.identity.handles import url_keys
from linker.identity.names import NameLexicon, ParsedName, handle_user, identity_name
from linker.identity.nicknames import canonical_first_name
from linker.identity.normalise import (
    email_local_key,
    emails_in,
    fold,
    fold_compact,
    name_tokens,
    normalise_city,
    normalise_email,
    personal_domain,
    url_host,
    urls_in,
)
from linker.identity.phonetics import koelner_phonetik
from linker.identity.records import CustomerRecord, IdentityRecord

MIN_LOCAL_KEY = 6
TF_PSEUDO_COUNT = 200.0
"""Pseudo-records of the background population mixed into every term frequency."""

PLATFORM_HOSTS = frozenset(
    {"bsky.app", "reddit.com", "youtube.com", "twitter.com", "x.com", "instagram.com", "tiktok.com", "facebook.com",
     "threads.net", "github.com", "linkedin.com", "twitch.tv", "linktr.ee", "mastodon.social", "youtu.be"}
)  # fmt: skip

FEATURE_COLUMNS = (
    "unique_id",
    "first_name",
    "first_canon",
    "first_initial",
    "last_name",
    "last_initial",
    "last_phon",
    "city",
    "city_known",
    "contact_keys",
)


def _phon(last: str | None) -> str | None:
    return (koelner_phonetik(last) or None) if last and len(last) > 1 else None


def _name_columns(
    first: str | None, last: str | None, alt: tuple[str | None, str | None] = (None, None)
) -> dict[str, Any]:
    return {
        "first_name": first,
        "first_canon": canonical_first_name(first) if first and len(first) > 1 else None,
        "first_initial": first[0] if first else None,
        "last_name": last,
        "last_initial": last[0] if last else None,
        "last_phon": _phon(last),
        "first_alt": alt[0],
        "last_alt": alt[1],
        "last_alt_phon": _phon(alt[1]),
        "last_initial_alt": None,
    }


def personal_domains(customers: Iterable[CustomerRecord]) -> set[str]:
    """Non-freemail e-mail domains used by exactly one customer (shared ones are company domains)."""
    counts: Counter[str] = Counter()
    for c in customers:
        domains = set()
        for raw in c.emails:
            email = normalise_email(raw)
            domain = personal_domain(email) if email else None
            if domain:
                domains.add(domain)
        counts.update(domains)
    return {d for d, n in counts.items() if n == 1}


def name_spellings(first: str | None, last: str | None) -> frozenset[str]:
    """E-mail user names that only spell the name: "romualdjunken", "junkenromuald", "rjunken", "junken" ...

    Such a user name at another provider (CRM ``romuald.junken@gmx.de``, bio
    ``romuald.junken@outlook.de``) is what every Romuald Junken would choose, so it is name evidence,
    not a contact the two share; it is left out of the contact keys. ``maxmueller87`` stays.
    """
    firsts = name_tokens(first)
    lasts = name_tokens(last)
    if not firsts or not lasts:
        return frozenset()
    f_forms = {firsts[0], "".join(firsts), firsts[0][0]}
    l_forms = {lasts[-1], "".join(lasts)}
    out = {f for f in f_forms if len(f) > 1} | l_forms
    for f in f_forms:
        for la in l_forms:
            out |= {f + la, la + f}
    return frozenset(fold_compact(x) for x in out)


def city_key(text: str | None, places: frozenset[str]) -> str | None:
    """A comparable city key: "Köln-Ehrenfeld" -> "koeln" when "koeln" is a known place."""
    key = normalise_city(text)
    if key and key not in places:
        head = key.split(" ")[0]
        if head in places:
            return head
    return key


def customer_features(
    customer: CustomerRecord, personal: set[str], places: frozenset[str] = frozenset()
) -> dict[str, Any]:
    first_tokens = name_tokens(customer.first_name)
    last_tokens = name_tokens(customer.last_name)
    row: dict[str, Any] = {"unique_id": customer.customer_id}
    row.update(_name_columns(first_tokens[0] if first_tokens else None, last_tokens[-1] if last_tokens else None))
    if len(last_tokens) > 1:  # "van der Dussen" is abbreviated "v." as often as "D."
        row["last_initial_alt"] = last_tokens[0][0]
    row["city"] = city_key(customer.city, places)
    row["city_known"] = row["city"] is not None  # the CRM's address is a real place, known or not
    spelled = name_spellings(customer.first_name, customer.last_name)
    keys: set[str] = set()
    for raw in customer.emails:
        email = normalise_email(raw)
        if not email:
            continue
        local = email_local_key(email)
        if len(local) >= MIN_LOCAL_KEY and local not in spelled:
            keys.add("local:" + local)
        domain = personal_domain(email)
        if domain and domain in personal:
            keys.add("domain:" + domain)
    for url in customer.profile_urls:
        host = url_host(url)
        if host and host not in PLATFORM_HOSTS and not any(k.partition(":")[0] != "url" for k in url_keys(url)):
            keys.add("domain:" + host)
    row["contact_keys"] = sorted(keys)
    return row


def identity_features(identity: IdentityRecord, lexicon: NameLexicon) -> tuple[dict[str, Any], ParsedName]:
    name = identity_name(identity.display_name, identity.handle, lexicon)
    row: dict[str, Any] = {"unique_id": identity.identity_id}
    row.update(_name_columns(name.first, name.last, (name.alt_first, name.alt_last)))
    row["city"] = (
        city_key(identity.location, lexicon.cities)
        or city_in_text(identity.bio, lexicon.cities)
        or name.handle_city
        or city_in_text(_display_tail(identity.display_name), lexicon.cities)
    )
    row["city_known"] = row["city"] in lexicon.cities
    keys: set[str] = set()
    for email in emails_in(identity.bio):
        local = email_local_key(email)
        if len(local) >= MIN_LOCAL_KEY:
            keys.add("local:" + local)
        domain = personal_domain(email)
        if domain:
            keys.add("domain:" + domain)
    for url in urls_in(identity.bio):
        host = url_host(url)
        if host and host not in PLATFORM_HOSTS:
            keys.add("domain:" + host)
    user = fold_compact(handle_user(identity.handle))
    if len(user) >= MIN_LOCAL_KEY and any(ch.isdigit() for ch in user):
        keys.add("local:" + user)
    row["contact_keys"] = sorted(keys)
    return row, name


def city_note(identity: IdentityRecord, city: str) -> str:
    """Where the identity's city came from, for the evidence: "Köln, NRW (Ort)", "Berlin (Bio)"."""
    if identity.location and normalise_city(identity.location):
        return evidence_text("place_location", place=identity.location)
    head = city.split(" ")[0]
    sources = (("place_bio", identity.bio), ("place_handle", identity.handle), ("place_display", identity.display_name))
    for code, text in sources:
        for word in re.findall(r"[^\W\d_]+", text or ""):
            if fold(word) == head or ABBREVIATIONS.get(word.lower()) == head:
                return evidence_text(code, place=city.title() if fold(word) != city else word)
    return city.title()


def _display_tail(display: str | None) -> str | None:
    """The part of a display name after a separator ("Sabine | Köln" -> "Köln")."""
    if not display:
        return None
    parts = re.split(r"\s[|•·–—/-]\s|[|•·]", display, maxsplit=1)
    return parts[1] if len(parts) > 1 else None


def term_frequencies(
    rows: Sequence[Mapping[str, Any]],
    column: str,
    prior: Callable[[str], float],
    pseudo_count: float = TF_PSEUDO_COUNT,
    leave_one_out: Callable[[str], bool] | None = None,
) -> Callable[[str], float]:
    """value -> smoothed frequency among the customers: ``(count + a * prior(value)) / (n + a)``.

    Splink's term-frequency adjustment replaces the exact-match u probability by the value's
    frequency, so "Müller" (common) counts less than "Przybilla" (rare). A small CRM cannot
    estimate frequencies (with 10 customers every name would have 10 %), so the counts are
    shrunk towards the prior (for names: their share in the German population, see
    :mod:`linker.identity.namefreq`) with ``a`` pseudo-records; with 100,000 customers the data dominate.
    Values that no customer has get ``a * prior(value) / (n + a)``.

    ``leave_one_out(value)``: for these values count the customers once less,
    ``(count - 1 + a * prior) / (n - 1 + a)``. That is the u of an *exact match* with a customer:
    the customer's own record is the one being compared, so it says nothing about how many *other*
    people carry the name. Without it a name held by one customer of 2,000 is estimated at 1 in
    2,000 however rare it is, and the rarest names, the strongest evidence there is, count little
    more than common ones. The caller applies it where the CRM is the only source on the name's
    rarity (names outside :mod:`linker.identity.namefreq`); for listed names the self-count is kept, which
    errs on the cautious side in small CRMs.
    """
    counts = Counter(r[column] for r in rows if r.get(column))
    n = len(rows)

    def tf(value: str) -> float:
        own = 1 if leave_one_out is not None and leave_one_out(value) else 0
        return (max(counts.get(value, 0) - own, 0) + pseudo_count * prior(value)) / (n - own + pseudo_count)

    return tf


def add_tf(rows: list[dict[str, Any]], column: str, tf: Callable[[str], float]) -> None:
    """Add ``tf_<column>`` to every row in place (None where the value is missing)."""
    key = "tf_" + column
    for row in rows:
        value = row.get(column)
        row[key] = None if value is None else tf(value)
