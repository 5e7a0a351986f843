"""The evidence texts of a link, each with a stable code: written here, and read back by :func:`parse`.

The linker stores its evidence as German sentences (``IdentityLink.evidence``, a list of strings, e.g.
``Stadt Köln = Köln (Ort)``). Every sentence comes from one template of :data:`TEMPLATES`, so an application
can recover the code and the parameters of a stored sentence (:func:`parse`) and show it in another language;
nothing but these templates builds evidence text. A parameter can itself hold a sentence of this module
(``where`` = ``Köln (Ort)``, ``label`` = ``CRM-E-Mail``) or several joined by ``", "``/``"; "`` (:func:`parse_list`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Final

TEMPLATES: Final[dict[str, str]] = {
    # the name (explain.py)
    "name": "Name '{customer}' ~ '{shown}' (Jaro-Winkler {jw}): {parts}",
    "first_alt_handle": "Vorname laut Handle gleich ('{alt}')",
    "first_exact": "Vorname gleich",
    "first_nickname": "Vorname '{theirs}' ist Kurzform/Variante von '{ours}'",
    "first_fuzzy": "Vorname ähnlich ('{theirs}' ~ '{ours}', Tippfehler?)",
    "first_different": "Vorname verschieden ('{theirs}' ≠ '{ours}')",
    "first_null": "kein Vorname erkennbar",
    "initial": "Initiale '{initial}.' passt zu '{ours}'",
    "last_phonetic": "Nachname klingt gleich ('{theirs}' ~ '{ours}', Kölner Phonetik {code})",
    "last_fuzzy": "Nachname ähnlich ('{theirs}' ~ '{ours}', Tippfehler?)",
    "last_alt_handle": "Nachname laut Handle gleich ('{alt}', angezeigt '{theirs}')",
    "last_exact": "Nachname gleich",
    "last_different": "Nachname verschieden ('{theirs}' ≠ '{ours}')",
    "last_null": "kein Nachname erkennbar",
    # the place (explain.py, features.city_note)
    "city_same": "Stadt {city} = {where}",
    "city_contradicts": "Widerspruch: Stadt {city} ≠ {where}",
    "city_unknown": "Stadt {city} ≠ {where} (Ort unbekannt, kaum ein Gegenbeleg)",
    "place_location": "{place} (Ort)",
    "place_bio": "{place} (Bio)",
    "place_handle": "{place} (Handle)",
    "place_display": "{place} (Anzeigename)",
    # a shared contact (explain.py)
    "contact_local": "Name '{local}' aus Handle/Bio = CRM-E-Mail {email}",
    "contact_domain": "Domain {domain} in der Bio = Domain der CRM-E-Mail/-Website",
    "contact_shared": "gemeinsame Kontaktangabe in Bio und CRM",
    # the model's verdict (explain.py)
    "probability": "Wahrscheinlichkeit {probability} (Gewicht {weight} bit; {parts})",
    "bits_name": "Name {bits}",
    "bits_city": "Stadt {bits}",
    "bits_contact": "Kontakt {bits}",
    "bits_contradiction": "Widerspruch {bits}",
    "bits_prior": "Vorwissen {bits}",
    "competitors": "{n} weitere(r) Kandidat(en) mit ähnlichen Angaben - Wahrscheinlichkeit geteilt",
    # evidence against the match (contradictions.py)
    "contra_domain": "Widerspruch: E-Mail-Domain in der Bio {theirs} ≠ CRM-Domain {domains}",
    "contra_disclaimer": "Widerspruch: Profil grenzt sich ab ('nicht {words}')",
    # why a candidate waits for a person (pipeline.py)
    "review_contradicted": "Widerspruch ohne gemeinsamen Kontakt - nur zur Prüfung, nie automatisch",
    "review_namesakes": (
        "Nur der Name passt (kein Ort, kein Kontakt), und ihn tragen vermutlich weitere Menschen "
        "(erwartet: {many} in Deutschland) - nur zur Prüfung"
    ),
    "namesakes_many": "viele",
    "review_name_only": "Nur der Name passt (kein Ort, kein Kontakt) - zur Prüfung, automatisch erst ab {threshold}",
    # identifier matches (deterministic.py)
    "key_email": "E-Mail {found} im Profil von {platform} = {label} {raw}",
    "key_phone": "Telefon +{found} im Profil = {label} {raw}",
    "key_weak_handle": "Nutzername '{found}' = {label} '{raw}' (Plattform unbekannt - bitte prüfen)",
    "key_account": "{platform}-Konto {found} = {label} {raw}",
    "key_ambiguous": "Mehrdeutig: dieselbe Angabe passt zu {n} Kunden - bitte prüfen",
    "crm_email": "CRM-E-Mail",
    "crm_phone": "CRM-Telefon",
    "crm_handle": "CRM-Handle",
    "crm_profile_url": "CRM-Profil-URL",
}
"""code -> the German sentence with ``{name}`` parameters. A code never changes its meaning (stored data)."""

_NUMBER = r"[-+]?[\d.,]+"
_PATTERNS: Final = {"bits": _NUMBER, "jw": _NUMBER, "probability": _NUMBER, "weight": _NUMBER, "n": r"\d+",
                    "threshold": _NUMBER, "label": r"\S+", "code": r"\S+"}  # fmt: skip
"""Parameters that are numbers or single words (``Name +16.2`` is a weight, ``Name 'Max' ~ ...`` is not)."""
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sentence of evidence: its code and parameters."""

    code: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        return TEMPLATES[self.code].format(**dict(self.params))


def text(evidence_code: str, /, **params: object) -> str:
    """The sentence of a code (the stored form), e.g. ``text("city_same", city="Köln", where="Köln")``."""
    return TEMPLATES[evidence_code].format(**{k: str(v) for k, v in params.items()})


@lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for code, template in TEMPLATES.items():
        pattern, last = "", 0
        for m in _FIELD.finditer(template):
            pattern += re.escape(template[last : m.start()]) + f"(?P<{m.group(1)}>{_PATTERNS.get(m.group(1), '.+?')})"
            last = m.end()
        out.append((code, re.compile(f"^{pattern}{re.escape(template[last:])}$", re.DOTALL)))
    return tuple(out)


def parse(sentence: str) -> Evidence | None:
    """The code and parameters of a stored sentence; None for a text that no template wrote."""
    for code, pattern in _compiled():
        m = pattern.match(sentence)
        if m:
            return Evidence(code, tuple(m.groupdict().items()))
    return None


def parse_list(joined: str, separator: str) -> list[Evidence] | None:
    """Several sentences joined by ``separator`` (a sentence may contain it: ``('Max' ~ 'Maxi', Tippfehler?)``);
    None unless every piece is a sentence of this module."""
    pieces = joined.split(separator)
    if len(pieces) < 2:
        return None

    @cache
    def from_(i: int) -> tuple[Evidence, ...] | None:
        if i == len(pieces):
            return ()
        for j in range(i + 1, len(pieces) + 1):
            head = parse(separator.join(pieces[i:j]))
            rest = from_(j) if head is not None else None
            if head is not None and rest is not None:
                return (head, *rest)
        return None

    found = from_(0)
    return list(found) if found is not None else None
