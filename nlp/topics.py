"""Topic assignment: keyword/lemma rules for precision plus e5 similarity for recall.

The taxonomy is a TOML file (the packaged ``topics_default.toml`` unless a path is given; the
format is documented at the top of that file). Each post gets up to ``max_topics`` topics, each
with a score in [0, 1], how it was found (``keyword``, ``embedding`` or both) and the evidence
(the matched keywords, or the similarity to the closest description).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlp.errors import RuleConfigError
from nlp.preprocess import Prepared
from nlp.rules import Rule, as_list, load_toml, require

log = logging.getLogger(__name__)

DEFAULT_FILE = "topics_default.toml"


class QueryEmbedder(Protocol):
    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class TopicMatch:
    name: str
    score: float
    method: str
    """``keyword``, ``embedding`` or ``keyword+embedding``."""
    evidence: list[str] = field(default_factory=list)
    similarity: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The stored/JSON form: ``{"topic", "score", "method", "evidence"[, "similarity"]}``."""
        out = asdict(self)
        out = {"topic": out.pop("name"), **out}
        if self.similarity is None:
            del out["similarity"]
        return out


@dataclass
class Topic:
    name: str
    descriptions: list[str]
    rule: Rule


@dataclass
class TopicModel:
    """The taxonomy plus (optionally) the embedded descriptions."""

    topics: list[Topic]
    threshold: float = 0.835
    embedding_fallback_only: bool = True
    max_topics: int = 3
    origin: str = ""
    _description_vectors: np.ndarray | None = field(default=None, repr=False)
    _description_owner: np.ndarray | None = field(default=None, repr=False)

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
            if not descriptions and not rule.keywords and not rule.patterns:
                raise RuleConfigError(f"{where}: topic {name!r} has no descriptions, keywords or patterns.")
            topics.append(Topic(name=name, descriptions=descriptions, rule=rule))
        names = [t.name for t in topics]
        if len(set(names)) != len(names):
            raise RuleConfigError(f"{origin}: topic names must be unique.")
        emb = data.get("embedding", {})
        return cls(
            topics=topics,
            threshold=float(emb.get("threshold", cls.threshold)),
            embedding_fallback_only=bool(emb.get("fallback_only", cls.embedding_fallback_only)),
            max_topics=int(emb.get("max_topics", cls.max_topics)),
            origin=origin,
        )

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.topics]

    def prepare_embeddings(self, embedder: QueryEmbedder) -> None:
        """Embed every description once (``query:`` prefix); needed for embedding matches."""
        texts: list[str] = []
        owner: list[int] = []
        for i, topic in enumerate(self.topics):
            for description in topic.descriptions:
                texts.append(description)
                owner.append(i)
        self._description_vectors = embedder.embed_queries(texts) if texts else None
        self._description_owner = np.asarray(owner, dtype=np.int64)

    @property
    def has_embeddings(self) -> bool:
        return self._description_vectors is not None

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

    def match(self, post: Prepared, similarity: np.ndarray | None = None) -> list[TopicMatch]:
        """Topics of one post; ``similarity`` is its row of :meth:`similarities` (None: keywords only)."""
        matches: list[TopicMatch] = []
        best = int(np.argmax(similarity)) if similarity is not None and len(similarity) else -1
        best_sim = float(similarity[best]) if similarity is not None and best >= 0 else None
        confirmed = best_sim is not None and best_sim >= self.threshold
        for j, topic in enumerate(self.topics):
            evidence = topic.rule.match(post)
            if evidence:
                sim = float(similarity[j]) if similarity is not None else None
                both = confirmed and j == best
                method = "keyword+embedding" if both else "keyword"
                matches.append(TopicMatch(topic.name, 1.0 if both else 0.9, method, evidence[:5], _round(sim)))
        add_embedding = confirmed and best_sim is not None and not (matches and self.embedding_fallback_only)
        if add_embedding and best_sim is not None and all(m.name != self.topics[best].name for m in matches):
            score = round(min(0.85, 0.5 + (best_sim - self.threshold) / max(1e-6, 1.0 - self.threshold)), 3)
            evidence = [f"similarity {best_sim:.3f}"]
            matches.append(TopicMatch(self.topics[best].name, score, "embedding", evidence, _round(best_sim)))
        matches.sort(key=lambda m: (-m.score, -(m.similarity or 0.0)))
        return matches[: self.max_topics]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
