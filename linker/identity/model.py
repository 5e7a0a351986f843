"""The Fellegi-Sunter model: comparison levels with documented m/u priors, blocking rules, prior odds.

Why fixed priors instead of EM training
---------------------------------------
Splink can estimate m by expectation maximisation, but EM needs many true matches among the
blocked pairs and a clear separation between matches and non-matches. A shop with 300 customers
and 80 social authors has neither; EM then drifts (it may decide that "same city" is the match
signal and names are noise) and the links change from run to run. So m (how often a *true*
match shows a level) is fixed from the priors below, and u (how often two *different* people
show it) is fixed too, except for exact name and city matches, where u is the term frequency of
the value measured on the customer base (shrunk towards the value's share in the German
population for small CRMs, see :func:`linker.identity.features.term_frequencies` and
:mod:`linker.identity.namefreq`). The cost: the model does not adapt its m values to a particular
customer base. Random-sampling u estimation would adapt the remaining u values, but
on small inputs it sees too few pairs per level and produces zero u probabilities (infinite
weights); term frequencies capture most of what matters (rare names are strong evidence).

Every level's Bayes factor m/u, in bits (log2), is what the explanation reports:

==================  ========================================  ======  =======  ========
comparison          level                                     m       u        bits
==================  ========================================  ======  =======  ========
first name          exact (u = frequency of the name)         0.84    0.002    +8.7
                    nickname group (Hans ~ Johannes)          0.05    0.0008   +6.0
                    Jaro-Winkler >= 0.90 (typo)               0.03    0.008    +1.9
                    initial matches ("M." ~ Max)              0.04    0.002    +4.3
                    different                                 0.04    0.9872   -4.6
last name           exact, first names agree (u: see below)   0.86    0.0005   +10.7
                    exact, first names differ                 0.86    0.0005   +10.7
                    same Kölner Phonetik or JW >= 0.92        0.07    0.006    +3.5
                    initial matches                           0.05    0.0035   +3.8
                    different                                 0.02    0.9900   -5.6
city                exact (u = frequency of the city)         0.85    0.02     +5.4
                    another known place (contradicts)         0.05    0.86     -4.1
                    a place the gazetteer does not know       0.10    0.12     -0.3
contact             shared e-mail user name or own domain     0.30    0.00005  +12.6
                    none shared                               0.70    0.99995  -0.5
==================  ========================================  ======  =======  ========

Missing values (no location, no name in the handle) are neutral (0 bits). The m values say: a
person writes their own first name exactly 84 % of the time, a nickname 5 %, an initial 4 %; 14 %
of true pairs are typos or variants of the last name; 15 % of people name a different place (in
the location field, the bio or the handle) than the CRM has, but only a third of those name
another *known* place (moved, work place, the big city next door); the rest write something the
gazetteer (:mod:`linker.identity.gazetteer`: the big cities plus every CRM city) does not know: a
village, a region ("Rheinland"), a district, a joke ("Mittelerde"). Such text cannot contradict
anything and is nearly neutral (non-matches write it a little more often, u 0.12: the gazetteer
holds every customer's city, not every non-customer's village). Another known place is a real
contradiction: among non-matches it is the rule (0.86), among matches the exception (0.05), -4.1
bits. It used to be one level "different" (m 0.15, u 0.98, -2.7 bits) that mixed both; with it a
namesake in another city kept nearly all of the name's weight ("Thomas Brandt", Hamburg, proposed
for the customer in Köln at 0.94; now 0.85). The gazetteer has no coordinates, so a suburb's
customer who writes the city next door counts as contradicted too; that is part of the 5 %. The
decisions add a rule on top (:mod:`linker.identity.decide`): a contradiction without a shared
contact never auto-links, whatever the probability. The u values are German name statistics: two
random people share a first name about 0.2 % of the time (the sum of squared name frequencies: the
top names each hold 1-1.5 % within a gender, and half of all pairs differ in gender), a family
name about 0.05 % (Müller ~1 %, Schmidt 0.7 %, then a very long tail), a Kölner code about 0.6 %.
For exact matches these are only the starting point: each name's own share
(:mod:`linker.identity.namefreq`) and then its frequency measured in the CRM replace them.

Rare names and relatives: the u of an exact match is the name's frequency among the *other*
people, so the compared customer's own record is left out of the count (``leave_one_out`` in
:func:`linker.identity.features.term_frequencies`) for names outside the frequency table, whose rarity the
CRM alone tells: a family name held by one customer of 2,000 then counts as rare as it is instead
of "1 in 2,000". That holds for the first name, and for the family name only when the first names
agree (exact, nickname, typo, initial; the ``last_rare`` column). With *another* first name the
likeliest non-match is a relative, who shares the family name and often the city; that level keeps
the count with the customer's own record in it, as a floor for the family. Without this split the
model calls "Oswald Riederländer, Viechtach" the customer "Jan Riederländer, Viechtach" at 0.99.

The prior: with ``n`` customers, and a share ``pi`` of the authors being customers at all, a
random (customer, author) pair matches with probability ``pi / ((1 - pi) n + pi)``, so the prior
odds are ``pi / ((1 - pi) n)``. Splink's match probability per pair is then exactly the
posterior for "this author is this customer" when the author has only this one candidate;
:mod:`linker.identity.decide` normalises across several candidates.
"""

