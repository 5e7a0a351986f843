"""Deterministic links, exclusivity of candidates, thresholds and the end-to-end pipeline on tiny data."""

from __future__ import annotations

import math

import pytest

from linker.errors import LinkConfigError
from linker.identity.decide import best_per_identity, exclusive_probabilities
from linker.identity.deterministic import deterministic_links
from linker.identity.model import prior_match_probability
from linker.identity.pipeline import LinkConfig, link_records
from linker.identity.probabilistic import Candidate
from linker.identity.records import AUTO, PENDING, REJECTED, CustomerRecord, IdentityRecord, LinkThresholds

MAX = CustomerRecord(1, "K1", "Max", "Müller", ("max.mueller87@gmx.de",), (), (), (), "Köln")
JS = CustomerRecord(2, "K2", "Johannes", "Schmidt", ("js@web.de",), (), ("@jschmidt@chaos.social",), (), "Berlin")
STEFFI = CustomerRecord(3, "K3", "Stefanie", "Meier", ("steffi@meier-design.de",), (), (), (), "München")
ANNA = CustomerRecord(
    4, "K4", "Anna", "Weber", (), ("0221 1234567",), (), ("https://www.youtube.com/@AnnaKocht",), "Köln"
)
MAX_HH = CustomerRecord(5, "K5", "Max", "Müller", (), (), (), (), "Hamburg")
FAMILY_A = CustomerRecord(6, "K6", "Eva", "Klein", ("familie.klein@web.de",), (), (), (), None)
FAMILY_B = CustomerRecord(7, "K7", "Tom", "Klein", ("familie.klein@web.de",), (), ("@tomk",), (), None)
CUSTOMERS = [MAX, JS, STEFFI, ANNA, MAX_HH, FAMILY_A, FAMILY_B]


def cand(cid: int, iid: int, w: float) -> Candidate:
    return Candidate(cid, iid, w, {}, {})


def test_deterministic_handle_in_another_form() -> None:
    ident = IdentityRecord(11, "mastodon", "https://chaos.social/users/jschmidt", "jschmidt", "Hans S.")
    out = deterministic_links(CUSTOMERS, [ident])
    [d] = out[11]
    assert (d.customer_id, d.method, d.probability, d.status) == (2, "handle", 1.0, AUTO)
    assert "CRM-Handle @jschmidt@chaos.social" in d.evidence[0]


def test_deterministic_phone_and_profile_url() -> None:
    phone = IdentityRecord(13, "reddit", "t2_x", "anna_w", bio="Ruft an: +49 221 1234567")
    channel = IdentityRecord(14, "youtube", "UCabc", "@annakocht", "Anna kocht")
    out = deterministic_links(CUSTOMERS, [phone, channel])
    assert out[13][0].method == "phone" and out[13][0].status == AUTO
    assert out[14][0].method == "profile_url" and out[14][0].customer_id == 4


def test_shared_email_goes_to_review_for_every_owner() -> None:
    ident = IdentityRecord(15, "bluesky", "did:plc:k", "kleins.bsky.social", bio="familie.klein@web.de")
    decisions = deterministic_links(CUSTOMERS, [ident])[15]
    assert [(d.customer_id, d.status, d.probability) for d in decisions] == [(6, PENDING, 0.5), (7, PENDING, 0.5)]
    assert "Mehrdeutig" in decisions[0].evidence[-1]


def test_bare_crm_handle_only_goes_to_review() -> None:
    ident = IdentityRecord(16, "bluesky", "did:plc:t", "tomk.bsky.social", "Tom")
    [d] = deterministic_links(CUSTOMERS, [ident])[16]
    assert (d.customer_id, d.status, d.probability) == (7, PENDING, 0.8)


def test_rejected_pairs_are_never_proposed() -> None:
    ident = IdentityRecord(11, "mastodon", "x", "jschmidt@chaos.social")
    assert deterministic_links(CUSTOMERS, [ident], excluded=frozenset({(11, 2)})) == {}


def test_prior() -> None:
    # pi / ((1 - pi) n + pi) with pi = 0.3, n = 7: 0.3 / 5.2
    assert prior_match_probability(7, 0.3) == pytest.approx(0.3 / 5.2)
    with pytest.raises(LinkConfigError, match="EXPECTED_CUSTOMER_SHARE"):
        prior_match_probability(7, 1.0)


