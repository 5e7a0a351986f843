"""Weighting that means something by default (issue 17, part 4): a post weighs its author's revenue relative to
the average customer (capped, floored), class weights as an option; the item view says how a weight came about;
and the effective n / 95 % bands of :mod:`resonanz.answers.uncertainty`, by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from linker.value.weights import MODES, Standing, WeightConfig, customer_weight
from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.uncertainty import Z95, effective_n, net_band, voice_n_eff, wilson
from resonanz.core.periods import iso_week
from resonanz.core.settings import WEIGHT_MODES, ConfigError, Settings, ValueSettings, _load_settings
from resonanz.core.tables import mark_current_values
from resonanz.pipeline.domain_config import weight_config
from resonanz.pipeline.weighting import apply_weights, explain_weight
from resonanz.review.detail import item_detail
from store.models import Customer, CustomerValue, Score
from tests.answers.factory import MONDAY, WEEK, Factory

# --- the rule, by hand --------------------------------------------------------------------------------------------

REVENUES = {"big": 600.0, "mid": 300.0, "small": 100.0, "none": 0.0}
"""The worked example of resonanz/pipeline/weighting.py: 1,000 € among four customers, 250 € on average."""


def _standing(revenue: float) -> Standing:
    total = sum(REVENUES.values())
    return Standing(abc_class="A", revenue_share=revenue / total, n_customers=len(REVENUES))


def test_revenue_share_weight_by_hand() -> None:
    config = weight_config(Settings())  # the default settings
    assert config.mode == "revenue_share" and (config.prospect_weight, config.max_weight) == (0.5, 50.0)
    weights = {name: customer_weight(_standing(rev), config) for name, rev in REVENUES.items()}
    assert weights == pytest.approx({"big": 2.4, "mid": 1.2, "small": 0.5, "none": 0.5})  # 0.4 and 0 -> floor 0.5
    assert customer_weight(None, config) == 0.5  # a prospect
    capped = WeightConfig(mode="revenue_share", prospect_weight=0.5, max_weight=2.0)
    assert customer_weight(_standing(600.0), capped) == 2.0
    # the mean customer weighs 1: the weights before floor and cap average to exactly 1
    relative = [_standing(r).revenue_share * len(REVENUES) for r in REVENUES.values()]
    assert sum(relative) / len(relative) == pytest.approx(1.0)


def test_class_weights_stay_an_option_and_the_mode_is_validated_in_german(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(WEIGHT_MODES) == set(MODES)  # the settings offer exactly the linker's modes
    assert ValueSettings(weight_mode="class").weight_mode == "abc"
    assert ValueSettings(weight_mode="CLV_share").weight_mode == "clv"
    abc = weight_config(Settings(value=ValueSettings(weight_mode="class")))
    assert customer_weight(_standing(600.0), abc) == customer_weight(_standing(100.0), abc) == 5.0
    monkeypatch.setenv("RESONANZ_VALUE__WEIGHT_MODE", "umsatz")
    with pytest.raises(ConfigError, match=r"value\.weight_mode: der Wert 'umsatz' passt nicht.*revenue_share"):
        _load_settings()
    monkeypatch.setenv("RESONANZ_VALUE__WEIGHT_MODE", "revenue_share")
    monkeypatch.setenv("RESONANZ_VALUE__MAX_WEIGHT", "0.2")
    with pytest.raises(ConfigError, match="RESONANZ_VALUE__MAX_WEIGHT"):
        _load_settings()


def test_explain_weight_names_cap_floor_and_stale_weights() -> None:
    config = weight_config(Settings())
    hotel = Standing(abc_class="A", revenue_share=0.25, n_customers=240)  # 60 x the average customer
    explained = explain_weight(config, linked=True, standing=hotel, stored=5.0)
    assert explained.relative == pytest.approx(60.0) and (explained.rule, explained.bound) == (50.0, "cap")
    assert explained.stored == 5.0  # written under class weights: the item view says it is out of date
    small = explain_weight(config, linked=True, standing=_standing(100.0), stored=0.5)
    assert small.relative == pytest.approx(0.4) and (small.rule, small.bound) == (0.5, "floor")
    prospect = explain_weight(config, linked=False, standing=None, stored=0.5)
    assert (prospect.rule, prospect.valued, prospect.relative) == (0.5, False, None)
    unvalued = explain_weight(config, linked=True, standing=None, stored=None)
    assert unvalued.linked and not unvalued.valued and unvalued.rule == 0.5


# --- stored weights: apply_weights with the default ------------------------------------------------------------


def _valued(f: Factory, name: str, revenue: float, abc: str, n_customers: int, total: float) -> Customer:
    c = f.customer(name, None)
    assert c.id is not None
    f.session.add(
        CustomerValue(
            customer_id=c.id, computed_at=MONDAY - timedelta(days=1), abc_class=abc, revenue=revenue,
            weight=0.0, details={"revenue_share": revenue / total, "n_customers": n_customers},
        )
    )  # fmt: skip
    f.session.flush()
    mark_current_values(f.session)
    return c


def test_apply_weights_by_default_weighs_the_hotel_far_above_the_subscriber(sqlite_engine: Engine) -> None:
    """The demo's story in small: a 32,000 € hotel and a 1,200 € subscriber, both A. Class weights made them
    equal (5 and 5); by revenue share the hotel counts as its revenue says, the subscriber as hers."""
    with Session(sqlite_engine, expire_on_commit=False) as session:
        f = Factory(session)
        total, n = 40_000.0, 40  # 1,000 € on average
        hotel = _valued(f, "Hotel Rheinblick", 32_000.0, "A", n, total)
        sabine = _valued(f, "Sabine Krüger", 1_200.0, "A", n, total)
        posts = {}
        for name, customer in (("hotel", hotel), ("sabine", sabine), ("stranger", None)):
            ident = f.identity(f"@{name}@example.social")
            if customer is not None:
                f.link(ident, customer)
            posts[name] = f.post(ident, f"{name} schreibt", sentiment="negative", weight=5.0)
        session.commit()
    assert apply_weights(sqlite_engine, Settings()) == 3
    with Session(sqlite_engine) as session:
        stored = {p: session.exec(select(Score.weight).where(Score.post_id == posts[p].id)).one() for p in posts}
    assert stored == pytest.approx({"hotel": 32.0, "sabine": 1.2, "stranger": 0.5})
    assert apply_weights(sqlite_engine, Settings(value=ValueSettings(weight_mode="abc"))) == 2  # the stranger stays
    with Session(sqlite_engine) as session:
        both = {
            session.exec(select(Score.weight).where(Score.post_id == posts[p].id)).one() for p in ("hotel", "sabine")
        }
    assert both == {5.0}


def test_item_detail_explains_the_stored_weight(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine, expire_on_commit=False) as session:
        f = Factory(session)
        hotel = _valued(f, "Hotel Rheinblick", 60_000.0, "A", 40, 40_000.0 + 60_000.0)  # 24 x the average
        ident = f.identity("@hotel@example.social")
        f.link(ident, hotel)
        item = f.review_item(f.post(ident, "Die Mühle ist schon wieder kaputt.", weight=5.0), severity=4)
        session.commit()
        before = item_detail(session, item.id or 0, settings=Settings())
        assert before.weight is not None and before.weight.stored == 5.0 and before.weight.rule == pytest.approx(24.0)
        assert item_detail(session, item.id or 0).weight is None  # no settings, no explanation
    apply_weights(sqlite_engine, Settings(value=ValueSettings(max_weight=20.0)))
    with Session(sqlite_engine) as session:
        after = item_detail(session, item.id or 0, settings=Settings(value=ValueSettings(max_weight=20.0)))
    assert after.weight is not None and after.weight.stored == after.weight.rule == 20.0
    assert after.weight.bound == "cap" and after.weight.relative == pytest.approx(24.0)


# --- effective n and bands, by hand --------------------------------------------------------------------------------


def test_effective_n_by_hand() -> None:
    assert voice_n_eff([2.0, 1.0, 1.0]) == pytest.approx(16 / 6)  # the docstring's example: 2.67
    assert voice_n_eff([4.0]) == 1.0  # the same three posts by one author
    assert voice_n_eff([1.0] * 7) == pytest.approx(7.0)  # equal voices: n_eff = voices
    assert effective_n(0.0, 0.0) is None


def test_wilson_and_net_band_by_hand() -> None:
    # one negative post: Wilson [1/(1+z^2), 1] for the negative share, [0, z^2/(1+z^2)] for the positive
    z2 = Z95**2
    assert wilson(1.0, 1.0) == pytest.approx([1 / (1 + z2), 1.0])
    assert wilson(0.0, 1.0) == pytest.approx([0.0, z2 / (1 + z2)])
    low, high = net_band(0.0, 1.0, 1.0) or [0.0, 0.0]
    assert low == -1.0 and high == pytest.approx(-1 + (2 * (z2 / (1 + z2)) ** 2) ** 0.5)  # [-1, +0.12]
    assert high == pytest.approx(0.122, abs=1e-3)
    # 50 % of 100 equal voices: the textbook Wilson interval 40.4 %-59.6 %
    assert wilson(0.5, 100.0) == pytest.approx([0.4038, 0.5962], abs=1e-4)
    # the band narrows as n_eff grows and always holds the estimate
    for n in (1.0, 2.7, 10.0, 100.0):
        b = net_band(0.2, 0.5, n)
        assert b is not None and b[0] <= -0.3 <= b[1]
    assert (net_band(0.2, 0.5, 100.0) or [0, 0])[1] - (net_band(0.2, 0.5, 100.0) or [0, 0])[0] < (
        (net_band(0.2, 0.5, 10.0) or [0, 0])[1] - (net_band(0.2, 0.5, 10.0) or [0, 0])[0]
    )


def test_ask_reports_effective_n_over_voices_not_posts(engine: Engine) -> None:
    """Three posts by one customer (weight 4) and one post each by two prospects (0.5): 5 posts, 3 voices,
    n_eff = (12 + 1)^2 / (12^2 + 0.5^2 + 0.5^2) = 1.17; the band of the weighted net comes from that n_eff.
    On SQLite and PostgreSQL (the voices are grouped in SQL)."""
    with Session(engine, expire_on_commit=False) as session:
        _ask_voices(session)


def _ask_voices(session: Session) -> None:
    f = Factory(session)
    anna = f.customer("Anna Amsel", "A", weight=4.0)
    ident = f.identity("@anna@example.social")
    f.link(ident, anna)
    for i in range(3):
        f.post(ident, f"Anna {i}", MONDAY + timedelta(hours=i), sentiment="negative", weight=4.0)
    for name in ("x", "y"):
        f.post(f.identity(f"@{name}@example.social"), name, MONDAY, sentiment="positive", weight=0.5)
    session.commit()
    answer = ask(session, AnswerFilter(period=iso_week(WEEK, "Europe/Berlin")), with_pareto=False)
    cur = answer.current
    assert (cur.posts, cur.voices, cur.weight) == (5, 3, 13.0)
    assert cur.n_eff == pytest.approx(13**2 / (12**2 + 0.25 + 0.25))
    assert cur.net_weighted == pytest.approx((-12 + 1) / 13)
    assert cur.net_weighted_band == pytest.approx(net_band(1 / 13, 12 / 13, cur.n_eff))
    band, net = cur.net_weighted_band or [0.0, 0.0], cur.net_weighted or 0.0
    assert band[0] < net < band[1] and band[1] - band[0] > 0.5  # 1.2 voices: wide
