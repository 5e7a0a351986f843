"""Full-text search over posts with the database's own German full-text engine, and saved searches.

Query syntax (the same in the CLI, the web page and saved searches)::

    Lieferung DHL          both words (in any form the German stemmer joins: Lieferung, Lieferungen)
    "kam zu spät"          a phrase: these words in this order
    liefer*                a word beginning (stemmed too, see below): Lieferung, Lieferzeit, liefern
    -Abo                   without this word (next to at least one searched word)
    Mühle OR Mahlwerk      either side (``ODER`` works too); AND binds first: ``a b OR c`` = (a and b) or c

An empty query lists the posts the filters select, newest first. Results are ranked by how often the
searched words occur, divided by the post's length: PostgreSQL's ``ts_rank(..., 1)``; on SQLite
``matches * 10 / (10 + words)``, a match in the title counting double. Then newest first. The two orders
agree on clear cases, not on every tie. Filters: customer class, topic and sentiment of the post's latest
score, platform, and time.

What the stemming does and does not match
-----------------------------------------

PostgreSQL (``to_tsvector('german', ...)``, Snowball's German stemmer) cuts endings: *Lieferung* and
*Lieferungen* -> ``liefer``; *Mühle*/*Mühlen* -> ``muhl`` (umlauts folded); *Straße*/*Strasse* ->
``strass``; *Preise* -> ``preis``. It does not undo prefixes (*geliefert* stays ``geliefert``, so
"Lieferung" does **not** find "geliefert"), irregular forms (*kam* is not *kommen*), verb forms it cuts
differently (*liefern* -> ``lief``, *liefert* -> ``liefert``: neither is found by "Lieferung"), or split
compounds (*Lieferzeit* is its own stem: search ``liefer*`` for it). A word beginning is stemmed like a
word (``liefer*`` -> ``lief``) and matches every stem that begins with that: *Lieferung*, *liefert*,
*liefern*, *Lieferzeit* (and *lief*), not *geliefert*; ``lieferz*`` finds just *Lieferzeit*. The 231
German stop words (und, nicht, kein, über ...) are not indexed; a query of stop words alone is refused.

SQLite's FTS5 has no German stemmer (its ``unicode61`` tokenizer lower-cases and removes diacritics,
so ä = a). Here the query is stemmed in Python with the same Snowball algorithm as PostgreSQL's
(:func:`german_stem`: identical on all 343,000 word forms of spaCy's German lookup table; the tests check
every 7th against PostgreSQL), and each
word becomes every word in the index's vocabulary with that stem (``Lieferung`` -> ``lieferung OR
lieferungen``): the same matches as PostgreSQL, with these differences:

* accents other than umlauts are folded on SQLite only (*Café* finds *Cafe*);
* a stop word inside a phrase must be exactly that word on SQLite; PostgreSQL accepts any word there;
* words that look like a stop word once their umlaut is gone (*würde*/*wurde*, *könnte*/*konnte*,
  *über*/*Uber*) are not found on SQLite;
* URLs, e-mail addresses, paths and version numbers are one token on PostgreSQL and split into words on
  SQLite;
* a prefix that begins more than :data:`MAX_EXPANSION` different words, and a phrase with more than
  :data:`MAX_PHRASE_VARIANTS` spellings, use FTS5's own prefix search on the word beginning (broader:
  ``lieferung*`` then also finds *liefern*, whose stem ``lief`` is shorter than ``liefer``).
"""

from __future__ import annotations

import itertools
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Float, Integer, Select, bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col
from sqlmodel import select as select_model

from resonanz.answers.sql import SEGMENTS, has_topic, latest_score_id, link_subquery, segment_expr, value_subquery
from resonanz.core.errors import InvalidFilterError, NotFoundError
from resonanz.core.i18n import N_, _
from resonanz.core.periods import Period, iso_week, parse_moment, zone
from resonanz.core.tables import IDENTITY, ITEM, POST, SCORE
from store.models import SavedSearch
from store.models.search import FTS_TABLE, SEARCH_VECTOR, TEXT_SEARCH_CONFIG
from store.types import as_utc, without_nul

log = logging.getLogger(__name__)

__all__ = [
    "FilterOptions",
    "ParsedQuery",
    "SearchFilters",
    "SearchHit",
    "SearchPage",
    "Snippet",
    "Term",
    "delete_saved",
    "filter_options",
    "german_stem",
    "get_saved",
    "parse_query",
    "run_saved",
    "save_search",
    "saved_searches",
    "search",
    "validate_filters",
]

MAX_QUERY_LENGTH = 500
MAX_TERMS = 20
MAX_EXPANSION = 1000
"""SQLite: a word or prefix that stands for more indexed words than this is searched as a plain prefix."""
MAX_PHRASE_VARIANTS = 64
MAX_PER_PAGE = 100
SENTIMENTS = ("negative", "neutral", "positive")
SENTIMENT_ALIASES = {"negativ": "negative", "positiv": "positive", "neg": "negative", "pos": "positive"}
CLASS_LABELS = {
    "A": "A-Kunden",
    "B": "B-Kunden",
    "C": "C-Kunden",
    "unvalued": "verknüpft, noch ohne Wert",
    "prospect": "nicht verknüpft",
}
SENTIMENT_LABELS = {"negative": N_("negative"), "neutral": N_("neutral"), "positive": N_("positive")}

