"""Evidence against a match (issue 15): another place, another own domain, a disclaimer; shared names."""

from __future__ import annotations

import math
from typing import Any

import pytest

from linker.identity.contradictions import (
    OTHER_DOMAIN_BITS,
    company_keys,
    disclaimer_spans,
    disclaims,
    other_domain,
    own_email_domains,
)
from linker.identity.features import name_spellings
from linker.identity.model import COMPARISONS
from linker.identity.namefreq import (
    DEFAULT_FIRST,
    DEFAULT_LAST,
    INITIAL_SHARE,
    POPULATION,
    expected_namesakes,
    level_share,
    plausibly_shared,
)
from linker.identity.pipeline import link_records
from linker.identity.records import (
    AUTO,
    PENDING,
    REJECTED,
    CustomerRecord,
    IdentityRecord,
    LinkDecision,
    LinkThresholds,
)

ROMUALD = CustomerRecord(1, "K1", "Romuald", "Junken", ("romuald.junken@gmx.de",), city="Sömmerda")
BRANDT = CustomerRecord(
    2, "K2", "Thomas", "Brandt", ("t.brandt@hotel-rheinblick.de",), city="Köln", company="Hotel Rheinblick GmbH"
)
FILLER = [
    CustomerRecord(k, f"K{k}", "Eva", f"Name{k}", city="Deggendorf" if k == 3 else "Berlin") for k in range(3, 300)
]
CUSTOMERS = [*FILLER, ROMUALD, BRANDT]  # customers without e-mail first: see test_linking_rules


def _decide(*identities: IdentityRecord) -> dict[int, LinkDecision]:
    return {d.identity_id: d for d in link_records(CUSTOMERS, list(identities)).decisions}


def _ident(
    iid: int, handle: str, display: str | None, location: str | None = None, bio: str | None = None
) -> IdentityRecord:
    return IdentityRecord(iid, "bluesky", f"did:plc:{iid}", f"{handle}.bsky.social", display, None, bio, location)


def _city_level(label: str) -> dict[str, Any]:
    [city] = [c for c in COMPARISONS if c["output_column_name"] == "city"]
    levels: list[dict[str, Any]] = city["comparison_levels"]
    [level] = [lv for lv in levels if lv.get("label_for_charts") == label]
    return level


def test_another_known_place_is_a_real_negative() -> None:
    contradicts, unknown = _city_level("contradicts"), _city_level("unknown")
    # log2(0.05 / 0.86) = -4.1 bits; a place the gazetteer does not know: log2(0.10 / 0.12) = -0.26
    assert math.log2(contradicts["m_probability"] / contradicts["u_probability"]) == pytest.approx(-4.10, abs=0.01)
    assert math.log2(unknown["m_probability"] / unknown["u_probability"]) == pytest.approx(-0.26, abs=0.01)
    known = _decide(_ident(1, "romualdjunken", "Romuald Junken", "Deggendorf"))[1]
    joke = _decide(_ident(1, "romualdjunken", "Romuald Junken", "Mittelerde"))[1]
    assert "Widerspruch: Stadt Sömmerda ≠ Deggendorf (Ort)" in known.evidence
    assert any("Ort unbekannt" in e for e in joke.evidence)
    assert known.probability < joke.probability


def test_namesake_in_another_city_is_never_auto_linked() -> None:
    decisions = _decide(
        _ident(1, "romualdjunken", "Romuald Junken", "Deggendorf"),  # the full name, another known city
        _ident(2, "romualdj42", "Romuald J.", "Deggendorf"),  # the "Romuald J."
        _ident(3, "rjunken", "Romuald Junken", "Sömmerda"),  # the customer's own city
    )
    full, initial, home = decisions[1], decisions[2], decisions[3]
    assert full.customer_id == 1 and full.status == PENDING and full.probability >= 0.95
    assert "Widerspruch ohne gemeinsamen Kontakt - nur zur Prüfung, nie automatisch" in full.evidence
    assert initial.status != AUTO and initial.probability < full.probability
    assert home.status == AUTO and home.customer_id == 1


def test_a_shared_contact_outweighs_another_place() -> None:
    """Somebody who moved keeps their e-mail user name: ``romualdjunken87`` in the handle."""
    customers = [*FILLER, CustomerRecord(1, "K1", "Romuald", "Junken", ("romualdjunken87@gmx.de",), city="Sömmerda")]
    [d] = link_records(customers, [_ident(1, "romualdjunken87", "Romuald Junken", "Deggendorf")]).decisions
    assert d.status == AUTO and "Widerspruch: Stadt Sömmerda ≠ Deggendorf (Ort)" in d.evidence


def test_the_name_alone_goes_to_review() -> None:
    d = _decide(_ident(1, "romualdjunken", "Romuald Junken"))[1]
    assert d.customer_id == 1 and d.probability >= 0.95 and d.status == PENDING
    # 83 million x 0.001 x 0.0002 (neither name is in the tables) = 16.6 expected bearers
    assert any("weitere Menschen (erwartet: 17 in Deutschland)" in e for e in d.evidence), d.evidence


