"""Segment migration: how customers move between ABC classes or RFM segments from one snapshot to another.

Input: two plain mappings ``customer id -> state`` (an ABC class, an RFM segment, or ``None`` for a
customer without one, e.g. no purchase yet and so no RFM segment), one per snapshot. Output: a
:class:`TransitionMatrix` of head counts, ``(state before, state after) -> customers``, with two extra
states at the edges:

* :data:`NEW` as a *before* state: in the later snapshot, absent from the earlier one (imported since);
* :data:`GONE` as an *after* state: in the earlier snapshot, absent from the later one (erased since);
* :data:`NONE` for a customer present in a snapshot but without a state there.

Counting rules (hand-checkable): every customer in either mapping is counted exactly once, in the cell
of their two states, so the sum of all cells is the size of the union of both customer sets; a row total
is the number of customers who had that state before; a customer whose state did not change sits on the
diagonal. :func:`notable_moves` lists the off-diagonal cells (customers who changed), largest first.

Trade-off: the matrix compares two points in time and nothing in between; a customer who fell from A to
C and climbed back to A counts as "stayed A". Daily snapshots for a quarter (see the value history in
the application) let the caller pick the two points, not the path. ABC classes are ordered (A > B > C),
so moves there also have a direction (:attr:`Move.direction`); RFM segments are not ranked, so their
moves have none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

NEW = "new"
"""The *before* state of a customer who is not in the earlier snapshot."""
GONE = "gone"
"""The *after* state of a customer who is not in the later snapshot."""
NONE = "none"
"""The state of a customer present in a snapshot without a class or segment (e.g. no purchase: no RFM)."""
ABC_ORDER = ("A", "B", "C")


@dataclass(frozen=True, slots=True)
class Move:
    """One cell of the matrix: ``customers`` went from ``before`` to ``after``."""

    before: str
    after: str
    customers: int
    of: int
    """How many customers had the ``before`` state (the row total), the base of :attr:`share`."""
    direction: int = 0
    """+1 up (e.g. C -> A), -1 down (A -> B), 0 unranked, unchanged or to/from new/gone/none."""

    @property
    def share(self) -> float | None:
        """``customers / of``; None for an empty row."""
        return self.customers / self.of if self.of else None


@dataclass(frozen=True, slots=True)
class TransitionMatrix:
    """Head counts from each *before* state (rows) to each *after* state (columns)."""

    states: tuple[str, ...]
    """The proper states in display order (without NEW and GONE; NONE last when it occurs)."""
    counts: Mapping[tuple[str, str], int]
    ranked: bool = False
    """True when ``states`` are ordered best first (ABC), so moves have a direction."""

    @property
    def rows(self) -> tuple[str, ...]:
        """Row labels: the states, then NEW when somebody is new."""
        return self.states + ((NEW,) if any(b == NEW for b, _ in self.counts) else ())

    @property
    def columns(self) -> tuple[str, ...]:
        """Column labels: the states, then GONE when somebody is gone."""
        return self.states + ((GONE,) if any(a == GONE for _, a in self.counts) else ())

    def count(self, before: str, after: str) -> int:
        return self.counts.get((before, after), 0)

    def row_total(self, before: str) -> int:
        """Customers with state ``before`` in the earlier snapshot (NEW: new in the later one)."""
        return sum(n for (b, _), n in self.counts.items() if b == before)

    def column_total(self, after: str) -> int:
        """Customers with state ``after`` in the later snapshot (GONE: no longer there)."""
        return sum(n for (_, a), n in self.counts.items() if a == after)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def stayed(self) -> int:
        return sum(n for (b, a), n in self.counts.items() if b == a)

    @property
    def new(self) -> int:
        return self.row_total(NEW)

    @property
    def gone(self) -> int:
        return self.column_total(GONE)

    @property
    def changed(self) -> int:
        """Customers in both snapshots whose state changed."""
        return self.total - self.stayed - self.new - self.gone

    def direction(self, before: str, after: str) -> int:
        """+1 for a move to a better rank, -1 to a worse one, 0 otherwise (see :attr:`Move.direction`)."""
        if not self.ranked or before not in self.states or after not in self.states or NONE in (before, after):
            return 0
        i, j = self.states.index(before), self.states.index(after)
        return (i > j) - (i < j)

    @property
    def up(self) -> int:
        return sum(n for (b, a), n in self.counts.items() if self.direction(b, a) > 0)

    @property
    def down(self) -> int:
        return sum(n for (b, a), n in self.counts.items() if self.direction(b, a) < 0)

    def move(self, before: str, after: str) -> Move:
        return Move(before, after, self.count(before, after), self.row_total(before), self.direction(before, after))

    def moves(self) -> list[Move]:
        """Every non-empty cell, in row then column order."""
        return [self.move(b, a) for b in self.rows for a in self.columns if self.count(b, a)]


def _states(seen: Collection[str], order: Sequence[str], all_states: bool) -> tuple[str, ...]:
    known = [s for s in order if s != NONE and (all_states or s in seen)]
    extra = sorted(s for s in seen if s not in known and s not in (NONE, NEW, GONE))
    tail = [NONE] if NONE in seen else []
    return tuple(known + extra + tail)


def transition_matrix(
    before: Mapping[int, str | None],
    after: Mapping[int, str | None],
    order: Sequence[str] = (),
    *,
    only: Collection[int] | None = None,
    ranked: bool = False,
    all_states: bool = False,
) -> TransitionMatrix:
    """Count every customer of ``before`` or ``after`` (restricted to ``only`` when given) in one cell.

    ``order`` fixes the display order of the states (``ABC_ORDER``, ``rfm.SEGMENTS``); states not in it
    follow alphabetically, :data:`NONE` last. Only states somebody has are listed, unless ``all_states``
    (every state of ``order``, e.g. the full A/B/C grid). ``ranked`` says ``order`` is best first, so moves
    get a direction. Example: before ``{1: "A", 2: "A", 3: "B"}``, after ``{1: "A", 2: "B", 4: "C"}`` gives
    A->A 1, A->B 1, B->gone 1, new->C 1.
    """
    ids = set(before) | set(after)
    if only is not None:
        ids &= set(only)
    counts: Counter[tuple[str, str]] = Counter()
    for cid in ids:
        b = (before[cid] or NONE) if cid in before else NEW
        a = (after[cid] or NONE) if cid in after else GONE
        counts[(b, a)] += 1
    seen = {s for pair in counts for s in pair}
    return TransitionMatrix(_states(seen, order, all_states), dict(counts), ranked)


def notable_moves(matrix: TransitionMatrix, *, min_customers: int = 1, limit: int | None = None) -> list[Move]:
    """The customers who changed state (off the diagonal, NEW excluded), largest groups first.

    Among equal counts a fall comes before a rise (a lost A customer matters more than a won one), then
    the display order. Moves to :data:`GONE` are included (the customer left the base); moves from
    :data:`NEW` are not (they had nothing to move from; see :attr:`TransitionMatrix.new`).
    """
    rows, cols = matrix.rows, matrix.columns
    moves = [
        m for m in matrix.moves() if m.before != m.after and m.before != NEW and m.customers >= max(min_customers, 1)
    ]
    moves.sort(key=lambda m: (-m.customers, m.direction, rows.index(m.before), cols.index(m.after)))
    return moves if limit is None else moves[:limit]
