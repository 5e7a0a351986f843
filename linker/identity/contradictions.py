"""Evidence against a match that the comparison levels cannot see, and whether a name can identify anybody.

The Fellegi-Sunter model (:mod:`linker.identity.model`) counts a contradicting *place* itself (another
known city, -4.1 bits). Two more contradictions need the raw records, so they are checked per
candidate pair after scoring:

* **Another own e-mail domain.** The bio gives an address at a non-freemail domain
  (``t.brandt@foto-brandt.de``) and the customer's addresses in the CRM are at non-freemail
  domains (``hotel-rheinblick.de``), and the two sides share none. Own domains belong to a company
  or a person; a different one says "works somewhere else". It is not proof (a second business, a
  new employer the CRM does not know yet), so it weighs :data:`OTHER_DOMAIN_BITS`: m = 0.2 (one
  owner in five shows another own domain than the CRM has), u = 1.0 (different people nearly
  always do), log2(0.2) = -2.3 bits. Freemail addresses (``web.de``) say nothing about an
  employer and are ignored.
* **A profile that says it is someone else.** "Wir sind NICHT das Hotel Rheinblick in Köln",
  "nicht zu verwechseln mit Hotel Rheinblick": a negation followed, within the same clause, by the
  customer's company (its name without the legal form, or the name part of its e-mail domain,
  compared without spaces and hyphens). That rules the pair out (:func:`disclaims`). Only the
  company counts, not a person's name: "nicht DER Thomas Müller" is what a Thomas Müller writes
  to say he is not the footballer, and he may well be the customer.

Every decision that leans on a name alone also asks :func:`linker.identity.namefreq.expected_namesakes`
whether other people plausibly bear it (see :mod:`linker.identity.decide`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from linker.identity.evidence import text
from linker.identity.features import name_spellings
from linker.identity.namefreq import expected_namesakes, first_name_share, last_name_share, level_share
from linker.identity.normalise import (
    emails_in,
    fold,
    fold_compact,
    normalise_email,
    personal_domain,
    url_host,
    urls_in,
)
from linker.identity.probabilistic import Candidate
from linker.identity.records import CustomerRecord, IdentityRecord

OTHER_DOMAIN_M = 0.2
OTHER_DOMAIN_U = 1.0
OTHER_DOMAIN_BITS = math.log2(OTHER_DOMAIN_M / OTHER_DOMAIN_U)
"""log2(m/u) of "the bio's own e-mail domain is not one the CRM has for this customer" (-2.3 bits)."""

NEGATIONS = frozenset({"nicht", "kein", "keine", "keinen", "keinem", "keiner", "not", "no", "weder", "nie", "never"})
CLAUSE_END = re.compile(r"[.!?;:|·•\n()]")
SPAN_WORDS = 8
"""Words after a negation that still belong to it ("nicht zu verwechseln mit dem Hotel Rheinblick")."""
LEGAL_FORMS = frozenset(
    {"gmbh", "mbh", "ag", "kg", "ug", "ohg", "gbr", "ev", "ek", "co", "se", "kgaa", "haftungsbeschraenkt"}
)
MIN_COMPANY_KEY = 5
"""Shorter company keys ("ab", "bau") would match ordinary words."""
_TLD = re.compile(r"\.[a-z]{2,}$")


def own_email_domains(text: str | None) -> set[str]:
    """Non-freemail domains of the e-mail addresses in ``text``: "Kontakt: tb@foto-brandt.de" -> {"foto-brandt.de"}."""
    out = set()
    for email in emails_in(text):
        domain = personal_domain(email)
        if domain:
            out.add(domain)
    return out


def customer_domains(customer: CustomerRecord) -> set[str]:
    """The customer's non-freemail e-mail domains (a company's domain counts even if colleagues share it)."""
    out = set()
    for raw in customer.emails:
        email = normalise_email(raw)
        domain = personal_domain(email) if email else None
        if domain:
            out.add(domain)
    return out


def other_domain(ours: set[str], theirs_email: set[str], theirs_any: Iterable[str] = ()) -> str | None:
    """The identity's own e-mail domain when it contradicts the customer's, else None.

    A contradiction needs an own e-mail domain on both sides and no domain in common; a website
    of the customer's domain in the bio (``theirs_any``, e.g. URL hosts) counts as in common.
    """
    if not ours or not theirs_email or ours & (theirs_email | set(theirs_any)):
        return None
    return min(theirs_email)


def company_keys(customer: CustomerRecord) -> set[str]:
    """Compact keys naming the customer's company: its name without the legal form, and the name part of
    its own e-mail domains ("Hotel Rheinblick GmbH", ``@hotel-rheinblick.de`` -> {"hotelrheinblick"}).

    A key that only spells the person's name (``max-mueller.de``) is left out: "nicht der Max Müller
    aus dem Fernsehen" is what Max Müller writes, not a disclaimer of the customer.
    """
    keys = set()
    if customer.company:
        words = [w for w in fold(customer.company).split() if w not in LEGAL_FORMS]
        keys.add("".join(words))
    for domain in customer_domains(customer):
        keys.add(fold_compact(_TLD.sub("", domain).split(".")[-1]))
    spelled = name_spellings(customer.first_name, customer.last_name)
    return {k for k in keys if len(k) >= MIN_COMPANY_KEY and k not in spelled}


def disclaimer_spans(text: str | None) -> list[tuple[str, ...]]:
    """The folded words after each negation up to the end of its clause (at most :data:`SPAN_WORDS`).

    "Wir sind NICHT das Hotel Rheinblick in Köln!" -> [("das", "hotel", "rheinblick", "in", "koeln")].
    """
    spans: list[tuple[str, ...]] = []
    for clause in CLAUSE_END.split(text or ""):
        words = [fold(w) for w in re.findall(r"[^\W_]+", clause)]
        for i, word in enumerate(words):
            if word in NEGATIONS:
                span = tuple(words[i + 1 : i + 1 + SPAN_WORDS])
                if span:
                    spans.append(span)
    return spans


def disclaims(spans: list[tuple[str, ...]], keys: set[str]) -> tuple[str, ...] | None:
    """The first span that names one of the company ``keys`` (1-3 consecutive words, joined), else None."""
    if not keys:
        return None
    for span in spans:
        for n in (1, 2, 3):
            for i in range(len(span) - n + 1):
                if "".join(span[i : i + n]) in keys:
                    return span
    return None


def bio_hosts(urls: Iterable[str]) -> set[str]:
    """Hosts of the URLs in a bio (``https://www.foto-brandt.de/kontakt`` -> "foto-brandt.de")."""
    return {h for h in (url_host(u) for u in urls) if h}


def name_namesakes(candidate: Candidate, first: str | None, last: str | None) -> float:
    """Expected bearers of the customer's name (folded ``first``/``last``) as far as it matched."""
    lv = candidate.levels
    f = level_share(first, lv.get("first_name", "null"), first_name_share(first or ""))
    la = level_share(last, lv.get("last_name", "null"), last_name_share(last or ""))
    return expected_namesakes(f, la)


def annotate(
    candidates: Sequence[Candidate],
    customers: Mapping[int, CustomerRecord],
    identities: Mapping[int, IdentityRecord],
    customer_rows: Mapping[int, Mapping[str, Any]],
) -> list[Candidate]:
    """Each candidate with its contradictions, their bits added to the weight, and its expected namesakes."""
    domains: dict[int, set[str]] = {}
    companies: dict[int, set[str]] = {}
    bios: dict[int, tuple[set[str], set[str], list[tuple[str, ...]]]] = {}
    out = []
    for cand in candidates:
        cid, iid = cand.customer_id, cand.identity_id
        customer, identity = customers[cid], identities[iid]
        if cid not in domains:
            domains[cid], companies[cid] = customer_domains(customer), company_keys(customer)
        if iid not in bios:
            bio = identity.bio
            bios[iid] = (own_email_domains(bio), bio_hosts(urls_in(bio)), disclaimer_spans(bio))
        email_domains, hosts, spans = bios[iid]
        notes: list[str] = []
        bits = 0.0
        theirs = other_domain(domains[cid], email_domains, hosts)
        if theirs:
            notes.append(text("contra_domain", theirs=theirs, domains=", ".join(sorted(domains[cid]))))
            bits += OTHER_DOMAIN_BITS
        disclaimer = disclaims(spans, companies[cid])
        if disclaimer:
            notes.append(text("contra_disclaimer", words=" ".join(disclaimer)))
        row = customer_rows[cid]
        out.append(
            replace(
                cand,
                match_weight=cand.match_weight + bits,
                bits={**cand.bits, "contradiction": bits} if bits else cand.bits,
                contradictions=tuple(notes),
                ruled_out=disclaimer is not None,
                expected_namesakes=name_namesakes(cand, row.get("first_name"), row.get("last_name")),
            )
        )
    return out
