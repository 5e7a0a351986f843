"""Reading a person's name out of a display name or a handle.

Display names: "Max Müller" -> (max, mueller); "Max M." -> (max, m) with "m" an initial;
"Dr. Hans-Peter Müller | Fotograf" -> (hans, mueller); "Kaffee & Kuchen GmbH" -> no name.

Handles: separators, camelCase and digits split words ("max_mueller87", "MaxMueller", "m.mueller",
"mueller.max"); a handle without separators is split with a lexicon of known first names (the
CRM's own first names plus the nickname table) and known last names (the CRM's): "maxmueller" ->
max + mueller, "annaschmidt87" -> anna + schmidt, "mmueller" -> m + mueller. A split is only
accepted when the remainder is a known last name, so "maximilian" is not read as "max imilian".

When both are present, the display name wins and the handle fills gaps ("Max M." with the handle
"max_mueller87" gives max + mueller); a handle that spells a different full name is kept as an
alternative reading (typos in display names are common, handles are typed once and reused).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from linker.identity.gazetteer import CITIES, city_in_handle, gazetteer
from linker.identity.nicknames import known_first_names
from linker.identity.normalise import fold, name_tokens

_TITLES = frozenset(
    {"dr", "prof", "herr", "frau", "dipl", "ing", "mag", "med", "phil", "rer", "nat", "jun", "sen", "jr", "sr",
     "mba", "msc", "bsc", "ma", "ba", "von", "van", "der", "den", "de", "zu", "vom", "la", "le", "mr", "mrs", "ms"}
)  # fmt: skip
_NOT_A_PERSON = frozenset(
    {"gmbh", "ag", "kg", "ug", "ev", "shop", "store", "official", "offiziell", "team", "news", "verlag", "magazin",
     "redaktion", "support", "service", "kanal", "channel", "podcast", "radio", "tv", "media", "blog", "bot",
     "club", "verein", "stadt", "fans", "community", "group", "gruppe"}
)  # fmt: skip
_HANDLE_NOISE = frozenset(
    {"official", "real", "the", "der", "die", "das", "xx", "xxx", "offiziell", "de", "vlog", "tv", "blog", "photo",
     "foto", "fotos", "music", "art", "design", "mr", "mrs", "hh", "ber", "muc", "koeln", "berlin", "yt", "me",
     "its", "ich", "bin", "insta", "online"}
)  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-zäöüß])(?=[A-ZÄÖÜ])")
_INITIAL = re.compile(r"^[^\W\d_]\.?$")
_TLD = re.compile(r"\.(de|at|ch|com|net|org|eu|io|me|social|app|dev|info|online|page)$", re.I)
MIN_FIRST = 3
MIN_LAST = 3


@dataclass(frozen=True, slots=True)
class NameLexicon:
    """Folded first and last names that are known to exist (used to split handles)."""

    first_names: frozenset[str] = frozenset()
    last_names: frozenset[str] = frozenset()
    compound_firsts: Mapping[str, str] = field(default_factory=dict)
    """Compound first names written together -> their first part: "franzjosef" -> "franz"."""
    cities: frozenset[str] = field(default_factory=lambda: CITIES)
    """Known places (city keys), to find "..._koeln" in handles and "Aus Köln." in bios."""

    @classmethod
    def build(
        cls, first_names: Iterable[str | None], last_names: Iterable[str | None], cities: Iterable[str | None] = ()
    ) -> NameLexicon:
        firsts: set[str] = set()
        compounds: dict[str, str] = {}
        for name in first_names:
            tokens = name_tokens(name)
            if tokens:
                firsts.add(tokens[0])
            if len(tokens) > 1:
                compounds["".join(tokens)] = tokens[0]
        lasts = {t for n in last_names for t in name_tokens(n)[-1:]}
        return cls(frozenset(firsts | known_first_names()), frozenset(lasts), compounds, gazetteer(cities))

    def first_part(self, word: str) -> str | None:
        """``word`` as a first name: itself if known, the first part of a known compound, else None."""
        if word in self.first_names:
            return word
        return self.compound_firsts.get(word)


@dataclass(frozen=True, slots=True)
class ParsedName:
    first: str | None = None
    last: str | None = None
    source: str = ""
    """Where the name came from: "display", "handle", "display+handle" or "" (no name)."""
    alt_first: str | None = None
    alt_last: str | None = None
    handle_city: str | None = None
    """A city written into the handle ("sabine_krueger_koeln")."""
    """A second full reading (from the handle) when it differs from the display name, e.g. the
    display name has a typo ("Schiedecke") but the handle spells it right ("suzanneschmiedecke")."""

    @property
    def empty(self) -> bool:
        return not (self.first or self.last)


def _initial(token: str) -> bool:
    return len(token) == 1


def split_compact(word: str, lexicon: NameLexicon) -> tuple[str, str] | None:
    """Split a separator-less folded word into (first, last) with the lexicon, or None.

    Tried in order: first name + known last name ("maxmueller", also "franzjosefmueller"), known
    last name + first name ("muellermax"), initial + known last name ("mmueller"), first name +
    initial ("maxm", a common handle pattern).
    """
    if lexicon.first_part(word) or len(word) < MIN_FIRST + 1:
        return None
    best: tuple[int, str, str] | None = None
    for i in range(MIN_FIRST, len(word) - MIN_LAST + 1):
        head, tail = word[:i], word[i:]
        head_first, tail_first = lexicon.first_part(head), lexicon.first_part(tail)
        if head_first and tail in lexicon.last_names:
            candidate = (len(head), head_first, tail)
        elif tail_first and head in lexicon.last_names:
            candidate = (len(tail), tail_first, head)
        else:
            continue
        if best is None or candidate[0] > best[0]:
            best = candidate
    if best:
        return best[1], best[2]
    if len(word) > MIN_LAST and word[1:] in lexicon.last_names:
        return word[0], word[1:]
    head_first = lexicon.first_part(word[:-1])
    if head_first and len(word) > MIN_FIRST:
        return head_first, word[-1]
    return None


def _from_tokens(tokens: list[str], lexicon: NameLexicon, source: str) -> ParsedName:
    if len(tokens) >= 2:
        first, last = tokens[0], tokens[-1]
        if first not in lexicon.first_names and last in lexicon.first_names and not _initial(last):
            first, last = last, first
        elif first in lexicon.first_names and all(
            t in lexicon.first_names and t not in lexicon.last_names for t in tokens[1:]
        ):
            return ParsedName(first, None, source)  # "Franz Josef", "Anna Lena": a compound first name
        # "Hanswilli Weiss", "Karlheinz M.": a compound first name written together, compared as
        # its first part like the CRM's "Hans-Willi" / "Karl Heinz" (see customer_features)
        return ParsedName(lexicon.first_part(first) or first, last, source)
    if len(tokens) == 1:
        word = tokens[0]
        if _initial(word):
            return ParsedName(word, None, source)
        if lexicon.first_part(word):
            return ParsedName(lexicon.first_part(word), None, source)
        split = split_compact(word, lexicon)
        if split:
            return ParsedName(split[0], split[1], source)
    return ParsedName()


def parse_display_name(text: str | None, lexicon: NameLexicon) -> ParsedName:
    """A person's (first, last) from a display name; empty for organisations and pseudonyms."""
    if not text or any(t in _NOT_A_PERSON for t in fold(text).split()):
        return ParsedName()
    head = re.split(r"\s[|•·–—:/]\s?|\s-\s|[|•·]", text)[0]
    head = re.sub(r"[(\[].*?[)\]]", " ", head)
    head = _CAMEL.sub(" ", head)
    raw_tokens = head.split()
    tokens: list[str] = []
    for raw in raw_tokens:
        folded = fold(raw)
        if not folded:
            continue
        if _INITIAL.match(raw.strip(",;")):
            tokens.append(folded[0])
            continue
        for part in folded.split():
            if part.isalpha() and part not in _TITLES:
                tokens.append(part)
    return _from_tokens(tokens, lexicon, "display")


