"""What a rule found in one evaluation: a typed, validated record that the incident logic turns into an
alert (new, or an update of the open one), and the German wording of its explanation."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from resonanz.alerts.posts import AlertPost
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.core.i18n import N_, TranslatedNames

TOP_POSTS = 5
MAX_POST_IDS = 200
SEGMENT_LABELS = TranslatedNames(
    {"A": N_("A customer"), "B": N_("B customer"), "C": N_("C customer"), "unvalued": N_("customer (not valued)"),
     "prospect": N_("not a customer")}
)  # fmt: skip


@dataclass(frozen=True)
class PostRef:
    """One of the posts that explain an alert, with who wrote it."""

    post_id: int
    created_at: str
    platform: str
    url: str | None
    text: str
    author: str
    segment: str
    customer: str | None
    revenue: float | None
    weight: float
    sentiment: str | None
    review_item_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def post_ref(post: AlertPost, tz: str) -> PostRef:
    return PostRef(
        post_id=post.post_id,
        created_at=post.created_at.astimezone(ZoneInfo(tz)).isoformat(timespec="minutes"),
        platform=post.platform,
        url=post.url,
        text=post.text[:400],
        author=post.handle or "unbekannt",
        segment=post.segment,
        customer=post.customer_name,
        revenue=post.revenue,
        weight=round(post.weight, 3),
        sentiment=post.sentiment,
        review_item_id=post.review_item_id,
    )


@dataclass(frozen=True)
class Finding:
    """One crossing: ``key`` names the incident (rule + subject) so that the next pass updates it."""

    rule: str
    kind: str
    key: str
    subject: str
    severity: int
    title: str
    summary: str
    """What crossed what, baseline against now, in one German sentence."""
    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    statistic: float
    details: Mapping[str, Any] = field(default_factory=dict)
    top_posts: tuple[PostRef, ...] = ()
    post_ids: tuple[int, ...] = ()
    review_item_ids: tuple[int, ...] = ()
    topics: tuple[str, ...] = ()
    """What the finding is about: its topic (a topic slice), else the topics at least half of its posts carry.
    Open incidents on the same topic are one (:mod:`resonanz.alerts.incidents`)."""
    excess: float = 0.0
    """How many of ``post_ids`` are more than expected (posts, negative posts or authors); 0 where the rule has
    no expectation. An open incident whose posts make up most of the excess explains the crossing
    (:mod:`resonanz.alerts.incidents`)."""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITY_NAMES:
            raise ValueError(f"severity {self.severity} is not 1, 2 or 3")
        if not self.key.startswith(self.rule + ":"):
            raise ValueError(f"the key {self.key!r} must start with the rule name {self.rule!r}")
        if self.window_end < self.window_start:
            raise ValueError("a finding's window ends before it starts")
        for value in (self.observed, self.expected, self.statistic, self.excess):
            if math.isnan(value):
                raise ValueError("a finding's numbers must not be NaN")

    def explanation(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "observed": self.observed,
            "expected": self.expected,
            "statistic": _finite(self.statistic),
            "details": dict(self.details),
            "top_posts": [p.as_dict() for p in self.top_posts],
            "topics": list(self.topics),
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def num(x: float, digits: int = 1) -> str:
    """German number: 1.234,5."""
    if not math.isfinite(x):
        return "∞"
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def pct(x: float) -> str:
    return f"{num(100 * x, 0)} %"


def hours(h: float) -> str:
    return f"{num(h, 0)} h" if h == int(h) else f"{num(h, 1)} h"


def top_refs(posts: Sequence[AlertPost], tz: str, *, negative_first: bool = False) -> tuple[PostRef, ...]:
    """The posts that explain a finding best: the heaviest authors first (customer value), then reach."""

    def rank(p: AlertPost) -> tuple[float, float, float, int]:
        return (1.0 if (negative_first and p.negative) else 0.0, p.weight, p.engagement, -p.post_id)

    return tuple(post_ref(p, tz) for p in sorted(posts, key=rank, reverse=True)[:TOP_POSTS])


MAIN_TOPIC_SHARE = 0.5
MAIN_TOPIC_MIN_POSTS = 3


def main_topics(posts: Sequence[AlertPost]) -> tuple[str, ...]:
    """The topics that at least half of ``posts`` carry (none for fewer than three posts)."""
    if len(posts) < MAIN_TOPIC_MIN_POSTS:
        return ()
    counts: dict[str, int] = {}
    for post in posts:
        for topic in set(post.topics):
            counts[topic] = counts.get(topic, 0) + 1
    return tuple(sorted(t for t, n in counts.items() if n >= MAIN_TOPIC_SHARE * len(posts)))


def ids(posts: Sequence[AlertPost]) -> tuple[int, ...]:
    return tuple(p.post_id for p in posts[-MAX_POST_IDS:])


def item_ids(posts: Sequence[AlertPost]) -> tuple[int, ...]:
    """The review items of ``posts`` (the queue entries an alert links to)."""
    return tuple(p.review_item_id for p in posts[-MAX_POST_IDS:] if p.review_item_id is not None)
