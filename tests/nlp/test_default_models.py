"""The real models: the converted e5-small (always available offline) and helper-trained default classifiers.

Marked slow (they load ~470 MB models); CI runs them. The classifier tests skip only while the
shipped weights (nlp/weights/*.safetensors) are not part of the checkout yet.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp import default_model
from nlp.embedder import Embedder
from nlp.offensive import OffensiveClassifier
from nlp.pipeline import Analyzer
from nlp.preprocess import prepare
from nlp.scorer import TransformerScorer
from nlp.topics import TopicModel

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "topic_posts.jsonl"
needs_sentiment = pytest.mark.skipif(
    not default_model.SENTIMENT_WEIGHTS.is_file(),
    reason="the shipped sentiment weights nlp/weights/sentiment.safetensors are not in this checkout yet",
)
needs_offensive = pytest.mark.skipif(
    not default_model.OFFENSIVE_WEIGHTS.is_file(),
    reason="the shipped offensive-language weights nlp/weights/offensive.safetensors are not in this checkout yet",
)
GERMAN = [
    "Absolute Katastrophe, die Lieferung kam kaputt an und niemand antwortet. Nie wieder!",
    "Vielen Dank, super schnelle Lieferung und alles perfekt verpackt! 😍",
    "Die Filiale hat am Samstag bis 18 Uhr geöffnet.",
    "Seit drei Wochen warte ich auf meine Erstattung, das ist eine Frechheit.",
    "Toller Service, die Dame an der Hotline war sehr freundlich.",
]


def test_embedder_fast_path_equals_hugging_face() -> None:
    fast = Embedder(progress=False)
    slow = Embedder(progress=False, fast=False)
    texts = [p.model_text for p in prepare(GERMAN, detect_language=False)]
    np.testing.assert_allclose(fast.embed_passages(texts), slow.embed_passages(texts), atol=1e-5)
    assert fast.fast_model is not None and slow.fast_model is None


def test_topics_with_real_embeddings_on_the_labelled_posts() -> None:
    """Regression check on the hand-labelled posts the default taxonomy was tuned with (a dev set, not a test set)."""
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    topics = TopicModel.load()
    embedder = Embedder(progress=False)
    topics.prepare_embeddings(embedder)
    posts = prepare([r["text"] for r in rows])
    sims = topics.similarities(embedder.embed_passages([p.model_text for p in posts]))
    tp = fp = fn = 0
    for row, post, sim in zip(rows, posts, sims, strict=True):
        got = {m.name for m in topics.match(post, sim)}
        want = set(row["topics"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.8 and recall >= 0.8, (precision, recall)


@needs_sentiment
def test_default_sentiment_model_loads_and_scores_sensibly() -> None:
    scorer = TransformerScorer(progress=False)
    assert scorer.name == "resonanz-default-sentiment"
    assert scorer.version == str(scorer.model.config.resonanz_model_version)
    assert scorer.prefix == "passage: "
    results = scorer.score(GERMAN)
    # the shipped model is small (CV micro-F1 0.74, see nlp/MODEL_CARD.md): check the clear cases and the order
    assert results[0].label == "negative"
    assert results[1].label == "positive" and results[4].label == "positive"
    assert results[2].label == "neutral"
    assert results[0].p_negative > max(r.p_negative for r in (results[1], results[2], results[4]))
    # the lean forward equals the Hugging Face forward on the real weights
    reference = TransformerScorer(progress=False, fast=False).score(GERMAN)
    np.testing.assert_allclose(
        [[r.p_negative, r.p_neutral, r.p_positive] for r in results],
        [[r.p_negative, r.p_neutral, r.p_positive] for r in reference],
        atol=1e-4,
    )


@needs_sentiment
@needs_offensive
def test_default_analyzer_shares_the_trunk_and_flags() -> None:
    analyzer = Analyzer.create(progress=False)
    trunk = analyzer.trunk
    assert trunk is not None
    assert trunk.layer_passes < 2 * trunk.num_layers  # three models for less than the price of two
    shared = analyzer.analyse(GERMAN + ["Ihr seid alle Idioten und Betrüger, ihr Drecksladen!"])
    separate = Analyzer.create(progress=False, share_trunk=False).analyse(GERMAN + ["x"])
    for a, b in zip(shared[:5], separate[:5], strict=True):
        assert a.label == b.label and a.topics == b.topics
        assert a.p_offensive == pytest.approx(b.p_offensive, abs=1e-4)
    assert shared[-1].p_offensive is not None and shared[2].p_offensive is not None
    assert shared[-1].p_offensive > shared[2].p_offensive
    assert "churn" in [f.name for f in shared[0].flags]


@needs_offensive
def test_default_offensive_labels() -> None:
    classifier = OffensiveClassifier(progress=False)
    p = classifier.p_offensive(["Danke für die Hilfe!", "Halt die Fresse, du Vollidiot!"])
    assert p[1] > p[0]


OOD = Path(__file__).parent / "data" / "ood_sentiment.tsv"


def _ood_macro_f1(model: str) -> tuple[float, list[str]]:
    """Macro-F1 of the Analyzer (as the pipeline scores) with ``model`` on the 90 out-of-domain posts."""
    import csv

    from sklearn.metrics import f1_score

    with OOD.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    analyzer = Analyzer.create(sentiment_model=model, progress=False)
    got = [r.label for r in analyzer.score([r["text"] for r in rows])]
    return float(f1_score([r["label"] for r in rows], got, average="macro")), got


@pytest.mark.skipif(not default_model.GENERAL_SENTIMENT_WEIGHTS.is_file(), reason="general model not shipped")
def test_general_sentiment_model_out_of_domain() -> None:
    """90 posts about telecoms, shops, banks, food, travel (tests/nlp/data/ood_sentiment.tsv, 30 per class).

    Never trained on or tuned with (the mixing of extra data was chosen on GermEval CV). The
    GermEval-tuned default calls most of them neutral; the general model must not.
    """
    macro, got = _ood_macro_f1("general")
    assert macro >= 0.65, (macro, got)
    for label in ("negative", "neutral", "positive"):
        assert got.count(label) >= 15, got  # no class swallows the others
    default_macro, _ = _ood_macro_f1("default")
    assert macro > default_macro + 0.1, (macro, default_macro)
