"""Aspect-level sentiment: each topic of a post gets its own polarity and the text span it rests on.

"Kaffee super, Lieferung eine Katastrophe" is one post but two verdicts. The post-level label
(whatever the model makes of the mixture) would count as a complaint about the coffee and as praise
of the delivery. Here every detected topic gets the sentiment of the part of the post that is about it:

1. **Clauses** (:func:`split_clauses`): the post's sentences, split further at commas, semicolons,
   spaced dashes and the contrastive markers in :data:`CONTRAST_MARKERS` ("aber", "jedoch", ...; the
   marker starts the new clause). Fragments under :data:`MIN_WORDS` words are merged into a neighbour.
2. **Anchors**: a topic found by keywords is anchored in the clauses where its rule matches (the same
   :class:`~nlp.rules.Rule`, run on each clause). A topic found by embeddings or examples (or whose
   keyword does not sit inside one clause) is anchored in the clause most similar to it
   (:meth:`~nlp.topics.TopicModel.affinity`: example probability or description similarity), which
   costs one batched embedding call; without an embedder such a topic gets the whole post.
3. **Continuation** (:func:`assign_clauses`): a clause that names no topic ("..., aber laut") belongs to
   the topic(s) of the nearest anchored clause before it (or after it, at the start of the post). German
   writers name a topic and then go on about it; this keeps elliptical clauses with their topic and
   makes over-splitting harmless (a wrongly split clause is glued back to the same topic).
4. **Sentiment**: the clauses of a topic form its span; all spans of a batch are scored in *one* extra
   call of the same sentiment scorer. Posts with fewer than two topics or one clause, and topics whose
   span is the whole post, reuse the post's own sentiment, so the usual post (no or one topic) costs
   nothing extra.

Trade-offs. A post with a single topic always gets the post's sentiment, even when part of it is about
something outside the taxonomy ("Kaffee super, aber das Wetter mies"): with one topic any sentiment is
more likely about it than about nothing, and a clause alone ("Lieferung kam heute.") is often neutral
while the post is not. Splitting at every comma is cheap and rule-based rather than a parse; a topic
named in a subordinate clause can end up with the wrong half ("Das Zimmer war, anders als das
Frühstück, schlecht"). The scorer sees short spans it was mostly not trained on; its probabilities on
them are less calibrated than on whole posts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import regex

from nlp.preprocess import Prepared, prepare
from nlp.scorer import SentimentResult
from nlp.topics import TopicMatch, TopicModel

log = logging.getLogger(__name__)

CONTRAST_MARKERS = ("aber", "jedoch", "doch", "allerdings", "sondern", "dafür", "trotzdem")
"""Words that start a new clause even without a comma before them (the comma case is split anyway)."""
MIN_WORDS = 2
SPAN_MAX = 300
"""Stored spans are cut to this many characters (the post itself is stored anyway)."""
GAP = " … "
"""Joins the clauses of a topic that are not next to each other."""

_WORD_RE = regex.compile(r"[\p{L}\p{N}]+")
_BOUNDARY_RE = regex.compile(
    r"\s*;\s*"  # semicolon
    r"|\s+[-–—]+\s+"  # spaced dash (not the hyphen inside a word)
    r"|\s*,\s+"  # comma followed by a space (not the decimal comma of "3,50")
    rf"|\s+(?=(?:{'|'.join(CONTRAST_MARKERS)})\b)",  # before a contrastive marker (it starts the next clause)
    regex.IGNORECASE,
)

SpanScorer = Callable[[Sequence[Prepared]], list[SentimentResult]]
"""Sentiment of preprocessed spans, in order (the Analyzer's scorer, incl. its lexical part)."""
PassageEmbedder = Callable[[Sequence[str]], np.ndarray]
"""Passage embeddings (unit vectors) of model texts, in order."""


@dataclass(frozen=True)
class Clause:
    start: int
    end: int
    text: str
    sentence: int


def word_count(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Non-empty, whitespace-trimmed ``(start, end)`` pieces of ``text[start:end]`` between boundaries."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in _BOUNDARY_RE.finditer(text, start, end):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, end))
    trimmed = []
    for a, b in out:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


def _merge_short(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Merge spans under :data:`MIN_WORDS` words into the previous span (the next one if first)."""
    out: list[tuple[int, int]] = []
    carry: int | None = None  # start of short pieces at the beginning, waiting for a long one
    for a, b in spans:
        if carry is not None:
            a, carry = carry, None
        if word_count(text[a:b]) >= MIN_WORDS:
            out.append((a, b))
        elif out:
            out[-1] = (out[-1][0], b)
        else:
            carry = a
    if carry is not None:  # only short pieces: keep them as one
        out.append((carry, spans[-1][1]))
    return out


def split_clauses(text: str, sentences: Sequence[str] = ()) -> list[Clause]:
    """The clauses of ``text`` (see the module docstring); ``sentences`` as in :class:`~nlp.preprocess.Prepared`
    (empty: the text is one sentence). Every clause is a substring of ``text``; together they cover all words."""
    bounds: list[tuple[int, int]] = []
    pos = 0
    for sentence in sentences or [text]:
        found = text.find(sentence, pos) if sentence else -1
        if found < 0:  # not a substring (should not happen): fall back to the whole text
            bounds = [(0, len(text))]
            break
        bounds.append((found, found + len(sentence)))
        pos = found + len(sentence)
    per_sentence = [_merge_short(_pieces(text, a, b), text) for a, b in bounds]
    flat = [(a, b, s) for s, spans in enumerate(per_sentence) for a, b in spans]
    if not flat:
        return []
    merged = _merge_short([(a, b) for a, b, _ in flat], text)  # a one-word sentence joins its neighbour
    sentence_at = {a: s for a, _, s in flat}
    return [Clause(a, b, text[a:b], sentence_at.get(a, 0)) for a, b in merged]


def assign_clauses(anchors: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """Per clause, the topics it is about: its own anchors, else those of the nearest anchored clause before
    it, else (at the start) those of the first anchored clause after it."""
    first = next((a for a in anchors if a), frozenset())
    out: list[frozenset[str]] = []
    current = first
    for anchor in anchors:
        if anchor:
            current = anchor
        out.append(current)
    return out


def span_text(text: str, clauses: Sequence[Clause]) -> str:
    """The text of ``clauses`` (in order): one substring if they are adjacent, else joined by :data:`GAP`."""
    groups: list[list[Clause]] = []
    for clause in clauses:
        if groups and _adjacent(text, groups[-1][-1], clause):
            groups[-1].append(clause)
        else:
            groups.append([clause])
    return GAP.join(text[g[0].start : g[-1].end] for g in groups)


def _adjacent(text: str, a: Clause, b: Clause) -> bool:
    return word_count(text[a.end : b.start]) == 0


def _shorten(text: str) -> str:
    return text if len(text) <= SPAN_MAX else text[: SPAN_MAX - 1] + "…"


@dataclass
class _Plan:
    """One post's clauses and, per topic, the clauses about it (None: the whole post)."""

    index: int
    clauses: list[Clause]
    prepared: list[Prepared]
    anchors: dict[str, set[int]]
    unplaced: list[TopicMatch]


class AspectResolver:
    """Adds each topic's polarity and span to the topic matches of a batch of posts (see the module docstring)."""

    def __init__(self, topics: TopicModel, score_spans: SpanScorer, embed: PassageEmbedder | None = None) -> None:
        self.topics = topics
        self.score_spans = score_spans
        self.embed = embed
        self._by_name = {t.name: (j, t) for j, t in enumerate(topics.topics)}

    def resolve(
        self, posts: Sequence[Prepared], matches: Sequence[Sequence[TopicMatch]], sentiment: Sequence[SentimentResult]
    ) -> list[list[TopicMatch]]:
        """``matches`` with polarity, probabilities and span filled in (same order and length)."""
        plans = self._plans(posts, matches)
        self._place_by_embedding(plans)
        spans: dict[int, dict[str, str]] = {}  # post -> topic -> span text (topics absent: the whole post)
        for plan in plans:
            owned = assign_clauses([self._anchored(plan, c) for c in range(len(plan.clauses))])
            text = posts[plan.index].text
            for name in plan.anchors:
                mine = [c for i, c in enumerate(plan.clauses) if name in owned[i]]
                if mine and len(mine) < len(plan.clauses):
                    spans.setdefault(plan.index, {})[name] = span_text(text, mine)
        unique = sorted({s for by_topic in spans.values() for s in by_topic.values()})
        scored: dict[str, SentimentResult] = {}
        if unique:
            results = self.score_spans(prepare(unique, detect_language=False))
            scored = dict(zip(unique, results, strict=True))
            log.debug("aspect sentiment: %d extra spans for %d posts", len(unique), len(spans))
        out: list[list[TopicMatch]] = []
        for i, (post, found) in enumerate(zip(posts, matches, strict=True)):
            by_topic = spans.get(i, {})
            out.append(
                [
                    _with_polarity(m, scored[by_topic[m.name]], by_topic[m.name])
                    if m.name in by_topic
                    else _with_polarity(m, sentiment[i], post.text)
                    for m in found
                ]
            )
        return out

    @staticmethod
    def _anchored(plan: _Plan, clause: int) -> frozenset[str]:
        return frozenset(name for name, where in plan.anchors.items() if clause in where)

    def _plans(self, posts: Sequence[Prepared], matches: Sequence[Sequence[TopicMatch]]) -> list[_Plan]:
        """Clauses of the posts with two or more topics, preprocessed in one call, with keyword anchors."""
        candidates: list[tuple[int, list[Clause]]] = []
        for i, (post, found) in enumerate(zip(posts, matches, strict=True)):
            if len({m.name for m in found}) >= 2:
                clauses = split_clauses(post.text, post.sentences)
                if len(clauses) >= 2:
                    candidates.append((i, clauses))
        flat = prepare([c.text for _, clauses in candidates for c in clauses], detect_language=False)
        plans: list[_Plan] = []
        pos = 0
        for i, clauses in candidates:
            prepared = flat[pos : pos + len(clauses)]
            pos += len(clauses)
            plan = _Plan(i, clauses, prepared, {}, [])
            for m in matches[i]:
                known = self._by_name.get(m.name)
                where = {c for c, p in enumerate(prepared) if known and known[1].rule.match(p)}
                if where:
                    plan.anchors[m.name] = where
                else:
                    plan.unplaced.append(m)
            plans.append(plan)
        return plans

    def _place_by_embedding(self, plans: Sequence[_Plan]) -> None:
        """Anchor each unplaced topic in its most similar clause (one embedding call for all of them)."""
        todo = [p for p in plans if p.unplaced]
        if not todo or self.embed is None:
            return
        vectors = self.embed([c.model_text for p in todo for c in p.prepared])
        affinity = self.topics.affinity(np.asarray(vectors))
        pos = 0
        for plan in todo:
            rows = affinity[pos : pos + len(plan.clauses)]
            pos += len(plan.clauses)
            for m in plan.unplaced:
                known = self._by_name.get(m.name)
                column = rows[:, known[0]] if known is not None else np.empty(0)
                finite = np.isfinite(column)
                if not finite.any():
                    continue  # nothing to compare with: the topic keeps the whole post
                best = int(np.argmax(np.where(finite, column, -np.inf)))
                plan.anchors.setdefault(m.name, set()).add(best)


def _with_polarity(match: TopicMatch, result: SentimentResult, span: str) -> TopicMatch:
    return replace(
        match,
        polarity=result.label,
        p_negative=round(result.p_negative, 4),
        p_neutral=round(result.p_neutral, 4),
        p_positive=round(result.p_positive, 4),
        span=_shorten(span),
    )
