"""The weight rule: how much one post counts, from its author's customer value.

Modes (``settings.value.weight_mode``):

``abc``
    The configured weight of the author's ABC class (default A 5, B 2, C 1). Easy to explain.
``revenue_share``
    The author's share of revenue relative to the average customer: ``share * n_customers``
    (the average customer weighs 1, one with twice the average revenue 2).
``clv``
    The author's CLV relative to the mean positive CLV (average = 1).

Unlinked authors (prospects) weigh ``prospect_weight``. In the two relative modes the weight is
clamped to ``[prospect_weight, max_weight]``: a linked customer never counts less than a stranger,
and one key account cannot outweigh the rest of the conversation on its own (``max_weight``).
The trade-off: relative modes follow money exactly but are hard to explain and jump when a big
order arrives; ``abc`` is coarse but stable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from linker.errors import ValueConfigError

MODES = ("abc", "revenue_share", "clv")


@dataclass(frozen=True, slots=True)
class WeightConfig:
    mode: str = "abc"
    abc_weights: Mapping[str, float] = field(default_factory=lambda: {"A": 5.0, "B": 2.0, "C": 1.0})
    prospect_weight: float = 0.5
    max_weight: float = 50.0

    def validate(self) -> None:
        if self.mode not in MODES:
            raise ValueConfigError(
                f"unknown weight mode {self.mode!r}; use one of {', '.join(MODES)} (RESONANZ_VALUE__WEIGHT_MODE)"
            )
        if self.prospect_weight < 0 or self.max_weight < self.prospect_weight:
            raise ValueConfigError(
                "weights must satisfy 0 <= prospect_weight <= max_weight; fix RESONANZ_VALUE__PROSPECT_WEIGHT "
                "or RESONANZ_VALUE__MAX_WEIGHT"
            )
        missing = {"A", "B", "C"} - set(self.abc_weights)
        if missing:
            raise ValueConfigError(
                f"abc_weights lacks class(es) {', '.join(sorted(missing))}; set RESONANZ_VALUE__ABC_WEIGHTS "
                'to e.g. {"A": 5, "B": 2, "C": 1}'
            )


@dataclass(frozen=True, slots=True)
class Standing:
    """What the weight rule needs to know about one linked customer."""

    abc_class: str = "C"
    revenue_share: float = 0.0
    """The customer's share of the positive revenue total, 0..1."""
    n_customers: int = 1
    clv: float = 0.0
    mean_clv: float = 0.0
    """Mean CLV over customers with a positive CLV (0 when nobody has one)."""


def customer_weight(standing: Standing | None, config: WeightConfig) -> float:
    """The weight of a post by an author with ``standing`` (None = unlinked prospect)."""
    if standing is None:
        return config.prospect_weight
    if config.mode == "abc":
        return float(config.abc_weights.get(standing.abc_class, config.abc_weights["C"]))
    if config.mode == "revenue_share":
        relative = standing.revenue_share * standing.n_customers
    elif config.mode == "clv":
        relative = standing.clv / standing.mean_clv if standing.mean_clv > 0 else 1.0
    else:
        config.validate()
        raise AssertionError("unreachable")
    return round(min(config.max_weight, max(config.prospect_weight, relative)), 6)
