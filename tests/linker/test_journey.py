"""The customer journey on a real database: migration between stored snapshots, complainers, cohorts, CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from linker.value.migration import ABC_ORDER, NEW, NONE, notable_moves, transition_matrix
from resonanz.answers.journey import (
    COMPLAINT_FLAGS,
    MigrationReport,
    analysis_day,
    cohorts,
    de_number,
    segment_migration,
    stored_snapshots,
)
from resonanz.core.errors import InvalidFilterError, NotFoundError
from resonanz.core.settings import Settings
from resonanz.pipeline.valuation import compute_values, end_of_day
from store.db import session_scope
from store.models import Customer, IdentityLink, Order, Post, ReviewItem, SocialIdentity

BASIS = "Art. 6(1)(a) consent"
D0, D1, D2 = date(2026, 5, 31), date(2026, 8, 31), date(2026, 11, 30)


def t(y: int, m: int, d: int = 15) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def add_customer(s: Session, crm: str, consent: str = "granted") -> int:
    c = Customer(crm_id=crm, consent_status=consent, consent_basis=BASIS if consent == "granted" else None)
    s.add(c)
    s.flush()
    return c.id or 0


def add_post(s: Session, cid: int, n: int, when: datetime, flag: str, deleted: bool = False) -> None:
    """A post by customer ``cid``'s linked identity, with a review item flagged ``flag``."""
    ident = SocialIdentity(platform="mastodon", account_id=f"https://m.example/users/u{n}", handle=f"u{n}")
    s.add(ident)
    s.flush()
    s.add(IdentityLink(identity_id=ident.id or 0, customer_id=cid, method="manual", status="confirmed"))
    post = Post(platform="mastodon", external_id=f"p{n}", text="…", identity_id=ident.id, created_at=when,
                deleted_at=when if deleted else None)  # fmt: skip
    s.add(post)
    s.flush()
    s.add(ReviewItem(post_id=post.id or 0, reasons=[{"flag": flag, "severity": 2, "reason": "", "evidence": []}]))


def seed(engine: Engine) -> dict[str, int]:
    """Snapshots at D0, D1 and D2; K7 arrives after D1.

    D1 window [2025-09-01, 2026-09-01): K1 500, K2 300, K3 150, K4 30, K5 20 of 1000 -> cumulative before
    0, 500, 800, 950, 980 -> A A B C C; K6 never buys (C).
    D2 window [2025-12-01, 2026-12-01): K2's October 2025 order drops out, K2 +40, K3 +350, K7 100 ->
    K1 500, K3 500, K7 100, K2 40, K4 30, K5 20 of 1190 -> before 0, 500, 1000 (84 %), 1100 (92 %), 1140 (96 %)
    -> K1 A, K3 A, K7 B, K2 B, K4 C, K5 C, K6 C.
    """
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        for crm in ("K1", "K2", "K3", "K4", "K6"):
            ids[crm] = add_customer(s, crm)
        ids["K5"] = add_customer(s, "K5", consent="withdrawn")
        orders = [("K1", t(2026, 3), 500.0), ("K2", t(2025, 10), 300.0), ("K3", t(2026, 5), 150.0),
                  ("K4", t(2026, 6), 30.0), ("K5", t(2026, 7), 20.0), ("K2", t(2026, 10), 40.0),
                  ("K3", t(2026, 10), 350.0)]  # fmt: skip
        for n, (crm, when, rev) in enumerate(orders):
            s.add(Order(order_id=f"o{n}", customer_id=ids[crm], ordered_at=when, revenue=rev, cost=rev / 2))
    compute_values(engine, Settings(), end_of_day(D0))
    compute_values(engine, Settings(), end_of_day(D1))
    with session_scope(engine) as s:
        ids["K7"] = add_customer(s, "K7")
        s.add(Order(order_id="o7", customer_id=ids["K7"], ordered_at=t(2026, 10), revenue=100.0, cost=50.0))
        # between D1 and D2: complaints by K1 (stays A), K2 (A -> B), a churn threat by K3 (B -> A);
        # not counted: K4's question, K5's complaint (consent withdrawn), K6's deleted post, K1's old complaint
        add_post(s, ids["K1"], 1, t(2026, 10), "complaint")
        add_post(s, ids["K2"], 2, t(2026, 10), "complaint")
        add_post(s, ids["K3"], 3, t(2026, 11), "churn")
        add_post(s, ids["K4"], 4, t(2026, 10), "question")
        add_post(s, ids["K5"], 5, t(2026, 10), "complaint")
        add_post(s, ids["K6"], 6, t(2026, 10), "complaint", deleted=True)
        add_post(s, ids["K1"], 7, t(2026, 8), "complaint")
    compute_values(engine, Settings(), end_of_day(D2))
    return ids


