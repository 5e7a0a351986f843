"""Reasons and evidence that the library packages write, shown in the interface language.

The packages (``nlp``, ``linker``) know nothing of the catalogue: they store their own German sentences together
with a stable code (a flag's ``code`` in its stored dict, :func:`nlp.flags.reason_code`; a link's evidence sentence
read back by :func:`linker.identity.evidence.parse`). Here each code has an English msgid (registered with ``N_``,
translated by ``messages.po``), and the display functions below turn a stored reason into the current language
at the moment it is shown. Stored data stays as the packages wrote it; a text nobody registered (a reason from
a user's own flags file, an unknown code) is shown as it was stored.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from linker.identity.evidence import Evidence, parse, parse_list
from nlp.flags import reason_code
from resonanz.core import i18n
from resonanz.core.i18n import N_, _

log = logging.getLogger(__name__)

FLAG_REASONS: Final = {
    "churn": N_("Intends to cancel or switch"),
    "complaint": N_("Complaint"),
    "offensive": N_("Offensive or abusive language"),
    "spam": N_("Spam, phishing or fraud"),
    "question": N_("Question waiting for an answer"),
    "legal": N_("Legal threat or consumer protection"),
    "safety": N_("Possible safety or health risk"),
    "data_breach": N_("Possible data protection incident"),
    "abusive_words": N_("Abusive words"),
    "strongly_negative": N_("Strongly negative post"),
    # written by the application (resonanz/review/corrections.py, resonanz/pipeline/duplicates.py,
    # resonanz/pipeline/key_customers.py)
    "key_customer": N_("Negative post by a class {abc_class} customer"),
    "key_customer_reply": N_("Class {abc_class} customer replies to the brand"),
    "correction": N_("Correction by {actor}"),
    "copy_paste": N_("Same text from {accounts} accounts (copy-paste spam, phishing?)"),
}
"""Reason code (the flag's name for the packages' own reasons) -> English msgid; ``{name}`` from ``params``."""

EVIDENCE_SOURCES: Final = {"review": N_("review item"), "model": N_("model"), "topic": N_("topic")}
"""Where a line of the item page's "why it is flagged" table comes from."""

LINK_EVIDENCE: Final = {
    "name": N_("Name '{customer}' ~ '{shown}' (Jaro-Winkler {jw}): {parts}"),
    "first_alt_handle": N_("first name the same according to the handle ('{alt}')"),
    "first_exact": N_("first name the same"),
    "first_nickname": N_("first name '{theirs}' is a short form or variant of '{ours}'"),
    "first_fuzzy": N_("first name similar ('{theirs}' ~ '{ours}', typo?)"),
    "first_different": N_("first name different ('{theirs}' ≠ '{ours}')"),
    "first_null": N_("no first name recognisable"),
    "initial": N_("initial '{initial}.' fits '{ours}'"),
    "last_phonetic": N_("last name sounds the same ('{theirs}' ~ '{ours}', Cologne phonetics {code})"),
    "last_fuzzy": N_("last name similar ('{theirs}' ~ '{ours}', typo?)"),
    "last_alt_handle": N_("last name the same according to the handle ('{alt}', shown '{theirs}')"),
    "last_exact": N_("last name the same"),
    "last_different": N_("last name different ('{theirs}' ≠ '{ours}')"),
    "last_null": N_("no last name recognisable"),
    "city_same": N_("City {city} = {where}"),
    "city_contradicts": N_("Contradiction: city {city} ≠ {where}"),
    "city_unknown": N_("City {city} ≠ {where} (place unknown, hardly evidence against)"),
    "place_location": N_("{place} (location)"),
    "place_bio": N_("{place} (bio)"),
    "place_handle": N_("{place} (handle)"),
    "place_display": N_("{place} (display name)"),
    "contact_local": N_("Name '{local}' from handle/bio = CRM e-mail {email}"),
    "contact_domain": N_("Domain {domain} in the bio = domain of the CRM e-mail/website"),
    "contact_shared": N_("contact detail shared by bio and CRM"),
    "probability": N_("Probability {probability} (weight {weight} bits; {parts})"),
    "bits_name": N_("name {bits}"),
    "bits_city": N_("city {bits}"),
    "bits_contact": N_("contact {bits}"),
    "bits_contradiction": N_("contradiction {bits}"),
    "bits_prior": N_("prior {bits}"),
    "competitors": N_("{n} more candidate(s) with similar details - probability shared"),
    "contra_domain": N_("Contradiction: e-mail domain in the bio {theirs} ≠ CRM domain {domains}"),
    "contra_disclaimer": N_("Contradiction: the profile says it is someone else ('not {words}')"),
    "review_contradicted": N_("Contradiction without a shared contact - for review only, never automatic"),
    "review_namesakes": N_(
        "Only the name fits (no place, no contact), and other people probably bear it (expected: {many} in "
        "Germany) - for review only"
    ),
    "namesakes_many": N_("many"),
    "review_name_only": N_("Only the name fits (no place, no contact) - for review, automatic only from {threshold}"),
    "key_email": N_("E-mail {found} in the {platform} profile = {label} {raw}"),
    "key_phone": N_("Phone +{found} in the profile = {label} {raw}"),
    "key_weak_handle": N_("User name '{found}' = {label} '{raw}' (platform unknown - please check)"),
    "key_account": N_("{platform} account {found} = {label} {raw}"),
    "key_ambiguous": N_("Ambiguous: the same detail fits {n} customers - please check"),
    "crm_email": N_("CRM e-mail"),
    "crm_phone": N_("CRM phone"),
    "crm_handle": N_("CRM handle"),
    "crm_profile_url": N_("CRM profile URL"),
}
"""Evidence code (:data:`linker.identity.evidence.TEMPLATES`) -> English msgid with the same parameters."""

