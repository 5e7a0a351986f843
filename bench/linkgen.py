"""A synthetic linking benchmark with known truth: German CRM customers and social identities.

Customers come from Faker ``de_DE`` (names, cities weighted towards the big cities plus Faker's
small towns, e-mail addresses built the way people build them: ``max.mueller@web.de``,
``maxmueller87@gmx.de``, ``m.mueller@t-online.de``, random ones, own domains). 90 % gave consent
with a legal basis, 5 % withdrew, 5 % never answered; identities of the last two groups must not
be linked.

Identities are written the way people present themselves: handles like ``max_mueller87``,
``maxmueller``, ``m.mueller``, ``MaxMueller``, or pseudonyms (``kaffeejunkie42``); display names
"Max Müller", "Max M.", "max mueller", nicknames ("Hans Müller" for Johannes), typos ("Mülelr"),
first name only, or nothing; locations as "Köln", "Koeln, Germany", "Cologne", another city, or
nothing; 40 % of those without a location name their place in the bio instead ("Aus Köln.",
"Lebt und arbeitet in Essen.") and a few put it into the handle (``sabine_krueger_koeln``), as
the authors of the bundled demo data do; bios sometimes contain an e-mail, a phone number or a
personal website.

Most authors are *not* customers, and many of them look like customers: the same last name with
another first name, sound-alike last names (Meier/Mayer), "Max M." who is someone else, and true
namesakes (same first and last name, other or no city). ``generate`` is deterministic per seed.
"""

from __future__ import annotations

import random
import string
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faker import Faker

from linker.identity.nicknames import GROUPS
from linker.identity.normalise import fold, fold_compact
from linker.identity.records import AUTO, PENDING, CustomerRecord, IdentityRecord, LinkDecision

BIG_CITIES = {
    "Berlin": 3.7, "Hamburg": 1.9, "München": 1.5, "Köln": 1.1, "Frankfurt am Main": 0.76, "Stuttgart": 0.63,
    "Düsseldorf": 0.62, "Leipzig": 0.6, "Dortmund": 0.59, "Essen": 0.58, "Bremen": 0.57, "Dresden": 0.56,
    "Hannover": 0.54, "Nürnberg": 0.52, "Duisburg": 0.5, "Bochum": 0.36, "Wuppertal": 0.35, "Bielefeld": 0.33,
    "Bonn": 0.33, "Münster": 0.32, "Mannheim": 0.31, "Karlsruhe": 0.31, "Augsburg": 0.3, "Wiesbaden": 0.28,
    "Wien": 1.9, "Zürich": 0.42, "Graz": 0.3,
}  # fmt: skip
EXONYMS = {"Köln": "Cologne", "München": "Munich", "Nürnberg": "Nuremberg", "Wien": "Vienna", "Zürich": "Zurich"}
PROVIDERS = ["web.de", "gmx.de", "gmail.com", "t-online.de", "outlook.de", "yahoo.de", "posteo.de", "gmx.net"]
INSTANCES = ["mastodon.social", "chaos.social", "norden.social", "muenchen.social", "troet.cafe", "det.social"]
PSEUDONYMS = [
    "kaffeejunkie", "bergfan", "radlerin", "nordlicht", "stadtkind", "hobbykoch", "gamerbub", "leseratte",
    "sonnenschein", "fussballfan", "techtante", "waldlaeufer", "brotbaeckerin", "vanlife", "katzenmama",
]  # fmt: skip
CAMEL_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
BIO_WORDS = ["Kaffee", "Radfahren", "Fotografie", "Familie", "Technik", "Bücher", "Wandern", "Musik", "Kochen"]


# Family and first names with realistic frequencies: see bench/linknames.py.
_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:  # imported by file path from the tests, too
    sys.path.insert(0, _HERE)
from linknames import NameSampler  # noqa: E402


@dataclass
class Person:
    first: str
    last: str
    city: str
    year: int
    emails: list[str] = field(default_factory=list)
    phone: str | None = None
    domain: str | None = None


