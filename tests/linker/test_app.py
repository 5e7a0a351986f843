"""The database side: values with history, linking with consent and human decisions, weights, forget, export, CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from resonanz.answers.sql import value_subquery
from resonanz.core.settings import Settings, ValueSettings
from resonanz.demo.linking import demo_linking_summary
from resonanz.pipeline.erasure import forget_customer, withdraw_consent
from resonanz.pipeline.link_decisions import LinkNotFoundError
from resonanz.pipeline.link_export import export_rows
from resonanz.pipeline.linking import confirm_or_reject, link_identities
from resonanz.pipeline.valuation import compute_values, end_of_day
from resonanz.pipeline.weighting import apply_weights, latest_standings
from resonanz.review.detail import latest_value
from store.db import session_scope
from store.models import Customer, CustomerValue, IdentityLink, LoyaltyEvent, Order, Post, Score, SocialIdentity
from store.types import as_utc, utcnow

BASIS = "Art. 6(1)(a) consent"
AS_OF = datetime(2025, 1, 1, tzinfo=UTC)


def t(m: int, d: int = 1, y: int = 2024) -> datetime:
    return datetime(y, m, d, tzinfo=UTC)


def seed(engine: Engine) -> dict[str, int]:
    """5 customers, 10 orders, 4 identities, 5 scored posts."""
    ids: dict[str, int] = {}
    with session_scope(engine) as s:
        customers = [
            Customer(crm_id="K1", first_name="Max", last_name="Müller", emails=["max.mueller87@gmx.de"], city="Köln",
                     consent_status="granted", consent_basis=BASIS),
            Customer(crm_id="K2", first_name="Johannes", last_name="Schmidt", handles=["@jschmidt@chaos.social"],
                     city="Berlin", consent_status="granted", consent_basis=BASIS),
            Customer(crm_id="K3", first_name="Eva", last_name="Klein", emails=["eva@klein.de"],
                     consent_status="withdrawn"),
            Customer(crm_id="K4", first_name="Anna", last_name="Weber", city="Hamburg", consent_status="granted",
                     consent_basis=BASIS),
            # no legal basis recorded
            Customer(crm_id="K5", first_name="Tom", last_name="Berg", city="Bonn", consent_status="granted"),
        ]  # fmt: skip
        s.add_all(customers)
        s.flush()
        for c in customers:
            ids[c.crm_id] = c.id or 0
        # revenue in the window: K1 500, K2 300, K3 150, K4 50 - 20 (refund), K5 0 -> total 980
        orders = [
            ("o1", "K1", t(3), 300.0, 180.0), ("o2", "K1", t(9), 200.0, 120.0), ("o3", "K2", t(5), 300.0, 200.0),
            ("o4", "K3", t(6), 150.0, 100.0), ("o5", "K4", t(7), 50.0, 30.0), ("o6", "K4", t(8), -20.0, -12.0),
            ("o7", "K5", t(6, 1, 2023), 80.0, 40.0), ("o8", "K1", t(1, 1, 2025), 999.0, 0.0),  # after as_of
        ]  # fmt: skip
        for oid, crm, when, rev, cost in orders:
            s.add(Order(order_id=oid, customer_id=ids[crm], ordered_at=when, revenue=rev, cost=cost))
        s.add(LoyaltyEvent(customer_id=ids["K4"], activity="campaign_reaction", occurred_at=t(8)))
        idents = [
            SocialIdentity(platform="mastodon", account_id="https://mastodon.social/users/max_mueller87",
                           handle="max_mueller87@mastodon.social", display_name="Max M.", location="Köln"),
            SocialIdentity(platform="mastodon", account_id="https://chaos.social/users/jschmidt", handle="jschmidt",
                           display_name="Hans", profile_url="https://chaos.social/@jschmidt"),
            SocialIdentity(platform="bluesky", account_id="did:plc:eva", handle="evaklein.bsky.social",
                           display_name="Eva Klein", bio="eva@klein.de"),
            SocialIdentity(platform="bluesky", account_id="did:plc:x", handle="kaffeejunkie.bsky.social",
                           display_name="Kaffeejunkie"),
        ]  # fmt: skip
        s.add_all(idents)
        s.flush()
        for name, ident in zip(("max", "hans", "eva", "anon"), idents, strict=True):
            ids[name] = ident.id or 0
        for n, (who, sentiment) in enumerate(
            [("max", "positive"), ("max", "negative"), ("hans", "positive"), ("eva", "positive"), ("anon", "neutral")]
        ):
            post = Post(platform="mastodon", external_id=f"p{n}", text="...", identity_id=ids[who], created_at=t(10))
            s.add(post)
            s.flush()
            s.add(Score(post_id=post.id or 0, model_name="m", model_version="1", sentiment=sentiment))
    return ids


@pytest.fixture
def db(sqlite_engine: Engine) -> tuple[Engine, dict[str, int]]:
    return sqlite_engine, seed(sqlite_engine)


def weights_by_identity(engine: Engine) -> dict[int | None, set[float | None]]:
    with session_scope(engine) as s:
        rows = s.exec(select(Post.identity_id, Score.weight).join(Score, Score.post_id == Post.id)).all()  # type: ignore[arg-type]
    out: dict[int | None, set[float | None]] = {}
    for iid, w in rows:
        out.setdefault(iid, set()).add(w)
    return out


def test_values_classes_pareto_and_history(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    report = compute_values(engine, Settings(), AS_OF)
    s = report.snapshot
    classes = {report.crm_ids[c]: r.abc_class for c, r in s.results.items()}
    # ranking 500, 300, 150, 30, 0 of total 980: before = 0, 500, 800 (81.6 % -> B), 950 (96.9 % -> C)
    assert classes == {"K1": "A", "K2": "A", "K3": "B", "K4": "C", "K5": "C"}
    assert s.pareto_top20 == pytest.approx(500 / 980)  # 20 % of 5 customers = K1
    k4 = s.results[ids["K4"]]
    assert (k4.revenue, k4.margin, k4.totals.refunds) == (30.0, 12.0, 1)
    # K4: 1 purchase (10) + campaign reaction (3); K1: 2 purchases + 1 positive post of its linked identity (none yet)
    assert k4.loyalty_points == 13.0
    assert s.clv_model == "simple" and "repeat customers" in (s.clv_note or "")
    assert report.rows_written == 5
    compute_values(engine, Settings(), AS_OF, method="headcount")
    with session_scope(engine) as ses:
        rows = ses.exec(select(CustomerValue).where(CustomerValue.customer_id == ids["K1"])).all()
    # a second run for the same analysis date replaces the first (one snapshot per date)
    assert [r.abc_method for r in rows] == ["headcount"]


def test_a_back_dated_run_adds_history_but_never_replaces_the_current_standing(
    db: tuple[Engine, dict[str, int]],
) -> None:
    engine, ids = db
    compute_values(engine, Settings(), AS_OF)  # K1: 500 of 980
    compute_values(engine, Settings(), t(6, 2))  # computed later, about an earlier date: K1 has 300 then
    with session_scope(engine) as ses:
        history = ses.exec(select(CustomerValue).where(CustomerValue.customer_id == ids["K1"])).all()
        standing = latest_standings(ses)[ids["K1"]]
        detail = latest_value(ses, ids["K1"])
        val = value_subquery()
        answers = ses.execute(select(val.c.revenue).where(val.c.customer_id == ids["K1"])).scalar_one()
    assert sorted(r.revenue for r in history) == [300.0, 500.0]
    assert standing.revenue_share == pytest.approx(500 / 980)
    assert detail is not None and detail.revenue == 500.0 and answers == 500.0


def test_value_history_keeps_a_quarter_daily_and_one_snapshot_per_month_before(
    db: tuple[Engine, dict[str, int]],
) -> None:
    engine, _ = db
    # 2024-05-10 .. 2025-01-01 every 10 days: 24 dates; the newest is 2025-01-01
    dates = [t(5, 10) + timedelta(days=10 * i) for i in range(24)] + [AS_OF]
    for when in dates:
        compute_values(engine, Settings(), when)
    with session_scope(engine) as ses:
        kept = sorted({as_utc(d) for d in ses.exec(select(CustomerValue.window_end)).all()})
    cutoff = AS_OF - timedelta(days=90)
    recent = [d for d in dates if d >= cutoff]
    older = [d for d in dates if d < cutoff]
    last_per_month = {(d.year, d.month): d for d in older}
    assert kept == sorted([*recent, *last_per_month.values()])
    assert len(kept) < len(dates)


def test_margin_basis(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    # margins: K1 200, K2 100, K3 50, K4 12 -> total 362: before 0, 200, 300 (82.9 % -> B), 350 (96.7 % -> C)
    report = compute_values(engine, Settings(), AS_OF, basis="margin", persist=False)
    assert [report.snapshot.results[ids[k]].abc_class for k in ("K1", "K2", "K3", "K4")] == ["A", "A", "B", "C"]
    assert report.rows_written == 0


def test_empty_database(sqlite_engine: Engine) -> None:
    report = compute_values(sqlite_engine, Settings(), AS_OF)
    assert report.customers == 0 and report.snapshot.pareto_top20 is None
    assert link_identities(sqlite_engine, Settings()).evaluated == 0
    assert apply_weights(sqlite_engine, Settings()) == 0


def test_linking_consent_decisions_and_weights(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    settings = Settings()
    compute_values(engine, settings, AS_OF)
    report = link_identities(engine, settings)
    assert report.linkable_customers == 3  # K3 withdrew, K5 has no legal basis
    with session_scope(engine) as s:
        links = {(lk.identity_id, lk.customer_id): lk for lk in s.exec(select(IdentityLink)).all()}
    assert links[(ids["hans"], ids["K2"])].method == "handle" and links[(ids["hans"], ids["K2"])].status == "auto"
    max_link = links[(ids["max"], ids["K1"])]
    assert max_link.method == "probabilistic" and max_link.evidence
    assert all(cid != ids["K3"] for _, cid in links)  # the e-mail in Eva's bio does not matter without consent

    assert apply_weights(engine, settings) == 5
    w = weights_by_identity(engine)
    # both class A; by revenue share (the default) K1's 500 and K2's 300 of 980 among 5 customers
    assert w[ids["max"]] == {round(5 * 500 / 980, 6)} and w[ids["hans"]] == {round(5 * 300 / 980, 6)}
    assert w[ids["eva"]] == {0.5} and w[ids["anon"]] == {0.5}  # prospects
    assert apply_weights(engine, settings) == 0  # idempotent

    # human decisions survive later runs
    confirm_or_reject(engine, max_link.id or 0, "rejected", "cm")
    again = link_identities(engine, settings)
    assert again.evaluated == 0 and again.skipped_unchanged == 3  # nothing new: incremental run does nothing
    full = link_identities(engine, settings, full=True)
    assert full.evaluated == 3 and full.no_candidate == 3  # max (its one candidate rejected), eva, anon
    with session_scope(engine) as s:
        still = s.get(IdentityLink, max_link.id)
        assert still is not None and still.status == "rejected" and still.decided_by == "cm"
        assert len(s.exec(select(IdentityLink).where(IdentityLink.identity_id == ids["max"])).all()) == 1
    with pytest.raises(LinkNotFoundError, match="links export"):
        confirm_or_reject(engine, 9999, "confirmed", "cm")

    # a new identity is examined alone; a changed customer makes every undecided identity eligible again
    with session_scope(engine) as ses:
        ses.add(SocialIdentity(platform="bluesky", account_id="did:plc:new", handle="anna-weber.bsky.social",
                               display_name="Anna Weber", location="Hamburg"))  # fmt: skip
    new = link_identities(engine, settings)
    assert (new.evaluated, new.auto, new.skipped_unchanged) == (1, 1, 3)
    with session_scope(engine) as ses:
        k4 = ses.get(Customer, ids["K4"])
        assert k4 is not None
        k4.city, k4.updated_at = "Bremen", utcnow()
        ses.add(k4)
    assert link_identities(engine, settings).evaluated == 3

    # withdrawal: links go at once and the posts fall back to the prospect weight
    assert withdraw_consent(engine, "K2", settings) == 1
    assert weights_by_identity(engine)[ids["hans"]] == {0.5}


def test_loyalty_counts_positive_posts_of_linked_identities(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    link_identities(engine, Settings())
    report = compute_values(engine, Settings(), AS_OF)
    # K2: 1 purchase (10) + 1 positive post (5); K1: 2 purchases + 1 positive post (the negative one earns nothing)
    assert report.snapshot.results[ids["K2"]].loyalty_points == 15.0
    assert report.snapshot.results[ids["K1"]].loyalty_points == 25.0


def test_forget_erases_and_keeps_orders_anonymised(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    compute_values(engine, Settings(), AS_OF)
    link_identities(engine, Settings())
    report = forget_customer(engine, "K2", Settings())
    assert report.links_removed == ["mastodon: jschmidt (auto)"]
    assert report.fields_erased["handles"] == 1 and report.orders_anonymised == 1 and report.values_deleted == 1
    with session_scope(engine) as s:
        c = s.get(Customer, ids["K2"])
        assert c is not None and c.crm_id.startswith("erased-") and c.first_name is None and c.handles == []
        assert c.erased_at is not None and c.consent_status == "withdrawn"
        order = s.exec(select(Order).where(Order.customer_id == ids["K2"])).one()
        assert order.order_id.startswith("erased-") and order.revenue == 300.0
    assert all(r["customer_id"] != ids["K2"] for r in export_rows(engine))
    # the erased stub is never linked again
    link_identities(engine, Settings())
    assert all(r["customer_id"] != ids["K2"] for r in export_rows(engine))
    with pytest.raises(LinkNotFoundError):
        forget_customer(engine, "nobody", Settings())


def test_cli_value_link_export_forget(db: tuple[Engine, dict[str, int]], tmp_path, monkeypatch) -> None:  # noqa: ANN001
    engine, _ = db
    monkeypatch.setenv("RESONANZ_DATABASE_URL", str(engine.url))
    from resonanz.cli.main import app
    from resonanz.core.settings import reset_settings_cache

    reset_settings_cache()
    runner = CliRunner()
    out = runner.invoke(app, ["value", "--as-of", "2024-12-31"])
    assert out.exit_code == 0, out.output
    assert "besten 20 %" in out.output and "51.0%" in out.output
    out = runner.invoke(app, ["link"])
    assert out.exit_code == 0, out.output
    assert "Automatisch verknüpft" in out.output
    target = tmp_path / "links.json"
    out = runner.invoke(app, ["links", "export", "--format", "json", "--output", str(target)])
    assert out.exit_code == 0, out.output
    rows = json.loads(target.read_text())
    assert {r["crm_id"] for r in rows} == {"K1", "K2"} and all(r["evidence"] for r in rows)
    out = runner.invoke(app, ["links", "export"])
    assert out.output.splitlines()[0].startswith("link_id,platform,account_id,handle")
    out = runner.invoke(app, ["forget", "K1", "--yes"])
    assert out.exit_code == 0 and "identity links removed: 1" in out.output
    assert runner.invoke(app, ["value", "--as-of", "31.12.2024"]).exit_code == 2
    assert runner.invoke(app, ["value", "--basis", "loudness"]).exit_code == 2


def test_demo_summary_renders(db: tuple[Engine, dict[str, int]]) -> None:
    engine, _ = db
    compute_values(engine, Settings(), AS_OF)
    link_identities(engine, Settings())
    console = Console(record=True, width=200)
    console.print(demo_linking_summary(engine))
    text = console.export_text()
    assert "Max Müller" in text and "Stadt Köln = Köln" in text and "von 4 Autor:innen" in text


def test_end_of_day() -> None:
    assert end_of_day(datetime(2024, 12, 31).date()) == AS_OF


def test_weight_modes_from_settings(db: tuple[Engine, dict[str, int]]) -> None:
    engine, ids = db
    compute_values(engine, Settings(), AS_OF)
    link_identities(engine, Settings())
    # revenue share: K1 500 of 980 among 5 customers -> 5 * 500 / 980 = 2.551; K2 300 -> 1.531
    settings = Settings(value=ValueSettings(weight_mode="revenue_share"))
    apply_weights(engine, settings)
    w = weights_by_identity(engine)
    assert w[ids["max"]].pop() == pytest.approx(5 * 500 / 980, abs=1e-6)
    assert w[ids["hans"]].pop() == pytest.approx(5 * 300 / 980, abs=1e-6)
    assert w[ids["anon"]] == {0.5}
    settings = Settings(
        value=ValueSettings(weight_mode="abc", abc_weights={"A": 9, "B": 3, "C": 1}, prospect_weight=0.1)
    )
    apply_weights(engine, settings)
    w = weights_by_identity(engine)
    assert w[ids["max"]] == {9.0} and w[ids["anon"]] == {0.1}


def test_scheduled_jobs(db: tuple[Engine, dict[str, int]], monkeypatch: pytest.MonkeyPatch) -> None:
    engine, ids = db
    monkeypatch.setenv("RESONANZ_DATABASE_URL", str(engine.url))
    from resonanz.pipeline.jobs import scheduled_jobs
    from resonanz.pipeline.linking import scheduled_link_job
    from resonanz.pipeline.valuation import scheduled_value_job

    settings = Settings()
    assert [j.id for j in scheduled_jobs(settings)][:2] == ["resonanz:link", "resonanz:value"]
    assert scheduled_link_job(settings).auto == 2
    report = scheduled_value_job(settings)  # as of now: the 2024 orders are outside the 12-month window
    assert report.rows_written == 5 and report.snapshot.pareto_top20 is None
    assert weights_by_identity(engine)[ids["max"]] == {0.5}  # no revenue in the window: the revenue-share floor
