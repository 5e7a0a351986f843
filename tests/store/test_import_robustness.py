"""Imports never throw away good rows (issue 13): any bad value is its row's problem, reported with
file:line:reason; non-finite, out-of-range and ambiguous values are refused, not guessed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from resonanz.core import i18n
from resonanz.importing import import_customers, import_orders, import_posts
from resonanz.importing.common import MAX_FIELD, parse_amount
from store.db import make_engine
from store.models import Order, Post


@pytest.fixture(autouse=True)
def _english() -> None:
    """The reasons below are asserted in English; German ones: tests/store/test_import_messages_i18n.py."""
    i18n.set_language("en")  # tests/conftest.py sets German again after each test


CUSTOMERS = "crm_id,first_name,last_name,email,consent_status,consent_basis\nK-1,Anna,Amsel,a@x.de,granted,Art. 6\n"


@pytest.mark.parametrize(
    ("text", "value"),
    [("1234.56", 1234.56), ("1234,56", 1234.56), ("1.234,56", 1234.56), ("1,234.56", 1234.56), ("0,125", 0.125),
     ("1.234.567,89", 1234567.89), ("-49,90", -49.9), ("12 €", 12.0), ("1.234.567", 1234567.0)],
)  # fmt: skip
def test_unambiguous_amounts(text: str, value: float) -> None:
    assert parse_amount(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("NaN", "finite"), ("inf", "finite"), ("-Infinity", "finite"), ("1e400", "finite"), ("1e13", "finite"),
     ("1.234", "ambiguous"), ("1,234", "ambiguous"), ("1,234.5.6", "not a number"), ("12,34,56", "not a number"),
     ("zwölf", "not a number")],
)  # fmt: skip
def test_refused_amounts(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_amount(text)


def _engine() -> Engine:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    return engine


def test_bad_rows_in_the_middle_never_take_good_rows_with_them(tmp_path: Path) -> None:
    engine = _engine()
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    import_customers(engine, tmp_path / "c.csv")
    bad = {
        3: "O-b1,K-1,2026-01-02,NaN,1",
        4: "O-b2,K-1,0001-01-01T00:00:00+05:00,10,1",
        5: "O-b3,K-1,9999-12-31T23:59:59-05:00,10,1",
        6: "O-b4,K-1,2026-01-02,1e400,1",
        7: "O-b5,K-1,2026-01-02," + "9" * 5000 + ",1",
        8: "O-b6,K-1,2026-01-02,1.234,1",
        9: "O-b7,K-1,2026-01-02,10,x" + "y" * (MAX_FIELD + 1),
    }
    lines = ["order_id,crm_id,ordered_at,revenue,cost", "O-1,K-1,2026-01-01,10.50,1"] + list(bad.values())
    lines += ["O-2,K-1,2026-01-03,20,1"]
    (tmp_path / "o.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_orders(engine, tmp_path / "o.csv")
    assert report.inserted == 2 and sorted(e.line for e in report.errors) == sorted(bad)
    reasons = {e.line: e.reason for e in report.errors}
    assert "finite" in reasons[3] and "out of range" in reasons[4] and "out of range" in reasons[5]
    assert "ambiguous" in reasons[8] and "characters" in reasons[9]
    with Session(engine) as session:
        assert sorted(o.order_id for o in session.exec(select(Order))) == ["O-1", "O-2"]


def test_jsonl_posts_with_hostile_lines(tmp_path: Path) -> None:
    engine = _engine()
    good = {"platform": "mastodon", "external_id": "1", "text": "Hallo\x00 Welt", "created_at": "2026-01-01",
            "author": {"account_id": "a1"}}  # fmt: skip
    lines = [
        json.dumps(good),
        "[" * 100_000 + "]" * 100_000,  # nested too deeply for the parser
        '{"platform": "mastodon", "external_id": 2, "text": 5, "created_at": "2026-01-01", "author": {}}',
        '{"platform": "mastodon", "external_id": "3", "text": "x", "created_at": "2026-01-01", "n": '
        + "1" * 5000
        + "}",
        json.dumps({**good, "external_id": "4", "created_at": "9999-12-31T23:00:00-05:00"}),
        json.dumps({**good, "external_id": "5"}),
    ]
    (tmp_path / "p.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_posts(engine, tmp_path / "p.jsonl")
    assert report.inserted == 2 and sorted(e.line for e in report.errors) == [2, 3, 4, 5]
    with Session(engine) as session:
        texts = sorted(p.text for p in session.exec(select(Post)))
    assert texts == ["Hallo Welt", "Hallo Welt"]  # the NUL character (refused by PostgreSQL) is removed


NASTY = st.sampled_from(
    ["NaN", "inf", "-inf", "1e400", "1.234", "1,234", "", "  ", "zwölf", "0001-01-01", "9999-12-31T23:59:59-05:00",
     "=1+1", "\x00", "1" * 400, "2026-02-30", "-", "1,2,3", "💥"]
)  # fmt: skip
GOOD_AMOUNT = st.decimals(min_value=-10_000, max_value=100_000, places=2, allow_nan=False).map(lambda d: f"{d:.2f}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.booleans(), GOOD_AMOUNT, NASTY, st.sampled_from(["revenue", "ordered_at", "cost"])),
        min_size=1,
        max_size=40,
    )
)
def test_generated_order_files_keep_every_good_row(tmp_path: Path, rows: list[tuple[bool, str, str, str]]) -> None:
    """Property: whatever mix of good and hostile rows, no exception, every good row stored, every bad row
    reported, no bad value stored."""
    engine = _engine()
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    import_customers(engine, tmp_path / "c.csv")
    lines, good, bad = ["order_id,crm_id,ordered_at,revenue,cost"], {}, set()
    for i, (is_good, amount, nasty, field) in enumerate(rows):
        values = {"ordered_at": "2026-01-05", "revenue": amount, "cost": "1.00"}
        if not is_good:
            values[field] = nasty
        cells = [f"O-{i}", "K-1", values["ordered_at"], values["revenue"], values["cost"]]
        lines.append(",".join(f'"{c}"' for c in cells))
        (good if is_good else {})[f"O-{i}"] = float(amount)
        if not is_good:
            bad.add(f"O-{i}")
    path = tmp_path / "o.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_orders(engine, path)
    with Session(engine) as session:
        stored = {o.order_id: o.revenue for o in session.exec(select(Order))}
    assert set(good) <= set(stored)  # 0 good rows lost
    assert all(stored[k] == pytest.approx(v) for k, v in good.items())
    for key in set(stored) - set(good):  # the only hostile value that is fine: an empty cost (= 0)
        assert key in bad and abs(stored[key]) < 1e12
    assert report.rows == len(rows) and len(report.errors) + len(stored) == len(rows)