@dataclass
class LinkBenchmark:
    customers: list[CustomerRecord]
    identities: list[IdentityRecord]
    owner: dict[int, int]
    """identity -> the customer who owns it (consenting or not)."""
    linkable: set[int]
    """customers with consent and a legal basis."""
    anonymous: set[int] = field(default_factory=set)
    """customer-owned identities that show nothing identifying: neither the owner's first nor family
    name in handle or display name, no contact in the bio, no handle the CRM knows (a pseudonym
    like ``kaffeejunkie42`` with no or a pseudonymous display name). No linker can find them; they
    stay in the plain recall, and :func:`evaluate` also reports the recall among the others."""
    namesakes: dict[int, int] = field(default_factory=dict)
    """non-customer identity -> the customer whose exact name it carries (both kinds of namesake)."""

    @property
    def truth(self) -> set[tuple[int, int]]:
        """The (identity, customer) pairs a perfect linker would create."""
        return {(i, c) for i, c in self.owner.items() if c in self.linkable}


def _ascii(text: str) -> str:
    return fold(text).replace(" ", "")


def _nicknames() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for group in GROUPS:
        out.setdefault(group[0], []).extend(group[1:])
    return out


NICK = _nicknames()


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.7:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def _person(fake: Faker, rng: random.Random, names: NameSampler) -> Person:
    female = rng.random() < 0.5
    first = names.first_name(female)
    city = rng.choices(list(BIG_CITIES), weights=list(BIG_CITIES.values()))[0] if rng.random() < 0.6 else fake.city()
    return Person(first, names.last(), city, rng.randrange(1950, 2005))


def _emails(p: Person, fake: Faker, rng: random.Random) -> None:
    f, la, yy = _ascii(p.first.split("-")[0]), _ascii(p.last.split("-")[0]), str(p.year)[2:]
    prov = rng.choice(PROVIDERS)
    style = rng.random()
    if style < 0.3:
        local = f"{f}.{la}"
    elif style < 0.45:
        local = f"{f}{la}{yy}"
    elif style < 0.6:
        local = f"{f[0]}.{la}"
    elif style < 0.7:
        local = f"{la}.{f}"
    elif style < 0.9:
        p.emails.append(fake.free_email())
        return
    else:
        p.domain = f"{la}-{rng.choice(['design', 'bau', 'consulting', 'praxis', 'werkstatt'])}.de"
        p.emails.append(f"{f}@{p.domain}")
        return
    p.emails.append(f"{local}@{prov}")
    if rng.random() < 0.2:
        p.emails.append(fake.free_email())


def _handle_user(p: Person, rng: random.Random) -> str:
    f, la, yy = _ascii(p.first.split("-")[0]), _ascii(p.last.split("-")[0]), str(p.year)[2:]
    style = rng.random()
    if style < 0.2:
        return f"{f}_{la}{yy}"
    if style < 0.35:
        return f"{f}{la}"
    if style < 0.45:
        return f"{f}.{la}"
    if style < 0.55:
        return f"{f[0]}{la}"
    if style < 0.63:
        return f"{p.first.split('-')[0]}{p.last.split('-')[0]}".replace("ß", "ss").translate(CAMEL_UMLAUTS)
    if style < 0.70:
        return f"{f}{la[0]}{rng.randrange(1, 99)}"
    if style < 0.82:
        return f"{f}{la}{yy}"
    if style < 0.86:
        return f"{f}_{la}_{_ascii(p.city.split(' ')[0])}"
    return f"{rng.choice(PSEUDONYMS)}{rng.randrange(1, 999)}"


def _display(p: Person, rng: random.Random) -> str | None:
    style = rng.random()
    first = p.first
    if style < 0.40:
        return f"{first} {p.last}"
    if style < 0.52:
        return f"{first} {p.last[0]}."
    if style < 0.60:
        return f"{_ascii(first)} {fold(p.last)}"
    if style < 0.70:
        nicks = NICK.get(fold(first))
        return f"{rng.choice(nicks).capitalize() if nicks else first} {p.last}"
    if style < 0.78:
        return f"{first} {_typo(p.last, rng)}"
    if style < 0.85:
        return first
    if style < 0.92:
        return None
    return rng.choice(PSEUDONYMS).capitalize()


def _location(p: Person, fake: Faker, rng: random.Random) -> str | None:
    style = rng.random()
    if style < 0.25:
        return p.city
    if style < 0.35:
        return f"{p.city}, Germany"
    if style < 0.40:
        return EXONYMS.get(p.city, fold(p.city).title())
    if style < 0.45:
        return fold(p.city).title()
    if style < 0.55:
        return fake.city()
    return None


