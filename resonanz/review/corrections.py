"""Corrections by community managers count at once, everywhere, and survive a new model.

The rule (one place): a post's **effective labels** are the model's labels with every correction in
``LabelFeedback`` replayed on top, oldest first:

* ``sentiment`` = ``negative|neutral|positive``: the label, with probability 1 on it (``ask`` averages
  probabilities, so a corrected post counts fully for its corrected class);
* ``topic`` = ``+Name`` adds a topic, ``-Name`` removes one (a value without sign adds; the other
  topics stay - correcting one topic never wipes the rest);
* ``flag`` = ``+name`` / ``-name`` adds or removes a flag (the queue badge and the item's reasons follow).

The effective labels are written into every stored score of the post (so ``ask``, the dashboard, the
digest and the queue read them with no extra join) and re-applied whenever the post is scored again
(:func:`resonanz.pipeline.scoring.score_posts`). ``LabelFeedback`` keeps who corrected what from which
model value (the audit and the training material of ``resonanz train ... --from-feedback``); the
review item's events record the action.

Trade-off: writing corrections into the score rows loses the model's own reading of a corrected post
in the scores table; it stays in ``LabelFeedback.old_value``. Keeping both and joining at read time
would have touched every query of the answers for a value nobody reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from resonanz.answers.rollup import mark_posts
from store.models import LabelFeedback, ReviewItem, Score

SENTIMENTS = ("negative", "neutral", "positive")
"""The labels a person may set (the web form offers these)."""
FIELDS = ("sentiment", "topic", "flag")
CORRECTED_SEVERITY = 2
"""Severity of a flag a person added (they can raise the item's priority by hand)."""


@dataclass
class Correction:
    """The replayed corrections of one post."""

    sentiment: str | None = None
    topics: dict[str, bool] = field(default_factory=dict)
    """topic -> True (added) / False (removed); the latest correction per topic wins."""
    flags: dict[str, bool] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)

    def add(self, feedback: LabelFeedback) -> None:
        value = feedback.new_value.strip()
        if feedback.field == "sentiment" and value in SENTIMENTS:
            self.sentiment = value
        elif feedback.field in ("topic", "flag") and value.strip("+-").strip():
            target = self.topics if feedback.field == "topic" else self.flags
            name = value.lstrip("+-").strip()
            target[name] = not value.startswith("-")
            self.actors[f"{feedback.field}:{name}"] = feedback.actor


def signed(value: str) -> tuple[bool, str]:
    """``"+Preis"`` -> ``(True, "Preis")``, ``"-Preis"`` -> ``(False, "Preis")``, ``"Preis"`` -> add."""
    value = " ".join(value.split())
    return (not value.startswith("-")), value.lstrip("+-").strip()


def corrections_for(session: Session, post_ids: Iterable[int]) -> dict[int, Correction]:
    """The replayed corrections of those of ``post_ids`` that have any."""
    ids = list(post_ids)
    out: dict[int, Correction] = {}
    for start in range(0, len(ids), 900):
        rows = session.exec(
            select(LabelFeedback)
            .where(col(LabelFeedback.post_id).in_(ids[start : start + 900]))
            .order_by(col(LabelFeedback.at), col(LabelFeedback.id))
        ).all()
        for feedback in rows:
            out.setdefault(feedback.post_id, Correction()).add(feedback)
    return out


def _apply_topics(topics: list[dict[str, Any]], correction: Correction, sentiment: str) -> list[dict[str, Any]]:
    kept = [t for t in topics if not (isinstance(t, dict) and correction.topics.get(str(t.get("topic"))) is False)]
    present = {str(t.get("topic")) for t in kept if isinstance(t, dict)}
    for name, added in correction.topics.items():
        if added and name not in present:
            probabilities = {f"p_{s}": 1.0 if s == sentiment else 0.0 for s in SENTIMENTS}
            kept.append({"topic": name, "score": 1.0, "method": "correction", "evidence": "Korrektur",
                         "polarity": sentiment, **probabilities})  # fmt: skip
    return kept


def _apply_flags(flags: list[dict[str, Any]], correction: Correction) -> list[dict[str, Any]]:
    kept = [f for f in flags if not (isinstance(f, dict) and correction.flags.get(str(f.get("flag"))) is False)]
    present = {str(f.get("flag")) for f in kept if isinstance(f, dict)}
    for name, added in correction.flags.items():
        if added and name not in present:
            actor = correction.actors.get(f"flag:{name}", "")
            kept.append({"flag": name, "severity": CORRECTED_SEVERITY, "reason": f"Korrektur von {actor}".strip(),
                         "evidence": [], "code": "correction", "params": {"actor": actor}})  # fmt: skip
    return kept


def apply_to_score(score: Score, correction: Correction) -> bool:
    """Write the effective labels into ``score``; True when something changed."""
    before = (score.sentiment, score.p_negative, score.p_neutral, score.p_positive, score.topics, score.flags)
    if correction.sentiment is not None:
        score.sentiment = correction.sentiment
        score.p_negative, score.p_neutral, score.p_positive = (
            1.0 if correction.sentiment == s else 0.0 for s in SENTIMENTS
        )
    if correction.topics:
        score.topics = _apply_topics(list(score.topics or []), correction, score.sentiment)
    if correction.flags:
        score.flags = _apply_flags(list(score.flags or []), correction)
    after = (score.sentiment, score.p_negative, score.p_neutral, score.p_positive, score.topics, score.flags)
    return before != after


def apply_corrections(session: Session, post_ids: Iterable[int]) -> int:
    """Write the effective labels of ``post_ids`` into all their scores and their review items' reasons.

    Returns how many score rows changed. Call after a correction and after (re)scoring.
    """
    post_ids = list(post_ids)
    mark_posts(session, post_ids)  # answer rollups: these posts' days are recomputed (scores or corrections changed)
    corrections = corrections_for(session, post_ids)
    changed = 0
    for post_id, correction in corrections.items():
        for score in session.exec(select(Score).where(Score.post_id == post_id)).all():
            if apply_to_score(score, correction):
                session.add(score)
                changed += 1
        if correction.flags:
            for item in session.exec(select(ReviewItem).where(ReviewItem.post_id == post_id)).all():
                reasons = _apply_flags(list(item.reasons or []), correction)
                if reasons != item.reasons:
                    item.reasons = reasons
                    item.severity = max((int(r.get("severity") or 0) for r in reasons), default=0)
                    session.add(item)
    return changed