def test_exclusivity_hand_computed() -> None:
    # odds 2^log2(3) = 3 and 1: p = 3 / (1 + 3 + 1) = 0.6 and 1 / 5 = 0.2
    ranked = exclusive_probabilities([cand(1, 9, math.log2(3)), cand(2, 9, 0.0)])[9]
    assert [(c.customer_id, round(p, 6)) for c, p in ranked] == [(1, 0.6), (2, 0.2)]
    # a single candidate keeps Splink's own probability o / (1 + o)
    [(c, p)] = exclusive_probabilities([cand(1, 8, math.log2(19))])[8]
    assert p == pytest.approx(0.95)


def test_thresholds_and_ties() -> None:
    th = LinkThresholds(auto=0.95, review=0.60)
    assert th.status(0.95) == AUTO and th.status(0.9499) == PENDING
    assert th.status(0.60) == PENDING and th.status(0.5999) == REJECTED
    # two equal candidates with odds 3: 3/7 each -> rejected; the tie goes to the lower customer id
    best = best_per_identity([cand(5, 9, math.log2(3)), cand(4, 9, math.log2(3))], th)
    c, p, status, others = best[9]
    assert (c.customer_id, round(p, 4), status, others) == (4, round(3 / 7, 4), REJECTED, 1)
    # once a human rejected one of them, the other one is alone: 3/4 -> review
    c, p, status, _ = best_per_identity([cand(5, 9, math.log2(3)), cand(4, 9, math.log2(3))], th, frozenset({(9, 4)}))[
        9
    ]
    assert (c.customer_id, p, status) == (5, 0.75, PENDING)


def test_pipeline_end_to_end_with_evidence() -> None:
    identities = [
        IdentityRecord(10, "mastodon", "https://mastodon.social/users/max_mueller87", "max_mueller87@mastodon.social",
                       "Max M.", "https://mastodon.social/@max_mueller87", None, "Köln, NRW"),
        IdentityRecord(12, "bluesky", "did:plc:abc", "steffimayer.bsky.social", "Steffi Mayer", None,
                       "Grafik: meier-design.de", "Munich"),
        IdentityRecord(14, "bluesky", "did:plc:def", "maxm.bsky.social", "Max Müller"),  # two Max Müller
        IdentityRecord(17, "youtube", "UCxyz", "@kaffeejunkie", "Kaffeejunkie"),  # nobody
        IdentityRecord(18, "mastodon", "https://chaos.social/users/jschmidt", "jschmidt@chaos.social", "Hans S."),
    ]  # fmt: skip
    result = link_records(CUSTOMERS, identities, LinkConfig())
    by_identity = {d.identity_id: d for d in result.decisions}
    max_link = by_identity[10]
    assert (max_link.customer_id, max_link.status, max_link.method) == (1, AUTO, "probabilistic")
    assert max_link.evidence[0].startswith("Name 'Max Müller' ~ 'Max M. / max_mueller87' (Jaro-Winkler 1.00)")
    assert "Stadt Köln = Köln, NRW (Ort)" in max_link.evidence
    assert any("CRM-E-Mail max.mueller87@gmx.de" in e for e in max_link.evidence)
    steffi = by_identity[12]
    assert steffi.customer_id == 3 and steffi.status == AUTO
    assert "Kurzform" in steffi.evidence[0] and "Kölner Phonetik 67" in steffi.evidence[0]
    assert by_identity[14].status == REJECTED and "weitere" in by_identity[14].evidence[-1]
    assert 17 not in by_identity and result.no_candidate == 1
    assert by_identity[18].method == "handle" and result.deterministic == 1


def test_pipeline_empty_inputs() -> None:
    assert link_records([], []).decisions == []
    ident = IdentityRecord(1, "mastodon", "a", "max_mueller", "Max Müller")
    result = link_records([], [ident])
    assert result.decisions == [] and result.no_candidate == 1


def test_customers_without_email_first_do_not_break_scoring() -> None:
    """DuckDB types a column from a sample of its rows: 1,999 customers without e-mail, then one with,
    made the contact keys "NULL[]" and the contact blocking rule failed."""
    customers = [CustomerRecord(k, f"K{k}", "Eva", f"Name{k}", city="Berlin") for k in range(1, 2000)]
    customers.append(CustomerRecord(2000, "K2000", "Max", "Müller", ("maxmueller87@gmx.de",), city="Köln"))
    ident = IdentityRecord(1, "bluesky", "did:plc:m", "maxmueller87.bsky.social", "Max Müller", location="Köln")
    [d] = link_records(customers, [ident]).decisions
    assert (d.customer_id, d.status) == (2000, AUTO)
    assert any("CRM-E-Mail maxmueller87@gmx.de" in e for e in d.evidence)
