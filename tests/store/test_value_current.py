"""Each customer's current value row is marked once (``is_current``) by the rule of
:func:`resonanz.core.tables.current_value_order`, by the valuation and by migration 0017; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, delete, select

from resonanz.answers.sql import value_subquery
from resonanz.core.settings import Settings
from resonanz.core.tables import mark_current_values
from resonanz.pipeline.valuation import compute_values
from store.db import alembic_config
from store.models import Customer, CustomerValue, Order

DEC = datetime(2026, 12, 1, 8, tzinfo=UTC)


def _current(session: Session) -> dict[int, tuple[str, float]]:
    val = value_subquery()
    rows = session.execute(select(val.c.customer_id, val.c.abc_class, val.c.revenue)).all()
    return {int(c): (str(k), float(r)) for c, k, r in rows}


def _by_the_rule(session: Session) -> dict[int, int]:
    """customer -> id of the row :func:`current_value_order` ranks first, computed in Python."""
    best: dict[int, CustomerValue] = {}
    for row in session.exec(select(CustomerValue)).all():
        key = (row.window_end or row.computed_at, row.computed_at, row.id or 0)
        held = best.get(row.customer_id)
        if held is None or key > (held.window_end or held.computed_at, held.computed_at, held.id or 0):
            best[row.customer_id] = row
    return {c: r.id or 0 for c, r in best.items()}


def _marked(session: Session) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for row in session.exec(select(CustomerValue).where(CustomerValue.is_current)).all():
        out.setdefault(row.customer_id, []).append(row.id or 0)
    return out


def test_marks_by_hand(engine: Engine) -> None:
    with Session(engine) as session:
        a, b, c = Customer(crm_id="a"), Customer(crm_id="b"), Customer(crm_id="c")
        session.add_all([a, b, c])
        session.flush()
        assert a.id and b.id and c.id
        session.add_all([
            # a: today's standing (C) and a back-dated run computed later (A): today's stays current
            CustomerValue(customer_id=a.id, window_end=DEC, computed_at=DEC, abc_class="C", revenue=10.0),
            CustomerValue(customer_id=a.id, window_end=DEC - timedelta(days=200), computed_at=DEC + timedelta(hours=1),
                          abc_class="A", revenue=99.0),
            # b: no analysis date: the later computation
            CustomerValue(customer_id=b.id, computed_at=DEC - timedelta(days=2), abc_class="C", revenue=1.0),
            CustomerValue(customer_id=b.id, computed_at=DEC - timedelta(days=1), abc_class="B", revenue=5.0),
        ])  # fmt: skip
        session.flush()
        assert mark_current_values(session) == 2
        assert _current(session) == {a.id: ("C", 10.0), b.id: ("B", 5.0)}
        assert mark_current_values(session) == 0  # nothing changed
        # a second run for today's date, computed later, replaces a's standing: one row unmarked, one marked
        session.add(CustomerValue(customer_id=a.id, window_end=DEC, computed_at=DEC + timedelta(hours=2),
                                  abc_class="B", revenue=20.0))  # fmt: skip
        session.flush()
        assert mark_current_values(session) == 2
        assert _current(session) == {a.id: ("B", 20.0), b.id: ("B", 5.0)}
        assert _marked(session) == {k: [v] for k, v in _by_the_rule(session).items()}


def _valued_twice(engine: Engine) -> None:
    with Session(engine) as session:
        for i, spend in enumerate([900.0, 300.0, 100.0, 50.0, 20.0]):
            customer = Customer(crm_id=f"K{i}")
            session.add(customer)
            session.flush()
            assert customer.id is not None
            session.add(Order(customer_id=customer.id, order_id=f"o{i}", ordered_at=DEC - timedelta(days=200),
                              revenue=spend))  # fmt: skip
        session.commit()
    compute_values(engine, Settings(), DEC)
    compute_values(engine, Settings(), DEC - timedelta(days=120))  # back-dated: history only
    compute_values(engine, Settings(), DEC)  # the same date again: replaces the first run


def test_the_valuation_marks_one_row_per_customer_by_the_rule(engine: Engine) -> None:
    _valued_twice(engine)
    with Session(engine) as session:
        marked, rule = _marked(session), _by_the_rule(session)
        rows = len(session.exec(select(CustomerValue)).all())
    assert len(rule) == 5 and rows == 10  # two dates per customer
    assert marked == {k: [v] for k, v in rule.items()}


def test_upgrading_marks_the_rows_as_the_valuation_does(engine: Engine) -> None:
    _valued_twice(engine)
    with Session(engine) as session:
        before = _current(session)
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0016")
    command.upgrade(cfg, "head")
    with Session(engine) as session:
        assert _current(session) == before
        assert _marked(session) == {k: [v] for k, v in _by_the_rule(session).items()}


def test_incremental_marks_by_hand(engine: Engine) -> None:
    """``since_id``: only the marked rows and the new ones are ranked, and a customer whose marked row is gone
    is ranked over their whole history."""
    with Session(engine) as session:
        a, b = Customer(crm_id="a"), Customer(crm_id="b")
        session.add_all([a, b])
        session.flush()
        assert a.id and b.id
        older = CustomerValue(customer_id=a.id, window_end=DEC - timedelta(days=1), computed_at=DEC, abc_class="C")
        today = CustomerValue(customer_id=a.id, window_end=DEC, computed_at=DEC, abc_class="A")
        b_today = CustomerValue(customer_id=b.id, window_end=DEC, computed_at=DEC, abc_class="B")
        session.add_all([older, today, b_today])
        session.flush()
        mark_current_values(session)
        assert _current(session) == {a.id: ("A", 0.0), b.id: ("B", 0.0)}
        # a run for today again that values b only (it replaces today's rows): a falls back to the day before
        session.delete(today)
        session.delete(b_today)
        session.flush()
        last = older.id or 0
        session.add(CustomerValue(customer_id=b.id, window_end=DEC, computed_at=DEC + timedelta(hours=1),
                                  abc_class="C", revenue=2.0))  # fmt: skip
        # and a back-dated row for b: history only
        session.add(CustomerValue(customer_id=b.id, window_end=DEC - timedelta(days=300), computed_at=DEC,
                                  abc_class="A", revenue=9.0))  # fmt: skip
        session.flush()
        mark_current_values(session, since_id=last)
        assert _current(session) == {a.id: ("C", 0.0), b.id: ("C", 2.0)}
        assert _marked(session) == {k: [v] for k, v in _by_the_rule(session).items()}


row_st = st.tuples(st.integers(0, 3), st.integers(0, 5), st.integers(0, 3), st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.lists(row_st, max_size=12),
    drop=st.lists(st.integers(0, 11), max_size=6),
    then=st.lists(row_st, max_size=12),
)
def test_incremental_marks_equal_the_whole_ranking(
    sqlite_engine: Engine,
    first: list[tuple[int, int, int, bool]],
    drop: list[int],
    then: list[tuple[int, int, int, bool]],
) -> None:
    """Marked rows, then any rows deleted and any written (customer, analysis day, hour of computation, with or
    without an analysis date): marking with ``since_id`` gives the marks of ranking the whole history."""

    def value(customer: int, day: int, hour: int, dated: bool) -> CustomerValue:
        return CustomerValue(customer_id=customer, window_end=DEC - timedelta(days=day) if dated else None,
                             computed_at=DEC - timedelta(days=day, hours=hour))  # fmt: skip

    with Session(sqlite_engine) as session:
        session.exec(delete(CustomerValue))  # type: ignore[call-overload]
        if session.get(Customer, 1) is None:
            session.add_all([Customer(id=i + 1, crm_id=f"c{i}") for i in range(4)])
        rows = [value(c + 1, d, h, w) for c, d, h, w in first]
        session.add_all(rows)
        session.flush()
        mark_current_values(session)
        for index in drop:
            if index < len(rows) and rows[index] in session:
                session.delete(rows[index])
        session.flush()
        # the highest id before the new rows, taken after the deletes (as the valuation does): SQLite gives a
        # deleted highest id to the next row
        last = max((r.id or 0 for r in session.exec(select(CustomerValue)).all()), default=0)
        session.add_all([value(c + 1, d, h, w) for c, d, h, w in then])
        session.flush()
        mark_current_values(session, since_id=last)
        assert _marked(session) == {k: [v] for k, v in _by_the_rule(session).items()}
        session.rollback()
