"""How common are German names? Approximate population shares of the most frequent ones.

Used as the prior frequency of a name in :func:`linker.identity.features.term_frequencies`: a small CRM
cannot tell that "Müller" is common, so without this table "Max Müller" would count as strong
evidence as "Kasimir Przybilla". Shares are rounded approximations from telephone-directory counts
(family names: Müller ~0.95 % of entries, Schmidt ~0.7 %, ...) and from birth-year name statistics
for the adult population (first names; each of the most common holds ~1-1.5 % within its gender,
so ~0.5-0.7 % of everybody). Names not listed get :data:`DEFAULT_LAST` / :data:`DEFAULT_FIRST`.
Keys are folded (ü -> ue, ß -> ss).

The same shares answer a second question (:func:`expected_namesakes`): how many people in the
population bear a name? A link that rests on the name alone must not be automatic when others
plausibly share it (:func:`plausibly_shared`); see :mod:`linker.identity.decide`.
"""

from __future__ import annotations

DEFAULT_LAST = 0.0002
DEFAULT_FIRST = 0.001

POPULATION = 83_000_000
"""People in Germany. Austria and Switzerland would only add namesakes."""
INITIAL_SHARE = 0.05
"""Share of people whose name starts with a given letter: about 20 letters begin nearly all German
first and family names, the common ones (M, S, K, B) hold 8-10 % each, the rare ones far less."""
SHARED_AT = 0.05
"""A name is plausibly shared when at least this many other bearers are expected: then the chance
that somebody else has it, ``1 - exp(-0.05)``, is about 5 %, more than the 2 % of wrong automatic
links the linker allows itself."""

LAST: dict[str, float] = {
    "mueller": 0.0095, "schmidt": 0.0070, "schneider": 0.0043, "fischer": 0.0036, "weber": 0.0032,
    "meyer": 0.0031, "wagner": 0.0029, "becker": 0.0028, "schulz": 0.0028, "hoffmann": 0.0027,
    "schaefer": 0.0023, "koch": 0.0022, "bauer": 0.0021, "richter": 0.0021, "klein": 0.0020,
    "wolf": 0.0020, "schroeder": 0.0019, "neumann": 0.0019, "schwarz": 0.0018, "zimmermann": 0.0018,
    "braun": 0.0017, "krueger": 0.0017, "hofmann": 0.0017, "hartmann": 0.0016, "lange": 0.0016,
    "schmitt": 0.0016, "werner": 0.0015, "schmitz": 0.0015, "krause": 0.0015, "meier": 0.0015,
    "lehmann": 0.0014, "schmid": 0.0014, "schulze": 0.0014, "maier": 0.0013, "koehler": 0.0013,
    "herrmann": 0.0013, "koenig": 0.0012, "walter": 0.0012, "mayer": 0.0012, "huber": 0.0012,
    "kaiser": 0.0011, "fuchs": 0.0011, "peters": 0.0011, "lang": 0.0011, "scholz": 0.0011,
    "moeller": 0.0010, "weiss": 0.0010, "jung": 0.0010, "hahn": 0.0010, "schubert": 0.0010,
    "vogel": 0.0009, "friedrich": 0.0009, "keller": 0.0009, "guenther": 0.0009, "frank": 0.0009,
    "berger": 0.0009, "winkler": 0.0009, "roth": 0.0009, "beck": 0.0009, "lorenz": 0.0008,
    "baumann": 0.0008, "franke": 0.0008, "albrecht": 0.0008, "schuster": 0.0008, "simon": 0.0008,
    "ludwig": 0.0008, "boehm": 0.0008, "winter": 0.0008, "kraus": 0.0008, "martin": 0.0008,
    "schumacher": 0.0008, "kraemer": 0.0008, "vogt": 0.0007, "stein": 0.0007, "jaeger": 0.0007,
    "otto": 0.0007, "sommer": 0.0007, "gross": 0.0007, "seidel": 0.0007, "heinrich": 0.0007,
    "brandt": 0.0007, "haas": 0.0007, "schreiber": 0.0007, "graf": 0.0007, "schulte": 0.0007,
    "dietrich": 0.0007, "ziegler": 0.0007, "kuhn": 0.0007, "kuehn": 0.0007, "pohl": 0.0007,
    "engel": 0.0007, "horn": 0.0006, "busch": 0.0006, "bergmann": 0.0006, "thomas": 0.0006,
    "voigt": 0.0006, "sauer": 0.0006, "arnold": 0.0006, "wolff": 0.0006, "pfeiffer": 0.0006,
}  # fmt: skip

