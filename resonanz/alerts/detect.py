"""The rules applied to one moment: pure functions from a :class:`Context` (recent posts, hourly baseline
buckets, daily term counts) to :class:`~resonanz.alerts.findings.Finding` records.

Nothing here reads the database or the clock, so the same code runs in ``resonanz run``, in
``resonanz alerts check``, in the demo's replay and in the benchmark's replay (bench/bench_alerts.py).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from resonanz.alerts.aggregate import ALL, Counts, SliceKey, hourly_counts, series
from resonanz.alerts.baseline import (
    Calendar,
    Shape,
    baseline_share,
    expected,
    floor_hour,
    hours_in,
    level,
    share_test,
    share_z,
    tile_sums,
    volume_test,
)
from resonanz.alerts.findings import (
    Finding,
    ids,
    item_ids,
    main_topics,
    money,
    number,
    pct,
    post_ref,
    render,
    share,
    top_refs,
    window,
)
from resonanz.alerts.findings import text as alert_text
from resonanz.alerts.posts import AlertPost
from resonanz.alerts.rules import (
    CustomerParams,
    EmergingParams,
    Rule,
    SpikeParams,
    ViralParams,
    WeightedParams,
)
from resonanz.alerts.signals import group_terms, templated, terms, text_diversity, velocity
from resonanz.core.i18n import _

log = logging.getLogger(__name__)

SUBJECTS = {"all": "subject_all", "topic": "subject_topic", "platform": "subject_platform", "class": "subject_class"}
"""A slice's dimension -> its subject's code (:data:`resonanz.alerts.findings.ALERT_TEXTS`)."""
TEMPLATE_HOURS = 24
FLOOD_REPORT = 20
"""From this many template copies a day the pass reports a suspected bot flood."""


@dataclass(frozen=True)
class Context:
    """Everything the rules look at for one moment ``now``."""

    now: datetime
    tz: str
    posts: Sequence[AlertPost]
    """Posts created in the longest lookback before ``now``, oldest first."""
    buckets: Mapping[SliceKey, Mapping[datetime, Counts]]
    """Hourly baseline counts per slice, up to the start of the current window."""
    history_start: datetime | None
    shape: Shape
    calendar: Calendar
    term_days: Mapping[str, Mapping[date, int]] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)
    """Results several rules share within one pass (window totals, factor sums)."""

    def since(self, start: datetime) -> list[AlertPost]:
        key = ("since", start)
        if key not in self.memo:
            self.memo[key] = [p for p in self.posts if start < p.created_at <= self.now]
        result: list[AlertPost] = self.memo[key]
        return result

    def template_copies(self) -> set[int]:
        """Posts of the last day that copy a template (resonanz/alerts/signals.py): not counted as voices."""
        if "templated" not in self.memo:
            day = self.since(self.now - timedelta(hours=TEMPLATE_HOURS))
            self.memo["templated"] = {
                p.post_id for p, t in zip(day, templated([p.text for p in day]), strict=True) if t
            }
        result: set[int] = self.memo["templated"]
        return result

    def voices_since(self, start: datetime) -> list[AlertPost]:
        """:meth:`since` without template copies: what the spike, sentiment and topic rules count."""
        key = ("voices", start)
        if key not in self.memo:
            copies = self.template_copies()
            self.memo[key] = [p for p in self.since(start) if p.post_id not in copies]
        result: list[AlertPost] = self.memo[key]
        return result

    def window_totals(self, start: datetime) -> dict[SliceKey, Counts]:
        key = ("totals", start)
        if key not in self.memo:
            self.memo[key] = _window_totals(self.voices_since(start))
        result: dict[SliceKey, Counts] = self.memo[key]
        return result

    def all_level(self, hours: Sequence[datetime]) -> float:
        """The level of all posts over ``hours`` (what a slice's share is measured against)."""
        key = ("all_level", hours[0], len(hours))
        if key not in self.memo:
            self.memo[key] = level(series(self.buckets.get(ALL, {}), "posts"), hours, self.calendar)
        result: float = self.memo[key]
        return result

    def factor_tiles(self, hours: Sequence[datetime], width: int) -> list[float]:
        """Sums of the seasonal factor over the past windows of ``width`` hours in ``hours``."""
        key = ("factors", hours[0], len(hours), width)
        if key not in self.memo:
            self.memo[key] = tile_sums([self.calendar.factor[h] for h in hours], width)
        result: list[float] = self.memo[key]
        return result


@dataclass
class Detection:
    findings: list[Finding] = field(default_factory=list)
    held_back: list[str] = field(default_factory=list)
    """Crossings not raised, with the reason (in the language of the evaluation): a bot flood, too little history."""


def detect(rules: Sequence[Rule], ctx: Context) -> Detection:
    out = Detection()
    for rule in rules:
        if not rule.enabled:
            continue
        detector = _DETECTORS[type(rule.params)]
        detector(rule, ctx, out)
    copies = ctx.template_copies()
    if len(copies) >= FLOOD_REPORT:
        posts = [p for p in ctx.posts if p.post_id in copies]
        out.held_back.append(
            _(
                "{posts} posts from {accounts} accounts following a template in the last {hours} h (suspected bot "
                "wave): they do not count as voices and raise no alert"
            ).format(posts=len(copies), accounts=len({p.author for p in posts}), hours=TEMPLATE_HOURS)
        )
    return out


# --- customer -------------------------------------------------------------------------------------------


def _customer(rule: Rule, ctx: Context, out: Detection) -> None:
    p = rule.params
    assert isinstance(p, CustomerParams)
    by_customer: dict[int, list[tuple[AlertPost, bool]]] = {}
    for post in ctx.since(ctx.now - timedelta(hours=p.lookback_hours)):
        if post.customer_id is None or post.segment not in p.classes:
            continue
        flags = set(post.flags)
        churn = bool(flags & set(p.churn_flags))
        strong = bool(flags & set(p.complaint_flags)) and post.p_negative >= p.min_p_negative
        if churn or strong:
            by_customer.setdefault(post.customer_id, []).append((post, churn))
    for cid, hits in by_customer.items():
        posts = [h[0] for h in hits]
        churn = any(h[1] for h in hits)
        last = posts[-1]
        critical = last.segment in p.critical_classes
        severity = rule.severity if critical else max(1, rule.severity - 1)
        name: Any = last.customer_name or alert_text("customer_n", id=cid)
        what = alert_text("customer_churn" if churn else "customer_complains")
        signal = ", ".join(
            sorted({f for post in posts for f in post.flags if f in (*p.churn_flags, *p.complaint_flags)})
        )
        revenue = alert_text("customer_revenue", revenue=money(last.revenue)) if last.revenue is not None else ""
        count = alert_text("posts_one") if len(posts) == 1 else alert_text("posts_many", n=len(posts))
        summary = alert_text(
            "customer_summary", name=name, segment=last.segment, revenue=revenue, weight=number(last.weight, 1),
            what=what, count=count, ago=_ago(ctx.now, posts[0].created_at), platform=last.platform,
            snippet=_snippet(last.text), signal=signal,
        )  # fmt: skip
        title = alert_text("customer_title", name=name, segment=last.segment, what=what)
        shown_name = name if isinstance(name, str) else render(name)
        out.findings.append(
            Finding(
                rule=rule.name,
                kind=rule.kind.value,
                key=f"{rule.name}:kunde={cid}",
                subject=f"{shown_name} ({last.segment})",
                severity=severity,
                title=render(title),
                summary=render(summary),
                texts={"title": title, "summary": summary},
                window_start=posts[0].created_at,
                window_end=ctx.now,
                observed=float(len(posts)),
                expected=0.0,
                statistic=max(post.p_negative for post in posts),
                details={
                    "customer_id": cid,
                    "segment": last.segment,
                    "revenue": last.revenue,
                    "churn": churn,
                    "signals": signal,
                },  # fmt: skip
                top_posts=tuple(post_ref(post, ctx.tz) for post in reversed(posts[-5:])),
                post_ids=ids(posts),
                review_item_ids=item_ids(posts),
            )
        )


def _ago(now: datetime, then: datetime) -> dict[str, Any]:
    h = max((now - then).total_seconds(), 60.0) / 3600
    if h < 1:
        return alert_text("ago_minutes", n=number(h * 60, 0))
    return alert_text("ago_hours", n=number(h, 0)) if h < 48 else alert_text("ago_days", n=number(h / 24, 0))


def _snippet(text: str, n: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


# --- spikes ---------------------------------------------------------------------------------------------


def _slice_key(post: AlertPost, dimension: str) -> list[str]:
    if dimension == "all":
        return ["*"]
    if dimension == "platform":
        return [post.platform]
    if dimension == "class":
        return [post.segment]
    return [t[:200] for t in dict.fromkeys(post.topics)]


def _window_totals(posts: Sequence[AlertPost]) -> dict[SliceKey, Counts]:
    """Per slice, the sum of the window's capped hourly counts (the same counting as the baseline)."""
    totals: dict[SliceKey, Counts] = {}
    for (_hour, dim, key), c in hourly_counts(posts).items():
        t = totals.setdefault((dim, key), Counts())
        t.posts += c.posts
        t.scored += c.scored
        t.negative += c.negative
        t.weight += c.weight
        t.weighted_negative += c.weighted_negative
        t.engagement += c.engagement
    return totals


def _subject(dimension: str, key: str) -> dict[str, Any]:
    return alert_text(SUBJECTS[dimension]) if dimension == "all" else alert_text(SUBJECTS[dimension], key=key)


def _spike(rule: Rule, ctx: Context, out: Detection) -> None:
    p = rule.params
    assert isinstance(p, SpikeParams)
    best: dict[str, Finding] = {}
    for window_h in p.windows_hours:
        start = ctx.now - timedelta(hours=window_h)
        base_end = floor_hour(start)
        base_start = base_end - timedelta(days=p.baseline_days)
        if ctx.history_start is not None:
            base_start = max(base_start, floor_hour(ctx.history_start))
        if ctx.history_start is None or base_end - base_start < timedelta(days=p.min_baseline_days):
            continue
        base_hours = hours_in(base_start, base_end)
        window_posts = ctx.voices_since(start)
        totals = ctx.window_totals(start)
        for (dim, key), now_counts in totals.items():
            if dim != p.dimension or (p.keys and key not in p.keys):
                continue
            counted = now_counts.posts if p.metric == "volume" else now_counts.negative
            if counted < p.min_count:
                continue
            buckets = ctx.buckets.get((dim, key), {})
            finding = (
                _volume(rule, p, ctx, dim, key, now_counts, buckets, base_hours, start, window_h)
                if p.metric == "volume"
                else _share(rule, p, ctx, dim, key, now_counts, buckets, base_hours, start, window_h)
            )
            if finding is None:
                continue
            posts = [x for x in window_posts if key in _slice_key(x, dim)]
            finding = _with_posts(finding, posts, ctx, negative_first=p.metric == "negative_share")
            prev = best.get(finding.key)
            if prev is None or finding.statistic > prev.statistic:
                best[finding.key] = finding
    out.findings.extend(best.values())


def _with_posts(f: Finding, posts: Sequence[AlertPost], ctx: Context, *, negative_first: bool) -> Finding:
    chosen = [x for x in posts if x.negative] if negative_first else list(posts)
    details = {**f.details, "authors": len({x.author for x in posts})}
    topics = (str(f.details["key"]),) if f.details.get("dimension") == "topic" else main_topics(chosen or posts)
    return dataclasses.replace(
        f, details=details, top_posts=top_refs(chosen or list(posts), ctx.tz, negative_first=negative_first),
        post_ids=ids(chosen or posts), review_item_ids=item_ids(chosen or posts), topics=topics,
    )  # fmt: skip


def _volume(
    rule: Rule,
    p: SpikeParams,
    ctx: Context,
    dim: str,
    key: str,
    now_counts: Counts,
    buckets: Mapping[datetime, Counts],
    base_hours: Sequence[datetime],
    start: datetime,
    window_h: float,
) -> Finding | None:
    counts = series(buckets, "posts")
    lvl = level(counts, base_hours, ctx.calendar)
    mu = expected(lvl, ctx.calendar, start, ctx.now)
    width = int(window_h)
    observed_past = tile_sums([counts.get(h, 0.0) for h in base_hours], width)
    expected_past = [lvl * f for f in ctx.factor_tiles(base_hours, width)]
    test = volume_test(now_counts.posts, mu, list(zip(observed_past, expected_past, strict=True)))
    if test.z < p.z or test.ratio < p.min_ratio:
        return None
    share_ratio = None
    if dim != "all":
        all_now = ctx.window_totals(start).get(ALL, Counts()).posts
        all_level = ctx.all_level(base_hours)
        if all_now > 0 and all_level > 0 and lvl > 0:
            usual = min(lvl / all_level, 1.0)
            share_ratio = (test.observed / all_now) / usual
            if share_ratio < p.min_share_ratio or share_z(test.observed, all_now, usual) < p.min_share_z:
                return None
    subject = _subject(dim, key)
    days = len(base_hours) / 24
    summary = alert_text(
        "volume_summary", subject=subject, observed=number(test.observed, 0), window=window(window_h),
        expected=number(mu), days=number(days, 0), ratio=number(test.ratio), z=number(test.z), threshold=number(p.z),
    )  # fmt: skip
    return _slice_finding(
        rule, p, ctx, dim, key, start, window_h, test.scale,
        title=alert_text("volume_title", subject=subject, ratio=number(test.ratio)), summary=summary,
        observed=test.observed, expected=mu, z=test.z, excess=max(0.0, test.observed - mu),
        details={"metric": "volume", "baseline_days": round(days, 1),
                 "ratio": round(test.ratio, 3) if test.expected > 0 else None, "min_ratio": p.min_ratio,
                 "share_ratio": round(share_ratio, 3) if share_ratio is not None else None},
    )  # fmt: skip


def _slice_finding(
    rule: Rule,
    p: SpikeParams,
    ctx: Context,
    dim: str,
    key: str,
    start: datetime,
    window_h: float,
    scale: float,
    *,
    title: dict[str, Any],
    summary: dict[str, Any],
    observed: float,
    expected: float,
    z: float,
    excess: float,
    details: Mapping[str, Any],
) -> Finding:
    """A spike rule's finding for one slice (what the volume and the negative-share tests share)."""
    return Finding(
        rule=rule.name,
        kind=rule.kind.value,
        key=f"{rule.name}:{dim}={key}",
        subject=render(_subject(dim, key)),
        severity=rule.severity,
        title=render(title),
        summary=render(summary),
        texts={"title": title, "summary": summary},
        window_start=start,
        window_end=ctx.now,
        observed=observed,
        expected=expected,
        statistic=z,
        excess=excess,
        details={"metric": details["metric"], "dimension": dim, "key": key, "window_hours": window_h,
                 "scale": round(scale, 3), "threshold_z": p.z, **details},
    )  # fmt: skip


def _share(
    rule: Rule,
    p: SpikeParams,
    ctx: Context,
    dim: str,
    key: str,
    now_counts: Counts,
    buckets: Mapping[datetime, Counts],
    base_hours: Sequence[datetime],
    start: datetime,
    window_h: float,
) -> Finding | None:
    neg, scored = series(buckets, "negative"), series(buckets, "scored")
    per_day: dict[date, list[float]] = {}
    for h in base_hours:
        pair = per_day.setdefault(ctx.calendar.day[h], [0.0, 0.0])
        pair[0] += neg.get(h, 0.0)
        pair[1] += scored.get(h, 0.0)
    p0 = baseline_share([(k, n) for k, n in per_day.values()])
    width = int(window_h)
    neg_past = tile_sums([neg.get(h, 0.0) for h in base_hours], width)
    scored_past = tile_sums([scored.get(h, 0.0) for h in base_hours], width)
    past = list(zip(neg_past, scored_past, strict=True))
    test = share_test(now_counts.negative, now_counts.scored, p0, past)
    if test.z < p.z or test.delta < p.min_delta:
        return None
    subject = _subject(dim, key)
    summary = alert_text(
        "share_summary", subject=subject, share=share(test.share), negative=number(test.negative, 0),
        scored=number(test.scored, 0), window=window(window_h), usual=share(p0), delta=number(100 * test.delta, 0),
        z=number(test.z), threshold=number(p.z),
    )  # fmt: skip
    return _slice_finding(
        rule, p, ctx, dim, key, start, window_h, test.scale,
        title=alert_text("share_title", subject=subject, share=share(test.share), usual=share(p0)), summary=summary,
        observed=test.share, expected=p0, z=test.z, excess=max(0.0, test.negative - p0 * test.scored),
        details={"metric": "negative_share", "negative": test.negative, "scored": test.scored,
                 "min_delta": p.min_delta},
    )  # fmt: skip


# --- value-weighted negative ------------------------------------------------------------------------------


def _weighted(rule: Rule, ctx: Context, out: Detection) -> None:
    p = rule.params
    assert isinstance(p, WeightedParams)
    start = ctx.now - timedelta(hours=p.window_hours)
    posts = [x for x in ctx.voices_since(start) if x.scored]
    total = sum(x.weight for x in posts)
    negative = [x for x in posts if x.negative]
    neg_weight = sum(x.weight for x in negative)
    customers = {x.customer_id for x in negative if x.customer_id is not None}
    if total < p.min_weight or not total or len(customers) < p.min_authors:
        return
    negative_share = neg_weight / total
    if negative_share < p.threshold:
        return
    base = ctx.buckets.get(ALL, {})
    base_w = sum(c.weight for c in base.values())
    base_share = sum(c.weighted_negative for c in base.values()) / base_w if base_w else 0.0
    summary = alert_text(
        "weighted_summary", share=share(negative_share), window=window(p.window_hours), threshold=share(p.threshold),
        usual=share(base_share), customers=len(customers), weight=number(neg_weight), total=number(total),
    )  # fmt: skip
    title = alert_text("weighted_title", share=share(negative_share))
    out.findings.append(
        Finding(
            rule=rule.name,
            kind=rule.kind.value,
            key=f"{rule.name}:alle",
            subject=render(alert_text("subject_weighted")),
            severity=rule.severity,
            title=render(title),
            summary=render(summary),
            texts={"title": title, "summary": summary},
            window_start=start,
            window_end=ctx.now,
            observed=negative_share,
            expected=base_share,
            statistic=negative_share,
            details={
                "threshold": p.threshold,
                "weight": round(total, 3),
                "negative_weight": round(neg_weight, 3),
                "customers": len(customers),
            },  # fmt: skip
            top_posts=top_refs(negative, ctx.tz),
            post_ids=ids(negative),
            review_item_ids=item_ids(negative),
            topics=main_topics(negative),
        )
    )


# --- emerging topics ------------------------------------------------------------------------------------


def _emerging(rule: Rule, ctx: Context, out: Detection) -> None:
    p = rule.params
    assert isinstance(p, EmergingParams)
    start = ctx.now - timedelta(hours=p.window_hours)
    if ctx.history_start is None or start - ctx.history_start < timedelta(days=min(7, p.baseline_days)):
        return
    posts = ctx.voices_since(start)
    by_id = {x.post_id: x for x in posts}
    authors: dict[str, set[str]] = {}
    carriers: dict[str, set[int]] = {}
    for x in posts:
        for term in terms(x.text):
            authors.setdefault(term, set()).add(x.author)
            carriers.setdefault(term, set()).add(x.post_id)
    first_day = ctx.calendar.day.get(floor_hour(start))
    if first_day is None:
        return
    days = [first_day - timedelta(days=i) for i in range(1, p.baseline_days + 1)]
    growing: dict[str, tuple[int, float]] = {}
    for term, who in authors.items():
        if len(who) < p.min_authors:
            continue
        history = ctx.term_days.get(term, {})
        per_day = sum(history.get(d, 0) for d in days) / p.baseline_days
        if len(who) >= p.growth * (per_day + 1.0):
            growing[term] = (len(who), per_day)
    if not growing:
        return
    for group in group_terms({t: carriers[t] for t in growing}):
        members = sorted(set().union(*(carriers[t] for t in group)))
        group_posts = [by_id[i] for i in members]
        lead = group[0]
        n_authors, per_day = growing[lead]
        label = " · ".join(group[:3])
        diversity = text_diversity([x.text for x in group_posts])
        if diversity < p.min_diversity:
            out.held_back.append(
                _("{rule}: “{label}” held back – suspected bot wave (text diversity {diversity})").format(
                    rule=rule.name, label=label, diversity=pct(diversity)
                )
            )
            continue
        summary = alert_text(
            "emerging_summary", label=label, authors=n_authors, window=window(p.window_hours),
            per_day=number(per_day), days=p.baseline_days, growth=number(p.growth, 0), min_authors=p.min_authors,
        )  # fmt: skip
        title = alert_text("emerging_title", label=label)
        out.findings.append(
            Finding(
                rule=rule.name,
                kind=rule.kind.value,
                key=f"{rule.name}:begriff={lead}",
                subject=render(alert_text("subject_topic", key=label)),
                severity=rule.severity,
                title=render(title),
                summary=render(summary),
                texts={"title": title, "summary": summary},
                window_start=start,
                window_end=ctx.now,
                observed=float(n_authors),
                expected=per_day,
                statistic=n_authors / (per_day + 1.0),
                excess=max(0.0, n_authors - per_day),
                details={"terms": group[:10], "text_diversity": round(diversity, 3)},
                top_posts=top_refs(group_posts, ctx.tz),
                post_ids=ids(group_posts),
                review_item_ids=item_ids(group_posts),
                topics=main_topics(group_posts),
            )
        )


# --- viral posts ----------------------------------------------------------------------------------------


def _viral(rule: Rule, ctx: Context, out: Detection) -> None:
    p = rule.params
    assert isinstance(p, ViralParams)
    means: dict[str, float] = {}
    for post in ctx.since(ctx.now - timedelta(hours=p.lookback_hours)):
        if post.engagement < p.min_engagement:
            continue
        vel = velocity(post.engagement, post.created_at, min(post.observed_at, ctx.now))
        if vel < p.min_velocity:
            continue
        if post.platform not in means:
            base = ctx.buckets.get(("platform", post.platform), {})
            cutoff = ctx.now - timedelta(days=p.baseline_days)
            chosen = [c for h, c in base.items() if h >= cutoff]
            n = sum(c.posts for c in chosen)
            means[post.platform] = sum(c.engagement for c in chosen) / n if n else 0.0
        typical = means[post.platform]
        if post.engagement < p.factor * typical:
            continue
        severity = min(3, rule.severity + 1) if post.negative else rule.severity
        who: Any = post.customer_name or post.handle or alert_text("unknown")
        summary = alert_text(
            "viral_summary", who=who, segment=post.segment, platform=post.platform,
            engagement=number(post.engagement, 0), velocity=number(vel, 0), typical=number(typical),
            min_engagement=number(p.min_engagement, 0), factor=number(p.factor, 0),
            min_velocity=number(p.min_velocity, 0),
        )  # fmt: skip
        title = alert_text("viral_title", platform=post.platform, tone=_tone(post))
        out.findings.append(
            Finding(
                rule=rule.name,
                kind=rule.kind.value,
                key=f"{rule.name}:beitrag={post.post_id}",
                subject=_("Post {id}").format(id=post.post_id),
                severity=severity,
                title=render(title),
                summary=render(summary),
                texts={"title": title, "summary": summary},
                window_start=post.created_at,
                window_end=ctx.now,
                observed=post.engagement,
                expected=typical,
                statistic=vel,
                details={"velocity": round(vel, 2), "platform_mean": round(typical, 3)},
                top_posts=(post_ref(post, ctx.tz),),
                post_ids=(post.post_id,),
                review_item_ids=item_ids([post]),
            )
        )


def _tone(post: AlertPost) -> dict[str, Any]:
    tone = post.sentiment if post.sentiment in ("negative", "positive", "neutral") else "unscored"
    return alert_text(f"tone_{tone}")


_DETECTORS: dict[type, Callable[[Rule, Context, Detection], None]] = {
    CustomerParams: _customer,
    SpikeParams: _spike,
    WeightedParams: _weighted,
    EmergingParams: _emerging,
    ViralParams: _viral,
}
