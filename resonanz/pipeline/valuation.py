"""``resonanz value``: compute every customer's value from the database and keep the history.

Loads customers, orders, loyalty events and the positive posts of linked (consenting) customers,
runs :func:`linker.value.snapshot.value_snapshot` and writes one ``CustomerValue`` row per customer, all
with the same ``computed_at``. ``as_of`` is the exclusive end of the analysis window; the CLI's
``--as-of 2025-06-30`` means "at the end of 30 June 2025".

The history stays small (see :func:`_compact`): one snapshot per analysis date (a second run for the
same date replaces the first), every date of the last ``DAILY_DAYS`` days, and one per month before
that (the month's last). Which row is a customer's *current* standing is decided in one place,
:func:`resonanz.core.tables.current_value_order`: a back-dated run never replaces today's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine

from linker.value.loyalty import Activity
from linker.value.orders import OrderRecord
from linker.value.snapshot import ValueSnapshot, value_snapshot
from resonanz.answers.rollup import mark_drift
from resonanz.core.settings import Settings, get_settings
from resonanz.core.tables import CUSTOMER, EVENT, LINK, ORDER, POST, SCORE, VALUE, mark_current_values
from resonanz.pipeline.consent import linkable_clause
from resonanz.pipeline.domain_config import value_config
from resonanz.pipeline.link_decisions import LINKED_STATUSES
from store.bulk import insert_chunked
from store.db import session_scope
from store.types import as_utc, utcnow

log = logging.getLogger(__name__)


@dataclass
class ValueReport:
    snapshot: ValueSnapshot
    computed_at: datetime
    crm_ids: dict[int, str] = field(default_factory=dict)
    rows_written: int = 0

    @property
    def customers(self) -> int:
        return len(self.snapshot.results)

    def to_dict(self) -> dict[str, Any]:
        s = self.snapshot
        return {
            "computed_at": self.computed_at.isoformat(),
            "as_of": s.as_of.isoformat(),
            "window": [s.window.start.isoformat(), s.window.end.isoformat()],
            "basis": s.basis,
            "method": s.method,
            "customers": self.customers,
            "classes": s.classes,
            "pareto_top20_share": s.pareto_top20,
            "pareto_top20_share_base": "all customers",
            "pareto_top20_buyers_share": s.pareto_top20_buyers,
            "buyers": s.n_buyers,
            "pareto_statement": s.pareto_statement(),
            "rfm_segments": s.segments,
            "clv_model": s.clv_model,
            "clv_basis": s.clv_basis,
            "clv_note": s.clv_note,
            "clv_params": s.clv_fit.params() if s.clv_fit else None,
            "clv_diagnostics": list(s.clv_fit.diagnostics) if s.clv_fit else [],
            "retention": s.retention,
            "loyal": s.n_loyal,
            "rows_written": self.rows_written,
        }


def end_of_day(day: date) -> datetime:
    """The exclusive end of ``day`` in UTC (midnight of the next day)."""
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


def _positive_post_activities(session: Any, as_of: datetime) -> list[Activity]:
    """One ``positive_post`` activity per post (latest score positive) of a linked, consenting customer."""
    links = session.execute(
        select(LINK.c.identity_id, LINK.c.customer_id)
        .join(CUSTOMER, CUSTOMER.c.id == LINK.c.customer_id)
        .where(LINK.c.status.in_(LINKED_STATUSES), linkable_clause())
    ).all()
    owners: dict[int, set[int]] = {}
    for iid, cid in links:
        owners.setdefault(iid, set()).add(cid)
    if not owners:
        return []
    p, sc = POST.c, SCORE.c
    rows = []
    ids = list(owners)
    for start in range(0, len(ids), 900):
        rows += session.execute(
            select(p.id, p.identity_id, p.created_at, sc.sentiment, sc.scored_at, sc.id)
            .join(SCORE, sc.post_id == p.id)
            .where(p.identity_id.in_(ids[start : start + 900]), p.created_at < as_of, p.deleted_at.is_(None))
        ).all()
    latest: dict[int, tuple[Any, ...]] = {}
    for row in rows:
        prev = latest.get(row[0])
        if prev is None or (row[4], row[5]) > (prev[4], prev[5]):
            latest[row[0]] = tuple(row)
    acts = []
    for post_id, identity_id, created_at, sentiment, _, _ in latest.values():
        if sentiment == "positive":
            for cid in owners[identity_id]:
                acts.append(Activity(cid, "positive_post", created_at, str(post_id)))
    return acts


def compute_values(
    engine: Engine,
    settings: Settings,
    as_of: datetime | None = None,
    *,
    basis: str | None = None,
    method: str | None = None,
    persist: bool = True,
) -> ValueReport:
    """Value every customer as of ``as_of`` (default: now) and append the snapshot to the history."""
    config = value_config(settings, basis=basis, method=method)
    config.validate()
    as_of = as_utc(as_of) or utcnow()
    computed_at = utcnow()
    with session_scope(engine) as session:
        customers = session.execute(select(CUSTOMER.c.id, CUSTOMER.c.crm_id)).all()
        o, e = ORDER.c, EVENT.c
        orders = [
            OrderRecord(cid, at, float(rev), float(cost or 0.0), oid)
            for cid, at, rev, cost, oid in session.execute(
                select(o.customer_id, o.ordered_at, o.revenue, o.cost, o.order_id).where(o.ordered_at < as_of)
            ).all()
        ]
        activities = [
            Activity(cid, act, at, ref)
            for cid, act, at, ref in session.execute(
                select(e.customer_id, e.activity, e.occurred_at, e.reference).where(e.occurred_at < as_of)
            ).all()
        ]
        activities += _positive_post_activities(session, as_of)
        snapshot = value_snapshot([c[0] for c in customers], orders, activities, as_of, config)
        report = ValueReport(snapshot, computed_at, {cid: crm for cid, crm in customers})
        if persist and snapshot.results:
            report.rows_written = _persist(session, snapshot, computed_at)
    log.info(
        "valued %d customers as of %s: A %d, B %d, C %d; top 20 %% of all customers hold %s, of the %d buyers %s",
        report.customers,
        as_of.date(),
        *(int(snapshot.classes[c]["customers"]) for c in "ABC"),
        f"{snapshot.pareto_top20:.0%}" if snapshot.pareto_top20 is not None else "n/a",
        snapshot.n_buyers,
        f"{snapshot.pareto_top20_buyers:.0%}" if snapshot.pareto_top20_buyers is not None else "n/a",
    )
    return report


PERSIST_ROWS = 5000
"""Value rows built and inserted together: memory for one chunk, not for 350,000 rows with their details."""


def _value_rows(snapshot: ValueSnapshot, computed_at: datetime) -> Iterator[dict[str, Any]]:
    """One ``CustomerValue`` row per customer, built as they are inserted."""
    positive_clvs = [r.clv for r in snapshot.results.values() if r.clv > 0]
    mean_clv = sum(positive_clvs) / len(positive_clvs) if positive_clvs else 0.0
    for r in snapshot.results.values():
        yield {
            "customer_id": r.customer_id,
            "computed_at": computed_at,
            "window_start": snapshot.window.start,
            "window_end": snapshot.window.end,
            "revenue": r.revenue,
            "margin": r.margin,
            "abc_class": r.abc_class,
            "abc_method": snapshot.method,
            "rfm_r": r.rfm.r if r.rfm else 0,
            "rfm_f": r.rfm.f if r.rfm else 0,
            "rfm_m": r.rfm.m if r.rfm else 0,
            "rfm_score": r.rfm.total if r.rfm else 0,
            "rfm_segment": r.rfm.segment if r.rfm else None,
            "clv": r.clv,
            "clv_model": snapshot.clv_model,
            "loyalty_points": r.loyalty_points,
            "is_loyal": r.is_loyal,
            "weight": r.weight,
            "details": {
                "basis": snapshot.basis,
                "as_of": snapshot.as_of.isoformat(),
                "cost": r.totals.cost,
                "purchases": r.totals.purchases,
                "refunds": r.totals.refunds,
                "revenue_share": r.revenue_share,
                "n_customers": len(snapshot.results),
                "mean_clv": mean_clv,
                "clv_note": snapshot.clv_note,
                "clv_basis": snapshot.clv_basis,
                "p_alive": r.p_alive,
                "expected_purchases": r.expected_purchases,
                "rfm_active": r.rfm.active if r.rfm else None,
                "rfm_reason": r.rfm.reason if r.rfm else None,
            },
        }


def _persist(session: Any, snapshot: ValueSnapshot, computed_at: datetime) -> int:
    _compact(session, snapshot.window.end)
    before = session.execute(select(func.max(VALUE.c.id))).scalar_one_or_none()
    written = insert_chunked(session, VALUE, _value_rows(snapshot, computed_at), PERSIST_ROWS)
    # before the drift marks: they read the current classes
    mark_current_values(session, since_id=int(before) if before is not None else None)
    mark_drift(session)  # answer rollups: days of accounts whose class changed
    return written


DAILY_DAYS = 90
"""Snapshots of the last 90 days (counted back from the newest) are all kept; older ones one per month."""


def _compact(session: Any, as_of: datetime) -> None:
    """Drop the snapshots the new one replaces or that the retention rule no longer keeps.

    * the snapshot of the same analysis date (UTC day of ``window_end``) as the one about to be written;
    * of the dates older than ``DAILY_DAYS`` before the newest date, all but the last of each month.

    Trade-off: segment migration and trends keep a daily resolution for a quarter and a monthly one beyond,
    at a fraction of the rows (30 daily runs of 350,000 customers would otherwise add 10 million rows a month).
    """
    end = VALUE.c.window_end
    day = as_utc(as_of) or utcnow()
    start_of_day = datetime.combine(day.date(), time.min, tzinfo=UTC)
    session.execute(delete(VALUE).where(end >= start_of_day, end < start_of_day + timedelta(days=1)))
    dates: list[datetime] = sorted({u for (d,) in session.execute(select(end).distinct()).all() if (u := as_utc(d))})
    newest = max([*dates, day])
    cutoff = newest - timedelta(days=DAILY_DAYS)
    last_of_month: dict[tuple[int, int], datetime] = {}
    for d in dates:
        if d < cutoff:
            last_of_month[(d.year, d.month)] = d  # ascending: the last one wins
    keep = set(last_of_month.values())
    dropped = [d for d in dates if d < cutoff and d not in keep]
    for d in dropped:
        session.execute(delete(VALUE).where(end == d))
    if dropped:
        log.info("value history: %d older snapshot(s) compacted to one per month", len(dropped))


def scheduled_value_job(settings: Settings | None = None) -> ValueReport:
    """For the scheduler: recompute values as of now and re-weight every scored post."""
    from resonanz.core.db import engine_from_settings
    from resonanz.pipeline.weighting import apply_weights

    settings = settings or get_settings()
    engine = engine_from_settings(settings)
    try:
        report = compute_values(engine, settings)
        apply_weights(engine, settings)
        return report
    finally:
        engine.dispose()
