"""A scoring chunk is analysed ``nlp.analyse_batch`` posts at a time, in order (the working memory is bounded)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resonanz.pipeline.scoring import _analyse


class RecordingAnalyzer:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], list[str | None] | None]] = []

    def analyse(self, texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[Any]:
        self.calls.append((list(texts), list(languages) if languages is not None else None))
        return [f"analysis of {t}" for t in texts]


def test_chunk_is_analysed_in_batches_in_order() -> None:
    rows = [(i, f"Post {i}", None, "de" if i == 5 else None) for i in range(1, 11)]
    analyzer = RecordingAnalyzer()
    out: list[Any] = _analyse(analyzer, rows, 4)  # type: ignore[arg-type]
    assert out == [f"analysis of Post {i}" for i in range(1, 11)]
    assert [len(texts) for texts, _ in analyzer.calls] == [4, 4, 2]
    # stored languages travel with their posts; a batch without any is detected as a whole
    assert analyzer.calls[1][1] == ["de", None, None, None]  # posts 5-8
    assert analyzer.calls[0][1] is None and analyzer.calls[2][1] is None


def test_title_joins_the_text() -> None:
    analyzer = RecordingAnalyzer()
    _analyse(analyzer, [(1, "Text", "Titel", None)], 256)  # type: ignore[arg-type]
    assert analyzer.calls[0][0] == ["Titel\nText"]
