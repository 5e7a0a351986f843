"""The offensive cascade (issue 12): the second model reads exactly the posts the head gives at least the gate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from nlp.offensive import OffensiveCascade, OffensiveClassifier


class _Second(OffensiveClassifier):
    """A second model that says 0.9 for texts with "!" and 0.1 otherwise, and remembers what it read."""

    def __init__(self) -> None:
        super().__init__("fake")
        self.read: list[str] = []

    def p_offensive(self, texts: Sequence[str]) -> np.ndarray:
        self.read.extend(texts)
        return np.array([0.9 if "!" in t else 0.1 for t in texts])


def test_only_posts_at_or_above_the_gate_reach_the_second_model() -> None:
    second = _Second()
    cascade = OffensiveCascade(second, gate=0.25)
    texts = ["a", "b!", "c", "d!", "e"]
    head = np.array([0.10, 0.30, 0.25, 0.05, 0.60])
    out = cascade.refine(texts, head)
    # b (0.30) and c (0.25, at the gate) and e (0.60) are read again; a and d stay with the head
    assert second.read == ["b!", "c", "e"]
    np.testing.assert_allclose(out, [0.10, 0.9, 0.1, 0.05, 0.1])
    assert cascade.sent == 3
    np.testing.assert_allclose(head, [0.10, 0.30, 0.25, 0.05, 0.60])  # the head's array is not changed


def test_nothing_above_the_gate_means_no_second_pass() -> None:
    second = _Second()
    head = np.array([0.01, 0.2])
    assert OffensiveCascade(second).refine(["x", "y!"], head) is head
    assert second.read == []


@pytest.mark.parametrize("gate", [-0.1, 0.5, 0.9])
def test_a_gate_outside_0_to_half_is_refused(gate: float) -> None:
    with pytest.raises(ValueError, match="gate"):
        OffensiveCascade(_Second(), gate=gate)


@pytest.mark.slow
def test_the_default_analyzer_reads_offensive_language_with_the_cascade() -> None:
    from nlp.pipeline import Analyzer

    analyzer = Analyzer.create(detect_language=False, progress=False)
    analyzer.load()
    cascade = analyzer.offensive_cascade
    assert cascade is not None and f"+offc-{cascade.version[:8]}" in analyzer.version
    assert analyzer._lexical is None or analyzer._lexical.offensive is None  # the second model replaces it
    texts = ["Verpisst euch, ihr gierigen Drecksäcke.", "Die neue Tarifübersicht ist übersichtlich, danke."]
    results = analyzer.analyse(texts)
    p = [r.p_offensive for r in results]
    assert p[0] is not None and p[0] > 0.8 and p[1] is not None and p[1] < 0.25
    assert cascade.sent == 1  # only the insult went to the second model
    plain = Analyzer.create(detect_language=False, progress=False, offensive_second_model=None)
    plain.load()
    assert plain.offensive_cascade is None and "+offc-" not in plain.version