# PostgreSQL's tsearch_data/german.stop (Snowball's German stop word list, BSD licence), as the german
# configuration drops them: 231 words.
_STOPWORD_LIST = """
    aber alle allem allen aller alles als also am an ander andere anderem anderen anderer anderes anderm andern
    anderr anders auch auf aus bei bin bis bist da damit dann der den des dem die das daß derselbe derselben
    denselben desselben demselben dieselbe dieselben dasselbe dazu dein deine deinem deinen deiner deines denn derer
    dessen dich dir du dies diese diesem diesen dieser dieses doch dort durch ein eine einem einen einer eines einig
    einige einigem einigen einiger einiges einmal er ihn ihm es etwas euer eure eurem euren eurer eures für gegen
    gewesen hab habe haben hat hatte hatten hier hin hinter ich mich mir ihr ihre ihrem ihren ihrer ihres euch im in
    indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener jenes jetzt kann kein keine keinem keinen keiner
    keines können könnte machen man manche manchem manchen mancher manches mein meine meinem meinen meiner meines mit
    muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine seinem seinen seiner seines selbst sich
    sie ihnen sind so solche solchem solchen solcher solches soll sollte sondern sonst über um und uns unse unsem
    unsen unser unses unter viel vom von vor während war waren warst was weg weil weiter welche welchem welchen
    welcher welches wenn werde werden wie wieder will wir wird wirst wo wollen wollte würde würden zu zum zur zwar
    zwischen"""
STOPWORDS = frozenset(_STOPWORD_LIST.split())

_WORD_RE = re.compile(r"[^\W_]+")
_CHUNK_RE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


def fold(word: str) -> str:
    """Lower-case without diacritics, as FTS5's ``unicode61 remove_diacritics 2`` indexes a word (ß stays)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


FOLDED_STOPWORDS = frozenset(STOPWORDS | {fold(w) for w in STOPWORDS})


# -- the German Snowball stemmer (snowballstem.org/algorithms/german), as PostgreSQL's german_stem ---------------

_VOWELS = frozenset("aeiouyäöü")
_S_ENDING = frozenset("bdfghklmnrt")
_ST_ENDING = frozenset("bdfghklmnt")
_STEP1 = ("ern", "em", "er", "en", "es", "e", "s")
_STEP2 = ("est", "en", "er", "st")
_STEP3 = ("isch", "lich", "heit", "keit", "end", "ung", "ig", "ik")
_POSTLUDE = str.maketrans({"U": "u", "Y": "y", "ä": "a", "ö": "o", "ü": "u"})


def _longest(word: str, suffixes: Sequence[str]) -> str | None:
    found = [s for s in suffixes if word.endswith(s)]
    return max(found, key=len) if found else None


def _region(word: str, start: int) -> int:
    """The position after the first non-vowel that follows a vowel, searching from ``start``."""
    i, n = start, len(word)
    while i < n and word[i] not in _VOWELS:
        i += 1
    while i < n and word[i] in _VOWELS:
        i += 1
    return i + 1 if i < n else n


def german_stem(word: str) -> str:
    """The Snowball German stem of one word (lower-cased, umlauts folded): ``Lieferungen`` -> ``liefer``."""
    chars = list(word.lower().replace("ß", "ss"))
    for i in range(1, len(chars) - 1):  # u and y between vowels count as consonants
        if chars[i] in "uy" and chars[i - 1] in _VOWELS and chars[i + 1] in _VOWELS:
            chars[i] = chars[i].upper()
    w = "".join(chars)
    n = len(w)
    p1 = p2 = n
    if n >= 3:
        p1 = _region(w, 0)
        if p1 < n:
            p2 = _region(w, p1)
            p1 = max(p1, 3)
    suffix = _longest(w, _STEP1)
    if suffix is not None and len(w) - len(suffix) >= p1:
        cut = len(w) - len(suffix)
        if suffix in ("em", "ern", "er"):
            w = w[:cut]
        elif suffix in ("e", "en", "es"):
            w = w[:cut]
            if w.endswith("niss"):
                w = w[:-1]
        elif cut >= 1 and w[cut - 1] in _S_ENDING:
            w = w[:cut]
    suffix = _longest(w, _STEP2)
    if suffix is not None and len(w) - len(suffix) >= p1:
        cut = len(w) - len(suffix)
        if suffix != "st" or (cut >= 4 and w[cut - 1] in _ST_ENDING):  # st: after b d f g h k l m n t, 3 letters before
            w = w[:cut]
    suffix = _longest(w, _STEP3)
    if suffix is not None and len(w) - len(suffix) >= p2:
        w = _step3(w, suffix, len(w) - len(suffix), p1, p2)
    return w.translate(_POSTLUDE)


def _step3(w: str, suffix: str, cut: int, p1: int, p2: int) -> str:
    if suffix in ("end", "ung"):
        w = w[:cut]
        if w.endswith("ig") and len(w) - 2 >= p2 and not w[:-2].endswith("e"):
            w = w[:-2]
    elif suffix in ("ig", "ik", "isch"):
        if not w[:cut].endswith("e"):
            w = w[:cut]
    elif suffix in ("lich", "heit"):
        w = w[:cut]
        if (w.endswith("er") or w.endswith("en")) and len(w) - 2 >= p1:
            w = w[:-2]
    else:  # keit
        w = w[:cut]
        inner = _longest(w, ("lich", "ig"))
        if inner is not None and len(w) - len(inner) >= p2:
            w = w[: -len(inner)]
    return w


# -- the query language ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One searched thing: a word, a word beginning (``liefer*``) or a phrase; ``negated``: ``-word``."""

    words: tuple[str, ...]
    kind: Literal["word", "prefix", "phrase"]
    negated: bool = False

    @property
    def stems(self) -> tuple[str, ...]:
        return tuple(german_stem(fold(w)) for w in self.words)


