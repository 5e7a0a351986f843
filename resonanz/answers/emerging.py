"""Emerging topics for the digest: what negative posts talk about now that they did not before.

With enough negative posts (``NLP_MIN_POSTS``) the NLP area's clustering is used: posts embedded
with e5 and clustered by meaning (``nlp.emerging.find_topics``). With few posts, or when the NLP
side is missing or fails, word frequencies of negative posts this week against the weeks before.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from resonanz.answers.sql import AnswerFilter, post_rows
from resonanz.core.periods import Period
from resonanz.core.tables import POST

log = logging.getLogger(__name__)

MAX_TEXTS = 5000
NLP_MIN_POSTS = 30
"""Below this many negative posts a week, clustering says nothing that word counts would not."""
_WORD_RE = re.compile(r"[a-zA-ZäöüÄÖÜß][a-zA-ZäöüÄÖÜß-]{2,}")
_STOPWORD_TEXT = """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes auch auf aus bei
    bin bis bist da damit dann das dass dein deine dem den denn der des dich die dies diese diesem diesen dieser dieses
    dir doch dort du durch ein eine einem einen einer eines er es etwas euch euer für gegen gewesen hab habe haben hat
    hatte hätte hier hin ich ihm ihn ihnen ihr ihre im in ist ja jede jedem jeden jeder jedes jetzt kann kein keine
    können man mein meine mich mir mit muss nach nicht nichts noch nun nur ob oder ohne schon sehr sein seine sich sie
    sind so soll sollte sondern sonst über um und uns unser unter viel vom von vor war waren warum was weil weiter
    welche wenn wer werde werden wie wieder will wir wird wo wurde würde zu zum zur zwar mal immer total einfach gibt
    geht ganz gerade heute leider mehr echt wirklich bitte danke the and for that this with you are was not but have
    just from they been our your its it's what when http https www com amp"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass
class EmergingTopic:
    label: str
    posts: int
    baseline: float
    """Posts per week before, on average."""
    terms: list[str] = field(default_factory=list)
    example_post_ids: list[int] = field(default_factory=list)
    source: str = "word-frequency"
    share_growth: float | None = None
    """From the clustering: share of posts now / share before (inf: new)."""

    @property
    def growth(self) -> float:
        if self.share_growth is not None:
            return self.share_growth
        return (self.posts + 1.0) / (self.baseline + 1.0)


def _negative_texts(session: Session, flt: AnswerFilter) -> list[tuple[int, str]]:
    rows = post_rows(flt, session.get_bind().dialect.name)
    query = (
        select(POST.c.id, POST.c.text)
        .join(rows, rows.c.post_id == POST.c.id)
        .where(rows.c.sentiment == "negative")
        .order_by(POST.c.created_at.desc())
        .limit(MAX_TEXTS)
    )
    return [(int(i), t or "") for i, t in session.exec(query).all()]  # type: ignore[call-overload]


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD_RE.findall(text)} - STOPWORDS


def word_frequency(
    current: Sequence[tuple[int, str]], baseline: Sequence[tuple[int, str]], baseline_weeks: int, limit: int
) -> list[EmergingTopic]:
    """Terms in at least two current negative posts whose rate grew most against the baseline weeks."""
    now: Counter[str] = Counter()
    examples: dict[str, list[int]] = {}
    for post_id, text in current:
        for w in words(text):
            now[w] += 1
            examples.setdefault(w, []).append(post_id)
    before: Counter[str] = Counter()
    for _, text in baseline:
        before.update(words(text))
    scored = []
    for term, n in now.items():
        if n < 2:
            continue
        base = before[term] / max(1, baseline_weeks)
        scored.append(EmergingTopic(term, n, base, [term], examples[term][:3]))
    scored.sort(key=lambda t: (-t.growth, -t.posts, t.label))
    return scored[:limit]


def _from_nlp(
    current: Sequence[tuple[int, str]], baseline: Sequence[tuple[int, str]], limit: int
) -> list[EmergingTopic]:
    """Cluster with the NLP area (loads the embedding model: only worth it for enough posts)."""
    from nlp.embedder import Embedder
    from nlp.emerging import find_topics
    from nlp.preprocess import prepare

    texts = [t for _, t in current]
    prepared = prepare(texts)
    embedder = Embedder(progress=False)
    embeddings = embedder.embed_passages([p.model_text or p.text for p in prepared])
    base_prepared = prepare([t for _, t in baseline]) if baseline else []
    before = embedder.embed_passages([p.model_text or p.text for p in base_prepared]) if baseline else None
    found = find_topics(texts, [p.content_lemmas for p in prepared], embeddings, baseline=before)
    return [
        EmergingTopic(
            label=t.label,
            posts=t.size,
            baseline=0.0,
            terms=list(t.words),
            example_post_ids=[current[i][0] for i in t.members[:3]],
            source="nlp.emerging",
            share_growth=t.growth,
        )
        for t in found[:limit]
    ]


def emerging_topics(
    session: Session, flt: AnswerFilter, *, baseline_weeks: int = 4, limit: int = 5, use_nlp: bool = True
) -> list[EmergingTopic]:
    """Emerging themes among the negative posts of ``flt.period`` compared with the ``baseline_weeks`` before."""
    period = flt.period
    before = Period(period.start - timedelta(days=7 * baseline_weeks), period.start, "baseline")
    current = _negative_texts(session, flt)
    if not current:
        return []
    baseline = _negative_texts(session, _with_period(flt, before))
    if use_nlp and len(current) >= NLP_MIN_POSTS:
        try:
            return _from_nlp(current, baseline, limit)
        except ImportError as exc:
            log.info("nlp.emerging is not available (%s); using word frequencies", exc)
        except Exception as exc:  # the NLP side (model files, memory ...) must never break the digest
            log.warning("emerging topics by clustering failed (%s); using word frequencies instead", exc)
    return word_frequency(current, baseline, baseline_weeks, limit)


def _with_period(flt: AnswerFilter, period: Period) -> AnswerFilter:
    return AnswerFilter(
        period=period,
        classes=flt.classes,
        rfm_segments=flt.rfm_segments,
        loyal=flt.loyal,
        topics=flt.topics,
        platforms=flt.platforms,
        languages=flt.languages,
        model_name=flt.model_name,
        default_weight=flt.default_weight,
    )