NUMBER_PARAMS: Final = frozenset({"jw", "bits", "probability", "weight", "threshold", "n"})
"""Evidence parameters that the linker writes as numbers with a decimal point (``0.93``, ``+16.2``)."""
_DECIMAL: Final = re.compile(r"^([-+]?)(\d+)(?:\.(\d+))?$")

_SEPARATORS: Final = ("; ", ", ")
"""How the linker joins several sentences into one (contacts; the name's parts; the weights)."""


def _format(msgid: str, params: Mapping[str, Any]) -> str:
    try:
        return _(msgid).format(**params).strip()
    except (KeyError, IndexError, ValueError):  # stored parameters that do not fit (an older version's)
        log.debug("reason %r: parameters %r do not fit", msgid, params)
        return msgid


def flag_reason(raw: Mapping[str, Any]) -> str:
    """A stored flag's reason (``{"flag", "reason", "code", "params"}``) in the current language.

    Without a stored ``code`` (rows written before codes were stored) the packages' own reasons are recognised
    by :func:`nlp.flags.reason_code`; any other text is shown as stored, after a look into the catalogue (a
    stored English msgid is translated).
    """
    reason = str(raw.get("reason") or "")
    code = raw.get("code") or reason_code(str(raw.get("flag") or ""), reason)
    if isinstance(code, str) and code in FLAG_REASONS:
        params = raw.get("params")
        return _format(FLAG_REASONS[code], params if isinstance(params, Mapping) else {})
    return _(reason) if reason else ""


def evidence_source(source: str) -> str:
    return _(EVIDENCE_SOURCES[source]) if source in EVIDENCE_SOURCES else source


def evidence_number(value: str) -> str:
    """A stored number (``0.93``, ``+16.2``, ``0.9712``) in the current language's format with the same decimals
    and sign (``0,93``, ``+16,2``); anything else as stored."""
    match = _DECIMAL.match(value)
    if match is None:
        return value
    sign, _whole, decimals = match.groups()
    shown = i18n.number(float(value), len(decimals or ""))
    return "+" + shown if sign == "+" else shown


def _evidence(evidence: Evidence) -> str:
    msgid = LINK_EVIDENCE.get(evidence.code)
    if msgid is None:
        return evidence.text
    params = {
        name: evidence_number(value) if name in NUMBER_PARAMS else link_sentence(value)
        for name, value in evidence.params
    }
    return _format(msgid, params)


def link_sentence(sentence: str) -> str:
    """One stored evidence sentence of a link in the current language (its parts too); unknown text as stored."""
    parsed = parse(sentence)
    if parsed is not None:
        return _evidence(parsed)
    for separator in _SEPARATORS:
        if separator in sentence:
            parts = parse_list(sentence, separator)
            if parts is not None:
                return separator.join(_evidence(p) for p in parts)
    return sentence


def link_evidence(sentences: Iterable[str] | None) -> list[str]:
    """A link's stored evidence (``IdentityLink.evidence``) in the current language."""
    return [link_sentence(str(s)) for s in sentences or ()]
