"""Offline language detection with lingua, restricted to the languages German-speaking businesses meet.

The detector is built once per process (building it loads the language models, which takes a
moment). Texts that are too short or too ambiguous get ``None`` instead of a guess.

Two accuracies (:func:`set_accuracy`, the setting ``nlp.language_detection``), a memory trade-off measured on
the 1,534 German tweets of the SB-10k and PotTS dev splits and 42 short posts in 16 languages
(``tests/nlp/data/languages.tsv``):

* ``accurate`` (default): lingua's high-accuracy mode (1- to 5-gram models). About 400 MB of memory for the 16
  languages; 97.1 % of the German tweets come out ``de`` (1.8 % undecided), 41 of the 42 short posts right.
* ``light``: lingua's low-accuracy mode (trigrams only). About 30 MB; 94.2 % of the German tweets come out
  ``de`` (the rest mostly Danish, Dutch or English), 38 of 42 short posts right. For machines where the scoring
  process must stay small (a backlog on a 2 GB box); long texts (over ~120 characters) are told apart almost
  as well as in the accurate mode.

The models load on first use and stay loaded. :func:`release_models` unloads them again: ``resonanz score`` detects
the languages of a whole window of pending posts first, then releases the models before the transformers run, so
that the two never occupy memory at the same time (:mod:`resonanz.pipeline.scoring`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

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


ACCURACIES = ("accurate", "light")
_accuracy = "accurate"
_detectors: dict[str, LanguageDetector] = {}
_lock = threading.Lock()


def set_accuracy(accuracy: str) -> None:
    """Choose the process-wide detector's accuracy (``accurate`` or ``light``, see the module docstring)."""
    global _accuracy
    if accuracy not in ACCURACIES:
        raise ValueError(f"unknown language detection accuracy {accuracy!r}; use one of {', '.join(ACCURACIES)}")
    _accuracy = accuracy


def get_detector() -> LanguageDetector:
    """The process-wide detector of the chosen accuracy (built on first use)."""
    return _detector(_accuracy)


def _detector(accuracy: str) -> LanguageDetector:
    with _lock:
        detector = _detectors.get(accuracy)
        if detector is None:
            log.debug("building the %s language detector for %d languages", accuracy, len(LANGUAGES))
            builder = LanguageDetectorBuilder.from_languages(*LANGUAGES)
            if accuracy == "light":
                builder = builder.with_low_accuracy_mode()
            detector = _detectors[accuracy] = builder.build()  # models load on first use (seconds)
        return detector


def release_models() -> None:
    """Unload the language models of every detector built so far (about 400 MB in the accurate mode). The
    detectors stay; their next detection loads the models again (a few seconds), with the same results."""
    with _lock:
        for detector in _detectors.values():
            detector.unload_language_models()  # type: ignore[no-untyped-call]  # lingua 2.1 leaves it untyped
    log.debug("language models released")


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
