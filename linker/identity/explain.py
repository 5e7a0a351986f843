"""Human-readable evidence for a probabilistic link (German), one string per piece of evidence.

Example::

    Name 'Max Müller' ~ 'max_mueller87' (Jaro-Winkler 0.93): Vorname gleich, Nachname gleich
    Stadt Köln = Köln
    Wahrscheinlichkeit 0.987 (Gewicht +6.3 bit; Name +16.2, Stadt +5.2, Vorwissen -15.1)

Evidence against the match starts with "Widerspruch:" ("Widerspruch: Stadt Köln ≠ Hamburg (Ort)").
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler

from linker.identity.evidence import text
from linker.identity.names import ParsedName, handle_user
from linker.identity.normalise import fold, name_tokens
from linker.identity.phonetics import koelner_phonetik
from linker.identity.probabilistic import Candidate
from linker.identity.records import CustomerRecord, IdentityRecord


def _title(token: str | None) -> str:
    return token.capitalize() if token else "?"


def _first_token(text: str) -> str:
    tokens = name_tokens(text)
    return tokens[0] if tokens else ""


def _last_token(text: str) -> str:
    tokens = name_tokens(text)
    return tokens[-1] if tokens else ""


def _first_text(level: str, customer: CustomerRecord, name: ParsedName) -> str:
    theirs = _title(name.first)
    ours = customer.first_name or "?"
    if level == "exact" and name.alt_first and name.first != _first_token(ours):
        return text("first_alt_handle", alt=_title(name.alt_first))
    code = {"exact": "first_exact", "nickname": "first_nickname", "fuzzy": "first_fuzzy", "initial": "initial",
            "different": "first_different", "null": "first_null"}[level]  # fmt: skip
    return text(code, theirs=theirs, ours=ours, initial=theirs[0])


def _last_text(level: str, customer: CustomerRecord, name: ParsedName) -> str:
    theirs = _title(name.last)
    ours = customer.last_name or "?"
    if level == "phonetic":
        code = koelner_phonetik(name.last)
        if code and code == koelner_phonetik(fold(ours)):
            return text("last_phonetic", theirs=theirs, ours=ours, code=code)
        return text("last_fuzzy", theirs=theirs, ours=ours)
    if level == "exact" and name.alt_last and name.last != _last_token(ours):
        return text("last_alt_handle", alt=_title(name.alt_last), theirs=theirs)
    code = {"exact": "last_exact", "initial": "initial", "different": "last_different", "null": "last_null"}[level]
    return text(code, theirs=theirs, ours=ours, initial=theirs[0])


def _shown_name(identity: IdentityRecord, name: ParsedName) -> str:
    if name.source == "handle":
        return handle_user(identity.handle)
    if name.alt_last:
        return f"{identity.display_name} / {handle_user(identity.handle)}"
    if name.source == "display+handle":
        return f"{identity.display_name} / {handle_user(identity.handle)}"
    return identity.display_name or ""


def _contact_text(shared: list[str], customer: CustomerRecord) -> str:
    parts = []
    for key in shared:
        kind, _, value = key.partition(":")
        if kind == "local":
            email = next((e for e in customer.emails if fold(e.rpartition("@")[0]).replace(" ", "") == value), None)
            parts.append(text("contact_local", local=value, email=email or value))
        else:
            parts.append(text("contact_domain", domain=value))
    return "; ".join(parts) if parts else text("contact_shared")


def explain(
    candidate: Candidate,
    probability: float,
    customer: CustomerRecord,
    identity: IdentityRecord,
    name: ParsedName,
    competitors: int = 0,
    shared_contacts: list[str] | None = None,
    city_note: str | None = None,
) -> list[str]:
    """The evidence list stored with the link."""
    evidence: list[str] = []
    lv = candidate.levels
    if lv["first_name"] != "null" or lv["last_name"] != "null":
        shown = _shown_name(identity, name)
        jw = JaroWinkler.similarity(fold(customer.full_name), fold(" ".join(p for p in (name.first, name.last) if p)))
        parts = [_first_text(lv["first_name"], customer, name), _last_text(lv["last_name"], customer, name)]
        evidence.append(text("name", customer=customer.full_name, shown=shown, jw=f"{jw:.2f}", parts=", ".join(parts)))
    where = city_note or identity.location
    if lv["city"] == "exact":
        evidence.append(text("city_same", city=customer.city, where=where))
    elif lv["city"] == "contradicts":
        evidence.append(text("city_contradicts", city=customer.city, where=where))
    elif lv["city"] == "unknown":
        evidence.append(text("city_unknown", city=customer.city, where=where))
    if lv["contact"] == "shared":
        evidence.append(_contact_text(shared_contacts or [], customer))
    evidence.extend(candidate.contradictions)
    name_bits = candidate.bits["first_name"] + candidate.bits["last_name"]
    other = {
        "bits_city": candidate.bits["city"],
        "bits_contact": candidate.bits["contact"],
        "bits_contradiction": candidate.bits.get("contradiction", 0.0),
    }
    prior = candidate.match_weight - name_bits - sum(other.values())
    parts = [text("bits_name", bits=f"{name_bits:+.1f}")]
    parts += [text(k, bits=f"{v:+.1f}") for k, v in other.items() if v] + [text("bits_prior", bits=f"{prior:+.1f}")]
    evidence.append(
        text(
            "probability",
            probability=f"{probability:.4f}",
            weight=f"{candidate.match_weight:+.1f}",
            parts=", ".join(parts),
        )
    )
    if competitors:
        evidence.append(text("competitors", n=competitors))
    return evidence