def _bio(p: Person, rng: random.Random, city: str | None = None) -> str | None:
    parts = [f"{rng.choice(BIO_WORDS)} & {rng.choice(BIO_WORDS)}"] if rng.random() < 0.6 else []
    if city:
        parts.insert(0, rng.choice([f"Aus {city}.", f"{city} ·", f"Lebt und arbeitet in {city}.", f"{city}."]))
    r = rng.random()
    if r < 0.04 and p.emails:
        parts.append(f"Kontakt: {rng.choice(p.emails)}")
    elif r < 0.07 and p.phone:
        parts.append(f"Tel. {p.phone}")
    elif r < 0.10 and p.domain:
        parts.append(f"Website: {p.domain}")
    return " | ".join(parts) or None


def _identity(
    iid: int,
    p: Person,
    fake: Faker,
    rng: random.Random,
    taken: set[str],
    *,
    initial_only: bool = False,
    placeless: bool = False,
) -> IdentityRecord:
    """One account of person ``p``; user names are unique per platform (``taken``), as on the real ones.

    ``initial_only``: the family name shows only as its initial ("Romuald J.", ``romualdj42``);
    ``placeless``: no place anywhere (location field, bio, handle). Both draw nothing extra from
    ``rng`` when off, so the default identities stay the same per seed.
    """
    user = _handle_user(p, rng)
    if initial_only:
        user = f"{_ascii(p.first.split('-')[0])}{_ascii(p.last)[0]}{rng.randrange(1, 99)}"
    elif placeless and fold(p.city.split(" ")[0]) in fold(user):
        user = f"{_ascii(p.first.split('-')[0])}{_ascii(p.last.split('-')[0])}"
    platform = rng.choices(["mastodon", "bluesky", "reddit", "youtube"], weights=[35, 30, 15, 20])[0]
    while f"{platform}:{user.lower()}" in taken:
        user = f"{user}{rng.randrange(10)}"
    taken.add(f"{platform}:{user.lower()}")
    display, location = _display(p, rng), _location(p, fake, rng)
    if initial_only and display is not None:
        display = f"{p.first} {p.last[0]}."
    if placeless:
        location = None
    bio_city = None
    if location is None and not placeless and rng.random() < 0.4:  # the place is in the bio instead ("Aus Köln.")
        bio_city = p.city if rng.random() < 0.85 else fake.city()
    bio = _bio(p, rng, bio_city)
    if platform == "mastodon":
        inst = rng.choice(INSTANCES)
        handle = f"{user}@{inst}" if rng.random() < 0.5 else f"@{user}@{inst}"
        return IdentityRecord(iid, platform, f"https://{inst}/users/{user}", handle, display,
                              f"https://{inst}/@{user}", bio, location)  # fmt: skip
    if platform == "bluesky":
        handle = f"{user.lower().replace('_', '-')}.bsky.social"
        did = "did:plc:" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=24))
        return IdentityRecord(iid, platform, did, handle, display, f"https://bsky.app/profile/{handle}", bio, location)
    if platform == "reddit":
        acc = "t2_" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
        return IdentityRecord(iid, platform, acc, user, None, f"https://www.reddit.com/user/{user}/", bio, None)
    channel = "UC" + "".join(rng.choices(string.ascii_letters + string.digits, k=22))
    return IdentityRecord(
        iid, platform, channel, f"@{user}", display, f"https://www.youtube.com/@{user}", bio, location
    )


def _crm_form(ident: IdentityRecord, rng: random.Random) -> tuple[str, str]:
    """How the CRM might have noted this identity: (field, value) in another but equivalent form."""
    if ident.platform == "mastodon":
        user, _, inst = (ident.handle or "").lstrip("@").partition("@")
        return rng.choice([("handles", f"@{user}@{inst}"), ("profile_urls", f"https://{inst}/@{user}/")])
    if ident.platform == "bluesky":
        return rng.choice([("handles", f"@{ident.handle}"), ("profile_urls", f"bsky.app/profile/{ident.handle}")])
    if ident.platform == "reddit":
        return rng.choice([("handles", f"u/{ident.handle}"), ("profile_urls", f"reddit.com/u/{ident.handle}")])
    return ("profile_urls", f"https://youtube.com/{ident.handle}")