@dataclass(frozen=True)
class ParsedQuery:
    """The query as typed, and what it means: any of ``groups``, each a set of terms that must all hold."""

    text: str
    groups: tuple[tuple[Term, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def terms(self) -> tuple[Term, ...]:
        return tuple(t for g in self.groups for t in g)


def _chunk_term(negated: bool, raw: str, quoted: bool) -> Term | None:
    prefix = not quoted and raw.endswith("*")
    words = [w.lower() for w in _WORD_RE.findall(raw)]
    if quoted or len(words) > 1:  # "a b", and Abo-Preis like PostgreSQL: a phrase
        while words and words[0] in STOPWORDS:  # PostgreSQL ignores them at either end
            words.pop(0)
        while words and words[-1] in STOPWORDS:
            words.pop()
        if len(words) > 1:
            return Term(tuple(words), "phrase", negated)
    if not words or words[0] in STOPWORDS:
        return None
    return Term((words[0],), "prefix" if prefix and len(words) == 1 else "word", negated)


def parse_query(query: str) -> ParsedQuery:
    """Read the search syntax (module docstring). Raises :class:`InvalidFilterError` with what to change."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidFilterError(
            f"Die Suche ist zu lang ({len(query)} Zeichen); höchstens {MAX_QUERY_LENGTH} Zeichen eingeben."
        )
    if not query:
        return ParsedQuery("")
    groups: list[list[Term]] = [[]]
    seen_words = False
    for match in _CHUNK_RE.finditer(query):
        if match.group(3) in ("OR", "ODER", "|"):
            groups.append([])
            continue
        if match.group(3) is not None:
            raw = match.group(3)
            negated = raw.startswith("-") and len(raw) > 1
            term = _chunk_term(negated, raw[1:] if negated else raw, quoted=False)
        else:
            term = _chunk_term(bool(match.group(1)), match.group(2), quoted=True)
        if _WORD_RE.search(match.group(0)):
            seen_words = True
        if term is not None:
            groups[-1].append(term)
    kept = [tuple(g) for g in groups if g]
    if not kept:
        if seen_words:
            raise InvalidFilterError(
                "Die Suche enthält nur Füllwörter (wie „und“, „nicht“, „die“), die der Suchindex nicht "
                "kennt. Bitte ein inhaltliches Wort eingeben, z. B. „Lieferung“."
            )
        raise InvalidFilterError("Die Suche enthält kein Wort. Bitte ein Wort eingeben, z. B. „Lieferung“.")
    for group in kept:
        if all(t.negated for t in group):
            raise InvalidFilterError(
                "Ein Ausschluss (-wort) braucht mindestens ein gesuchtes Wort daneben, z. B. „Lieferung -DHL“."
            )
    if sum(len(g) for g in kept) > MAX_TERMS:
        raise InvalidFilterError(f"Die Suche hat zu viele Begriffe; höchstens {MAX_TERMS} verwenden.")
    return ParsedQuery(query, tuple(kept))


# -- filters ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    """Which posts to search. Empty tuples mean all; at most one of week, since/until, days."""

    classes: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = ()
    since: str | None = None
    """A date (2026-11-16), Berlin time; inclusive."""
    until: str | None = None
    """A date, inclusive."""
    week: str | None = None
    """An ISO week such as 2026-W47."""
    days: int | None = None
    """The last N days up to the moment of the search (what a saved search for alerts and the digest uses)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("classes", "topics", "platforms", "sentiments"):
            if getattr(self, key):
                out[key] = list(getattr(self, key))
        for key in ("since", "until", "week", "days"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> SearchFilters:
        data = data or {}
        days = data.get("days")
        return cls(
            classes=tuple(str(v) for v in data.get("classes") or ()),
            topics=tuple(str(v) for v in data.get("topics") or ()),
            platforms=tuple(str(v) for v in data.get("platforms") or ()),
            sentiments=tuple(str(v) for v in data.get("sentiments") or ()),
            since=data.get("since") or None,
            until=data.get("until") or None,
            week=data.get("week") or None,
            days=int(days) if days is not None else None,
        )

    def period(self, tz: str = "Europe/Berlin", now: datetime | None = None) -> Period | None:
        """The time window, or None for all time."""
        if self.week:
            week = self.week
            message = f"Die Woche „{week}“ ist nicht lesbar; bitte als ISO-Woche schreiben, z. B. 2026-W47."
            return _german(lambda: iso_week(week, tz), message)
        if self.days is not None:
            end = now or datetime.now(UTC)
            start, local = end - timedelta(days=self.days), zone(tz)
            return Period(start, end, f"{start.astimezone(local):%d.%m.%Y} – {end.astimezone(local):%d.%m.%Y}")
        if not (self.since or self.until):
            return None
        start = (
            _german(lambda: parse_moment(self.since or "", tz), _date_message(self.since))
            if self.since
            else datetime(1900, 1, 1, tzinfo=UTC)
        )
        end = (
            _german(lambda: parse_moment(self.until or "", tz, end_of_day=True), _date_message(self.until))
            if self.until
            else datetime(2100, 1, 1, tzinfo=UTC)
        )
        if start >= end:
            raise InvalidFilterError(
                f"Der Zeitraum ist leer: „von“ ({self.since}) muss vor „bis“ ({self.until}) liegen."
            )
        local = zone(tz)
        label = f"{start.astimezone(local):%d.%m.%Y} – {(end - timedelta(seconds=1)).astimezone(local):%d.%m.%Y}"
        return Period(start, end, label)

    def describe(self) -> str:
        """The filters in the interface language, for listings (``resonanz search``, ``resonanz searches``)."""
        parts = []
        if self.classes:
            parts.append(_("class {values}").format(values=", ".join(self.classes)))
        if self.topics:
            parts.append(_("topic {values}").format(values=", ".join(self.topics)))
        if self.platforms:
            parts.append(_("platform {values}").format(values=", ".join(self.platforms)))
        if self.sentiments:
            labels = ", ".join(_(SENTIMENT_LABELS[s]) if s in SENTIMENT_LABELS else s for s in self.sentiments)
            parts.append(_("sentiment {values}").format(values=labels))
        if self.week:
            parts.append(_("week {week}").format(week=self.week))
        if self.since or self.until:
            parts.append(_("{since} until {until}").format(since=self.since or "…", until=self.until or "…"))
        if self.days is not None:
            parts.append(_("last {days} days").format(days=self.days))
        return "; ".join(parts) or _("all posts")


def _date_message(value: str | None) -> str:
    return f"Das Datum „{value}“ ist nicht lesbar; bitte so schreiben: 2026-11-16 (zwischen 1900 und 2100)."


T = TypeVar("T")


def _german(make: Callable[[], T], message: str) -> T:
    """``make()``, with the periods' English message replaced by a German one."""
    try:
        return make()
    except InvalidFilterError as exc:
        raise InvalidFilterError(message) from exc


@dataclass(frozen=True)
class FilterOptions:
    """The values each filter offers, taken from the data (the web page's lists)."""

    classes: tuple[str, ...] = SEGMENTS
    topics: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    sentiments: tuple[str, ...] = SENTIMENTS


def known_platforms(session: Session) -> tuple[str, ...]:
    rows = session.exec(select(POST.c.platform).distinct().order_by(POST.c.platform)).all()  # type: ignore[call-overload]
    return tuple(str(r[0]) for r in rows if r[0])


def known_topics(session: Session) -> tuple[str, ...]:
    """Every topic name in any score (the topics file can change; old scores keep their names)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        elems = func.json_array_elements(SCORE.c.topics).table_valued("value", joins_implicitly=True)
        topic: ColumnElement[Any] = elems.c.value.op("->>")(literal_column("'topic'"))
    else:
        elems = func.json_each(SCORE.c.topics).table_valued("value", joins_implicitly=True)
        topic = func.json_extract(elems.c.value, "$.topic")
    inner = select(topic.label("topic")).select_from(SCORE).join(elems, topic.is_not(None)).distinct().subquery()
    rows = session.exec(select(inner.c.topic)).all()  # type: ignore[call-overload]
    return tuple(sorted({str(r[0]) for r in rows if r[0]}, key=lambda t: (t.casefold(), t)))


def filter_options(session: Session) -> FilterOptions:
    return FilterOptions(topics=known_topics(session), platforms=known_platforms(session))


def resolve_values(given: Iterable[str], known: Sequence[str], unknown: str, *, strict: bool = True) -> tuple[str, ...]:
    """``given`` mapped case-insensitively onto ``known`` (every stored spelling that matches).

    ``strict``: an unknown value raises :class:`InvalidFilterError` (``unknown``, e.g. "Unbekanntes Thema", then the
    value and the known ones); otherwise it is kept as given (it then matches nothing)."""
    by_key: dict[str, list[str]] = {}
    for value in known:
        by_key.setdefault(value.casefold(), []).append(value)
    out: list[str] = []
    for raw in given:
        value = raw.strip()
        if not value:
            continue
        found = by_key.get(value.casefold())
        if found is None:
            if strict:
                shown = ", ".join(known[:30]) + (" …" if len(known) > 30 else "")
                raise InvalidFilterError(f"{unknown} „{value}“. Bekannt sind: {shown or '(noch keine)'}.")
            found = [value]
        out.extend(v for v in found if v not in out)
    return tuple(out)


def resolve_classes(given: Iterable[str]) -> tuple[str, ...]:
    """Customer classes, case-insensitive (``a`` = ``A``); an unknown class raises :class:`InvalidFilterError`."""
    known = {s.casefold(): s for s in SEGMENTS}
    out: list[str] = []
    for raw in given:
        value = raw.strip()
        if not value:
            continue
        if value.casefold() not in known:
            allowed = ", ".join(f"{s} ({CLASS_LABELS[s]})" for s in SEGMENTS)
            raise InvalidFilterError(f"Unbekannte Kundenklasse „{value}“. Erlaubt sind: {allowed}.")
        if known[value.casefold()] not in out:
            out.append(known[value.casefold()])
    return tuple(out)


def resolve_sentiments(given: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for raw in given:
        value = raw.strip().casefold()
        if not value:
            continue
        value = SENTIMENT_ALIASES.get(value, value)
        if value not in SENTIMENTS:
            raise InvalidFilterError(f"Unbekannte Stimmung „{raw.strip()}“. Erlaubt sind: negativ, neutral, positiv.")
        if value not in out:
            out.append(value)
    return tuple(out)


def validate_filters(
    session: Session,
    *,
    classes: Iterable[str] = (),
    topics: Iterable[str] = (),
    platforms: Iterable[str] = (),
    sentiments: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
    week: str | None = None,
    days: int | None = None,
    tz: str = "Europe/Berlin",
) -> SearchFilters:
    """Filters from user input: every value checked against the known ones (case-insensitive) and the
    time window readable. Raises :class:`InvalidFilterError` with a German message that says what to change."""
    topics, platforms = [t for t in topics if t.strip()], [p for p in platforms if p.strip()]
    since, until, week = (since or "").strip() or None, (until or "").strip() or None, (week or "").strip() or None
    if sum(x is not None for x in (week, since or until, days)) > 1:
        raise InvalidFilterError("Bitte nur eine Zeitangabe: Woche, oder von/bis, oder die letzten Tage.")
    if days is not None and not 1 <= days <= 3660:
        raise InvalidFilterError(f"„letzte Tage“ muss zwischen 1 und 3660 liegen, nicht {days}.")
    flt = SearchFilters(
        classes=resolve_classes(classes),
        topics=resolve_values(topics, known_topics(session), "Unbekanntes Thema") if topics else (),
        platforms=resolve_values(platforms, known_platforms(session), "Unbekannte Plattform") if platforms else (),
        sentiments=resolve_sentiments(sentiments),
        since=since,
        until=until,
        week=week,
        days=days,
    )
    flt.period(tz)  # readable?
    if flt.week:
        flt = replace(flt, week=flt.period(tz).label)  # type: ignore[union-attr]
    return flt


# -- results ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """A piece of a post's text; ``hit``: it matched a searched word."""

    text: str
    hit: bool = False


@dataclass(frozen=True)
class SearchHit:
    post_id: int
    platform: str
    kind: str
    created_at: datetime
    author: str | None
    segment: str
    """A, B, C (the author's customer class), unvalued or prospect."""
    sentiment: str | None
    """Of the latest score; None while the post is not scored."""
    topics: tuple[str, ...]
    title: str | None
    text: str
    url: str | None
    review_item_id: int | None
    voice: str | None
    relevance: float
    snippet: tuple[Snippet, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "platform": self.platform,
            "kind": self.kind,
            "created_at": self.created_at.isoformat(),
            "author": self.author,
            "segment": self.segment,
            "sentiment": self.sentiment,
            "topics": list(self.topics),
            "title": self.title,
            "text": self.text,
            "url": self.url,
            "review_item_id": self.review_item_id,
            "voice": self.voice,
            "relevance": round(self.relevance, 6),
            "snippet": "".join(f"[{s.text}]" if s.hit else s.text for s in self.snippet),
        }


@dataclass(frozen=True)
class SearchPage:
    query: ParsedQuery
    filters: SearchFilters
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    period: Period | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query.text,
            "filters": self.filters.to_json(),
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "hits": [h.to_dict() for h in self.hits],
        }


# -- the engines --------------------------------------------------------------------------------------------------

_MARK = "char(1)"
_SQLITE_HITS = (
    f"SELECT post_id, 2 * coalesce(length(t) - length(replace(t, {_MARK}, '')), 0) "
    f"+ coalesce(length(b) - length(replace(b, {_MARK}, '')), 0) AS matches FROM ("
    f"SELECT rowid AS post_id, highlight({FTS_TABLE}, 0, {_MARK}, '') AS t, "
    f"highlight({FTS_TABLE}, 1, {_MARK}, '') AS b "
    f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m)"
)
"""SQLite: the matching posts and how often they match (a title match counts double). The rank then divides by
the length (``matches * 10 / (10 + words)``): like PostgreSQL's ``ts_rank(..., 1)``, and unlike FTS5's bm25, it
does not favour a rare spelling of a word (every spelling is a term of its own in the expanded query)."""
_VOCAB = "temp.resonanz_post_fts_vocab"


def _quote_tsquery(word: str) -> str:
    return "'" + word.replace("'", "''").replace("\\", "\\\\") + "'"


def postgres_tsquery(parsed: ParsedQuery) -> str:
    """The ``to_tsquery('german', ...)`` text of a parsed query (PostgreSQL stems and drops stop words)."""
    groups = []
    for group in parsed.groups:
        parts = []
        for term in group:
            if term.kind == "phrase":
                expr = "(" + " <-> ".join(_quote_tsquery(w) for w in term.words) + ")"
            else:
                expr = _quote_tsquery(term.words[0]) + (":*" if term.kind == "prefix" else "")
            parts.append(f"!{expr}" if term.negated else expr)
        groups.append("(" + " & ".join(parts) + ")")
    return " | ".join(groups)


class _SqliteVocabulary:
    """SQLite: the indexed words of ``post_fts`` (fts5vocab, a temporary table per connection) by stem."""

    def __init__(self, session: Session) -> None:
        self.session = session
        session.execute(text(f"CREATE VIRTUAL TABLE IF NOT EXISTS {_VOCAB} USING fts5vocab(main, {FTS_TABLE}, row)"))
        self._cache: dict[tuple[str, bool], list[str] | None] = {}

    def _beginning_with(self, prefix: str) -> list[str]:
        out: list[str] = []
        variants = {prefix}
        if "ss" in prefix:  # the stemmer writes ß as ss; the index keeps ß
            parts = prefix.split("ss")
            for joins in itertools.product(("ss", "ß"), repeat=len(parts) - 1):
                variants.add(parts[0] + "".join(j + p for j, p in zip(joins, parts[1:], strict=True)))
        query = text(f"SELECT term FROM {_VOCAB} WHERE term >= :lo AND term < :hi")
        for variant in sorted(variants):
            rows = self.session.execute(query, {"lo": variant, "hi": variant + "\U0010ffff"}).all()
            out.extend(str(r[0]) for r in rows)
        return out

    def words(self, stem: str, *, prefix: bool) -> list[str] | None:
        """The indexed words whose stem is ``stem`` (``prefix``: begins with it); None: too many, search the
        plain prefix instead."""
        key = (stem, prefix)
        if key not in self._cache:
            found = [
                w
                for w in self._beginning_with(stem)
                if w not in FOLDED_STOPWORDS and (german_stem(w).startswith(stem) if prefix else german_stem(w) == stem)
            ]
            self._cache[key] = found if len(found) <= MAX_EXPANSION else None
        return self._cache[key]


def _fts_string(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _sqlite_term(vocab: _SqliteVocabulary, term: Term) -> str | None:
    """The FTS5 expression of one term, or None if no indexed word can match it."""
    if term.kind != "phrase":
        stem = term.stems[0]
        words = vocab.words(stem, prefix=term.kind == "prefix")
        if words is None:
            return _fts_string(stem) + "*"
        return " OR ".join(_fts_string(w) for w in words) or None
    positions: list[list[str] | None] = []
    for word, stem in zip(term.words, term.stems, strict=True):
        folded = fold(word)
        if word in STOPWORDS:
            positions.append([folded])
            continue
        found = vocab.words(stem, prefix=False)
        if found is not None and not found:
            return None
        positions.append(found)
    variants = 1
    for found in positions:
        variants *= len(found) if found is not None else MAX_PHRASE_VARIANTS + 1
    if variants > MAX_PHRASE_VARIANTS:
        return " + ".join(
            _fts_string(stem) + "*" if word not in STOPWORDS else _fts_string(fold(word))
            for word, stem in zip(term.words, term.stems, strict=True)
        )
    combos = itertools.product(*(found or [] for found in positions))
    return " OR ".join(_fts_string(" ".join(combo)) for combo in combos)


def sqlite_match(session: Session, parsed: ParsedQuery) -> str | None:
    """The FTS5 MATCH expression of a parsed query; None when nothing indexed can match."""
    vocab = _SqliteVocabulary(session)
    groups = []
    for group in parsed.groups:
        positive: list[str] = []
        negative: list[str] = []
        impossible = False
        for term in group:
            expr = _sqlite_term(vocab, term)
            if term.negated:
                if expr:
                    negative.append(expr)
            elif expr is None:
                impossible = True
                break
            else:
                positive.append(expr)
        if impossible or not positive:
            continue
        expr = " AND ".join(f"({p})" for p in positive)
        for n in negative:
            expr = f"({expr}) NOT ({n})"
        groups.append(f"({expr})")
    return " OR ".join(groups) or None


# -- the search ---------------------------------------------------------------------------------------------------


def _select(session: Session, parsed: ParsedQuery, flt: SearchFilters, period: Period | None) -> Select[Any] | None:
    """All matching posts with their columns and ``relevance`` (higher is better); None: nothing can match."""
    dialect = session.get_bind().dialect.name
    lnk, val = link_subquery(), value_subquery()
    segment = segment_expr(lnk, val)
    item_id = select(func.max(ITEM.c.id)).where(ITEM.c.post_id == POST.c.id).correlate(POST).scalar_subquery()
    relevance: ColumnElement[Any] = literal_column("0.0", Float)
    query: Select[Any] = select(
        POST.c.id.label("post_id"),
        POST.c.platform,
        POST.c.kind,
        POST.c.created_at,
        POST.c.title,
        POST.c.text,
        POST.c.url,
        POST.c.voice,
        func.coalesce(IDENTITY.c.handle, IDENTITY.c.display_name).label("author"),
        segment.label("segment"),
        SCORE.c.sentiment,
        SCORE.c.topics,
        item_id.label("review_item_id"),
    ).select_from(POST)
    if not parsed.empty and dialect == "sqlite":
        match = sqlite_match(session, parsed)
        if match is None:
            return None
        hits = text(_SQLITE_HITS).bindparams(m=match).columns(post_id=Integer, matches=Integer).subquery("hits")
        query = query.join(hits, hits.c.post_id == POST.c.id)
        words = func.coalesce(POST.c.title, "") + " " + POST.c.text
        length = func.length(words) - func.length(func.replace(words, " ", "")) + 1
        relevance = hits.c.matches * 10.0 / (10.0 + length)
    elif not parsed.empty:
        tsquery = func.to_tsquery(
            literal_column(f"'{TEXT_SEARCH_CONFIG}'::regconfig"), bindparam("tsq", postgres_tsquery(parsed))
        )
        vector = literal_column(f"{POST.name}.{SEARCH_VECTOR}", TSVECTOR)
        query = query.where(vector.bool_op("@@")(tsquery))
        relevance = func.ts_rank(vector, tsquery, 1)
    needs_score = bool(flt.topics or flt.sentiments)
    score_on = SCORE.c.id == latest_score_id()
    query = (
        query.outerjoin(IDENTITY, IDENTITY.c.id == POST.c.identity_id)
        .outerjoin(lnk, lnk.c.identity_id == POST.c.identity_id)
        .outerjoin(val, val.c.customer_id == lnk.c.customer_id)
    )
    query = query.join(SCORE, score_on) if needs_score else query.outerjoin(SCORE, score_on)
    query = query.add_columns(relevance.label("relevance")).where(POST.c.deleted_at.is_(None))
    if flt.classes:
        query = query.where(segment.in_(list(flt.classes)))
    if flt.platforms:
        query = query.where(POST.c.platform.in_(list(flt.platforms)))
    if flt.sentiments:
        query = query.where(SCORE.c.sentiment.in_(list(flt.sentiments)))
    if flt.topics:
        query = query.where(has_topic(dialect, flt.topics))
    if period is not None:
        query = query.where(POST.c.created_at >= period.start, POST.c.created_at < period.end)
    return query


def search(
    session: Session,
    query: str | ParsedQuery,
    filters: SearchFilters | None = None,
    *,
    page: int = 1,
    per_page: int = 20,
    tz: str = "Europe/Berlin",
    now: datetime | None = None,
    within: Period | None = None,
) -> SearchPage:
    """One page of the posts that match ``query`` and ``filters``, best first.

    ``within``: additionally only this time window (what alerts and the digest use to run a saved search
    over their own period). Raises :class:`InvalidFilterError` for unreadable input.
    """
    parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
    flt = filters or SearchFilters()
    if page < 1:
        raise InvalidFilterError(f"Seite {page} gibt es nicht; die erste Seite ist 1.")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidFilterError(f"Treffer pro Seite: 1 bis {MAX_PER_PAGE}, nicht {per_page}.")
    period = _intersect(flt.period(tz, now), within)
    selected = _select(session, parsed, flt, period)
    if selected is None or (period is not None and period.start >= period.end):
        return SearchPage(parsed, flt, (), 0, page, per_page, period)
    rows_q = selected.subquery("found")
    total = int(session.execute(select(func.count()).select_from(rows_q)).scalar_one())
    ordered = (
        select(rows_q)
        .order_by(rows_q.c.relevance.desc(), rows_q.c.created_at.desc(), rows_q.c.post_id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    hits = tuple(_hit(dict(r._mapping), parsed) for r in session.execute(ordered).all())
    return SearchPage(parsed, flt, hits, total, page, per_page, period)


def _intersect(a: Period | None, b: Period | None) -> Period | None:
    if a is None or b is None:
        return a or b
    return Period(max(a.start, b.start), min(a.end, b.end), f"{a.label} ∩ {b.label}")


def _hit(m: dict[str, Any], parsed: ParsedQuery) -> SearchHit:
    topics = tuple(str(t.get("topic")) for t in (m.get("topics") or []) if isinstance(t, dict) and t.get("topic"))
    created = as_utc(m["created_at"]) or m["created_at"]
    return SearchHit(
        post_id=int(m["post_id"]),
        platform=str(m["platform"]),
        kind=str(m["kind"]),
        created_at=created,
        author=m.get("author"),
        segment=str(m["segment"]),
        sentiment=m.get("sentiment"),
        topics=topics,
        title=m.get("title"),
        text=m.get("text") or "",
        url=m.get("url"),
        review_item_id=int(m["review_item_id"]) if m.get("review_item_id") is not None else None,
        voice=m.get("voice"),
        relevance=float(m.get("relevance") or 0.0),
        snippet=snippet(m.get("text") or "", parsed),
    )


def _matcher(parsed: ParsedQuery) -> tuple[set[str], tuple[str, ...]]:
    exact: set[str] = set()
    prefixes: list[str] = []
    for term in parsed.terms:
        if term.negated:
            continue
        if term.kind == "prefix":
            prefixes.append(term.stems[0])
        else:
            exact.update(s for w, s in zip(term.words, term.stems, strict=True) if w not in STOPWORDS)
    return exact, tuple(prefixes)


def snippet(body: str, parsed: ParsedQuery, width: int = 240) -> tuple[Snippet, ...]:
    """About ``width`` characters of ``body`` around the first searched word, the searched words marked."""
    body = " ".join(body.split())
    exact, prefixes = _matcher(parsed)
    spans = []
    for match in _WORD_RE.finditer(body):
        word = fold(match.group(0))
        if word in FOLDED_STOPWORDS:
            continue
        stem = german_stem(word)
        if stem in exact or (prefixes and stem.startswith(prefixes)):
            spans.append((match.start(), match.end()))
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start:
        space = body.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(body), start + width)
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > max(first, start) else end
    out: list[Snippet] = [Snippet("… ")] if start else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        if s > pos:
            out.append(Snippet(body[pos:s]))
        out.append(Snippet(body[s:e], True))
        pos = e
    if pos < end:
        out.append(Snippet(body[pos:end]))
    if end < len(body):
        out.append(Snippet(" …"))
    return tuple(out)


# -- saved searches -------------------------------------------------------------------------------------------------


def save_search(session: Session, name: str, owner: str, query: str, filters: SearchFilters) -> SavedSearch:
    """Keep a search under ``name`` (unique). The query is checked first; commits."""
    name, owner, query = (" ".join(without_nul(v or "").split()) for v in (name, owner, query))
    if not name or len(name) > 100:
        raise InvalidFilterError("Bitte der Suche einen Namen geben (1 bis 100 Zeichen).")
    parse_query(query)
    if session.exec(select_model(SavedSearch).where(col(SavedSearch.name) == name)).first() is not None:
        raise InvalidFilterError(
            f"Es gibt schon eine gespeicherte Suche „{name}“. Anderen Namen wählen oder die alte erst löschen "
            f'(resonanz searches delete "{name}").'
        )
    saved = SavedSearch(
        name=name, owner=owner[:100] or "unbekannt", query=query, filters=without_nul(filters.to_json())
    )
    session.add(saved)
    session.commit()
    session.refresh(saved)
    log.info("saved search %r by %s", name, owner)
    return saved


def saved_searches(session: Session) -> list[SavedSearch]:
    return list(session.exec(select_model(SavedSearch).order_by(col(SavedSearch.name))).all())


def get_saved(session: Session, name_or_id: str | int) -> SavedSearch:
    if isinstance(name_or_id, int):
        found = session.get(SavedSearch, name_or_id)
    else:
        found = session.exec(select_model(SavedSearch).where(col(SavedSearch.name) == name_or_id.strip())).first()
    if found is None:
        raise NotFoundError(
            f"Keine gespeicherte Suche „{name_or_id}“. `resonanz searches` zeigt die vorhandenen."
        )  # fmt: skip
    return found


def delete_saved(session: Session, name_or_id: str | int) -> SavedSearch:
    """Delete a saved search; commits. Returns what was deleted."""
    found = get_saved(session, name_or_id)
    session.delete(found)
    session.commit()
    log.info("deleted saved search %r", found.name)
    return found


def run_saved(
    session: Session,
    saved: SavedSearch,
    *,
    page: int = 1,
    per_page: int = 20,
    tz: str = "Europe/Berlin",
    now: datetime | None = None,
    within: Period | None = None,
) -> SearchPage:
    """Run a saved search again (for alerts and the digest: ``within`` their period)."""
    return search(
        session,
        saved.query,
        SearchFilters.from_json(saved.filters),
        page=page,
        per_page=per_page,
        tz=tz,
        now=now,
        within=within,
    )
