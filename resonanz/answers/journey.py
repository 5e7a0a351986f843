"""The customer journey: segment migration between two stored value snapshots, and first-purchase cohorts.

Migration (``resonanz value migration``)
    Reads two snapshots of the value history (one ``CustomerValue`` row per customer per analysis date,
    see :mod:`resonanz.pipeline.valuation`) and counts who moved from which ABC class (or RFM segment) to
    which: :func:`linker.value.migration.transition_matrix`. By default the *current* snapshot (the latest
    analysis date, the same rule as :func:`resonanz.core.tables.current_value_order`) is compared with the
    stored one nearest to 90 days earlier. Dates name analysis dates as ``resonanz value --as-of`` does;
    a date without a snapshot picks the nearest stored one (older dates are kept only as month ends), and
    the report always shows the dates it used.

    Optionally only customers whose linked posts were flagged (review items with a ``complaint`` or
    ``churn`` reason, by default) between the two analysis dates are counted - "3 of last quarter's 10 A
    customers who complained are now B". Which posts belong to whom is the answers' rule
    (:func:`resonanz.answers.sql.link_subquery`: current links, consenting customers only), so a customer who
    withdrew consent is never singled out here. Trade-off: the links of today decide, not those at the time
    of the post; a link confirmed later counts the earlier complaint too, which is what a CRM analyst
    asking "did the complainers leave?" wants.

Cohorts (``resonanz value cohorts``)
    From the orders alone (no snapshot needed): :func:`linker.value.cohorts.cohort_table` on the orders of
    the cohort months, with every customer's first purchase read as one aggregate (not every older order).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from linker.value.cohorts import CohortCell, CohortTable, cohort_table, month_index, month_start
from linker.value.migration import (
    ABC_ORDER,
    GONE,
    NEW,
    NONE,
    Move,
    TransitionMatrix,
    notable_moves,
    transition_matrix,
)
from linker.value.orders import OrderRecord
from linker.value.rfm import SEGMENTS
from resonanz.answers.sql import link_subquery
from resonanz.core.errors import InvalidFilterError, NotFoundError
from resonanz.core.tables import ITEM, ORDER, POST, VALUE
from store.db import session_scope
from store.types import as_utc, utcnow

log = logging.getLogger(__name__)

BY = ("abc", "rfm")
DEFAULT_DAYS_BACK = 90
COMPLAINT_FLAGS = ("complaint", "churn")
"""The review reasons ``--complained`` looks for: a complaint, or the threat to leave."""
FLAG_PHRASES = {"complaint": "sich beschwert", "churn": "mit Kündigung gedroht"}


# --- German numbers --------------------------------------------------------------------------------------


def de_number(x: float, digits: int = 0) -> str:
    """German grouping and decimal comma: ``1234.5`` -> ``1.234,5`` (Babel is not a dependency)."""
    text = f"{x:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def de_percent(share: float | None, digits: int = 0) -> str:
    return "–" if share is None else f"{de_number(100 * share, digits)} %"


# --- snapshots -------------------------------------------------------------------------------------------


def analysis_day(window_end: datetime) -> date:
    """The analysis date of a snapshot: ``--as-of 2026-08-31`` is stored as the end of that day."""
    return (window_end - timedelta(microseconds=1)).date()


def _snapshot_end() -> Any:
    return func.coalesce(VALUE.c.window_end, VALUE.c.computed_at)


def stored_snapshots(engine: Engine) -> list[datetime]:
    """Every stored snapshot's analysis end (``window_end``), oldest first."""
    with session_scope(engine) as session:
        rows = session.execute(select(_snapshot_end()).distinct()).scalars().all()
    return sorted({u for d in rows if (u := as_utc(d)) is not None})


def nearest(snapshots: Sequence[datetime], day: date) -> datetime:
    """The snapshot whose analysis date is closest to ``day`` (the earlier one on a tie)."""
    return min(snapshots, key=lambda end: (abs((analysis_day(end) - day).days), end))