@pytest.fixture
def db(sqlite_engine: Engine) -> Engine:
    seed(sqlite_engine)
    return sqlite_engine


def test_default_compares_the_current_snapshot_with_the_one_nearest_90_days_before(db: Engine) -> None:
    assert [analysis_day(s) for s in stored_snapshots(db)] == [D0, D1, D2]
    r = segment_migration(db)
    # 90 days before 2026-11-30 is 2026-09-01: D1 (1 day off) rather than D0 (93 days)
    assert (r.before_day, r.after_day, r.after_is_current) == (D1, D2, True)
    assert dict(r.matrix.counts) == {("A", "A"): 1, ("A", "B"): 1, ("B", "A"): 1, ("C", "C"): 3, (NEW, "B"): 1}
    assert (r.matrix.up, r.matrix.down, r.matrix.new) == (1, 1, 1)
    # equal counts: the fall first
    assert [(m.before, m.after) for m in r.moves] == [("A", "B"), ("B", "A")]
    assert r.sentences() == [
        "1 der 2 A-Kund:innen vom 2026-08-31 ist jetzt B (50 %).",
        "Die eine B-Kund:in vom 2026-08-31 ist jetzt A (100 %).",
    ]


def test_only_customers_who_complained_in_between(db: Engine) -> None:
    r = segment_migration(db, flags=COMPLAINT_FLAGS)
    assert r.flagged == 3  # K1, K2, K3 (linked, consenting, not deleted, flagged between D1 and D2)
    assert dict(r.matrix.counts) == {("A", "A"): 1, ("A", "B"): 1, ("B", "A"): 1}
    assert r.sentences() == [
        "1 der 2 A-Kund:innen vom 2026-08-31, die sich beschwert oder mit Kündigung gedroht haben, ist jetzt B (50 %).",
        "Die eine B-Kund:in vom 2026-08-31, die sich beschwert oder mit Kündigung gedroht hat, ist jetzt A (100 %).",
    ]
    only_complaints = segment_migration(db, flags=("complaint",))
    assert only_complaints.flagged == 2 and dict(only_complaints.matrix.counts) == {("A", "A"): 1, ("A", "B"): 1}
    assert "die sich beschwert haben, ist jetzt B" in only_complaints.sentences()[0]


def test_explicit_dates_pick_the_nearest_snapshot_and_rfm(db: Engine) -> None:
    r = segment_migration(db, start=date(2026, 6, 10), end=D1)
    # D0 -> D1: the windows differ only by the orders of June-August 2026 and September 2025 - May 2026;
    # at D0: K1 500, K2 300, K3 150 of 950 -> before 0, 500, 800 (84 %) -> A A B; K4, K5, K6 no revenue: C
    assert (r.before_day, r.after_day, r.after_is_current) == (D0, D1, False)
    assert r.matrix.changed == 0 and r.moves == ()
    assert "am 2026-08-31" in r.sentence(r.matrix.move("A", "A"))
    rfm = segment_migration(db, by="rfm")
    assert rfm.matrix.total == 7 and rfm.matrix.count(NONE, NONE) == 1  # K6 never bought: no segment
    assert rfm.matrix.row_total(NEW) == 1 and not rfm.matrix.ranked


def test_errors_say_what_to_do(sqlite_engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="es gibt keinen.*resonanz value --as-of"):
        segment_migration(sqlite_engine)
    seed(sqlite_engine)
    with pytest.raises(InvalidFilterError, match="--by abc"):
        segment_migration(sqlite_engine, by="loudness")
    with pytest.raises(NotFoundError, match="Vor dem Stand vom 2026-05-31"):
        segment_migration(sqlite_engine, end=date(2026, 1, 1))