def test_a_user_name_that_only_spells_the_name_is_no_contact() -> None:
    assert {"romualdjunken", "junkenromuald", "rjunken", "junken"} <= name_spellings("Romuald", "Junken")
    assert "romualdjunken87" not in name_spellings("Romuald", "Junken")
    # CRM romuald.junken@gmx.de, bio romuald.junken@outlook.de: what any Romuald Junken would write
    d = _decide(_ident(1, "kaffeefan", "Romuald Junken", bio="Kontakt: romuald.junken@outlook.de"))[1]
    assert d.status == PENDING and not any("CRM-E-Mail" in e for e in d.evidence)


def test_another_own_email_domain_counts_against() -> None:
    assert own_email_domains("Kontakt: tb@foto-brandt.de, privat tb@web.de") == {"foto-brandt.de"}
    assert other_domain({"hotel-rheinblick.de"}, {"foto-brandt.de"}) == "foto-brandt.de"
    assert other_domain({"hotel-rheinblick.de"}, {"foto-brandt.de"}, {"hotel-rheinblick.de"}) is None
    assert other_domain(set(), {"foto-brandt.de"}) is None  # nothing to contradict
    assert pytest.approx(math.log2(0.2)) == OTHER_DOMAIN_BITS
    same_city = _ident(1, "thomasbrandt", "Thomas Brandt", "Köln")
    elsewhere = _ident(2, "thomas_brandt", "Thomas Brandt", "Köln", "Fotograf. Kontakt: tb@foto-brandt.de")
    decisions = _decide(same_city, elsewhere)
    assert decisions[1].status == AUTO
    other = decisions[2]
    assert other.status == PENDING and other.probability < decisions[1].probability
    assert "Widerspruch: E-Mail-Domain in der Bio foto-brandt.de ≠ CRM-Domain hotel-rheinblick.de" in other.evidence


def test_a_profile_that_says_it_is_someone_else_is_ruled_out() -> None:
    spans = disclaimer_spans("Hotel am Rhein. Wir sind NICHT das Hotel Rheinblick in Köln!")
    assert spans == [("das", "hotel", "rheinblick", "in", "koeln")]
    assert company_keys(BRANDT) == {"hotelrheinblick"}  # the company's name and its domain agree
    assert company_keys(CustomerRecord(9, "K9", "Max", "Müller", ("post@max-mueller.de",))) == set()
    assert disclaims(spans, {"hotelrheinblick"}) == spans[0]
    assert disclaims(disclaimer_spans("Nicht der Thomas Brandt aus dem Fernsehen"), {"hotelrheinblick"}) is None
    assert disclaims(disclaimer_spans("Hotel Rheinblick, Köln. Nicht nur Kaffee"), {"hotelrheinblick"}) is None
    ident = _ident(1, "thomasbrandt", "Thomas Brandt", "Köln", "Nicht zu verwechseln mit dem Hotel Rheinblick.")
    d = _decide(ident)[1]
    assert (d.customer_id, d.status, d.probability) == (2, REJECTED, 0.0)
    assert any(e.startswith("Widerspruch: Profil grenzt sich ab") for e in d.evidence)


def test_expected_namesakes_hand_computed() -> None:
    # "Thomas Brandt": 83e6 x 0.0068 x 0.0007 = 395; a name outside the tables: 83e6 x 0.001 x 0.0002 = 16.6
    assert expected_namesakes(0.0068, 0.0007) == pytest.approx(395.08)
    assert expected_namesakes(DEFAULT_FIRST, DEFAULT_LAST) == pytest.approx(16.6)
    assert POPULATION == 83_000_000
    # only a much rarer name than the tables know would count as unique: 83e6 x 1e-6 x 1e-6 = 8.3e-5
    assert plausibly_shared(expected_namesakes(DEFAULT_FIRST, DEFAULT_LAST))
    assert not plausibly_shared(expected_namesakes(1e-6, 1e-6))
    assert plausibly_shared(0.05) and not plausibly_shared(0.049)
    # "Romuald J.": the family name is only an initial
    assert level_share("junken", "initial", DEFAULT_LAST) == INITIAL_SHARE
    assert level_share("junken", "exact", DEFAULT_LAST) == DEFAULT_LAST
    assert level_share("junken", "different", DEFAULT_LAST) == 1.0


def test_status_rules() -> None:
    th = LinkThresholds(auto=0.95, review=0.6, name_only_auto=0.97)
    assert th.status(0.999, corroborated=True) == AUTO
    assert th.status(0.999, corroborated=True, contradicted=True) == PENDING
    assert th.status(0.999, corroborated=False, name_shared=False, contradicted=True) == PENDING
    assert th.status(0.59, corroborated=True, contradicted=True) == REJECTED
    assert th.status(0.999, corroborated=False) == PENDING