def read_states(engine: Engine, end: datetime, by: str) -> dict[int, str | None]:
    """customer id -> ABC class or RFM segment in the snapshot ending at ``end`` (latest run of that date)."""
    column = VALUE.c.abc_class if by == "abc" else VALUE.c.rfm_segment
    best: dict[int, tuple[datetime, int, str | None]] = {}
    with session_scope(engine) as session:
        rows = session.execute(
            select(VALUE.c.customer_id, VALUE.c.computed_at, VALUE.c.id, column).where(_snapshot_end() == end)
        )
        for cid, computed_at, row_id, state in rows:
            key = (as_utc(computed_at) or end, int(row_id), state)
            if cid not in best or key[:2] > best[cid][:2]:
                best[cid] = key
    return {cid: key[2] for cid, key in best.items()}


def flagged_customers(engine: Engine, start: datetime, end: datetime, flags: Sequence[str]) -> set[int]:
    """Customers with a linked post created in ``[start, end)`` whose review item has one of ``flags``."""
    wanted = set(flags)
    lnk = link_subquery()
    query = (
        select(lnk.c.customer_id, ITEM.c.reasons)
        .select_from(ITEM)
        .join(POST, POST.c.id == ITEM.c.post_id)
        .join(lnk, lnk.c.identity_id == POST.c.identity_id)
        .where(
            POST.c.created_at >= start,
            POST.c.created_at < end,
            POST.c.deleted_at.is_(None),
            POST.c.voice.is_(None),  # the customer's own voice, as in the answers (not as an employee)
        )
    )
    out: set[int] = set()
    with session_scope(engine) as session:
        for cid, reasons in session.execute(query):
            names = {str(r.get("flag")) for r in (reasons or []) if isinstance(r, dict)}
            if names & wanted:
                out.add(int(cid))
    return out


# --- migration -------------------------------------------------------------------------------------------


def state_label(state: str, by: str) -> str:
    if state == NEW:
        return "neu"
    if state == GONE:
        return "nicht mehr da"
    if state == NONE:
        return "ohne Klasse" if by == "abc" else "ohne Segment"
    return state


def _who(state: str, by: str, n: int) -> str:
    """The customers of ``state``, German: "A-Kund:innen", "Kund:in im Segment „Champions“" (``n`` = 1)."""
    people = "Kund:in" if n == 1 else "Kund:innen"
    if state == NONE:
        return f"{people} {state_label(state, by)}"
    return f"{state}-{people}" if by == "abc" else f"{people} im Segment „{state}“"


def _now_what(state: str, by: str, when: str, n: int) -> str:
    be, have = ("ist", "hat") if n == 1 else ("sind", "haben")
    if state == GONE:
        return f"{be} {when} nicht mehr im Bestand (gelöscht)"
    if state == NONE:
        return f"{have} {when} {'keine Klasse' if by == 'abc' else 'kein Segment'}"
    return f"{be} {when} {state}" if by == "abc" else f"{be} {when} im Segment „{state}“"


def flag_clause(flags: Sequence[str], singular: bool = False) -> str:
    """The relative clause for the filtered group: "die sich beschwert oder mit Kündigung gedroht haben"."""
    if all(f in FLAG_PHRASES for f in flags):
        return "die " + " oder ".join(FLAG_PHRASES[f] for f in flags) + (" hat" if singular else " haben")
    return "deren Beiträge als " + " oder ".join(f"„{f}“" for f in flags) + " markiert wurden"


