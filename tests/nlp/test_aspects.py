"""Aspect-level sentiment (nlp.aspects) and topic examples (nlp.topic_examples) with fake models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from nlp.aspects import GAP, assign_clauses, split_clauses, word_count
from nlp.errors import RuleConfigError
from nlp.flags import FlagRules
from nlp.pipeline import Analyzer
from nlp.preprocess import prepare_one
from nlp.scorer import SentimentResult
from nlp.topic_examples import ExampleClassifier, best_f1_threshold
from nlp.topics import TopicMatch, TopicModel

TAXONOMY = """
[embedding]
fallback_only = false
max_topics = 3

[[topic]]
name = "Kaffee"
descriptions = ["Kaffee, Espresso und Bohnen"]
keywords = ["Kaffee", "Espresso", "Bohne"]

[[topic]]
name = "Lieferung"
descriptions = ["Lieferung und Versand"]
keywords = ["Lieferung", "Paket", "geliefert"]

[[topic]]
name = "Filiale"
descriptions = ["laden theke filiale"]
"""

NEGATIVE = {"katastrophe", "schlecht", "laut", "spät", "kalt", "mies"}
POSITIVE = {"super", "toll", "lecker", "schnell", "freundlich"}


class WordScorer:
    """Counts sentiment words (a deliberately simple Scorer): more negative words -> negative, etc.

    Records every call, so tests can check how often the model would run.
    """

    name = "words"
    version = "1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, texts: Sequence[str]) -> list[SentimentResult]:
        self.calls.append(list(texts))
        out = []
        for text in texts:
            words = {w.strip(".,!?;").lower() for w in text.split()}
            neg, pos = len(words & NEGATIVE), len(words & POSITIVE)
            probs = [0.8, 0.1, 0.1] if neg > pos else [0.1, 0.1, 0.8] if pos > neg else [0.2, 0.6, 0.2]
            out.append(SentimentResult.from_probabilities(probs))
        return out


VOCAB = ["kaffee", "espresso", "lieferung", "paket", "laden", "theke", "filiale", "verkäuferin", "super", "mies"]


class BagEmbedder:
    """Unit bag-of-words vectors over VOCAB (+ a constant dimension): a stand-in for e5 in tests."""

    def __init__(self) -> None:
        self.passage_calls = 0

    def load(self) -> None:
        pass

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(VOCAB) + 1), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace(",", " ").replace(".", " ").split():
                if word in VOCAB:
                    out[i, VOCAB.index(word)] += 1.0
            out[i, -1] = 0.1
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._vectors(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passage_calls += 1
        return self._vectors(texts)


def write(tmp_path: Path, text: str, name: str = "topics.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def analyzer(tmp_path: Path, scorer: WordScorer, toml: str = TAXONOMY, **kwargs: object) -> Analyzer:
    return Analyzer(
        scorer,
        topics=TopicModel.load(write(tmp_path, toml)),
        flags=FlagRules.load(),
        detect_language=False,
        **kwargs,  # type: ignore[arg-type]
    )


def clauses(text: str) -> list[str]:
    return [c.text for c in split_clauses(text, prepare_one(text, detect_language=False).sentences)]


# --- clause splitting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kaffee super, Lieferung eine Katastrophe", ["Kaffee super", "Lieferung eine Katastrophe"]),
        ("Der Kaffee ist lecker aber die Lieferung dauert", ["Der Kaffee ist lecker", "aber die Lieferung dauert"]),
        ("Zimmer ok; Frühstück eher mau", ["Zimmer ok", "Frühstück eher mau"]),
        (
            "Zimmer war sauber - das Personal jedoch unfreundlich",
            ["Zimmer war sauber", "das Personal", "jedoch unfreundlich"],
        ),
        ("Nicht billig, dafür sehr gut. Trotzdem schade.", ["Nicht billig", "dafür sehr gut.", "Trotzdem schade."]),
        ("Das kostet 3,50 € pro Tasse", ["Das kostet 3,50 € pro Tasse"]),  # decimal comma: no split
        ("Gut, aber laut", ["Gut, aber laut"]),  # one-word pieces are merged into a neighbour
        ("Lecker! Die Lieferung kam pünktlich.", ["Lecker! Die Lieferung kam pünktlich."]),
        ("", []),
    ],
)
def test_split_clauses(text: str, expected: list[str]) -> None:
    assert clauses(text) == expected


def test_clauses_are_substrings_and_cover_every_word() -> None:
    text = "Super Kaffee, aber leider kalt; die Lieferung - ein Drama! Nie wieder, doch der Espresso war toll."
    found = split_clauses(text, prepare_one(text, detect_language=False).sentences)
    assert all(text[c.start : c.end] == c.text for c in found)
    assert all(word_count(c.text) >= 2 for c in found)
    assert sum(word_count(c.text) for c in found) == word_count(text)
    assert [c.start for c in found] == sorted(c.start for c in found)


def test_assign_clauses_continues_the_last_topic() -> None:
    a, b, none = frozenset({"A"}), frozenset({"B"}), frozenset[str]()
    assert assign_clauses([none, a, none, b, none]) == [a, a, a, b, b]
    assert assign_clauses([none, none]) == [none, none]
    assert assign_clauses([a | b, none]) == [a | b, a | b]


# --- polarity per topic -----------------------------------------------------------------------------------


def by_topic(matches: Sequence[TopicMatch]) -> dict[str, TopicMatch]:
    return {m.name: m for m in matches}


def test_each_topic_gets_the_polarity_of_its_clauses(tmp_path: Path) -> None:
    scorer = WordScorer()
    (result,) = analyzer(tmp_path, scorer).analyse(["Kaffee super, Lieferung eine Katastrophe"])
    assert result.label == "neutral"  # the post as a whole is mixed
    topics = by_topic(result.topics)
    assert topics["Kaffee"].polarity == "positive" and topics["Kaffee"].span == "Kaffee super"
    assert topics["Lieferung"].polarity == "negative" and topics["Lieferung"].span == "Lieferung eine Katastrophe"
    lieferung = topics["Lieferung"]
    assert lieferung.p_negative is not None and lieferung.p_positive is not None
    assert lieferung.p_negative > lieferung.p_positive
    stored = lieferung.as_dict()
    assert stored["polarity"] == "negative" and stored["span"] == "Lieferung eine Katastrophe"
    assert {"p_negative", "p_neutral", "p_positive"} <= set(stored)


def test_clauses_without_a_topic_stay_with_the_topic_before_them(tmp_path: Path) -> None:
    text = "Die Lieferung kam pünktlich, super schnell. Der Kaffee dagegen, leider kalt und mies."
    (result,) = analyzer(tmp_path, WordScorer()).analyse([text])
    topics = by_topic(result.topics)
    assert topics["Lieferung"].span == "Die Lieferung kam pünktlich, super schnell."
    assert topics["Lieferung"].polarity == "positive"
    assert topics["Kaffee"].span == "Der Kaffee dagegen, leider kalt und mies."
    assert topics["Kaffee"].polarity == "negative"


def test_one_extra_scorer_call_for_the_whole_batch(tmp_path: Path) -> None:
    scorer = WordScorer()
    texts = [
        "Kaffee super, Lieferung eine Katastrophe",
        "Das Paket kam spät. Der Espresso ist aber lecker.",
        "Lieferung schnell, Kaffee toll",  # both topics positive: still two spans
        "Der Kaffee ist super",  # one topic: the post's own sentiment
        "Nichts Besonderes heute",
    ]
    results = analyzer(tmp_path, scorer).analyse(texts)
    assert len(scorer.calls) == 2
    assert scorer.calls[0] == [prepare_one(t, detect_language=False).model_text for t in texts]
    assert sorted(scorer.calls[1]) == sorted(
        [
            "Kaffee super",
            "Lieferung eine Katastrophe",
            "Das Paket kam spät.",
            "Der Espresso ist aber lecker.",
            "Lieferung schnell",
            "Kaffee toll",
        ]
    )
    assert by_topic(results[1].topics)["Lieferung"].polarity == "negative"
    assert by_topic(results[1].topics)["Kaffee"].polarity == "positive"
    single = results[3].topics[0]
    assert single.polarity == results[3].label == "positive" and single.span == texts[3]
    assert results[4].topics == []


def test_no_extra_call_when_no_post_has_two_topics(tmp_path: Path) -> None:
    scorer = WordScorer()
    results = analyzer(tmp_path, scorer).analyse(["Der Kaffee ist mies, aber egal", "Paket kam, alles toll"])
    assert len(scorer.calls) == 1
    assert [r.topics[0].polarity for r in results] == [r.label for r in results] == ["negative", "positive"]


def test_aspects_off_leaves_topics_as_before(tmp_path: Path) -> None:
    (result,) = analyzer(tmp_path, WordScorer(), aspects=False).analyse(["Kaffee super, Lieferung eine Katastrophe"])
    assert [m.polarity for m in result.topics] == [None, None]
    assert "polarity" not in result.topics[0].as_dict() and "span" not in result.topics[0].as_dict()


def test_embedding_only_topic_is_placed_in_its_most_similar_clause(tmp_path: Path) -> None:
    embedder = BagEmbedder()
    a = analyzer(tmp_path, WordScorer(), embedder=embedder)
    a.topics.threshold = 0.5
    (result,) = a.analyse(["An der Theke im Laden super beraten, die Lieferung danach mies"])
    topics = by_topic(result.topics)
    assert topics["Filiale"].method == "embedding"
    assert topics["Filiale"].span == "An der Theke im Laden super beraten"
    assert topics["Filiale"].polarity == "positive"
    assert topics["Lieferung"].span == "die Lieferung danach mies" and topics["Lieferung"].polarity == "negative"


def test_without_embedder_an_embedding_topic_gets_the_whole_post(tmp_path: Path) -> None:
    from nlp.aspects import AspectResolver

    model = TopicModel.load(write(tmp_path, TAXONOMY))
    text = "An der Theke super beraten, die Lieferung danach mies"
    post = prepare_one(text, detect_language=False)
    matches = [
        [TopicMatch("Filiale", 0.6, "embedding", ["similarity 0.9"]), TopicMatch("Lieferung", 0.9, "keyword", [])]
    ]
    scorer = WordScorer()
    (found,) = AspectResolver(model, lambda spans: scorer.score([s.model_text for s in spans])).resolve(
        [post], matches, [SentimentResult.from_probabilities([0.2, 0.6, 0.2])]
    )
    topics = by_topic(found)
    assert topics["Filiale"].span == text and topics["Filiale"].polarity == "neutral"
    # the first clause is about no placed topic, so it continues into Lieferung, which then covers the post
    assert topics["Lieferung"].span == text and topics["Lieferung"].polarity == "neutral"
    assert scorer.calls == []


def test_topic_in_clauses_apart_is_joined_with_a_gap(tmp_path: Path) -> None:
    text = "Kaffee lecker. Die Lieferung dauerte ewig. Kaffee trotzdem super."
    (result,) = analyzer(tmp_path, WordScorer()).analyse([text])
    topics = by_topic(result.topics)
    assert topics["Kaffee"].span == f"Kaffee lecker.{GAP}Kaffee trotzdem super."
    assert topics["Lieferung"].span == "Die Lieferung dauerte ewig."


# --- examples in the taxonomy -------------------------------------------------------------------------------

EXAMPLE_TAXONOMY = """
examples_file = "examples.tsv"