from __future__ import annotations

from typing import Any

from linker.errors import LinkConfigError

FIRST_LEVELS = ("exact", "nickname", "fuzzy", "initial", "different")
LAST_LEVELS = ("exact", "exact", "phonetic", "initial", "different")
CITY_LEVELS = ("exact", "contradicts", "unknown")
CONTACT_LEVELS = ("shared", "none")

LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "first_name": FIRST_LEVELS,
    "last_name": LAST_LEVELS,
    "city": CITY_LEVELS,
    "contact": CONTACT_LEVELS,
}

FIRST_PRIOR_U = 0.002
LAST_PRIOR_U = 0.0005
CITY_PRIOR_U = 0.02


def _level(sql: str, m: float, u: float, label: str, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "m_probability": m, "u_probability": u, "label_for_charts": label}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
        level["disable_tf_exact_match_detection"] = True  # use this level's own u as the baseline
    return level


def _either(column: str, guard: str) -> str:
    """Exact match on the main reading, or on either side's alternative reading (``<first>_alt``)."""
    alt = column.split("_")[0] + "_alt"
    pairs = [(f"{column}_l", f"{column}_r"), (f"{alt}_l", f"{column}_r"), (f"{column}_l", f"{alt}_r")]
    return " OR ".join(f"({a} = {b} AND {guard.format(a=a)})" for a, b in pairs)


def _null(sql: str) -> dict[str, Any]:
    return {"sql_condition": sql, "is_null_level": True, "label_for_charts": "null"}


FIRST_AGREES = (
    "first_canon_l = first_canon_r OR first_name_l = first_alt_r OR first_alt_l = first_name_r "
    "OR ((length(first_name_l) = 1 OR length(first_name_r) = 1) AND first_initial_l = first_initial_r) "
    "OR (length(first_name_l) > 1 AND length(first_name_r) > 1 "
    "AND jaro_winkler_similarity(first_name_l, first_name_r) >= 0.9)"
)
"""The first names agree in any way the first-name comparison rewards (same name or nickname group,
the handle's reading, an initial, a typo)."""

COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "first_name",
        "comparison_levels": [
            _null("first_name_l IS NULL OR first_name_r IS NULL"),
            _level(_either("first_name", "length({a}) > 1"), 0.84, FIRST_PRIOR_U, "exact", "first_name"),
            _level("first_canon_l = first_canon_r", 0.05, 0.0008, "nickname"),
            _level(
                "length(first_name_l) > 1 AND length(first_name_r) > 1 "
                "AND jaro_winkler_similarity(first_name_l, first_name_r) >= 0.9",
                0.03,
                0.008,
                "fuzzy",
            ),
            _level(
                "(length(first_name_l) = 1 OR length(first_name_r) = 1) AND first_initial_l = first_initial_r",
                0.04,
                0.002,
                "initial",
            ),
            _level("ELSE", 0.04, 0.9872, "different"),
        ],
    },
    {
        "output_column_name": "last_name",
        "comparison_levels": [
            _null("last_name_l IS NULL OR last_name_r IS NULL"),
            _level(
                f"({_either('last_name', 'length({a}) > 1')}) AND ({FIRST_AGREES})",
                0.86,
                LAST_PRIOR_U,
                "exact",
                "last_rare",
            ),
            _level(_either("last_name", "length({a}) > 1"), 0.86, LAST_PRIOR_U, "exact", "last_name"),
            _level(
                "length(last_name_l) > 1 AND length(last_name_r) > 1 AND (last_phon_l = last_phon_r "
                "OR last_phon_l = last_alt_phon_r OR last_alt_phon_l = last_phon_r "
                "OR jaro_winkler_similarity(last_name_l, last_name_r) >= 0.92)",
                0.07,
                0.006,
                "phonetic",
            ),
            _level(
                "(length(last_name_l) = 1 OR length(last_name_r) = 1) AND (last_initial_l = last_initial_r "
                "OR last_initial_alt_l = last_initial_r OR last_initial_l = last_initial_alt_r)",
                0.05,
                0.0035,
                "initial",
            ),
            _level("ELSE", 0.02, 0.9900, "different"),
        ],
    },
    {
        "output_column_name": "city",
        "comparison_levels": [
            _null("city_l IS NULL OR city_r IS NULL"),
            _level("city_l = city_r", 0.85, CITY_PRIOR_U, "exact", "city"),
            _level("city_known_l AND city_known_r", 0.05, 0.86, "contradicts"),
            _level("ELSE", 0.10, 0.12, "unknown"),
        ],
    },
    {
        "output_column_name": "contact",
        "comparison_levels": [
            _null(
                "contact_keys_l IS NULL OR contact_keys_r IS NULL OR len(contact_keys_l) = 0 OR len(contact_keys_r) = 0"
            ),
            _level("len(list_intersect(contact_keys_l, contact_keys_r)) > 0", 0.30, 0.00005, "shared"),
            _level("ELSE", 0.70, 0.99995, "none"),
        ],
    },
]

BLOCKING_RULES: list[Any] = [
    "l.last_phon = r.last_phon AND l.first_initial = r.first_initial",
    "l.first_canon = r.first_canon AND l.last_initial = r.last_initial",
    "l.first_canon = r.first_canon AND l.last_initial_alt = r.last_initial",
    "l.first_canon = r.first_canon AND l.last_initial = r.last_initial_alt",
    "l.first_canon = r.first_canon AND l.city = r.city",
    "l.last_phon = r.last_phon AND l.city = r.city",
    {"blocking_rule": "l.contact_keys = r.contact_keys", "arrays_to_explode": ["contact_keys"]},
]
"""Candidate pairs share (sound-alike last name and first initial) or (first name group and last
initial) or (first name group and city) or (sound-alike last name and city) or a contact key.
Everything else is never compared: at 100,000 customers that is the difference between 10^9
and a few 10^5 comparisons. A pair that differs in both first and last initial is not found."""


def prior_match_probability(n_customers: int, customer_share: float) -> float:
    """``pi / ((1 - pi) n + pi)``: the probability that a random (customer, author) pair is a match."""
    if not 0 < customer_share < 1:
        raise LinkConfigError(
            f"expected_customer_share must lie strictly between 0 and 1, got {customer_share}; "
            "set RESONANZ_LINK__EXPECTED_CUSTOMER_SHARE"
        )
    n = max(n_customers, 1)
    return customer_share / ((1 - customer_share) * n + customer_share)


def splink_settings(n_customers: int, customer_share: float) -> dict[str, Any]:
    return {
        "link_type": "link_only",
        "probability_two_random_records_match": prior_match_probability(n_customers, customer_share),
        "comparisons": COMPARISONS,
        "blocking_rules_to_generate_predictions": BLOCKING_RULES,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
    }