@dataclass(frozen=True)
class MigrationReport:
    by: str
    before: datetime
    """``window_end`` of the earlier snapshot."""
    after: datetime
    after_is_current: bool
    matrix: TransitionMatrix
    moves: tuple[Move, ...]
    """The notable moves (:func:`linker.value.migration.notable_moves`)."""
    flags: tuple[str, ...] = ()
    """Empty: all customers; else only those with a post flagged so between the two dates."""
    flagged: int | None = None
    """How many customers had such a post (also those in neither snapshot)."""
    requested: tuple[date | None, date | None] = (None, None)

    @property
    def before_day(self) -> date:
        return analysis_day(self.before)

    @property
    def after_day(self) -> date:
        return analysis_day(self.after)

    def sentence(self, move: Move) -> str:
        """E.g. "3 der 10 A-Kund:innen vom 2026-08-31, die sich beschwert haben, sind jetzt B (30 %).".

        The verb follows the number that moved ("1 der 10 ... ist jetzt B"); a group of one reads "Die eine
        B-Kund:in vom ..., die sich beschwert hat, ist jetzt A".
        """
        when = "jetzt" if self.after_is_current else f"am {self.after_day.isoformat()}"
        group = f", {flag_clause(self.flags, singular=move.of == 1)}," if self.flags else ""
        who = _who(move.before, self.by, move.of)
        count = f"Die eine {who}" if move.of == 1 else f"{de_number(move.customers)} der {de_number(move.of)} {who}"
        return (
            f"{count} vom {self.before_day.isoformat()}{group} {_now_what(move.after, self.by, when, move.customers)} "
            f"({de_percent(move.share)})."
        )

    def sentences(self) -> list[str]:
        return [self.sentence(m) for m in self.moves]

    def summary(self) -> str:
        m = self.matrix
        parts = [
            f"{de_number(m.total)} Kund:innen",
            f"{de_number(m.stayed)} unverändert",
            f"{de_number(m.changed)} gewechselt",
        ]
        if m.ranked:
            parts.append(f"davon {de_number(m.up)} auf- und {de_number(m.down)} abgestiegen")
        parts += [f"{de_number(m.new)} neu", f"{de_number(m.gone)} nicht mehr da"]
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        m = self.matrix
        return {
            "by": self.by,
            "from": self.before_day.isoformat(),
            "to": self.after_day.isoformat(),
            "from_window_end": self.before.isoformat(),
            "to_window_end": self.after.isoformat(),
            "to_is_current": self.after_is_current,
            "requested": [d.isoformat() if d else None for d in self.requested],
            "flags": list(self.flags),
            "flagged_customers": self.flagged,
            "states": list(m.states),
            "rows": list(m.rows),
            "columns": list(m.columns),
            "matrix": {b: {a: m.count(b, a) for a in m.columns} for b in m.rows},
            "totals": {"customers": m.total, "stayed": m.stayed, "changed": m.changed, "new": m.new,
                       "gone": m.gone, "up": m.up if m.ranked else None, "down": m.down if m.ranked else None},
            "moves": [
                {"from": mv.before, "to": mv.after, "customers": mv.customers, "of": mv.of,
                 "share": mv.share, "direction": mv.direction, "sentence": self.sentence(mv)}
                for mv in self.moves
            ],
        }  # fmt: skip


