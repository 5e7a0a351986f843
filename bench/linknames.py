"""Realistic German name frequencies for the linking benchmark (:mod:`linkgen`); see the comment below."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random

from faker import Faker

from linker.identity.normalise import fold
from linker.identity.phonetics import koelner_phonetik

# --- family names: a realistic German frequency distribution ---------------------------------
#
# Faker de_DE has 406 family names, drawn uniformly: at 100,000 customers every name is held by
# ~250 of them and a random full name has a namesake in the CRM almost surely, which is far from
# Germany. There, roughly 850,000 family names are in use; Müller holds ~0.95 %, rank 10 ~0.27 %,
# rank 100 ~0.06 % (telephone-directory counts, as in :mod:`linker.identity.namefreq`), and the top 400
# cover only about a quarter of the population. The model below reproduces those anchors:
#
# * head, ranks 1-406: Faker's names (those listed in :mod:`linker.identity.namefreq` first, by share, the
#   others in a fixed pseudo-random order), share ``0.0095 * rank ** -0.6`` (fits Müller,
#   rank 10 and rank 100; the head sums to ~26 %);
# * tail, ranks 407 ... TAIL_RANKS: share proportional to ``1 / rank`` (Zipf), continuing the
#   head's last share; with ~470,000 ranks the tail holds the other ~74 %. Tail names are
#   synthesised from real surname morphemes (Berg+mann, Hof+stetter, Wind+isch, Linden+berg+er,
#   Kowal+ski): ~330,000 distinct strings in a fixed order, so a rank is always the same name.
#   Ranks beyond that wrap around and share a name, which makes namesakes somewhat *more* common
#   than the Zipf tail says (the conservative direction for the benchmark).
#
# This is an assumption fitted to published anchors, not census data. First names stay Faker's
# (~1,000 per gender), but those of :mod:`linker.identity.namefreq` get their real share (1-1.5 % within
# the gender), which makes common first names more common than Faker's uniform draw.

HEAD_EXPONENT = 0.6
TAIL_RANKS = 470_000
SURNAME_PARTS_A = (
    "Berg", "Hof", "Wind", "Stein", "Linden", "Eich", "Brunn", "Kirch", "Holz", "Wald", "Mühl", "Brück", "Höf",
    "Schön", "Grün", "Rosen", "Tann", "Buch", "Birk", "Erl", "Hasel", "Lind", "Fels", "Sand", "Kalk", "Hag",
    "Horn", "Rott", "Stock", "Stroh", "Fried", "Gott", "Hart", "Kling", "Lang", "Ober", "Nieder", "Unter", "Alt",
    "Neu", "Dorn", "Bühl", "Feld", "Wies", "Moos", "Ried", "Bach", "Brand", "Asch", "Loh", "Heck", "Kamp", "Pfaff",
    "Vogel", "Fink", "Hahn", "Kräh", "Bär", "Wolf", "Fuchs", "Hirsch", "Ochs", "Lamm", "Gans", "Dachs", "Marder",
    "Kessel", "Hammer", "Sichel", "Pflug", "Karren", "Schleif", "Drechs", "Gerb", "Färb", "Wagn", "Schröt", "Kohl",
    "Rüb", "Hopf", "Gerst", "Korn", "Hab", "Flachs", "Reb", "Wein", "Most", "Eng", "Wend", "Went", "Kunz",
    "Heinz", "Diet", "Ger", "Wil", "Ernst", "Ebers", "Eggers", "Reich", "Ruh", "Still", "Frei", "Gut", "Edel",
    "Kübl", "Kött", "Köpp", "Lütt", "Möll", "Röd", "Süß", "Weiß", "Groß", "Klöck", "Bött", "Dück", "Jür",
)  # fmt: skip
SURNAME_PARTS_B = (
    "", "en", "er", "s", "el", "ing", "berg", "bach", "feld", "stein", "hof", "au", "brunn", "horn", "wald", "hau",
    "rie", "ke", "ler", "isch", "holz", "kirch", "hag", "reut", "eck", "dorf", "born", "heim", "tal", "wies", "mühl",
    "brück", "kamp", "loh", "ried", "moos", "bühl", "grund", "stadt", "hausen", "furt", "schwand", "rain", "rode",
    "hütt", "weil", "see", "land", "acker", "mark", "wang", "lach", "stett", "au", "egg", "bruch", "wehr", "hardt",
)  # fmt: skip
SURNAME_ENDINGS = (
    "mann", "mann", "er", "er", "inger", "stetter", "meier", "maier", "huber", "bauer", "ich", "isch", "ke",
    "ka", "hagen", "bach", "berg", "feld", "kamp", "brock", "haus", "hausen", "reuther", "müller", "schmidt",
    "wald", "rath", "ert", "ler", "ner", "lein", "le", "el", "sen", "ing", "inger", "hofer", "mayr", "egger",
    "wieser", "böck", "städter", "länder", "ke", "schläger", "macher", "gruber", "moser", "berger", "hammer",
)  # fmt: skip
SLAVIC_STEMS = (
    "Kowal", "Nowa", "Wiśn", "Lewand", "Kamin", "Zielin", "Szyman", "Wozni", "Dąbrow", "Kozl", "Jankow",
    "Mazur", "Krawc", "Piotr", "Grabow", "Pawl", "Michal", "Krol", "Wieczor", "Jablon", "Dudek", "Baran",
)  # fmt: skip
SLAVIC_ENDINGS = ("ski", "ska", "czyk", "ak", "ek", "ow", "itz", "ke", "owski", "iak")


def _compose(a: str, b: str, end: str) -> str:
    name = a + b + end
    return name[0] + name[1:].lower()


def _tail_names() -> list[str]:
    """All synthetic tail names, distinct, in a fixed pseudo-random order (rank -> name)."""
    names = {_compose(a, b, e) for a in SURNAME_PARTS_A for b in SURNAME_PARTS_B for e in SURNAME_ENDINGS}
    names |= {s + e for s in SLAVIC_STEMS for e in SLAVIC_ENDINGS}
    return sorted(names, key=_stable_hash)


_TAIL: list[str] = []


def _tail_surname(rank: int) -> str:
    """The synthetic family name of tail ``rank``; ranks beyond the ~330,000 distinct names wrap around
    (their shares merge: namesakes become a little more common than the Zipf tail says)."""
    if not _TAIL:
        _TAIL.extend(_tail_names())
    return _TAIL[rank % len(_TAIL)]


class NameSampler:
    """Family and first names with German frequencies (``realistic``) or Faker's uniform draw."""

    def __init__(self, fake: Faker, rng: random.Random, realistic: bool = True) -> None:
        from faker.providers.person.de_DE import Provider

        from linker.identity.namefreq import FIRST, LAST

        self.fake, self.rng, self.realistic = fake, rng, realistic
        head = sorted(Provider.last_names, key=lambda n: (-LAST.get(fold(n), 0.0), _stable_hash(n)))
        self.head = list(head)
        self.head_weights = [0.0095 * (i + 1) ** -HEAD_EXPONENT for i in range(len(head))]
        self.head_share = sum(self.head_weights)
        last_share = self.head_weights[-1]
        self.tail_share = last_share * len(head) * math.log(TAIL_RANKS / len(head))
        self.head_cum = list(itertools.accumulate(self.head_weights))
        self.first: dict[bool, tuple[list[str], list[float]]] = {}
        for female, names in ((True, Provider.first_names_female), (False, Provider.first_names_male)):
            known = {n: 2 * FIRST[fold(n)] for n in names if fold(n) in FIRST}
            rest = (1.0 - sum(known.values())) / max(1, len(names) - len(known))
            listed = list(dict.fromkeys(names))
            self.first[female] = (listed, list(itertools.accumulate(known.get(n, rest) for n in listed)))

    def last(self) -> str:
        if not self.realistic:
            return str(self.fake.last_name())
        u = self.rng.random() * (self.head_share + self.tail_share)
        if u < self.head_share:
            return self.head[bisect.bisect_left(self.head_cum, u)]
        n = len(self.head)
        rank = int(n * math.exp(self.rng.random() * math.log(TAIL_RANKS / n))) + 1
        return _tail_surname(rank)

    def first_name(self, female: bool) -> str:
        if not self.realistic:
            return str(self.fake.first_name_female() if female else self.fake.first_name_male())
        names, cum = self.first[female]
        return names[min(bisect.bisect_left(cum, self.rng.random() * cum[-1]), len(names) - 1)]

    def sound_alike(self, last: str) -> str:
        """Another family name that sounds the same (Meier/Mayer, Hofstetter/Hofstätter), else any other."""
        from faker.providers.person.de_DE import Provider

        code = koelner_phonetik(last)
        alikes = [n for n in Provider.last_names if n != last and koelner_phonetik(n) == code]
        if not alikes and self.realistic:  # tail names: a spelling variant with the same Kölner code
            for a, b in SPELLINGS:
                if a in last:
                    variant = last.replace(a, b, 1)
                    if variant != last and koelner_phonetik(variant) == code:
                        alikes.append(variant)
        return self.rng.choice(alikes) if alikes else self.last()


SPELLINGS = (("mann", "man"), ("ei", "ai"), ("ai", "ei"), ("ey", "ei"), ("dt", "t"), ("ck", "k"), ("tt", "t"),
             ("ph", "f"), ("ä", "e"), ("z", "tz"), ("th", "t"), ("ie", "i"), ("ß", "ss"), ("er", "a"))  # fmt: skip


def _stable_hash(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()
