"""Places from bios and handles, name frequencies, the name-only guard, particles, and the demo data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from linker.identity.features import city_key, term_frequencies
from linker.identity.gazetteer import city_in_text, gazetteer
from linker.identity.namefreq import last_name_share
from linker.identity.names import NameLexicon, parse_handle
from linker.identity.pipeline import link_records
from linker.identity.records import AUTO, PENDING, REJECTED, CustomerRecord, IdentityRecord, LinkThresholds

PLACES = gazetteer(["Köln", "Hürth"])


@pytest.mark.parametrize(
    ("bio", "city"),
    [
        ("Berlin. Backend-Entwickler.", "berlin"),
        ("Lebt und arbeitet in Köln. Liest viel", "koeln"),
        ("Köln-Nippes · Architektin", "koeln"),
        ("Wien 🇦🇹 · Lehrerin", "wien"),
        ("Frankfurt am Main. Crossposts", "frankfurt"),
        ("Essen. Kaffee, Kinder, Karriere", "essen"),
        ("Essen · Radfahren", "essen"),
        ("Ich liebe gutes Essen.", None),  # food, not the city
        ("in der Halle trainieren", None),
        ("aus Halle (Saale)", "halle"),
        ("Kaffee und so.", None),
        ("Neu in Hürth", "huerth"),  # known from the CRM
    ],
)
def test_city_in_bio(bio: str, city: str | None) -> None:
    assert city_in_text(bio, PLACES) == city


def test_city_in_handle_is_not_a_name() -> None:
    lex = NameLexicon.build(["Uli", "Sabine"], ["Lübs", "Krüger"], ["Essen"])
    parsed = parse_handle("uli_luebs_essen", lex)
    assert (parsed.first, parsed.last, parsed.handle_city) == ("uli", "luebs", "essen")
    assert parse_handle("sabine_krueger_cgn", lex).handle_city == "koeln"


def test_city_districts() -> None:
    assert city_key("Köln-Ehrenfeld", PLACES) == "koeln"
    assert city_key("Bergisch Gladbach", PLACES) == "bergisch gladbach"


def test_common_names_are_weaker_evidence_in_a_small_crm() -> None:
    rows = [{"last_name": "mueller"}, {"last_name": "przybilla"}] + [{"last_name": None}] * 98
    tf = term_frequencies(rows, "last_name", last_name_share, pseudo_count=200)
    # (1 + 200 * 0.0095) / 300 vs (1 + 200 * 0.0002) / 300
    assert tf("mueller") == pytest.approx(2.9 / 300)
    assert tf("przybilla") == pytest.approx(1.04 / 300)
    assert tf("unseen") == pytest.approx(0.04 / 300)
    # leaving the compared customer's own record out: only the prior remains for a name held once
    loo = term_frequencies(rows, "last_name", last_name_share, pseudo_count=200, leave_one_out=lambda _v: True)
    assert loo("przybilla") == pytest.approx(0.04 / 299)
    assert loo("mueller") == pytest.approx(1.9 / 299)


def test_name_only_guard() -> None:
    th = LinkThresholds(auto=0.95, review=0.6, name_only_auto=0.97)
    assert th.status(0.96, corroborated=True) == AUTO
    # a name nobody else bears: automatic from the name-only threshold on
    assert th.status(0.96, corroborated=False, name_shared=False) == PENDING
    assert th.status(0.97, corroborated=False, name_shared=False) == AUTO
    # a name others plausibly bear (the default): never automatic on the name alone
    assert th.status(0.9999, corroborated=False) == PENDING
    assert th.status(0.5999, corroborated=False) == REJECTED


def test_particle_initial() -> None:
    customer = CustomerRecord(1, "K1", "Janos", "van der Dussen", city="Köln")
    ident = IdentityRecord(7, "bluesky", "did:plc:j", "janvand9.bsky.social", "Janos v.", bio="Köln · Radfahren")
    [decision] = link_records([customer], [ident]).decisions
    assert decision.customer_id == 1 and "Initiale 'V.' passt zu 'van der Dussen'" in decision.evidence[0]
    assert "Stadt Köln = Köln (Bio)" in decision.evidence


DEMO = Path(__file__).resolve().parents[2] / "resonanz" / "demo" / "data"


@pytest.mark.skipif(not (DEMO / "truth.json").exists(), reason="no bundled demo data")
def test_bundled_demo_data_links_as_intended(sqlite_engine: Engine) -> None:
    """The demo's intended author -> customer links; namesake traps must never be auto-linked."""
    from resonanz.core.settings import Settings
    from resonanz.demo.load import load_demo_data
    from resonanz.pipeline.link_export import export_rows
    from resonanz.pipeline.linking import link_identities

    load_demo_data(sqlite_engine)
    link_identities(sqlite_engine, Settings())
    rows = {r["account_id"]: r for r in export_rows(sqlite_engine)}
    truth = json.loads((DEMO / "truth.json").read_text())["authors"]
    expected = {acc: t["crm_id"] for acc, t in truth.items() if t.get("crm_id")}
    auto = {acc: r["crm_id"] for acc, r in rows.items() if r["status"] == AUTO}
    wrong = {acc: (crm, expected.get(acc)) for acc, crm in auto.items() if expected.get(acc) != crm}
    assert not wrong
    assert len(auto) >= 0.9 * len(expected)
    traps = [acc for acc, t in truth.items() if t["tag"] == "trap"]
    assert traps and all(acc not in auto for acc in traps)
    # a trap that still gets a candidate says why it is not linked: a contradiction or a shared name
    held = [rows[acc] for acc in traps if acc in rows]
    assert held and all(
        any(e.startswith("Widerspruch") or e.startswith("Nur der Name") for e in r["evidence"]) for r in held
    ), held


def test_rare_family_name_counts_only_with_the_same_first_name() -> None:
    """Leave-one-out term frequencies: a family name only one customer holds is strong evidence,
    but with another first name the author is likelier a relative than the customer."""
    customers = [CustomerRecord(1, "K1", "Jan", "Riederländer", city="Viechtach")]
    customers += [CustomerRecord(k, f"K{k}", "Max", f"Name{k}", city="Berlin") for k in range(2, 400)]
    same = IdentityRecord(1, "bluesky", "did:plc:a", "jan-riederlaender.bsky.social", "Jan Riederländer")
    relative = IdentityRecord(2, "bluesky", "did:plc:b", "oriederlaender.bsky.social", "Oswald Riederländer",
                              location="Viechtach")  # fmt: skip
    decisions = {d.identity_id: d for d in link_records(customers, [same, relative]).decisions}
    assert decisions[1].customer_id == 1 and decisions[1].probability >= 0.99
    assert decisions[1].status == PENDING  # the name alone: others may bear it (see test_contradictions)
    assert decisions[2].status != AUTO and decisions[2].probability < 0.9
