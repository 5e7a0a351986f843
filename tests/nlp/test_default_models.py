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
    reason="the shipped sentiment weights nlp/weights/sentiment-de.safetensors are not in this checkout yet",
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
    # check the clear cases and the order (per-set numbers: nlp/MODEL_CARD.md, and the tests below)
    assert results[0].label == "negative"
    assert scorer.score(["Das ist toll"])[0].label == "positive"  # the old default said neutral 0.92
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
    # the default sentiment model adapts all 12 layers, so only the embeddings are shared with it; the
    # offensive model and the flag branch share layers 0-10 and 0-9 with the embedder: 12 + 12 + 1 + 2 = 27
    # layer passes instead of 48 for the four models alone
    assert trunk.layer_passes == 2 * trunk.num_layers + 3 < 4 * trunk.num_layers
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


DATA_DIR = Path(__file__).parent / "data"


def _labelled(name: str) -> list[dict[str, str]]:
    import csv

    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _macro_f1(gold: list[str], got: list[str]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, got, average="macro"))


@pytest.fixture(scope="module")
def default_analyzer() -> Analyzer:
    """The pipeline as ``resonanz score`` runs it (preprocessing, default models, fp32)."""
    return Analyzer.create(progress=False, precision="fp32")


@needs_sentiment
def test_default_model_on_other_industries(default_analyzer: Analyzer) -> None:
    """Posts the model never saw and no choice was made on (nlp/MODEL_CARD.md, "Evaluation").

    ``ood_sentiment.tsv``: 90 posts about telecoms, shops, banks, food, travel, software (30 per class);
    ``industries_sentiment.tsv``: 150 posts from six industries, 48 of them ironic or sarcastic, written
    before the model was trained. Bars: slightly below the measured numbers, so a regression fails.
    """
    ood = _labelled("ood_sentiment.tsv")
    got = [a.label for a in default_analyzer.analyse([r["text"] for r in ood])]
    assert _macro_f1([r["label"] for r in ood], got) >= OOD_BAR, got
    rows = _labelled("industries_sentiment.tsv")
    got = [a.label for a in default_analyzer.analyse([r["text"] for r in rows])]
    assert _macro_f1([r["label"] for r in rows], got) >= INDUSTRIES_BAR
    sarcastic = [g for r, g in zip(rows, got, strict=True) if r["irony"] == "1" and r["label"] == "negative"]
    assert sarcastic.count("negative") >= IRONY_BAR * len(sarcastic), sarcastic


@needs_sentiment
def test_default_model_reads_the_demo_brand(default_analyzer: Analyzer) -> None:
    """The demo's 60 hand-labelled posts: at least 18 of the 20 negatives negative (the issue's bar)."""
    sample = json.loads((DEMO / "truth.json").read_text(encoding="utf-8"))["sentiment_sample"]
    posts = {json.loads(line)["external_id"]: json.loads(line)["text"] for line in (DEMO / "posts.jsonl").open()}
    got = [a.label for a in default_analyzer.analyse([posts[t["external_id"]] for t in sample])]
    gold = [t["sentiment"] for t in sample]
    negatives = [g for t, g in zip(gold, got, strict=True) if t == "negative"]
    assert negatives.count("negative") >= 18, negatives
    assert _macro_f1(gold, got) >= DEMO_BAR


@needs_sentiment
def test_irony_comes_out_negative(default_analyzer: Analyzer) -> None:
    texts = ["Super, schon wieder 3 Wochen auf meine Lieferung gewartet 🙄", "Danke für nichts.",
             "Überlege ernsthaft, mein Abo zu kündigen",
             "Schönes Video, aber nach der Preiserhöhung kauf ich bei euch nix mehr."]  # fmt: skip
    assert [a.label for a in default_analyzer.analyse(texts)] == ["negative"] * 4


DEMO = Path(__file__).parents[2] / "resonanz" / "demo" / "data"
OOD_BAR = 0.85  # measured 0.910 (nlp/MODEL_CARD.md)
INDUSTRIES_BAR = 0.68  # measured 0.717
IRONY_BAR = 0.85  # measured 36 of 38 sarcastic complaints negative
DEMO_BAR = 0.60  # measured 0.647 (the issue asks 0.80: not reached, see the model card)