def _similar(p: Person, fake: Faker, rng: random.Random, names: NameSampler) -> Person:
    """A non-customer whose name resembles customer ``p``'s but is not the same.

    Family members share the family name and often the city; people who merely share a first
    name or have a sound-alike family name live anywhere.
    """
    q = _person(fake, rng, names)
    kind = rng.random()
    if kind < 0.35:
        q.last = p.last  # same family name, other first name
        if rng.random() < 0.5:
            q.city = p.city  # a relative
    elif kind < 0.65:
        q.first = p.first
        q.last = names.sound_alike(p.last) if rng.random() < 0.5 else names.last()
    else:
        q.first = p.first
        q.last = p.last[0] + names.last()[1:]  # "Max M." is somebody else
    return q


def _namesake(p: Person, fake: Faker, rng: random.Random, names: NameSampler) -> Person:
    """A non-customer with exactly the customer's name; 30 % even live in the same city."""
    q = _person(fake, rng, names)
    q.first, q.last = p.first, p.last
    if rng.random() < 0.3:
        q.city = p.city
    return q


def _namesake_elsewhere(p: Person, fake: Faker, rng: random.Random, names: NameSampler) -> tuple[Person, bool]:
    """A non-customer with exactly customer ``p``'s name who lives in another city or names no place.

    Returns the person and whether their account names no place at all (half of them). The other
    half live elsewhere and show it as anybody does (location field, bio, handle, or not at all).
    """
    q = _person(fake, rng, names)
    q.first, q.last = p.first, p.last
    while fold(q.city) == fold(p.city):
        q.city = _person(fake, rng, names).city
    return q, rng.random() < 0.5


def generate(
    n_customers: int,
    n_identities: int,
    *,
    seed: int = 0,
    customer_share: float = 0.35,
    crm_handle_share: float = 0.08,
    similar_share: float = 0.45,
    namesake_share: float = 0.005,
    elsewhere_namesake_share: float = 0.0,
    names: str = "realistic",
) -> LinkBenchmark:
    """``n_customers`` CRM customers and ``n_identities`` social identities with known owners.

    Of the non-customer identities, ``similar_share`` resemble a customer (same family name, same
    first name with another or sound-alike family name, "Max M." who is not Max Müller) and
    ``namesake_share`` carry exactly a customer's name. Real rates of exact namesakes are about
    ``3e-6 x customers`` (German name frequencies: 0.15 % for 500 customers), so the default 0.5 %
    is harsh; the name distribution adds natural collisions on top as the CRM grows.

    ``elsewhere_namesake_share`` (default 0; the issue-15 stress test uses 0.30) of the non-customers
    copy a customer's name exactly but live in another city or name no place at all (see
    :func:`_namesake_elsewhere`); a quarter of them show the family name only as its initial
    ("Romuald J.", ``romualdj42``). The customer is chosen uniformly, so rare names get namesakes
    as often as "Thomas Müller": a world in which a name alone identifies nobody.

    ``names``: ``"realistic"`` (default) draws family names from a German-like frequency
    distribution with a long tail and weights common first names by their real share (see
    :class:`NameSampler`); ``"faker"`` is the earlier generator (Faker's 406 family names, uniform
    first names), kept to compare with earlier measurements: it reproduces them exactly per seed.
    The injected hard cases (``similar_share``, ``namesake_share``, nicknames, "Max M.", typos,
    ue/oe spellings) have the same rates in both; only the *accidental* namesakes differ.
    """
    rng = random.Random(seed)
    fake = Faker("de_DE")
    fake.seed_instance(seed)
    if names not in ("realistic", "faker"):
        raise ValueError(f"names must be 'realistic' or 'faker', got {names!r}")
    sampler = NameSampler(fake, rng, realistic=names == "realistic")
    people: list[Person] = []
    for _ in range(n_customers):
        p = _person(fake, rng, sampler)
        _emails(p, fake, rng)
        p.phone = fake.phone_number() if rng.random() < 0.5 else None
        people.append(p)
    taken_emails = {e for p in people for e in p.emails}
    consent: list[str] = rng.choices(["granted", "withdrawn", "unknown"], weights=[90, 5, 5], k=n_customers)
    extra: dict[int, dict[str, list[str]]] = {}
    identities: list[IdentityRecord] = []
    taken: set[str] = set()
    owner: dict[int, int] = {}
    anonymous: set[int] = set()
    namesakes: dict[int, int] = {}
    n_owned = round(n_identities * customer_share) if n_customers else 0
    owners = rng.sample(range(n_customers), min(n_customers, n_owned)) if n_customers else []
    while len(owners) < n_owned:
        owners.append(rng.randrange(n_customers))
    for k in range(n_identities):
        iid = k + 1
        if k < n_owned:
            idx = owners[k]
            ident = _identity(iid, people[idx], fake, rng, taken)
            owner[iid] = idx + 1
            if rng.random() < crm_handle_share:
                fld, value = _crm_form(ident, rng)
                extra.setdefault(idx, {"handles": [], "profile_urls": []})[fld].append(value)
            elif not _identifiable(ident, people[idx]):
                anonymous.add(iid)
        else:
            roll = rng.random()
            initial_only = placeless = False
            if n_customers and roll < namesake_share:
                idx = rng.randrange(n_customers)
                q = _namesake(people[idx], fake, rng, sampler)
                namesakes[iid] = idx + 1
            elif n_customers and roll < namesake_share + elsewhere_namesake_share:
                idx = rng.randrange(n_customers)
                q, placeless = _namesake_elsewhere(people[idx], fake, rng, sampler)
                initial_only = rng.random() < 0.25
                namesakes[iid] = idx + 1
            elif n_customers and roll < namesake_share + elsewhere_namesake_share + similar_share:
                q = _similar(people[rng.randrange(n_customers)], fake, rng, sampler)
            else:
                q = _person(fake, rng, sampler)
            if rng.random() < 0.3:
                _emails(q, fake, rng)
                q.emails = [e for e in q.emails if e not in taken_emails]  # an address has one owner
            ident = _identity(iid, q, fake, rng, taken, initial_only=initial_only, placeless=placeless)
        identities.append(ident)
    rng.shuffle(identities)
    customers = [
        CustomerRecord(
            i + 1,
            f"K{i + 1:06d}",
            p.first,
            p.last,
            tuple(p.emails),
            (p.phone,) if p.phone else (),
            tuple(extra.get(i, {}).get("handles", [])),
            tuple(extra.get(i, {}).get("profile_urls", [])),
            p.city,
        )  # fmt: skip
        for i, p in enumerate(people)
    ]
    linkable = {i + 1 for i, c in enumerate(consent) if c == "granted"}
    return LinkBenchmark(customers, identities, owner, linkable, anonymous, namesakes)


