"""The two accuracies of the language detector (nlp.language): what each gets right and that the setting picks one."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlp import language
from nlp.language import detect_languages, get_detector, release_models, set_accuracy
from nlp.runtime import limit_malloc_arenas
from resonanz.core.settings import NlpSettings

SAMPLE = Path(__file__).parent / "data" / "languages.tsv"
"""42 short posts in the 16 detected languages (written for this test, not tuned on)."""


def _sample() -> list[tuple[str, str]]:
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        return [(row["language"], row["text"]) for row in csv.DictReader(fh, delimiter="\t")]


@pytest.fixture
def accuracy() -> Iterator[None]:
    yield
    set_accuracy("accurate")  # the process-wide default for the other tests


def _right(expected: list[tuple[str, str]]) -> int:
    found = detect_languages([text for _, text in expected])
    return sum(code == got for (code, _), got in zip(expected, found, strict=True))


def test_accurate_is_the_default_and_reads_short_posts(accuracy: None) -> None:
    assert NlpSettings().language_detection == "accurate"
    assert language._accuracy == "accurate"
    sample = _sample()
    assert len(sample) == 42
    assert _right(sample) >= 40  # measured 41 (one German "Danke!" stays undecided)


def test_light_is_another_detector_and_less_accurate_on_short_posts(accuracy: None) -> None:
    accurate = get_detector()
    set_accuracy("light")
    assert get_detector() is not accurate
    right = _right(_sample())
    assert 30 <= right < 41  # measured 38: "Mijn bestelling ..." stays Dutch, short French is taken for Dutch
    assert detect_languages(["Die Lieferung kam zwei Wochen zu spät und niemand hat sich gemeldet."]) == ["de"]
    set_accuracy("accurate")
    assert get_detector() is accurate  # each is built once per process


def test_unknown_accuracy_is_refused(accuracy: None) -> None:
    with pytest.raises(ValueError, match="accurate, light"):
        set_accuracy("fast")
    with pytest.raises(ValueError):
        NlpSettings(language_detection="fast")  # type: ignore[arg-type]


def test_arena_limit_is_applied_once() -> None:
    assert isinstance(limit_malloc_arenas(), bool)
    assert limit_malloc_arenas() == limit_malloc_arenas()


def test_released_models_load_again_and_detect_the_same(accuracy: None) -> None:
    texts = [text for _, text in _sample()]
    before = detect_languages(texts)
    detector = get_detector()
    release_models()
    assert get_detector() is detector
    assert detect_languages(texts) == before
