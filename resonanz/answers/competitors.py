"""The own brand against named competitors: share of voice and sentiment per brand and week.

Which brand a post belongs to: the brand its source is tagged with (``resonanz sources tag NAME --brand X``);
untagged sources and posts without a source (imports) are the own brand
(:func:`resonanz.answers.sql.brand_clause`). A post seen by several sources counts once, for the source that
stored it first.

What is compared is customer voice, as everywhere in the answers: not deleted, scored, and neither the own
brand's accounts nor employees nor spam (``Post.voice``). Per brand and ISO week:

* **share of voice** = the brand's posts / all compared posts of the week (``share``), and the same with every
  post weighted by its author's customer value (``share_weighted``: a competitor that our A-customers praise
  gains weighted share although few people post);
* **sentiment**: net (positive - negative) / posts, the negative share, plain and value-weighted, with ``posts``
  (n) beside every number. The span's share carries a 95 % Wilson interval (plain counts).

The comparison is only as fair as the listening: brands tracked on different platforms or with narrower
queries get less voice; ``sources`` and ``platforms`` on each row say what each brand rests on.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select, union_all
from sqlmodel import Session

from resonanz.answers.ask import Quote, checked_filter, quotes
from resonanz.answers.dashboard import weekly_periods
from resonanz.answers.sql import (
    ALL_BRANDS,
    SOURCE,
    AnswerFilter,
    brand_of_post,
    materialized,
    post_rows_select,
    ratio,
    sentiment_aggregates,
)
from resonanz.core.csv_safe import csv_writer
from resonanz.core.i18n import _
from resonanz.core.periods import Period

Z_95 = 1.959964
"""The normal quantile of a two-sided 95 % interval."""
CSV_FIELDS = ("week", "brand", "label", "own", "posts", "share", "share_weighted", "net", "net_weighted",
              "negative_share", "negative_share_weighted", "authors", "customers", "weight")  # fmt: skip


@dataclass
class BrandNumbers:
    """One brand in one week (or the whole span)."""

    posts: int = 0
    authors: int = 0
    customers: int = 0
    weight: float = 0.0
    share: float | None = None
    """Of all compared posts in the same week: the brand's share of voice."""
    share_weighted: float | None = None
    """The same with every post weighted by its author's customer value."""
    net: float | None = None
    net_weighted: float | None = None
    negative_share: float | None = None
    negative_share_weighted: float | None = None

    @classmethod
    def from_sums(cls, s: dict[str, Any], total_posts: int, total_weight: float) -> BrandNumbers:
        posts, weight = int(s.get("posts") or 0), float(s.get("w_sum") or 0.0)
        return cls(
            posts=posts,
            authors=int(s.get("authors") or 0),
            customers=int(s.get("customers") or 0),
            weight=weight,
            share=ratio(posts, total_posts),
            share_weighted=ratio(weight, total_weight),
            net=ratio(s.get("s_sum"), posts),
            net_weighted=ratio(s.get("ws_sum"), weight),
            negative_share=ratio(s.get("neg"), posts),
            negative_share_weighted=ratio(s.get("w_neg"), weight),
        )


@dataclass
class BrandSeries:
    """One brand over the weeks: its numbers per week, over the span, and what they rest on."""

    brand: str | None
    """The competitor's name; ``None``: the own brand."""
    weeks: list[BrandNumbers]
    total: BrandNumbers
    sources: list[str] = field(default_factory=list)
    """The sources listening to this brand (the own brand: the untagged ones, besides posts without a source)."""
    platforms: list[str] = field(default_factory=list)
    share_interval: tuple[float, float] | None = None
    """95 % Wilson interval of ``total.share`` (plain counts)."""
    quotes: list[Quote] = field(default_factory=list)

    @property
    def own(self) -> bool:
        return self.brand is None

    @property
    def label(self) -> str:
        return _("Own brand") if self.brand is None else self.brand

    @property
    def share_change_weighted(self) -> float | None:
        """Change of the weighted share of voice from the week before to the last week (points, 0.05 = 5 pp)."""
        if len(self.weeks) < 2 or self.weeks[-1].share_weighted is None or self.weeks[-2].share_weighted is None:
            return None
        return self.weeks[-1].share_weighted - self.weeks[-2].share_weighted