def _identifiable(ident: IdentityRecord, p: Person) -> bool:
    """Does the identity show anything of its owner: a name in handle or display name, or a contact?"""
    shown = fold_compact(f"{ident.handle or ''} {ident.display_name or ''}")
    names = (fold_compact(p.first.split("-")[0].split(" ")[0]), fold_compact(p.last)[:4])
    if any(len(n) >= 3 and n in shown for n in names):
        return True
    bio = ident.bio or ""
    return any(x and x in bio for x in (*p.emails, p.phone, p.domain))


def evaluate(decisions: Iterable[LinkDecision], bench: LinkBenchmark) -> dict[str, Any]:
    """Precision and recall of the auto links and of the review band against the known truth."""
    truth = bench.truth
    auto = {(d.identity_id, d.customer_id) for d in decisions if d.status == AUTO}
    review = {(d.identity_id, d.customer_id) for d in decisions if d.status == PENDING}
    found = auto | review
    identifiable = {(i, c) for i, c in truth if i not in bench.anonymous}

    def ratio(a: int, b: int) -> float | None:
        return a / b if b else None

    not_linkable = {(i, c) for i, c in bench.owner.items() if c not in bench.linkable}
    return {
        "true_links": len(truth),
        "auto": len(auto),
        "auto_correct": len(auto & truth),
        "auto_precision": ratio(len(auto & truth), len(auto)),
        "auto_recall": ratio(len(auto & truth), len(truth)),
        "review": len(review),
        "review_correct": len(review & truth),
        "review_precision": ratio(len(review & truth), len(review)),
        "auto_or_review_recall": ratio(len(found & truth), len(truth)),
        "linked_without_consent": len({i for i, _ in found} & {i for i, _ in not_linkable}),
        "true_links_identifiable": len(identifiable),
        "auto_correct_identifiable": len(auto & identifiable),
        "namesakes": len(bench.namesakes),
        "namesakes_auto": len({i for i, _ in auto} & bench.namesakes.keys()),
        "namesakes_review": len({i for i, _ in review} & bench.namesakes.keys()),
    }
