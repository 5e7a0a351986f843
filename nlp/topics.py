"""Topic assignment: keyword/lemma rules for precision plus e5 similarity for recall.

The taxonomy is a TOML file (the packaged ``topics_default.toml`` unless a path is given; the
format is documented at the top of that file). Each post gets up to ``max_topics`` topics, each
with a score in [0, 1], how it was found (``keyword``, ``embedding``, ``examples`` or a ``+``
combination) and the evidence (the matched keywords, or the similarity to the closest description,
or the example classifier's probability).

Topics may come with example sentences (``examples = [...]`` per topic and/or a top-level
``examples_file``); with an embedder those train a classifier (:mod:`nlp.topic_examples`) that adds
topics the keywords miss. :mod:`nlp.aspects` later adds each topic's own polarity and evidence span.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlp.errors import RuleConfigError
from nlp.preprocess import Prepared, prepare
from nlp.rules import Rule, as_list, load_toml, require
from nlp.topic_examples import ExampleClassifier, group_examples, read_examples_file

log = logging.getLogger(__name__)

DEFAULT_FILE = "topics_default.toml"


class QueryEmbedder(Protocol):
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


_OPTIONAL = ("similarity", "polarity", "p_negative", "p_neutral", "p_positive", "span")


@dataclass(frozen=True)
class TopicMatch:
    name: str
    score: float
    method: str
    """``keyword``, ``embedding``, ``examples`` or a ``+`` combination such as ``keyword+embedding``."""
    evidence: list[str] = field(default_factory=list)
    similarity: float | None = None
    polarity: str | None = None
    """The topic's own sentiment (negative/neutral/positive) from :mod:`nlp.aspects`; None: not computed."""
    p_negative: float | None = None
    p_neutral: float | None = None
    p_positive: float | None = None
    span: str | None = None
    """The part of the post the polarity was computed from (clauses about this topic, or the whole post)."""

    def as_dict(self) -> dict[str, Any]:
        """The stored/JSON form: ``{"topic", "score", "method", "evidence"}`` plus ``similarity``,
        ``polarity``, ``p_negative``, ``p_neutral``, ``p_positive`` and ``span`` where set."""
        out = asdict(self)
        out = {"topic": out.pop("name"), **out}
        for key in _OPTIONAL:
            if out[key] is None:
                del out[key]
        return out


@dataclass
class Topic:
    name: str
    descriptions: list[str]
    rule: Rule
    examples: list[str] = field(default_factory=list)


