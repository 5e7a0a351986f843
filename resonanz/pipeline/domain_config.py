"""Settings -> the domain packages' configuration objects: the one place a setting becomes a rule's input.

The linker's value and weight rules take plain config objects (they never read settings); the
application builds them here from ``settings.value`` so that ``resonanz value``, the weighting of
posts and the scheduled jobs all use the same numbers.
"""

from __future__ import annotations

from linker.value.abc import AbcConfig
from linker.value.clv import ClvConfig
from linker.value.snapshot import ValueConfig
from linker.value.weights import WeightConfig
from resonanz.core.settings import Settings


def value_config(settings: Settings, *, basis: str | None = None, method: str | None = None) -> ValueConfig:
    """The linker's value configuration from ``settings.value`` (CLI options override)."""
    v = settings.value
    return ValueConfig(
        window_months=v.window_months,
        basis=basis or v.abc_basis,
        abc=AbcConfig(
            method=method or v.abc_method,
            a_share=v.abc_a_share,
            b_share=v.abc_b_share,
            a_headcount=v.abc_a_headcount,
            c_headcount=v.abc_c_headcount,
        ),
        clv=ClvConfig(
            discount_rate=v.discount_rate,
            horizon_years=v.clv_horizon_years,
            retention_rate=v.retention_rate,
            model=v.clv_model,
            min_repeat_customers=v.clv_min_repeat_customers,
        ),
        loyalty_points=dict(v.loyalty_points),
        loyalty_threshold=v.loyalty_threshold,
        weights=weight_config(settings),
    )


def weight_config(settings: Settings) -> WeightConfig:
    """How a customer's value becomes the weight of their posts, from ``settings.value``."""
    v = settings.value
    return WeightConfig(
        mode=v.weight_mode,
        abc_weights=dict(v.abc_weights),
        prospect_weight=v.prospect_weight,
        max_weight=v.max_weight,
    )
