"""The robust seasonal baseline behind spike alerts: pure functions over hourly counts.

What is expected in a window
    expected = level x sum over the window's hours of shape(hour). The **shape** is the seasonal rhythm
    (hour of day x weekday, in Europe/Berlin) estimated from *all* posts; the **level** (posts per unit of
    shape) is estimated per slice (a topic, a platform, a customer class). A slice with two posts a day has
    far too few posts to estimate its own 168 hour-of-week slots, but people post about a topic when they
    post at all, so it borrows the shape of the whole stream and only its level is its own.

    Hour-of-day and weekday factors are estimated separately (24 + 7 numbers instead of 168: four weeks give
    28 observations per hour of day but only 4 per hour of week) and shrunk towards flat with a gamma prior
    worth ``PRIOR_POSTS`` posts, so a thin night hour is not estimated as exactly zero.

Why robust
    The baseline weeks contain the last incident. A mean and standard deviation would let last month's recall
    inflate both the level and the scatter and hide this month's. So whole days are screened first
    (:func:`outlier_days`: median + 5 x max(MAD scale, Poisson scale)) and left out of shape and level, and
    the scatter is the **median absolute deviation** of past windows' residuals, which a few incident windows
    cannot move. Within the kept days plain means are used: with low counts a median per hour is 0 and throws
    the information away.

The statistic
    Counts are overdispersed Poisson. How overdispersed is measured on the slice's own past windows of the same
    length: the Anscombe residual ``2 (sqrt(x + 3/8) - sqrt(mu + 3/8))`` has variance about 1 for Poisson counts
    at any mean, so 1.4826 x the MAD of the past residuals (at least 1 = pure Poisson) is the slice's scale s:
    a naturally bursty platform needs a bigger jump than a steady one. The window is then tested with the exact
    Poisson tail of the quasi-Poisson count (x / s^2 against mu / s^2), expressed as a z value: a normal
    approximation would call 7 posts where 0.5 are usual unremarkable (z 3.6), the tail says one in a million
    (z 4.75), and that is the small brand's #Bohnengate. Negative share uses the binomial z of the window
    against the median daily share, scaled the same way.

Alerts additionally need a minimum count and a minimum ratio (or share increase): with a high z alone a topic
going from 0.2 to 3 posts would alert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import NormalDist, median
from zoneinfo import ZoneInfo

HOUR = timedelta(hours=1)
TZ = "Europe/Berlin"
PRIOR_POSTS = 10.0
"""Pseudo-posts pulling each hour-of-day and weekday factor towards flat (weak with real volume)."""
OUTLIER_K = 5.0
MAD_TO_SIGMA = 1.4826
MIN_SHARE_POSTS = 5
"""Days and windows with fewer scored posts than this say nothing about a share."""


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def hours_in(start: datetime, end: datetime) -> list[datetime]:
    """The hour starts of every hour that overlaps ``[start, end)``."""
    out = []
    h = floor_hour(start)
    while h < end:
        out.append(h)
        h += HOUR
    return out


def local_day(t: datetime, tz: str = TZ) -> date:
    return t.astimezone(ZoneInfo(tz)).date()


@dataclass(frozen=True)
class Shape:
    """Seasonal factors (each set has mean 1): ``hod`` by local hour of day, ``dow`` by weekday (Monday 0)."""

    hod: tuple[float, ...] = (1.0,) * 24
    dow: tuple[float, ...] = (1.0,) * 7
    tz: str = TZ

    def __post_init__(self) -> None:
        if len(self.hod) != 24 or len(self.dow) != 7:
            raise ValueError("a shape has 24 hour-of-day and 7 weekday factors")

    def factor(self, hour: datetime) -> float:
        local = hour.astimezone(ZoneInfo(self.tz))
        return self.hod[local.hour] * self.dow[local.weekday()]


FLAT = Shape()


def outlier_days(day_totals: Mapping[date, float], k: float = OUTLIER_K) -> set[date]:
    """Days far above the typical day: total > median + k x max(1.4826 MAD, sqrt(median), 1)."""
    values = list(day_totals.values())
    if len(values) < 3:
        return set()
    med = median(values)
    mad = MAD_TO_SIGMA * median(abs(v - med) for v in values)
    scale = max(mad, math.sqrt(med), 1.0)
    return {d for d, v in day_totals.items() if v > med + k * scale}


def day_totals(counts: Mapping[datetime, float], hours: Iterable[datetime], tz: str = TZ) -> dict[date, float]:
    out: dict[date, float] = {}
    for h in hours:
        d = local_day(h, tz)
        out[d] = out.get(d, 0.0) + counts.get(h, 0.0)
    return out


def _shrunk_means(sums: Sequence[float], ns: Sequence[int], prior: float) -> tuple[float, ...]:
    """Gamma-Poisson posterior means (sum + prior) / (n + prior / m), normalised to mean 1."""
    total_n = sum(ns)
    m = sum(sums) / total_n if total_n else 0.0
    if m <= 0:
        return (1.0,) * len(sums)
    rates = [(s + prior) / (n + prior / m) for s, n in zip(sums, ns, strict=True)]
    mean = sum(rates) / len(rates)
    return tuple(r / mean for r in rates)


def seasonal_shape(
    counts: Mapping[datetime, float], start: datetime, end: datetime, tz: str = TZ, prior: float = PRIOR_POSTS
) -> Shape:
    """The hour-of-day and weekday rhythm of ``counts`` (hour start -> posts) over ``[start, end)``,
    leaving out :func:`outlier_days`. Missing hours count as 0.

    Hour of day: the mean over the kept days. Weekday: the median total of the *complete* kept days of each
    weekday (a day cut off by the range would look like a quiet day; with four weeks a weekday has four
    totals, and one incident day among them moves a mean by a quarter but a median hardly)."""
    hours = hours_in(start, end)
    if not hours:
        return Shape(tz=tz)
    zone = ZoneInfo(tz)
    excluded = outlier_days(day_totals(counts, hours, tz))
    hod_sum, hod_n = [0.0] * 24, [0] * 24
    per_day: dict[date, float] = {}
    for h in hours:
        local = h.astimezone(zone)
        if local.date() in excluded:
            continue
        x = counts.get(h, 0.0)
        hod_sum[local.hour] += x
        hod_n[local.hour] += 1
        per_day[local.date()] = per_day.get(local.date(), 0.0) + x
    if sum(hod_n) == 0:
        return Shape(tz=tz)
    first, last = start.astimezone(zone), end.astimezone(zone)
    partial = set()
    if (first.hour, first.minute) != (0, 0):
        partial.add(first.date())
    partial.add(last.date())  # the day ``end`` falls in is never complete (``end`` is exclusive)
    by_weekday: list[list[float]] = [[] for _ in range(7)]
    for d, total in per_day.items():
        if d not in partial:
            by_weekday[d.weekday()].append(total)
    dow_sum = [len(v) * median(v) if v else 0.0 for v in by_weekday]
    dow_n = [len(v) for v in by_weekday]
    return Shape(_fill(hod_sum, hod_n, prior), _fill(dow_sum, dow_n, prior), tz)


def _fill(sums: Sequence[float], ns: Sequence[int], prior: float) -> tuple[float, ...]:
    """:func:`_shrunk_means` of the observed slots; slots never observed get the flat value 1."""
    seen = [i for i, n in enumerate(ns) if n]
    if not seen:
        return (1.0,) * len(sums)
    part = _shrunk_means([sums[i] for i in seen], [ns[i] for i in seen], prior)
    out = [1.0] * len(sums)
    for i, v in zip(seen, part, strict=True):
        out[i] = v
    mean = sum(out) / len(out)
    return tuple(v / mean for v in out)


@dataclass(frozen=True)
class Calendar:
    """The hours of a range with their local day and seasonal factor, computed once per evaluation
    (time-zone arithmetic per hour and slice would cost more than the statistics)."""

    day: Mapping[datetime, date]
    factor: Mapping[datetime, float]


def calendar(shape: Shape, start: datetime, end: datetime) -> Calendar:
    zone = ZoneInfo(shape.tz)
    days: dict[datetime, date] = {}
    factors: dict[datetime, float] = {}
    for h in hours_in(start, end):
        local = h.astimezone(zone)
        days[h] = local.date()
        factors[h] = shape.hod[local.hour] * shape.dow[local.weekday()]
    return Calendar(days, factors)


def level(counts: Mapping[datetime, float], hours: Sequence[datetime], cal: Calendar) -> float:
    """Posts per unit of shape over ``hours``, leaving out the slice's own :func:`outlier_days`."""
    totals: dict[date, float] = {}
    for h in hours:
        totals[cal.day[h]] = totals.get(cal.day[h], 0.0) + counts.get(h, 0.0)
    excluded = outlier_days(totals)
    num = den = 0.0
    for h in hours:
        if cal.day[h] in excluded:
            continue
        num += counts.get(h, 0.0)
        den += cal.factor[h]
    return num / den if den > 0 else 0.0