def handle_user(handle: str | None) -> str:
    """The user part of a handle: "@max@mastodon.social" -> "max", "max.bsky.social" -> "max", "u/max" -> "max"."""
    if not handle:
        return ""
    text = handle.strip()
    text = re.sub(r"^(https?://)?(www\.)?[^/]+/(@|u/|user/|profile/|c/)?", "", text) if "/" in text else text
    text = text.lstrip("@")
    if text.lower().startswith("u/"):
        text = text[2:]
    text = text.split("@")[0]
    if text.lower().endswith(".bsky.social"):
        text = text[: -len(".bsky.social")]
    elif _TLD.search(text) and not text.lower().startswith("did:"):
        text = text.rsplit(".", 1)[0]  # custom bluesky domain "max-mueller.de" -> "max-mueller"
    return text.strip("/")


def parse_handle(handle: str | None, lexicon: NameLexicon) -> ParsedName:
    """A person's (first, last) from a handle, if it spells one."""
    user = handle_user(handle)
    if not user or user.lower().startswith("did:"):
        return ParsedName()
    spaced = _CAMEL.sub(" ", user)
    words = [t for t in re.split(r"[^a-z]+", fold(spaced).replace(" ", "_")) if t]
    city = city_in_handle(words, lexicon.cities)
    if city:
        words = words[:-1]
    tokens = [t for t in words if t not in _HANDLE_NOISE]
    parsed = _from_tokens(tokens, lexicon, "handle")
    return ParsedName(parsed.first, parsed.last, parsed.source, handle_city=city) if city else parsed


def identity_name(display_name: str | None, handle: str | None, lexicon: NameLexicon) -> ParsedName:
    """Merge the display-name and handle readings: display wins, the handle fills initials and gaps."""
    shown = parse_display_name(display_name, lexicon)
    from_handle = parse_handle(handle, lexicon)
    if from_handle.empty:
        return ParsedName(shown.first, shown.last, shown.source, handle_city=from_handle.handle_city)
    if shown.empty:
        return from_handle
    first, last = shown.first, shown.last
    used_handle = False
    hf, hl = from_handle.first, from_handle.last
    if hf and (not first or (_initial(first) and not _initial(hf) and hf[0] == first[0])):
        first, used_handle = hf, True
    if hl and (not last or (_initial(last) and not _initial(hl) and hl[0] == last[0])):
        last, used_handle = hl, True
    alt_first = alt_last = None
    if hf and hl and not _initial(hf) and not _initial(hl) and (hf, hl) != (first, last):
        alt_first, alt_last = hf, hl
    source = "display+handle" if used_handle else "display"
    return ParsedName(first, last, source, alt_first, alt_last, from_handle.handle_city)