[[topic]]
name = "Kaffee"
keywords = ["Kaffee"]
examples = ["Der Espresso war stark", "Espresso bitte stärker"]

[[topic]]
name = "Lieferung"
keywords = ["Lieferung"]

[[topic]]
name = "Filiale"
examples = ["Die Verkäuferin an der Theke", "Im Laden an der Theke"]
"""


def example_tsv(tmp_path: Path) -> Path:
    rows = ["topic\ttext"]
    rows += [f"Kaffee\tEspresso Nummer {i} stark" for i in range(6)]
    rows += [f"Lieferung\tDas Paket Nummer {i} kam" for i in range(6)]
    rows += [f"Filiale\tDie Verkäuferin im Laden Nummer {i}" for i in range(6)]
    rows += ["# a comment", "", "-\tNichts Besonderes heute"]
    path = tmp_path / "examples.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_examples_are_read_from_the_toml_and_the_file(tmp_path: Path) -> None:
    example_tsv(tmp_path)
    model = TopicModel.load(write(tmp_path, EXAMPLE_TAXONOMY))
    topics = {name for name, _ in model.examples}
    assert topics == {"Kaffee", "Lieferung", "Filiale", "-"}
    assert ("Kaffee", "Der Espresso war stark") in model.examples
    assert ("-", "Nichts Besonderes heute") in model.examples
    assert len(model.examples) == 2 + 2 + 18 + 1


def test_examples_train_a_classifier_that_adds_topics(tmp_path: Path) -> None:
    example_tsv(tmp_path)
    embedder = BagEmbedder()
    a = analyzer(tmp_path, WordScorer(), toml=EXAMPLE_TAXONOMY, embedder=embedder)
    results = a.analyse(["Die Verkäuferin war super", "Nichts Besonderes", "Lieferung kam, Espresso mies"])
    assert a.topics.has_examples
    first = by_topic(results[0].topics)
    assert set(first) == {"Filiale"} and first["Filiale"].method == "examples"
    assert results[1].topics == []
    third = by_topic(results[2].topics)
    assert third["Kaffee"].method == "examples" and third["Kaffee"].polarity == "negative"
    assert third["Lieferung"].method.startswith("keyword") and third["Kaffee"].span == "Espresso mies"


@pytest.mark.parametrize(
    ("tsv", "message"),
    [
        ("Kaffee Espresso ohne Tab\n", "expected 'topic<TAB>text'"),
        ("Kaffee\t\n", "expected 'topic<TAB>text'"),
        ("Tee\tGrüner Tee\n", "unknown topic 'Tee'"),
        ("# only a comment\n", "no 'topic<TAB>text' lines"),
    ],
)
def test_bad_examples_file(tmp_path: Path, tsv: str, message: str) -> None:
    (tmp_path / "examples.tsv").write_text(tsv, encoding="utf-8")
    with pytest.raises(RuleConfigError, match=message):
        TopicModel.load(write(tmp_path, EXAMPLE_TAXONOMY))


def test_examples_file_errors_name_the_line_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "examples.tsv").write_text("Kaffee\tgut\nKafee\tschlecht\n", encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"examples.tsv, line 2: unknown topic 'Kafee'"):
        TopicModel.load(write(tmp_path, EXAMPLE_TAXONOMY))
    with pytest.raises(RuleConfigError, match="cannot read the examples file"):
        TopicModel.load(write(tmp_path, EXAMPLE_TAXONOMY.replace("examples.tsv", "missing.tsv")))


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[topic]]\nname = "A"\nexamples = "nur ein Satz"\n', "must be a list of non-empty strings"),
        ('[[topic]]\nname = "A"\nexamples = ["gut", ""]\n', "must be a list of non-empty strings"),
        ('[[topic]]\nname = "A"\nexamples = [1]\n', "must be a list of non-empty strings"),
        ('examples_file = 3\n[[topic]]\nname = "A"\nkeywords = ["a"]\n', "'examples_file' must be a path"),
        ('[[topic]]\nname = "A"\n', "no descriptions, keywords, patterns or examples"),
    ],
)
def test_bad_examples_in_toml(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(RuleConfigError, match=message):
        TopicModel.load(write(tmp_path, toml))


def test_a_topic_with_only_examples_is_valid(tmp_path: Path) -> None:
    model = TopicModel.load(write(tmp_path, '[[topic]]\nname = "A"\nexamples = ["gut so"]\n'))
    assert model.examples == [("A", "gut so")]


def test_best_f1_threshold() -> None:
    y = np.array([True, True, True, False, False, False])
    p = np.array([0.9, 0.8, 0.45, 0.5, 0.2, 0.1])
    threshold, f1 = best_f1_threshold(y, p)
    assert 0.3 <= threshold <= 0.45 and f1 == pytest.approx(2 * 3 / (3 + 4))  # all three positives + one negative
    threshold, f1 = best_f1_threshold(y, p, floor=0.6)
    assert threshold >= 0.6 and f1 == pytest.approx(2 * 2 / (3 + 2))


def test_example_classifier_separates_topics_and_skips_topics_without_examples() -> None:
    rng = np.random.default_rng(0)
    centres = np.eye(4, 16, dtype=np.float32) * 3
    vectors = np.concatenate([centres[k] + rng.normal(0, 0.3, (20, 16)) for k in range(3)]).astype(np.float32)
    labels = [{k} for k in range(3) for _ in range(20)]
    clf = ExampleClassifier.fit(vectors, labels, n_topics=4)
    assert clf.topic_index == [0, 1, 2] and clf.threshold_of(3) is None
    assert all(f1 > 0.9 for f1 in clf.cv_f1.values())
    probs = clf.probabilities(centres, n_topics=4)
    assert np.isnan(probs[:, 3]).all()
    assert [int(np.argmax(row[:3])) for row in probs[:3]] == [0, 1, 2]
    for k in range(3):
        threshold = clf.threshold_of(k)
        assert threshold is not None and probs[k, k] >= threshold


# --- with (tiny) transformer models and the shared trunk ------------------------------------------------------


def test_spans_are_scored_by_the_same_model_as_posts(tiny_family: dict[str, Path]) -> None:
    from nlp.embedder import Embedder
    from nlp.offensive import OffensiveClassifier
    from nlp.scorer import TransformerScorer

    opts = {"batch_tokens": 64, "workers": 1, "progress": False}
    scorer = TransformerScorer(tiny_family["sentiment"], **opts)  # type: ignore[arg-type]
    a = Analyzer(
        scorer,
        offensive=OffensiveClassifier(tiny_family["offensive"], **opts),  # type: ignore[arg-type]
        embedder=Embedder(tiny_family["encoder"], **opts),  # type: ignore[arg-type]
        detect_language=False,
    )
    texts = ["die lieferung kam zu spät, aber der preis ist super", "der preis ist viel zu hoch"]
    mixed, single = a.analyse(texts)
    assert a.trunk is not None  # posts go through the shared pass, spans through the scorer alone
    topics = by_topic(mixed.topics)
    assert set(topics) == {"Lieferung", "Preis"}
    assert topics["Lieferung"].span == "die lieferung kam zu spät"
    assert topics["Preis"].span == "aber der preis ist super"
    for name, m in topics.items():
        (alone,) = scorer.score([m.span or ""])
        assert m.polarity == alone.label, name
        assert m.p_negative == pytest.approx(alone.p_negative, abs=1e-4)
        assert m.p_positive == pytest.approx(alone.p_positive, abs=1e-4)
    (preis,) = single.topics
    assert preis.polarity == single.label and preis.p_negative == pytest.approx(single.sentiment.p_negative, abs=1e-4)
