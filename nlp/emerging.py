"""Emerging topics: cluster a period's posts by meaning and name each cluster by its characteristic words.

Posts are clustered on their e5 embeddings (agglomerative clustering with average cosine linkage
for up to a few thousand posts, k-means above that), and every cluster is named with the lemmas
that are frequent in it but rare in the other clusters (class-based TF-IDF, stop words removed,
as in BERTopic). Given the previous period's embeddings, each cluster also gets a growth factor:
its share of this period's posts divided by the share of last period's posts that fall into it.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

AGGLOMERATIVE_MAX = 4000
"""Above this many posts k-means is used (agglomerative clustering needs n^2 memory)."""


@dataclass(frozen=True)
class EmergingTopic:
    label: str
    """The top words joined, e.g. ``"störung · netz · internet"``."""
    words: list[str]
    size: int
    share: float
    """Fraction of this period's posts."""
    members: list[int]
    """Indices of the posts in this cluster, closest to the centre first."""
    examples: list[str] = field(default_factory=list)
    growth: float | None = None
    """Share now / share in the baseline period (None without a baseline; inf if it did not exist)."""
    known_topics: list[str] = field(default_factory=list)
    """Taxonomy topics most of its posts already have (empty: a topic the taxonomy does not cover)."""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out["growth"] is not None and math.isinf(out["growth"]):
            out["growth"] = None
            out["new"] = True
        return out


def cluster_embeddings(embeddings: np.ndarray, distance_threshold: float = 0.12, seed: int = 0) -> np.ndarray:
    """Cluster labels for unit-length ``embeddings``.

    ``distance_threshold`` is the cosine distance at which average-linkage clusters stop merging
    (e5's similarities are compressed, so 0.12 means "clearly about the same thing").
    """
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    if n <= AGGLOMERATIVE_MAX:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=distance_threshold, metric="cosine", linkage="average"
        )
        return np.asarray(model.fit_predict(embeddings), dtype=np.int64)
    from sklearn.cluster import KMeans

    k = max(2, int(math.sqrt(n / 2)))
    log.debug("clustering %d posts with k-means, k=%d", n, k)
    return np.asarray(KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(embeddings), dtype=np.int64)


def class_tfidf(docs_per_cluster: Sequence[Sequence[str]], top_n: int = 5) -> list[list[str]]:
    """The ``top_n`` most characteristic words of each cluster (c-TF-IDF over the clusters' word lists)."""
    counts = [Counter(words) for words in docs_per_cluster]
    total = Counter[str]()
    for c in counts:
        total.update(c)
    if not total:
        return [[] for _ in counts]
    avg_words = sum(total.values()) / max(1, len(counts))
    out: list[list[str]] = []
    for c in counts:
        size = sum(c.values()) or 1
        scores = {w: (n / size) * math.log(1 + avg_words / total[w]) for w, n in c.items() if n >= 2 or len(c) < 4}
        out.append([str(w) for w, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]])
    return out


def find_topics(
    texts: Sequence[str],
    lemmas: Sequence[Sequence[str]],
    embeddings: np.ndarray,
    *,
    min_size: int = 5,
    distance_threshold: float = 0.12,
    baseline: np.ndarray | None = None,
    known: Sequence[Sequence[str]] | None = None,
    top_words: int = 5,
    examples: int = 3,
) -> list[EmergingTopic]:
    """Clusters of at least ``min_size`` posts, largest (or fastest-growing, with a baseline) first.

    ``lemmas``: each post's content lemmas (``Prepared.content_lemmas``). ``baseline``: embeddings
    of the previous period. ``known``: each post's taxonomy topic names.
    """
    n = len(texts)
    if not (len(lemmas) == n == len(embeddings)):
        raise ValueError("texts, lemmas and embeddings must have the same length")
    if n < min_size:
        return []
    labels = cluster_embeddings(embeddings, distance_threshold)
    clusters = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    clusters = [c for c in clusters if len(c) >= min_size]
    if not clusters:
        return []
    # Each post's lemmas once per post, so one chatty post cannot name a cluster.
    words = class_tfidf([[w for i in c for w in dict.fromkeys(lemmas[int(i)])] for c in clusters], top_words)
    centroids = np.stack([_unit(embeddings[c].mean(axis=0)) for c in clusters])
    growth = _growth(clusters, centroids, embeddings, baseline, n) if baseline is not None else None
    topics: list[EmergingTopic] = []
    for k, members in enumerate(clusters):
        order = members[np.argsort(-(embeddings[members] @ centroids[k]))]
        topics.append(
            EmergingTopic(
                label=" · ".join(words[k]) or f"Cluster {k + 1}",
                words=words[k],
                size=len(members),
                share=round(len(members) / n, 4),
                members=[int(i) for i in order],
                examples=[texts[int(i)] for i in order[:examples]],
                growth=None if growth is None else growth[k],
                known_topics=_known(order, known),
            )
        )
    topics.sort(key=lambda t: (-(t.growth if t.growth is not None else 0.0), -t.size))
    return topics


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def _growth(
    clusters: list[np.ndarray], centroids: np.ndarray, embeddings: np.ndarray, baseline: np.ndarray, n: int
) -> list[float]:
    """Share now / share then; a baseline post belongs to a cluster if it is as close as its least-close member."""
    if len(baseline) == 0:
        return [math.inf] * len(clusters)
    sims = baseline @ centroids.T
    nearest = sims.argmax(axis=1)
    out = []
    for k, members in enumerate(clusters):
        radius = float((embeddings[members] @ centroids[k]).min())
        before = int(((nearest == k) & (sims[:, k] >= radius)).sum()) / len(baseline)
        now = len(members) / n
        out.append(round(now / before, 2) if before else math.inf)
    return out


def _known(members: np.ndarray, known: Sequence[Sequence[str]] | None) -> list[str]:
    if not known:
        return []
    counts = Counter(name for i in members for name in known[int(i)])
    return [name for name, c in counts.most_common(3) if c >= len(members) / 2]
