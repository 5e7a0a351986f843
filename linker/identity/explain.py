"""Human-readable evidence for a probabilistic link (German), one string per piece of evidence.

Example::

    Name 'Max Müller' ~ 'max_mueller87' (Jaro-Winkler 0.93): Vorname gleich, Nachname gleich
    Stadt Köln = Köln
    Wahrscheinlichkeit 0.987 (Gewicht +6.3 bit; Name +16.2, Stadt +5.2, Vorwissen -15.1)

Evidence against the match starts with "Widerspruch:" ("Widerspruch: Stadt Köln ≠ Hamburg (Ort)").
"""

from __future__ import annotations

from rapidfuzz.distance import JaroWinkler

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
        return f"Vorname laut Handle gleich ('{_title(name.alt_first)}')"
    return {
        "exact": "Vorname gleich",
        "nickname": f"Vorname '{theirs}' ist Kurzform/Variante von '{ours}'",
        "fuzzy": f"Vorname ähnlich ('{theirs}' ~ '{ours}', Tippfehler?)",
        "initial": f"Initiale '{theirs[0]}.' passt zu '{ours}'",
        "different": f"Vorname verschieden ('{theirs}' ≠ '{ours}')",
        "null": "kein Vorname erkennbar",
    }[level]


def _last_text(level: str, customer: CustomerRecord, name: ParsedName) -> str:
    theirs = _title(name.last)
    ours = customer.last_name or "?"
    if level == "phonetic":
        code = koelner_phonetik(name.last)
        if code and code == koelner_phonetik(fold(ours)):
            return f"Nachname klingt gleich ('{theirs}' ~ '{ours}', Kölner Phonetik {code})"
        return f"Nachname ähnlich ('{theirs}' ~ '{ours}', Tippfehler?)"
    if level == "exact" and name.alt_last and name.last != _last_token(ours):
        return f"Nachname laut Handle gleich ('{_title(name.alt_last)}', angezeigt '{theirs}')"
    return {
        "exact": "Nachname gleich",
        "initial": f"Initiale '{theirs[0]}.' passt zu '{ours}'",
        "different": f"Nachname verschieden ('{theirs}' ≠ '{ours}')",
        "null": "kein Nachname erkennbar",
    }[level]


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
            parts.append(f"Name '{value}' aus Handle/Bio = CRM-E-Mail {email or value}")
        else:
            parts.append(f"Domain {value} in der Bio = Domain der CRM-E-Mail/-Website")
    return "; ".join(parts) if parts else "gemeinsame Kontaktangabe in Bio und CRM"


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
        evidence.append(f"Name '{customer.full_name}' ~ '{shown}' (Jaro-Winkler {jw:.2f}): {', '.join(parts)}")
    where = city_note or identity.location
    if lv["city"] == "exact":
        evidence.append(f"Stadt {customer.city} = {where}")
    elif lv["city"] == "contradicts":
        evidence.append(f"Widerspruch: Stadt {customer.city} ≠ {where}")
    elif lv["city"] == "unknown":
        evidence.append(f"Stadt {customer.city} ≠ {where} (Ort unbekannt, kaum ein Gegenbeleg)")
    if lv["contact"] == "shared":
        evidence.append(_contact_text(shared_contacts or [], customer))
    evidence.extend(candidate.contradictions)
    name_bits = candidate.bits["first_name"] + candidate.bits["last_name"]
    other = {
        "Stadt": candidate.bits["city"],
        "Kontakt": candidate.bits["contact"],
        "Widerspruch": candidate.bits.get("contradiction", 0.0),
    }
    prior = candidate.match_weight - name_bits - sum(other.values())
    parts = [f"Name {name_bits:+.1f}"] + [f"{k} {v:+.1f}" for k, v in other.items() if v] + [f"Vorwissen {prior:+.1f}"]
    evidence.append(
        f"Wahrscheinlichkeit {probability:.4f} (Gewicht {candidate.match_weight:+.1f} bit; {', '.join(parts)})"
    )
    if competitors:
        evidence.append(f"{competitors} weitere(r) Kandidat(en) mit ähnlichen Angaben - Wahrscheinlichkeit geteilt")
    return evidence
