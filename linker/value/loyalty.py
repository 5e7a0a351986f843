"""Loyalty points: configurable points per activity, summed per customer; "loyal" at a threshold.

Activities come from three places (the application collects them): explicit ``LoyaltyEvent`` rows
(campaign reaction, app use ...), orders (each purchase = one ``purchase`` activity; refunds earn
nothing) and positive scored posts of the customer's linked identities (``positive_post``).

Double counting is avoided by reference: an explicit event whose ``(activity, reference)`` equals
one derived from an order id or a post id is counted once. Unknown activities earn 0 points (and
are reported by the caller). A customer is loyal when their points *reach* the threshold
(``points >= threshold``), so with the default 100 a customer at exactly 100 points is loyal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from linker.value.orders import Window


@dataclass(frozen=True, slots=True)
class Activity:
    customer_id: int
    activity: str
    occurred_at: datetime
    reference: str | None = None


def loyalty_points(
    activities: Iterable[Activity],
    points: Mapping[str, float],
    window: Window | None = None,
    customer_ids: Iterable[int] = (),
) -> dict[int, float]:
    """customer -> summed points of their activities (inside ``window`` when given).

    Every id in ``customer_ids`` appears in the result (0 points when they did nothing).
    """
    totals: dict[int, float] = {cid: 0.0 for cid in customer_ids}
    seen: set[tuple[int, str, str]] = set()
    for act in activities:
        if window is not None and not window.contains(act.occurred_at):
            continue
        if act.reference is not None:
            key = (act.customer_id, act.activity, act.reference)
            if key in seen:
                continue
            seen.add(key)
        totals[act.customer_id] = totals.get(act.customer_id, 0.0) + float(points.get(act.activity, 0.0))
    return {cid: round(v, 4) for cid, v in totals.items()}


def is_loyal(points: float, threshold: float) -> bool:
    """Loyal when the points reach the threshold (``>=``)."""
    return points >= threshold


def unknown_activities(activities: Iterable[Activity], points: Mapping[str, float]) -> set[str]:
    """Activity names that have no configured points (worth a warning: a typo in the config?)."""
    return {a.activity for a in activities if a.activity not in points}