FIRST: dict[str, float] = {
    "peter": 0.0070, "michael": 0.0070, "thomas": 0.0068, "andreas": 0.0065, "wolfgang": 0.0060,
    "klaus": 0.0055, "juergen": 0.0055, "guenter": 0.0050, "stefan": 0.0050, "christian": 0.0048,
    "uwe": 0.0045, "werner": 0.0045, "horst": 0.0042, "frank": 0.0042, "dieter": 0.0040,
    "manfred": 0.0040, "gerhard": 0.0038, "hans": 0.0038, "bernd": 0.0036, "martin": 0.0036,
    "helmut": 0.0035, "matthias": 0.0035, "markus": 0.0034, "alexander": 0.0032, "daniel": 0.0032,
    "tobias": 0.0028, "jan": 0.0028, "sebastian": 0.0028, "florian": 0.0025, "max": 0.0025,
    "ursula": 0.0060, "monika": 0.0055, "petra": 0.0052, "elisabeth": 0.0050, "sabine": 0.0050,
    "renate": 0.0048, "helga": 0.0046, "karin": 0.0046, "brigitte": 0.0045, "ingrid": 0.0044,
    "erika": 0.0042, "andrea": 0.0042, "gisela": 0.0040, "claudia": 0.0040, "susanne": 0.0040,
    "gabriele": 0.0038, "christa": 0.0036, "christine": 0.0036, "marianne": 0.0034, "birgit": 0.0034,
    "anna": 0.0045, "maria": 0.0045, "julia": 0.0035, "katrin": 0.0030, "stefanie": 0.0030,
    "nicole": 0.0030, "sandra": 0.0030, "melanie": 0.0028, "lisa": 0.0028, "laura": 0.0025,
}  # fmt: skip


def last_name_share(folded: str) -> float:
    return LAST.get(folded, DEFAULT_LAST)


def first_name_share(folded: str) -> float:
    return FIRST.get(folded, DEFAULT_FIRST)


def unlisted_last(folded: str) -> bool:
    """Is the family name outside the table (its rarity known only from the CRM)?"""
    return folded not in LAST


def unlisted_first(folded: str) -> bool:
    return folded not in FIRST


def level_share(folded: str | None, level: str, share: float) -> float:
    """The share of people whose name agrees with ``folded`` the way ``level`` says.

    ``share`` is the share of the name itself (:func:`first_name_share` / :func:`last_name_share`).
    Same name, nickname, typo or sound-alike: that share. An initial: :data:`INITIAL_SHARE`.
    Different or missing: 1.0, that part of the name rules nobody out.
    """
    if not folded or level in ("different", "null"):
        return 1.0
    if level == "initial" or len(folded) == 1:
        return INITIAL_SHARE
    return share


def expected_namesakes(first_share: float, last_share: float, population: int = POPULATION) -> float:
    """How many people bear the name: ``population x first share x family share`` (names drawn independently).

    For the customer's own name that counts the *other* bearers too: knowing that the customer is
    one of them does not make the others less likely. "Thomas Brandt": 83e6 x 0.0068 x 0.0007 = 395.
    A name outside the tables gets the default shares, 83e6 x 0.001 x 0.0002 = 16.6: the tables
    cannot show that any full name is unique, because the rare names they leave out are the long
    tail of some 850,000 family names and thousands of first names, too many to list. So with
    these tables every name is plausibly shared and a name alone never links automatically; a
    finer table (or a caller's own shares) could single out names that are unique.
    """
    return population * first_share * last_share


def plausibly_shared(expected: float) -> bool:
    """Do other people plausibly bear the name (at least :data:`SHARED_AT` expected bearers)?"""
    return expected >= SHARED_AT