def test_cohorts_from_the_orders(db: Engine) -> None:
    table = cohorts(db, end_of_day(D2), months=12)
    # first purchases in Dec 2025 - Nov 2026: K1 March, K3 May, K4 June, K5 July, K7 October (K2: October 2025)
    assert [(c.month, c.customers) for c in table.cohorts] == [
        (date(2026, m, 1), 1) for m in (3, 5, 6, 7, 10)
    ]  # fmt: skip
    may = table.cohorts[1]
    assert [x.share for x in may.cells] == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # K3 bought again in October
    assert may.cells[5].revenue_share == pytest.approx(350 / 150)
    # five cohorts at month 0; at month 5 only March, May and June are observed, and only K3 came back
    assert (table.average[0].customers, table.average[5].customers) == (5, 1)
    assert table.average[5].share == pytest.approx(1 / 3)
    older = cohorts(db, end_of_day(D2), months=14)
    assert older.cohorts[0].month == date(2025, 10, 1) and older.cohorts[0].cell(12).share == 1.0  # type: ignore[union-attr]


def test_the_sentence_of_the_issue() -> None:
    before = {i: "A" for i in range(10)} | {10 + i: "B" for i in range(1500)}
    after = {i: ("B" if i < 3 else "A") for i in range(10)} | {10 + i: "C" for i in range(1500)}
    matrix = transition_matrix(before, after, ABC_ORDER, ranked=True, all_states=True)
    r = MigrationReport(
        "abc", end_of_day(D1), end_of_day(D2), True, matrix, tuple(notable_moves(matrix)), ("complaint",)
    )
    assert r.sentences() == [
        "1.500 der 1.500 B-Kund:innen vom 2026-08-31, die sich beschwert haben, sind jetzt C (100 %).",
        "3 der 10 A-Kund:innen vom 2026-08-31, die sich beschwert haben, sind jetzt B (30 %).",
    ]
    assert "1.510 Kund:innen, 7 unverändert, 1.503 gewechselt" in r.summary()


def test_german_numbers() -> None:
    assert (de_number(1234567), de_number(1234.5, 2), de_number(-0.5, 1)) == ("1.234.567", "1.234,50", "-0,5")


def test_cli_migration_and_cohorts(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_DATABASE_URL", str(db.url))
    from resonanz.cli.main import app
    from resonanz.core.settings import reset_settings_cache

    reset_settings_cache()
    runner = CliRunner()
    out = runner.invoke(app, ["value", "migration", "--complained"])
    assert out.exit_code == 0, out.output
    assert "1 der 2 A-Kund:innen vom 2026-08-31, die sich beschwert oder mit Kündigung gedroht haben" in out.output
    out = runner.invoke(app, ["value", "migration", "--by", "rfm", "--from", "2026-06-10", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["from"], data["to"], data["by"], data["totals"]["customers"]) == ("2026-05-31", "2026-11-30", "rfm", 7)
    assert data["requested"] == ["2026-06-10", None]
    out = runner.invoke(app, ["value", "cohorts", "--as-of", "2026-11-30", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert [c["month"] for c in json.loads(out.output)["cohorts"]] == [
        "2026-03",
        "2026-05",
        "2026-06",
        "2026-07",
        "2026-10",
    ]
    out = runner.invoke(app, ["value", "cohorts", "--as-of", "2026-11-30"])
    assert out.exit_code == 0 and "Ø gewichtet" in out.output and "233 %" in out.output  # 350 / 150
    assert runner.invoke(app, ["value", "migration", "--by", "x"]).exit_code == 2
    assert runner.invoke(app, ["value", "migration", "--to", "30.11.2026"]).exit_code == 2
    assert runner.invoke(app, ["value", "cohorts", "--months", "0"]).exit_code == 2
    # plain ``resonanz value`` still computes
    out = runner.invoke(app, ["value", "--as-of", "2026-11-30", "--no-weights"])
    assert out.exit_code == 0 and "ABC-Klassen" in out.output
