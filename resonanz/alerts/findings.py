"""What a rule found in one evaluation: a typed, validated record that the incident logic turns into an
alert (new, or an update of the open one), and the wording of its explanation in the interface language.

An alert's title and summary are stored as text (in the language of the evaluation) and, alongside, as a code
with parameters (:data:`ALERT_TEXTS`, ``explanation["texts"]``), the way :mod:`resonanz.core.messages` keeps the
packages' reasons: :func:`shown` renders the code in the current language when the alert is displayed, so an
alert raised under German reads English under ``language = "en"``. A parameter is plain text, a number with its
format (``{"num": 3.5, "digits": 1}``, ``{"pct": 0.42}``, ``{"money": 34000}``, ``{"hours": 3}``) or another
code (``{"code": ..., "params": ...}``). Rows stored before codes were kept show their stored text.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from resonanz.alerts.posts import AlertPost
from resonanz.alerts.rules import SEVERITY_NAMES
from resonanz.core import i18n
from resonanz.core.i18n import N_, TranslatedNames, _

log = logging.getLogger(__name__)

TOP_POSTS = 5
MAX_POST_IDS = 200
SEGMENT_LABELS = TranslatedNames(
    {"A": N_("A customer"), "B": N_("B customer"), "C": N_("C customer"), "unvalued": N_("customer (not valued)"),
     "prospect": N_("not a customer")}
)  # fmt: skip


ALERT_TEXTS: Final = {
    # the parts
    "customer_n": N_("customer {id}"),
    "customer_churn": N_("threatens to leave"),
    "customer_complains": N_("complains strongly"),
    "customer_revenue": N_(", revenue {revenue}"),
    "posts_one": N_("1 post"),
    "posts_many": N_("{n} posts"),
    "ago_minutes": N_("in the last {n} min"),
    "ago_hours": N_("in the last {n} h"),
    "ago_days": N_("in the last {n} days"),
    "subject_all": N_("All posts"),
    "subject_topic": N_("Topic “{key}”"),
    "subject_platform": N_("Platform “{key}”"),
    "subject_class": N_("Customer class “{key}”"),
    "subject_weighted": N_("Value-weighted sentiment"),
    "unknown": N_("unknown"),
    "tone_negative": N_("negative"),
    "tone_positive": N_("positive"),
    "tone_neutral": N_("neutral"),
    "tone_unscored": N_("unscored"),
    # the sentences (resonanz/alerts/detect.py)
    "customer_summary": N_(
        "{name} ({segment} customer{revenue}, weight {weight}) {what}: {count} {ago}, most recently on "
        "{platform}: “{snippet}” (signal: {signal})."
    ),
    "customer_title": N_("{name} ({segment} customer) {what}"),
    "volume_summary": N_(
        "{subject}: {observed} posts in the last {window}, expected {expected} (baseline {days} days, same time of "
        "day and weekday) – {ratio} times as many, robust z-score {z} ≥ {threshold}."
    ),
    "volume_title": N_("{subject}: {ratio} times as many posts as usual"),
    "share_summary": N_(
        "{subject}: {share} negative ({negative} of {scored}) in the last {window}, usually {usual} (median of the "
        "baseline days) – +{delta} percentage points, robust z-score {z} ≥ {threshold}."
    ),
    "share_title": N_("{subject}: {share} negative instead of {usual}"),
    "weighted_summary": N_(
        "Value-weighted, {share} of the voices of the last {window} are negative (threshold {threshold}; usually "
        "{usual}): {customers} customers negative, weight {weight} of {total}."
    ),
    "weighted_title": N_("Value-weighted sentiment: {share} negative"),
    "emerging_summary": N_(
        "New topic “{label}”: {authors} authors in the last {window}, before {per_day} per day (mean over {days} "
        "days) – threshold {growth} × (previous days + 1) and at least {min_authors} authors."
    ),
    "emerging_title": N_("New topic “{label}” is growing fast"),
    "viral_summary": N_(
        "A post by {who} ({segment}) on {platform} has {engagement} interactions, {velocity} per hour; usually "
        "{typical} per post on {platform} (thresholds: {min_engagement} and {factor} times, {min_velocity}/h)."
    ),
    "viral_title": N_("Viral post on {platform} ({tone})"),
}
"""Code -> English msgid of an alert's title, summary and their parts; a code never changes its meaning (stored)."""


def text(code: str, **params: Any) -> dict[str, Any]:
    """A stored text: ``code`` of :data:`ALERT_TEXTS` with its parameters (JSON: it goes into the explanation)."""
    if code not in ALERT_TEXTS:
        raise KeyError(f"no alert text {code!r}")
    return {"code": code, "params": params}


def number(x: float, digits: int = 1) -> dict[str, Any] | str:
    """A number parameter, formatted when shown (``∞`` stays text: JSON has no infinity)."""
    return {"num": x, "digits": digits} if math.isfinite(x) else "∞"


def share(x: float) -> dict[str, Any] | str:
    return {"pct": x} if math.isfinite(x) else "∞"


def money(x: float) -> dict[str, Any] | str:
    return {"money": x} if math.isfinite(x) else "∞"


def window(h: float) -> dict[str, Any]:
    return {"hours": h}


def render(spec: Mapping[str, Any]) -> str:
    """A stored text in the current language; a code or parameters that do not fit raise :class:`KeyError`."""
    msgid = ALERT_TEXTS[str(spec["code"])]
    params = spec.get("params") or {}
    if not isinstance(params, Mapping):
        raise KeyError("params")
    try:
        return _(msgid).format(**{name: _param(value) for name, value in params.items()})
    except (IndexError, ValueError) as exc:
        raise KeyError(str(exc)) from exc


def _param(value: Any) -> str:
    if isinstance(value, Mapping):
        if "code" in value:
            return render(value)
        if "num" in value:
            return num(float(value["num"]), int(value.get("digits", 1)))
        if "pct" in value:
            return pct(float(value["pct"]))
        if "money" in value:
            return i18n.currency(float(value["money"]))
        if "hours" in value:
            return hours(float(value["hours"]))
        raise KeyError("unknown parameter")
    if isinstance(value, int) and not isinstance(value, bool):
        return i18n.number(value)
    return str(value)


def shown(stored: str, spec: Any) -> str:
    """An alert's title or summary as it is shown: ``spec`` (a stored :func:`text`) in the current language, or
    ``stored`` where there is no spec (rows written before codes were kept) or it does not fit."""
    if not isinstance(spec, Mapping):
        return stored
    try:
        return render(spec)
    except (KeyError, TypeError, ValueError):
        log.debug("alert text %r does not fit; shown as stored", spec)
        return stored


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
    """What crossed what, baseline against now, in one sentence (in the language of the evaluation)."""
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
    texts: Mapping[str, Any] = field(default_factory=dict)
    """``title`` and ``summary`` as codes with parameters (:func:`text`), shown in the reader's language."""

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
            **({"texts": dict(self.texts)} if self.texts else {}),
        }


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def num(x: float, digits: int = 1) -> str:
    """A number in the current language: 1.234,5 (de) / 1,234.5 (en)."""
    if not math.isfinite(x):
        return "∞"
    return i18n.number(x, digits)


def pct(x: float) -> str:
    """A share: ``42 %`` (de) / ``42%`` (en)."""
    return i18n.percent(x) if math.isfinite(x) else "∞"


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