@dataclass
class TopicModel:
    """The taxonomy plus (optionally) the embedded descriptions."""

    topics: list[Topic]
    threshold: float = 0.835
    embedding_fallback_only: bool = True
    max_topics: int = 3
    origin: str = ""
    examples: list[tuple[str, str]] = field(default_factory=list)
    """``(topic, text)`` pairs from the topics' ``examples`` and the ``examples_file`` (topic ``-``: none)."""
    _description_vectors: np.ndarray | None = field(default=None, repr=False)
    _description_owner: np.ndarray | None = field(default=None, repr=False)
    _classifier: ExampleClassifier | None = field(default=None, repr=False)

    @classmethod
    def load(cls, path: Path | None = None) -> TopicModel:
        """Read a taxonomy TOML (``None``: the packaged default)."""
        data, origin = load_toml(path, DEFAULT_FILE)
        entries = data.get("topic")
        if not isinstance(entries, list) or not entries:
            raise RuleConfigError(f"{origin}: no [[topic]] entries; add at least one topic.")
        topics: list[Topic] = []
        for n, entry in enumerate(entries, 1):
            where = f"{origin}, topic #{n}"
            name = require(entry, "name", str, where)
            descriptions = [str(d) for d in as_list(entry.get("descriptions", entry.get("description", [])))]
            rule = Rule.from_config(entry, f"{origin}, topic {name!r}")
            examples = entry.get("examples", [])
            if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
                raise RuleConfigError(f"{where}: 'examples' of topic {name!r} must be a list of non-empty strings.")
            if not descriptions and not rule.keywords and not rule.patterns and not examples:
                raise RuleConfigError(f"{where}: topic {name!r} has no descriptions, keywords, patterns or examples.")
            topics.append(Topic(name=name, descriptions=descriptions, rule=rule, examples=list(examples)))
        names = [t.name for t in topics]
        if len(set(names)) != len(names):
            raise RuleConfigError(f"{origin}: topic names must be unique.")
        pairs = [(t.name, " ".join(e.split())) for t in topics for e in t.examples]
        examples_file = data.get("examples_file")
        if examples_file is not None:
            if not isinstance(examples_file, str) or not examples_file.strip():
                raise RuleConfigError(f"{origin}: 'examples_file' must be a path (a string).")
            file = Path(examples_file).expanduser()
            if not file.is_absolute() and path is not None:
                file = Path(path).expanduser().parent / file
            pairs += read_examples_file(file, names, origin)
        emb = data.get("embedding", {})
        return cls(
            topics=topics,
            threshold=float(emb.get("threshold", cls.threshold)),
            embedding_fallback_only=bool(emb.get("fallback_only", cls.embedding_fallback_only)),
            max_topics=int(emb.get("max_topics", cls.max_topics)),
            origin=origin,
            examples=pairs,
        )

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    def prepare_embeddings(self, embedder: QueryEmbedder) -> None:
        """Embed every description once (``query:`` prefix), needed for embedding matches; with examples,
        also embed them (``passage:``, preprocessed like posts, via the embedder's ``embed_passages``) and
        train the example classifier. With many examples this is the slow part of loading (e5-small on a CPU
        embeds a few hundred sentences per second)."""
        texts: list[str] = []
        owner: list[int] = []
        for i, topic in enumerate(self.topics):
            for description in topic.descriptions:
                texts.append(description)
                owner.append(i)
        self._description_vectors = embedder.embed_queries(texts) if texts else None
        self._description_owner = np.asarray(owner, dtype=np.int64)
        if self.examples:
            embed_passages = getattr(embedder, "embed_passages", None)
            if embed_passages is None:
                log.warning("%s: the embedder cannot embed passages; the topic examples are not used", self.origin)
                return
            unique, labels = group_examples(self.examples, self.names)
            model_texts = [p.model_text for p in prepare(unique, detect_language=False)]
            vectors = np.asarray(embed_passages(model_texts), dtype=np.float32)
            self._classifier = ExampleClassifier.fit(vectors, labels, len(self.topics))
            for j, f1 in sorted(self._classifier.cv_f1.items()):
                log.info(
                    "topic %r: example classifier threshold %.3f (cross-validated F1 %.3f on %d examples)",
                    self.topics[j].name,
                    self._classifier.threshold_of(j),
                    f1,
                    sum(j in s for s in labels),
                )

    @property
    def has_embeddings(self) -> bool:
        return self._description_vectors is not None

    @property
    def has_examples(self) -> bool:
        """True once :meth:`prepare_embeddings` trained the example classifier."""
        return self._classifier is not None

    def example_probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n_posts, n_topics)`` probabilities of the example classifier (NaN: topic without examples)."""
        if self._classifier is None:
            raise RuleConfigError("the topic examples are not trained; call prepare_embeddings() first.")
        return self._classifier.probabilities(embeddings, len(self.topics))

    def affinity(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n, n_topics)``: how much each text is about each topic, for placing a topic inside a post
        (:mod:`nlp.aspects`): the example probability where a topic has examples, else the similarity to
        its descriptions, else -inf. Only comparable within one column."""
        out = np.full((len(embeddings), len(self.topics)), -np.inf, dtype=np.float32)
        if self.has_embeddings:
            out = self.similarities(embeddings)
        if self._classifier is not None:
            probs = self.example_probabilities(embeddings)
            covered = ~np.isnan(probs[0]) if len(probs) else np.zeros(len(self.topics), dtype=bool)
            out[:, covered] = probs[:, covered]
        return out

    def similarities(self, embeddings: np.ndarray) -> np.ndarray:
        """``(n_posts, n_topics)``: the best cosine similarity of each post to each topic's descriptions."""
        if self._description_vectors is None or self._description_owner is None:
            raise RuleConfigError("topic descriptions are not embedded; call prepare_embeddings() first.")
        sims = embeddings @ self._description_vectors.T
        out = np.full((len(embeddings), len(self.topics)), -1.0, dtype=np.float32)
        for j in range(len(self.topics)):
            cols = self._description_owner == j
            if cols.any():
                out[:, j] = sims[:, cols].max(axis=1)
        return out

    def match(
        self, post: Prepared, similarity: np.ndarray | None = None, examples: np.ndarray | None = None
    ) -> list[TopicMatch]:
        """Topics of one post; ``similarity`` is its row of :meth:`similarities` (None: keywords only) and
        ``examples`` its row of :meth:`example_probabilities` (None: no example classifier)."""
        matches: list[TopicMatch] = []
        best = int(np.argmax(similarity)) if similarity is not None and len(similarity) else -1
        best_sim = float(similarity[best]) if similarity is not None and best >= 0 else None
        confirmed = best_sim is not None and best_sim >= self.threshold
        for j, topic in enumerate(self.topics):
            evidence = topic.rule.match(post)
            sim = float(similarity[j]) if similarity is not None else None
            by_example = self._example_hit(j, examples)
            if evidence:
                both = confirmed and j == best
                method = "keyword+embedding" if both else "keyword"
                if by_example is not None:
                    both, method = True, "keyword+examples"
                matches.append(TopicMatch(topic.name, 1.0 if both else 0.9, method, evidence[:5], _round(sim)))
            elif by_example is not None:
                score = round(min(0.85, by_example), 3)
                proof = [f"examples p={by_example:.3f}"]
                matches.append(TopicMatch(topic.name, score, "examples", proof, _round(sim)))
        add_embedding = confirmed and best_sim is not None and not (matches and self.embedding_fallback_only)
        if add_embedding and best_sim is not None and all(m.name != self.topics[best].name for m in matches):
            score = round(min(0.85, 0.5 + (best_sim - self.threshold) / max(1e-6, 1.0 - self.threshold)), 3)
            evidence = [f"similarity {best_sim:.3f}"]
            matches.append(TopicMatch(self.topics[best].name, score, "embedding", evidence, _round(best_sim)))
        matches.sort(key=lambda m: (-m.score, -(m.similarity or 0.0)))
        return matches[: self.max_topics]

    def _example_hit(self, topic: int, examples: np.ndarray | None) -> float | None:
        """The example probability of ``topic`` if it reaches the topic's cross-validated threshold."""
        if examples is None or self._classifier is None:
            return None
        threshold = self._classifier.threshold_of(topic)
        p = float(examples[topic])
        return p if threshold is not None and not np.isnan(p) and p >= threshold else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
