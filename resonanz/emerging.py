"""Emerging topics for the digest: what negative posts talk about now that they did not before.

Uses the NLP area's clustering (``nlp.emerging``) when it is installed and answers; otherwise falls
back to word frequencies of negative posts this week against the weeks before.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from resonanz.answer_sql import POST, AnswerFilter, post_rows
from resonanz.periods import Period

log = logging.getLogger(__name__)

MAX_TEXTS = 5000
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

    @property
    def growth(self) -> float:
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


def _from_nlp(current: Sequence[tuple[int, str]], baseline: Sequence[tuple[int, str]], limit: int) -> Any:
    from nlp import emerging  # type: ignore[attr-defined]

    return emerging.emerging_topics(
        [t for _, t in current], [t for _, t in baseline], limit=limit, ids=[i for i, _ in current]
    )


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
    if use_nlp:
        try:
            found = _from_nlp(current, baseline, limit)
            return [_coerce(t) for t in found][:limit]
        except (ImportError, AttributeError) as exc:
            log.debug("nlp.emerging not available (%s); using word frequencies", exc)
        except Exception as exc:  # the NLP side must never break the digest
            log.warning("nlp.emerging failed (%s); using word frequencies instead", exc)
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


def _coerce(found: Any) -> EmergingTopic:
    """Accept the NLP area's result objects or dicts (label, size/posts, terms, example ids)."""
    get = found.get if isinstance(found, dict) else lambda k, d=None: getattr(found, k, d)
    return EmergingTopic(
        label=str(get("label") or ", ".join(get("terms", []) or []) or "?"),
        posts=int(get("posts", None) or get("size", 0) or 0),
        baseline=float(get("baseline", 0.0) or 0.0),
        terms=list(get("terms", []) or []),
        example_post_ids=list(get("example_ids", None) or get("example_post_ids", []) or []),
        source="nlp.emerging",
    )