@dataclass
class CompetitorReport:
    filter: AnswerFilter
    weeks: list[Period]
    brands: list[BrandSeries]
    """The own brand first, then the competitors by posts over the span."""
    posts: list[int]
    """All compared posts per week (the denominator of ``share``)."""
    weight: list[float]

    @property
    def labels(self) -> list[str]:
        return [p.label for p in self.weeks]

    @property
    def competitors(self) -> list[BrandSeries]:
        return [b for b in self.brands if not b.own]

    @property
    def has_competitors(self) -> bool:
        """True once a source is tagged with a competitor (a comparison needs two sides)."""
        return bool(self.competitors)

    @property
    def total_posts(self) -> int:
        return sum(self.posts)

    def share_series(self, weighted: bool = True) -> dict[str, list[float | None]]:
        """Brand label -> share of voice per week (for charts)."""
        return {b.label: [w.share_weighted if weighted else w.share for w in b.weeks] for b in self.brands}

    def net_series(self, weighted: bool = True) -> dict[str, list[float | None]]:
        return {b.label: [w.net_weighted if weighted else w.net for w in b.weeks] for b in self.brands}

    def to_dict(self) -> dict[str, Any]:
        f = self.filter
        return {
            "filter": {
                "classes": list(f.classes),
                "topics": list(f.topics),
                "platforms": list(f.platforms),
                "languages": list(f.languages),
            },  # fmt: skip
            "weeks": [p.label for p in self.weeks],
            "posts": self.posts,
            "brands": [
                {
                    "brand": b.brand,
                    "own": b.own,
                    "label": b.label,
                    "sources": b.sources,
                    "platforms": b.platforms,
                    "total": asdict(b.total),
                    "share_interval": list(b.share_interval) if b.share_interval else None,
                    "share_change_weighted": b.share_change_weighted,
                    "weeks": [{"week": p.label, **asdict(w)} for p, w in zip(self.weeks, b.weeks, strict=True)],
                    "quotes": [asdict(q) for q in b.quotes],
                }
                for b in self.brands
            ],
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Long format: one row per week and brand, then one per brand over the span (``week`` = ``all``)."""
        for b in self.brands:
            for p, w in [*zip(self.labels, b.weeks, strict=True), ("all", b.total)]:
                values = {k: getattr(w, k) for k in CSV_FIELDS[4:]}
                yield {"week": p, "brand": b.brand, "label": b.label, "own": b.own, **values}


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (``None`` without observations)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def tagged_sources(session: Session) -> dict[str | None, list[tuple[str, str]]]:
    """brand -> [(source name, platform)] of every source (``None``: the untagged ones, the own brand's)."""
    out: dict[str | None, list[tuple[str, str]]] = {None: []}
    query = select(SOURCE.c.brand, SOURCE.c.name, SOURCE.c.platform).order_by(SOURCE.c.name)
    for brand, name, platform in session.execute(query).all():
        out.setdefault(brand, []).append((str(name), str(platform)))
    return out


def competitor_report(
    session: Session, flt: AnswerFilter, periods: Sequence[Period], *, quote_limit: int = 0
) -> CompetitorReport:
    """Share of voice and sentiment of the own brand and every tagged competitor in each of ``periods``
    (contiguous, oldest first). ``flt``: who and what (classes, platforms, topics ...; its period and brand
    are ignored). ``quote_limit``: per brand the most weighted/negative/positive posts of the span."""
    periods = list(periods)
    if not periods:
        raise ValueError("competitor_report needs at least one period")
    span = Period(periods[0].start, periods[-1].end, f"{periods[0].label} – {periods[-1].label}")
    flt = checked_filter(session, replace(flt, period=span, brand=ALL_BRANDS))
    dialect = session.get_bind().dialect.name
    # one statement, the joins computed once: per week and brand, and per brand over the span (bucket -1)
    rows = (
        post_rows_select(flt, dialect, periods)
        .add_columns(brand_of_post().label("brand"))
        .cte("rows")
        .prefix_with("MATERIALIZED")
    )
    per_week = select(rows.c.bucket, rows.c.brand, *sentiment_aggregates(rows)).group_by(rows.c.bucket, rows.c.brand)
    per_span = select(literal(-1).label("bucket"), rows.c.brand, *sentiment_aggregates(rows)).group_by(rows.c.brand)
    weekly: dict[tuple[int, str | None], dict[str, Any]] = {}
    spans: dict[str | None, dict[str, Any]] = {}
    for r in session.execute(union_all(per_week, per_span)):
        if int(r.bucket) < 0:
            spans[r.brand] = dict(r._mapping)
        else:
            weekly[(int(r.bucket), r.brand)] = dict(r._mapping)
    n = len(periods)
    posts, weight = [0] * n, [0.0] * n
    for (bucket, _brand), sums in weekly.items():
        posts[bucket] += int(sums["posts"] or 0)
        weight[bucket] += float(sums["w_sum"] or 0.0)
    total_posts, total_weight = sum(posts), sum(weight)
    sources = tagged_sources(session)
    names: set[str | None] = {None, *sources, *spans}
    series = []
    for brand in names:
        total = BrandNumbers.from_sums(spans.get(brand, {}), total_posts, total_weight)
        series.append(
            BrandSeries(
                brand=brand,
                weeks=[BrandNumbers.from_sums(weekly.get((i, brand), {}), posts[i], weight[i]) for i in range(n)],
                total=total,
                sources=[name for name, _p in sources.get(brand, [])],
                platforms=sorted({p for _n, p in sources.get(brand, [])}),
                share_interval=wilson(total.posts, total_posts),
            )
        )
    series.sort(key=lambda b: (not b.own, -b.total.posts, (b.brand or "").casefold()))
    if quote_limit > 0:
        for b in series:
            if b.total.posts:
                brand_flt = replace(flt, brand=b.brand)
                with materialized(session, post_rows_select(brand_flt, dialect, [span])) as table:
                    b.quotes = quotes(session, table, quote_limit)
    return CompetitorReport(filter=flt, weeks=periods, brands=series, posts=posts, weight=weight)


def weekly_competitors(
    session: Session,
    base: AnswerFilter,
    *,
    end_week: str,
    weeks: int = 8,
    tz: str = "Europe/Berlin",
    quote_limit: int = 0,
) -> CompetitorReport:
    """:func:`competitor_report` over ``weeks`` ISO weeks ending with ``end_week`` (e.g. 2026-W47)."""
    return competitor_report(session, base, weekly_periods(end_week, weeks, tz), quote_limit=quote_limit)


def to_json(report: CompetitorReport) -> str:
    return json.dumps(report.to_dict(), default=_default, ensure_ascii=False, indent=2)


def to_csv(report: CompetitorReport) -> str:
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in report.rows():
        writer.writerow(["" if row[k] is None else row[k] for k in CSV_FIELDS])
    return buf.getvalue()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


__all__ = [
    "BrandNumbers",
    "BrandSeries",
    "CompetitorReport",
    "competitor_report",
    "tagged_sources",
    "weekly_competitors",
    "to_csv",
    "to_json",
    "wilson",
]
