"""Offline language detection with lingua, restricted to the languages German-speaking businesses meet.

The detector is built once per process (building it loads the language models, which takes a
moment). Texts that are too short or too ambiguous get ``None`` instead of a guess.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

log = logging.getLogger(__name__)

LANGUAGES: tuple[Language, ...] = (
    Language.GERMAN,
    Language.ENGLISH,
    Language.FRENCH,
    Language.ITALIAN,
    Language.DUTCH,
    Language.SPANISH,
    Language.PORTUGUESE,
    Language.POLISH,
    Language.CZECH,
    Language.DANISH,
    Language.SWEDISH,
    Language.TURKISH,
    Language.RUSSIAN,
    Language.UKRAINIAN,
    Language.CROATIAN,
    Language.ARABIC,
)
"""German and its neighbours, plus the largest immigrant languages in Germany, Austria and Switzerland."""

PRIOR_WEIGHTS: dict[Language, float] = {Language.GERMAN: 3.0, Language.ENGLISH: 2.0}
"""Prior odds against the other languages (weight 1): posts about German-speaking businesses are mostly German,
then English. lingua's confidences assume equal priors, which leaves short German posts ("Danke!") undecided."""

MIN_CONFIDENCE = 0.45
"""Below this (prior-weighted) confidence in the most likely language the result is ``None`` (undetermined)."""

UNDETERMINED = "und"
"""ISO 639 code for 'undetermined', for callers that need a string instead of ``None``."""


@lru_cache(maxsize=1)
def get_detector() -> LanguageDetector:
    """The process-wide detector (built on first use)."""
    log.debug("building the language detector for %d languages", len(LANGUAGES))
    return LanguageDetectorBuilder.from_languages(*LANGUAGES).build()  # models load on first use (seconds)


def _code(language: Language) -> str:
    iso: IsoCode639_1 = language.iso_code_639_1
    return str(iso.name).lower()


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def detect_language(text: str, min_confidence: float = MIN_CONFIDENCE) -> str | None:
    """The ISO 639-1 code of ``text``'s language (``"de"``), or None if it cannot be told with confidence."""
    return detect_languages([text], min_confidence)[0]


def detect_languages(texts: Sequence[str], min_confidence: float = MIN_CONFIDENCE) -> list[str | None]:
    """:func:`detect_language` for many texts at once (parallel inside lingua)."""
    wanted = [i for i, t in enumerate(texts) if _has_letters(t)]
    out: list[str | None] = [None] * len(texts)
    if not wanted:
        return out
    detector = get_detector()
    values = detector.compute_language_confidence_values_in_parallel([texts[i] for i in wanted])
    for i, confidences in zip(wanted, values, strict=True):
        weighted = [(c.value * PRIOR_WEIGHTS.get(c.language, 1.0), c.language) for c in confidences]
        total = sum(w for w, _ in weighted)
        if total <= 0:
            continue
        best, language = max(weighted, key=lambda pair: pair[0])
        if best / total >= min_confidence:
            out[i] = _code(language)
    return out
