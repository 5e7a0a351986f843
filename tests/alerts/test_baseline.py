"""The seasonal baseline's statistics on cases small enough to compute by hand."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from statistics import NormalDist

import pytest

from resonanz.alerts.baseline import (
    FLAT,
    MAX_Z,
    Shape,
    anscombe_residual,
    baseline_share,
    calendar,
    expected,
    floor_hour,
    hours_in,
    level,
    outlier_days,
    poisson_tail,
    robust_scale,
    seasonal_shape,
    share_test,
    share_z,
    tail_z,
    tile_sums,
    tiles,
    volume_test,
)

# Monday 2 November 2026, 00:00 in Berlin (winter time, UTC+1) is Sunday 23:00 UTC
MONDAY = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_hours_and_floor() -> None:
    t = datetime(2026, 11, 2, 10, 42, 17, tzinfo=UTC)
    assert floor_hour(t) == datetime(2026, 11, 2, 10, tzinfo=UTC)
    assert hours_in(t, t + 2 * H) == [floor_hour(t), floor_hour(t) + H, floor_hour(t) + 2 * H]
    assert hours_in(floor_hour(t), floor_hour(t) + 2 * H) == [floor_hour(t), floor_hour(t) + H]


def test_outlier_days_median_and_mad() -> None:
    # median 11.5, MAD 1.0 -> 1.48; Poisson scale sqrt(11.5) = 3.39 wins; limit 11.5 + 5 x 3.39 = 28.5
    days = {date(2026, 11, d): v for d, v in ((2, 10.0), (3, 12.0), (4, 11.0), (5, 100.0))}
    assert outlier_days(days) == {date(2026, 11, 5)}
    days[date(2026, 11, 5)] = 28.0
    assert outlier_days(days) == set()
    assert outlier_days({date(2026, 11, 2): 1.0, date(2026, 11, 3): 50.0}) == set()  # too few days to judge


def test_seasonal_shape_of_a_single_busy_hour() -> None:
    # two days, 24 posts every day at 09:00 Berlin and none otherwise: mean 1 post per hour.
    counts = {MONDAY + timedelta(days=d, hours=9): 24.0 for d in range(2)}
    shape = seasonal_shape(counts, MONDAY, MONDAY + timedelta(days=2), prior=10.0)
    # posterior rates: (48 + 10) / (2 + 10) at 09:00, (0 + 10) / 12 elsewhere; their mean is 1.0
    assert shape.hod[9] == pytest.approx(58 / 12)
    assert shape.hod[3] == pytest.approx(10 / 12)
    assert sum(shape.hod) / 24 == pytest.approx(1.0)
    assert shape.dow[0] == pytest.approx(1.0) and shape.dow[1] == pytest.approx(1.0)  # Monday = Tuesday
    assert shape.factor(MONDAY + timedelta(hours=9)) == pytest.approx(58 / 12)


def test_seasonal_shape_leaves_out_an_incident_day() -> None:
    flat = {MONDAY + k * H: 2.0 for k in range(7 * 24)}
    spiked = dict(flat)
    for k in range(8, 12):  # Monday 08:00-12:00 Berlin: 200 extra posts
        spiked[MONDAY + k * H] = 52.0
    shape = seasonal_shape(spiked, MONDAY, MONDAY + timedelta(days=7))
    assert shape.hod == pytest.approx((1.0,) * 24)  # the incident day does not teach a morning peak
    assert shape.dow == pytest.approx((1.0,) * 7)


def test_level_expected_and_partial_hours() -> None:
    hours = hours_in(MONDAY, MONDAY + timedelta(days=3))
    counts = {h: 2.0 for h in hours}
    cal = calendar(FLAT, MONDAY, MONDAY + timedelta(days=4))
    assert level(counts, hours, cal) == pytest.approx(2.0)
    start = MONDAY + timedelta(days=3, hours=10, minutes=30)
    assert expected(2.0, cal, start, start + 3 * H) == pytest.approx(6.0)
    assert expected(2.0, cal, start, start + timedelta(minutes=90)) == pytest.approx(3.0)
    # a past incident day does not lift the level (median screen per slice)
    counts[MONDAY + timedelta(days=1, hours=10)] = 300.0
    assert level(counts, hours, cal) == pytest.approx(2.0)


def test_level_follows_the_shape() -> None:
    shape = Shape(hod=tuple(2.0 if h == 9 else 22 / 23 for h in range(24)))
    cal = calendar(shape, MONDAY, MONDAY + timedelta(days=1))
    hours = hours_in(MONDAY, MONDAY + timedelta(days=1))
    counts = {h: 3.0 * cal.factor[h] for h in hours}
    assert level(counts, hours, cal) == pytest.approx(3.0)
    nine = MONDAY + 9 * H
    assert expected(3.0, cal, nine, nine + H) == pytest.approx(6.0)


def test_anscombe_residual_and_robust_scale() -> None:
    assert anscombe_residual(4.0, 4.0) == 0.0
    assert anscombe_residual(9.0, 1.0) == pytest.approx(2 * (math.sqrt(9.375) - math.sqrt(1.375)))
    assert anscombe_residual(0.0, 5.0) < 0
    # median 3, absolute deviations 2, 1, 0, 1, 97 -> MAD 1 -> 1.4826; the outlier 100 does not matter
    assert robust_scale([1, 2, 3, 4, 100]) == pytest.approx(1.4826)
    assert robust_scale([0.0, 0.0, 0.0]) == 1.0  # never below Poisson noise
    assert robust_scale([0.0, 5.0]) == 1.0  # too few windows to measure


def test_tiles_and_tile_sums_align_to_the_end() -> None:
    t0 = MONDAY
    assert tiles(t0, t0 + 6 * H, 2 * H) == [(t0, t0 + 2 * H), (t0 + 2 * H, t0 + 4 * H), (t0 + 4 * H, t0 + 6 * H)]
    assert tiles(t0, t0 + 5 * H, 2 * H) == [(t0 + H, t0 + 3 * H), (t0 + 3 * H, t0 + 5 * H)]
    assert tile_sums([1, 2, 3, 4, 5], 2) == [5, 9]
    assert tile_sums([1, 2], 3) == []


def test_poisson_tail_is_the_sum_of_the_probabilities() -> None:
    for x, mu in ((7, 0.5), (19, 5.0), (3, 2.5), (130, 100.0)):
        below = sum(math.exp(-mu + k * math.log(mu) - math.lgamma(k + 1)) for k in range(x))
        assert poisson_tail(x, mu) == pytest.approx(1.0 - below, rel=1e-6)
    assert poisson_tail(0, 3.0) == 1.0 and poisson_tail(2, 0.0) == 0.0


def test_tail_z_at_small_and_large_means() -> None:
    # 7 posts where 0.5 are usual: P = 1.0024e-6, the z of a one-in-a-million tail (4.75)
    assert tail_z(7, 0.5) == pytest.approx(-NormalDist().inv_cdf(poisson_tail(7, 0.5)))
    assert 4.7 < tail_z(7, 0.5) < 4.8
    assert tail_z(7, 0.5) > anscombe_residual(7, 0.5)  # the normal approximation understates small counts
    # overdispersion: with scale 2 the same counts are a quarter as surprising (quasi-Poisson)
    assert tail_z(40, 10, scale=2.0) == pytest.approx(tail_z(10, 2.5))
    assert tail_z(3, 5) == pytest.approx(anscombe_residual(3, 5)) and tail_z(3, 5) < 0
    assert tail_z(10**6, 1.0) == MAX_Z


def test_volume_test_uses_past_scatter() -> None:
    calm = [(5.0, 5.0)] * 10
    test = volume_test(20.0, 5.0, calm)
    assert test.scale == 1.0
    assert test.residual == pytest.approx(2 * (math.sqrt(20.375) - math.sqrt(5.375)))
    assert test.z == pytest.approx(tail_z(20.0, 5.0))
    assert test.ratio == pytest.approx(4.0)
    bursty = [(o, 5.0) for o in (0.0, 12.0, 1.0, 14.0, 2.0, 11.0, 0.0, 13.0)]  # the same mean, much more scatter
    assert volume_test(20.0, 5.0, bursty).z < test.z / 1.5
    assert volume_test(3.0, 0.0, calm).ratio == math.inf


def test_negative_share() -> None:
    assert baseline_share([(3, 10), (2, 10), (5, 10)]) == pytest.approx(0.3)  # median of daily shares
    assert baseline_share([(3, 10), (1, 2)]) == pytest.approx(5 / 14)  # too few full days: pooled, Beta(1, 1)
    assert share_z(8, 10, 0.3) == pytest.approx(5 / math.sqrt(2.1))
    assert share_z(0, 0, 0.3) == 0.0
    test = share_test(8, 10, 0.3, [(3, 10)] * 5 + [(1, 2)])
    assert test.scale == 1.0 and test.delta == pytest.approx(0.5)
    assert test.z == pytest.approx(5 / math.sqrt(2.1))