def expected(lvl: float, cal: Calendar, start: datetime, end: datetime) -> float:
    """What ``lvl`` expects in ``[start, end)`` with the calendar's factors, partial hours pro rata."""
    total = 0.0
    for h in hours_in(start, end):
        overlap = (min(h + HOUR, end) - max(h, start)) / HOUR
        total += lvl * cal.factor.get(h, 1.0) * overlap
    return total


def anscombe_residual(observed: float, mu: float) -> float:
    """Variance-stabilised Poisson residual: about N(0, 1) for Poisson counts with mean ``mu``."""
    return 2.0 * (math.sqrt(observed + 0.375) - math.sqrt(max(mu, 0.0) + 0.375))


def robust_scale(values: Sequence[float], floor: float = 1.0) -> float:
    """1.4826 x the median absolute deviation (a standard deviation that outliers cannot move), >= ``floor``."""
    if len(values) < 3:
        return floor
    med = median(values)
    return max(floor, MAD_TO_SIGMA * median(abs(v - med) for v in values))


def tiles(start: datetime, end: datetime, window: timedelta) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into whole windows of ``window``, newest last (a leftover at the start is dropped)."""
    out = []
    t = end
    while t - window >= start:
        out.append((t - window, t))
        t -= window
    return out[::-1]


def tile_sums(values: Sequence[float], width: int) -> list[float]:
    """Sums of consecutive blocks of ``width`` values, aligned to the end (as :func:`tiles`), oldest first."""
    out = []
    end = len(values)
    while end - width >= 0:
        out.append(sum(values[end - width : end]))
        end -= width
    return out[::-1]


def window_sum(counts: Mapping[datetime, float], start: datetime, end: datetime) -> float:
    """Sum of whole hourly counts whose hour starts in ``[start, end)`` (``start``/``end`` on the hour)."""
    total = 0.0
    h = start
    while h < end:
        total += counts.get(h, 0.0)
        h += HOUR
    return total


def poisson_tail(x: float, mu: float) -> float:
    """P(X >= x) for X ~ Poisson(mu), for real x (the regularised lower incomplete gamma P(x, mu)); meant for
    x > mu, where its series converges quickly."""
    if x <= 0:
        return 1.0
    if mu <= 0:
        return 0.0
    log_front = x * math.log(mu) - mu - math.lgamma(x + 1.0)
    term, total, n = 1.0, 1.0, 1
    while term > 1e-17 * total and n < 100_000:
        term *= mu / (x + n)
        total += term
        n += 1
    return min(1.0, math.exp(log_front + math.log(total)))


_NORMAL = NormalDist()
MAX_Z = 38.0
"""The z of a tail probability too small for a float."""


def tail_z(x: float, mu: float, scale: float = 1.0) -> float:
    """``x`` against ``mu`` as a z value: the standard-normal quantile of the quasi-Poisson upper tail
    (counts divided by ``scale`` squared); below the mean, the Anscombe residual / scale."""
    if x <= mu:
        return anscombe_residual(x, mu) / scale
    s2 = scale * scale
    p = poisson_tail(x / s2, mu / s2)
    return MAX_Z if p <= 0.0 else min(MAX_Z, -_NORMAL.inv_cdf(p))


@dataclass(frozen=True)
class VolumeTest:
    observed: float
    expected: float
    residual: float
    scale: float
    z: float

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf


def volume_test(observed: float, mu: float, past: Sequence[tuple[float, float]]) -> VolumeTest:
    """``observed`` against ``mu``: the scale from the MAD of the past windows' (observed, expected) Anscombe
    residuals, the z from the quasi-Poisson tail (see the module docstring)."""
    residual = anscombe_residual(observed, mu)
    scale = robust_scale([anscombe_residual(o, e) for o, e in past])
    return VolumeTest(observed, mu, residual, scale, tail_z(observed, mu, scale))


def baseline_share(days: Sequence[tuple[float, float]], min_posts: int = MIN_SHARE_POSTS) -> float:
    """Typical negative share from per-day (negative, scored) pairs: the median of the daily shares of days
    with at least ``min_posts`` scored posts; with fewer than 3 such days the pooled share with a
    Beta(1, 1) prior."""
    shares = [k / n for k, n in days if n >= min_posts]
    if len(shares) >= 3:
        return median(shares)
    k_total = sum(k for k, _ in days)
    n_total = sum(n for _, n in days)
    return (k_total + 1.0) / (n_total + 2.0)


def share_z(k: float, n: float, p0: float) -> float:
    """Binomial z of ``k`` negatives in ``n`` against share ``p0`` (clamped to [0.02, 0.98])."""
    if n <= 0:
        return 0.0
    p = min(max(p0, 0.02), 0.98)
    return (k - n * p) / math.sqrt(n * p * (1.0 - p))


@dataclass(frozen=True)
class ShareTest:
    negative: float
    scored: float
    share: float
    baseline: float
    raw_z: float
    scale: float
    z: float

    @property
    def delta(self) -> float:
        return self.share - self.baseline


def share_test(k: float, n: float, p0: float, past: Sequence[tuple[float, float]]) -> ShareTest:
    """Negative share of the window against ``p0``; the scale is the MAD of past windows' z (those with
    at least :data:`MIN_SHARE_POSTS` scored posts)."""
    raw = share_z(k, n, p0)
    scale = robust_scale([share_z(pk, pn, p0) for pk, pn in past if pn >= MIN_SHARE_POSTS])
    return ShareTest(k, n, k / n if n else 0.0, p0, raw, scale, raw / scale)
