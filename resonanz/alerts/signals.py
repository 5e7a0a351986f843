"""Per-post signals the rules need, as pure functions: templated posts (the bot-flood guard), the terms of a
post (emerging topics), engagement and its velocity (viral posts), and grouping terms into one topic.

Templated posts: a post whose word triples (at least 80 % of them) each occur in three or more other posts of
the same day is a copy of a template. People who are angry about the same recall share a phrase or two
("Rückruf vom Espresso Napoli") but write the rest themselves; a bot flood posts one template with a changed
name, number or emoji. Templated posts are not counted as voices by the spike, sentiment and topic rules
(:mod:`resonanz.alerts.detect`), so a flood neither raises a spike nor tips a share, however it mixes with
the slice's ordinary posts; the pass reports it instead. The exact-fingerprint spam clusters of
:mod:`resonanz.pipeline.duplicates` never reach the alerts at all (``Post.voice = 'spam'``); this catches
the paraphrased floods that fingerprints miss. Trade-off: in a genuine crisis the people who repost one
sentence verbatim (a petition, a news headline) are not counted either; the ones who write their own words
still are, and every post still reaches the queue and the digest.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from resonanz.answers.emerging import words

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<!\w)@[\w.\-@]+")
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
TRIPLE = 3


def tokens(text: str) -> list[str]:
    """Lower-case letter runs, without links, @mentions and digits."""
    t = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    return _TOKEN.findall(t)


def shingles(text: str, n: int = TRIPLE) -> list[tuple[str, ...]]:
    toks = tokens(text)
    if len(toks) < n:
        return [tuple(toks)] if toks else []
    return [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]


TEMPLATE_MIN_OTHERS = 3
TEMPLATE_SHARED = 0.8


def templated(texts: Sequence[str]) -> list[bool]:
    """For each text: does it copy a template of the others (see the module docstring)?"""
    grams = [set(shingles(t)) for t in texts]
    df: dict[tuple[str, ...], int] = {}
    for g in grams:
        for gram in g:
            df[gram] = df.get(gram, 0) + 1
    return [bool(g) and sum(1 for gram in g if df[gram] > TEMPLATE_MIN_OTHERS) >= TEMPLATE_SHARED * len(g)
            for g in grams]  # fmt: skip


def template_share(texts: Sequence[str]) -> float:
    """The share of ``texts`` that copy a template; 0.0 for no texts."""
    flags = templated(texts)
    return sum(flags) / len(flags) if flags else 0.0


DIVERSITY_SAMPLE = 30
"""Diversity falls with the number of texts (any vocabulary repeats), so it is measured on a fixed number."""


def text_diversity(texts: Sequence[str], sample: int = DIVERSITY_SAMPLE) -> float:
    """Distinct word triples / all word triples over the last ``sample`` texts (1.0 with nothing to compare).
    People's posts about one thing: 0.8-1.0 over 30 posts; a bot template: below 0.3. Used for a new term's
    posts, which a flood's first minutes may carry before its copies are numerous enough to count as templated."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts[-sample:]:
        grams = shingles(text)
        total += len(grams)
        seen.update(grams)
    return len(seen) / total if total else 1.0


def terms(text: str) -> set[str]:
    """Words and hashtags of a post for emerging topics (the stop words of :mod:`resonanz.answers.emerging`)."""
    return words(text)


def engagement(metrics: Mapping[str, Any] | None) -> float:
    """likes + 2 x reposts + replies (a repost carries the post to new readers; a like does not)."""
    if not metrics:
        return 0.0

    def num(key: str) -> float:
        value = metrics.get(key)
        try:
            f = float(value) if value is not None else 0.0
        except (TypeError, ValueError):
            return 0.0
        return f if math.isfinite(f) and f > 0 else 0.0

    return num("likes") + 2.0 * num("reposts") + num("replies")


MIN_AGE_HOURS = 0.25
"""A post seen 2 minutes after posting with 10 likes is not growing at 300 per hour."""


def velocity(eng: float, created_at: datetime, observed_at: datetime) -> float:
    """Engagement per hour between posting and when the metrics were read (at least 15 minutes)."""
    hours = max((observed_at - created_at).total_seconds() / 3600.0, MIN_AGE_HOURS)
    return eng / hours


def group_terms(term_posts: Mapping[str, set[int]], min_overlap: float = 0.5) -> list[list[str]]:
    """Terms that mostly occur in the same posts form one topic: single linkage on the overlap coefficient
    |A & B| / min(|A|, |B|) >= ``min_overlap`` (a rarer term that mostly appears with a commoner one joins
    it); each group lists its terms by how many posts carry them, largest group first."""
    names = sorted(term_posts, key=lambda t: (-len(term_posts[t]), t))
    parent = {t: t for t in names}

    def root(t: str) -> str:
        while parent[t] != t:
            parent[t] = parent[parent[t]]
            t = parent[t]
        return t

    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pa, pb = term_posts[a], term_posts[b]
            inter = len(pa & pb)
            if inter and inter / min(len(pa), len(pb)) >= min_overlap:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for t in names:
        groups.setdefault(root(t), []).append(t)
    out = list(groups.values())
    out.sort(key=lambda g: (-len(set().union(*(term_posts[t] for t in g))), g[0]))
    return out