def segment_migration(
    engine: Engine,
    *,
    by: str = "abc",
    start: date | None = None,
    end: date | None = None,
    flags: Sequence[str] = (),
    days_back: int = DEFAULT_DAYS_BACK,
    min_customers: int = 1,
    limit: int | None = 10,
) -> MigrationReport:
    """Who moved between classes (``by="abc"``) or RFM segments (``"rfm"``) from ``start`` to ``end``.

    ``end`` defaults to the current snapshot, ``start`` to the one nearest to ``days_back`` days before
    ``end``; both pick the nearest stored snapshot. ``flags`` (e.g. :data:`COMPLAINT_FLAGS`) restricts the
    count to customers with a linked post flagged so between the two analysis dates.
    """
    if by not in BY:
        raise InvalidFilterError(f"unbekannte Einteilung {by!r}; --by abc (ABC-Klassen) oder --by rfm (RFM-Segmente)")
    snapshots = stored_snapshots(engine)
    if len(snapshots) < 2:
        have = f"nur einen ({analysis_day(snapshots[0]).isoformat()})" if snapshots else "keinen"
        raise NotFoundError(
            f"Für eine Wanderung braucht es zwei gespeicherte Kundenwert-Stände, es gibt {have}. "
            "Berechne einen früheren mit: resonanz value --as-of JJJJ-MM-TT"
        )
    after = nearest(snapshots, end) if end else snapshots[-1]
    earlier = [s for s in snapshots if s < after]
    if not earlier:
        raise NotFoundError(
            f"Vor dem Stand vom {analysis_day(after).isoformat()} ist kein Kundenwert-Stand gespeichert; "
            "wähle mit --to einen späteren oder berechne einen früheren mit: resonanz value --as-of JJJJ-MM-TT"
        )
    before = nearest(earlier, start if start else analysis_day(after) - timedelta(days=days_back))
    flagged: set[int] | None = flagged_customers(engine, before, after, flags) if flags else None
    order = ABC_ORDER if by == "abc" else SEGMENTS
    matrix = transition_matrix(
        read_states(engine, before, by), read_states(engine, after, by), order, only=flagged, ranked=by == "abc",
        all_states=by == "abc",
    )  # fmt: skip
    moves = notable_moves(matrix, min_customers=min_customers, limit=limit)
    log.info(
        "migration %s %s -> %s: %d customers, %d changed", by, analysis_day(before), analysis_day(after),
        matrix.total, matrix.changed,
    )  # fmt: skip
    return MigrationReport(
        by=by,
        before=before,
        after=after,
        after_is_current=after == snapshots[-1],
        matrix=matrix,
        moves=tuple(moves),
        flags=tuple(flags),
        flagged=len(flagged) if flagged is not None else None,
        requested=(start, end),
    )


# --- cohorts ---------------------------------------------------------------------------------------------


def first_purchase_by_customer(engine: Engine, as_of: datetime) -> dict[int, datetime]:
    """Each customer's first order with positive revenue before ``as_of``, as one aggregate."""
    o = ORDER.c
    query = select(o.customer_id, func.min(o.ordered_at)).where(o.revenue > 0, o.ordered_at < as_of)
    with session_scope(engine) as session:
        rows = session.execute(query.group_by(o.customer_id)).all()
    return {int(cid): at for cid, first in rows if (at := as_utc(first)) is not None}


def cohorts(engine: Engine, as_of: datetime | None = None, months: int = 12) -> CohortTable:
    """First-purchase cohorts of the ``months`` complete months before ``as_of`` (default: now)."""
    as_of = as_utc(as_of) or utcnow()
    first = first_purchase_by_customer(engine, as_of)
    since = month_start(month_index(as_of) - months)  # the oldest cohort month
    start = datetime(since.year, since.month, 1, tzinfo=UTC)
    o = ORDER.c
    query = select(o.customer_id, o.ordered_at, o.revenue).where(o.ordered_at >= start, o.ordered_at < as_of)
    with session_scope(engine) as session:
        orders = [OrderRecord(int(cid), at, float(rev)) for cid, at, rev in session.execute(query)]
    table = cohort_table(orders, as_of, months, first=first)
    log.info("cohorts as of %s: %d cohorts, %d customers", as_of.date(), len(table.cohorts), table.customers)
    return table


def _cell_dict(cell: CohortCell) -> dict[str, Any]:
    return {
        "months_since": cell.months_since,
        "customers": cell.customers,
        "share": cell.share,
        "revenue": round(cell.revenue, 2),
        "revenue_share": cell.revenue_share,
    }


def cohorts_to_dict(table: CohortTable) -> dict[str, Any]:
    return {
        "as_of": table.as_of.isoformat(),
        "last_complete_month": table.last_month.strftime("%Y-%m"),
        "customers": table.customers,
        "cohorts": [
            {
                "month": c.month.strftime("%Y-%m"),
                "customers": c.customers,
                "revenue_month0": round(c.revenue, 2),
                "cells": [_cell_dict(x) for x in c.cells],
            }
            for c in table.cohorts
        ],
        "average": [_cell_dict(x) for x in table.average],
    }
