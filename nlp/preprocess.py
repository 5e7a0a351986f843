"""German preprocessing for social-media posts with a blank spaCy pipeline (no downloaded model needed).

Pipeline: :class:`~nlp.social_tokenizer.SocialTokenizer` -> ``sentencizer`` -> ``social_normaliser``, which
looks lemmas up in ``spacy-lookups-data``'s German table (:mod:`nlp.lemmas`, the table spaCy's lookup
``lemmatizer`` reads, in a tenth of its memory). The original text is never changed; the normaliser puts its
results in extension attributes:

* ``token._.words``: the token's normalised words for rules: lower case, elongations collapsed
  (``suuuuper`` -> ``super``), hashtags split (``#DeutscheBahnFail`` -> ``deutsche bahn fail``),
  emoji as a German word (``😡`` -> ``wütend``); empty for punctuation, URLs and mentions.
* ``token._.lemmas``: the lemmas of those words (lower case).
* ``doc._.model_text``: the text for the transformer: URLs -> ``http``, mentions -> ``@user``,
  hashtags as words, each emoji followed by its German word.
* ``doc._.piece_starts``: where the post's *pieces* start (token indexes): its sentences, cut again at line
  breaks, a piece with fewer than :data:`MIN_PIECE_WORDS` words (a trailing ``#Lieferchaos 🙄``) joined to the
  one before; the units a flag's evidence is chosen from. ``doc._.model_pieces``: ``model_text`` cut there, so
  that a model's token states over the whole post can be pooled per piece.

:func:`prepare` turns texts into :class:`Prepared` records that the rules and models consume.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

import regex

from nlp.emoji_map import emoji_word
from nlp.lemmas import LemmaTable, german_lemmas

if TYPE_CHECKING:  # spaCy (and torch under it) is imported on first use, not with this module
    from spacy.language import Language
    from spacy.tokens import Doc

log = logging.getLogger(__name__)

URL_PLACEHOLDER = "http"
MENTION_PLACEHOLDER = "@user"

MIN_PIECE_WORDS = 2
"""Words (not hashtags, emoji, links or mentions) a piece of a post needs to stand alone as evidence."""

_RUN_RE = regex.compile(r"(\p{L})\1{2,}")
_WORDLIKE_RE = regex.compile(r"[\p{L}\p{N}]")


@dataclass(frozen=True)
class Prepared:
    """One post after preprocessing. ``lemmas`` and ``words`` are parallel; ``sentence_of`` maps them to sentences.
    ``pieces``: the sentences cut again at line breaks; ``model_pieces``: their ``model_text`` (parallel)."""

    text: str
    model_text: str
    language: str | None = None
    words: tuple[str, ...] = ()
    lemmas: tuple[str, ...] = ()
    sentence_of: tuple[int, ...] = ()
    sentences: tuple[str, ...] = ()
    pieces: tuple[str, ...] = ()
    model_pieces: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    emoji: tuple[str, ...] = ()
    content_lemmas: tuple[str, ...] = field(default=(), repr=False)

    @property
    def norm_text(self) -> str:
        """The normalised words joined by single spaces (what regex rules match against)."""
        return " ".join(self.words)


LEMMA_OVERRIDES: dict[str, str] = {
    "toll": "toll",
    "tolle": "toll",
    "deutsche": "deutsch",
    "deutschen": "deutsch",
    "kündigung": "kündigung",
    "kündigungen": "kündigung",
    "reklamationen": "reklamation",
    "rücksendungen": "rücksendung",
}
"""Corrections for frequent wrong or missing entries in the lookup table (lower case word -> lemma)."""


class Lemmatiser:
    """Lemma lookup for normalised words, tolerant of social-media casing (``lieferungen``, ``ÄRGER``)."""

    def __init__(self, table: LemmaTable) -> None:
        self.table = table
        self._known: set[str] | None = None

    def lemma(self, word: str) -> str:
        override = LEMMA_OVERRIDES.get(word.lower())
        if override:
            return override
        for candidate in (word, word[:1].upper() + word[1:].lower(), word.lower()):
            found = self.table.get(candidate)
            if found:
                return str(found).lower()
        return word.lower()

    def is_known(self, word: str) -> bool:
        if self._known is None:  # all lemmas of the table (its keys are hashes, so forms are checked by lookup)
            self._known = {value.lower() for value in self.table.lemmas()}
        lower = word.lower()
        return lower in self._known or any(
            self.table.get(c) is not None for c in (word, lower, lower[:1].upper() + lower[1:])
        )

    def collapse(self, word: str) -> str:
        """Undo elongations: runs of 3+ equal letters become 1 or 2 (whichever is a known word), else 1.

        A run of exactly three letters is kept if neither shortening is known (``Schifffahrt``).
        """
        if not _RUN_RE.search(word):
            return word
        single = _RUN_RE.sub(r"\1", word)
        double = _RUN_RE.sub(r"\1\1", word)
        for candidate in (single, double):
            if self.is_known(candidate):
                return str(candidate)
        longest = max(len(m.group()) for m in _RUN_RE.finditer(word))
        return single if longest > 3 else word


def make_social_normaliser(nlp: Language, name: str) -> SocialNormaliser:
    """The ``social_normaliser`` pipeline component (registered by :func:`get_nlp`)."""
    return SocialNormaliser(nlp)


class SocialNormaliser:
    """Fills ``token._.words``, ``token._.lemmas`` and ``doc._.model_text`` (see the module docstring)."""

    def __init__(self, nlp: Language) -> None:
        self.nlp = nlp
        self._lemmatiser: Lemmatiser | None = None

    @property
    def lemmatiser(self) -> Lemmatiser:
        if self._lemmatiser is None:
            self._lemmatiser = Lemmatiser(german_lemmas())
        return self._lemmatiser

    def __call__(self, doc: Doc) -> Doc:
        from nlp.social_tokenizer import EMAIL, EMOJI, HASHTAG, MENTION, URL, split_hashtag

        parts: list[str] = []
        pending_words: list[str] = []  # the German words of a run of emoji, written after the run
        lem = self.lemmatiser
        cuts: list[tuple[int, int, int]] = []  # a piece after the first: its first token, its place in ``parts``
        words = 0  # and the words of the piece before it
        for token in doc:
            if token.i and (token.is_sent_start or "\n" in doc[token.i - 1].text_with_ws):
                cuts.append((token.i, len(parts), words))
                words = 0
            kind = token._.kind
            words += kind not in (URL, EMAIL, MENTION, HASHTAG, EMOJI) and bool(_WORDLIKE_RE.search(token.text))
            if kind in (URL, EMAIL):
                parts.append(URL_PLACEHOLDER if kind == URL else token.text)
            elif kind == MENTION:
                parts.append(MENTION_PLACEHOLDER)
            elif kind == HASHTAG:
                pieces = split_hashtag(token.text)
                token._.words = tuple(lem.collapse(p).lower() for p in pieces)
                token._.lemmas = tuple(lem.lemma(lem.collapse(p)) for p in pieces)
                parts.append(" ".join(pieces))
            elif kind == EMOJI:
                word = emoji_word(token.text)
                if word:
                    token._.words = (word,)
                    token._.lemmas = (word,)
                    if word not in pending_words:
                        pending_words.append(word)
                parts.append(token.text)
                next_is_emoji = token.i + 1 < len(doc) and doc[token.i + 1]._.kind == EMOJI
                if next_is_emoji and not token.whitespace_:
                    continue
                if pending_words:
                    parts.append(" " + " ".join(pending_words))
                    pending_words = []
                    if not token.whitespace_ and token.i + 1 < len(doc):
                        parts.append(" ")
            elif token.is_currency:
                token._.words = (token.text,)
                token._.lemmas = (token.text,)
                parts.append(token.text)
            else:
                if _WORDLIKE_RE.search(token.text):
                    collapsed = lem.collapse(token.text)
                    token._.words = (collapsed.lower(),)
                    token._.lemmas = (lem.lemma(collapsed),)
                parts.append(token.text)
            parts.append(token.whitespace_)
        doc._.model_text = "".join(parts).strip()
        kept = _long_pieces(cuts, words)
        bounds = [0, *(at for _, at in kept), len(parts)]
        doc._.piece_starts = tuple(i for i, _ in kept)
        doc._.model_pieces = tuple("".join(parts[a:b]).strip() for a, b in pairwise(bounds))
        return doc


def _long_pieces(cuts: Sequence[tuple[int, int, int]], last_words: int) -> list[tuple[int, int]]:
    """The cuts ``(token, part, words before)`` that leave no piece under :data:`MIN_PIECE_WORDS` words: a short piece
    joins the one before it (the first, the one after it); ``last_words``: the words after the last cut."""
    counts = [c[2] for c in cuts] + [last_words]
    kept: list[tuple[int, int]] = []
    words = counts[0]  # of the piece open so far
    for (token, part, _), after in zip(cuts, counts[1:], strict=True):
        if words >= MIN_PIECE_WORDS and after >= MIN_PIECE_WORDS:
            kept.append((token, part))
            words = after
        else:  # a short piece after the cut joins the open one; a short open (first) piece joins the next
            words += after
    return kept


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    """The process-wide German pipeline (built on first use, about a second)."""
    import spacy
    from spacy.language import Language
    from spacy.tokens import Doc, Token

    from nlp.social_tokenizer import SocialTokenizer  # also registers token._.kind

    for name in ("words", "lemmas"):
        if not Token.has_extension(name):
            Token.set_extension(name, default=())
    if not Doc.has_extension("model_text"):
        Doc.set_extension("model_text", default="")
    for name in ("piece_starts", "model_pieces"):
        if not Doc.has_extension(name):
            Doc.set_extension(name, default=())
    if not Language.has_factory("social_normaliser"):
        Language.factory("social_normaliser", func=make_social_normaliser)
    nlp = spacy.blank("de")
    nlp.tokenizer = SocialTokenizer(nlp.vocab, nlp.tokenizer)
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("social_normaliser")
    nlp.initialize()
    log.debug("German pipeline ready: %s", nlp.pipe_names)
    return nlp


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """German stop words (spaCy's list, lower case) plus a few social-media fillers."""
    extra = {"mal", "halt", "echt", "eigentlich", "einfach", "ja", "nein", "ok", "okay", "lol", "http", "user"}
    return frozenset(w.lower() for w in get_nlp().Defaults.stop_words) | extra


def _is_content(lemma: str, stops: frozenset[str]) -> bool:
    return len(lemma) > 1 and lemma not in stops and "." not in lemma and bool(_WORDLIKE_RE.match(lemma))


def _prepared(doc: Doc, language: str | None) -> Prepared:
    from nlp.social_tokenizer import EMAIL, EMOJI, HASHTAG, MENTION, URL

    words: list[str] = []
    lemmas: list[str] = []
    sentence_of: list[int] = []
    sentences = [s.text.strip() for s in doc.sents] if len(doc) else []
    sent_index = {s.start: i for i, s in enumerate(doc.sents)} if len(doc) else {}
    current = -1
    hashtags, mentions, urls, emoji = [], [], [], []
    for token in doc:
        current = sent_index.get(token.i, current)
        kind = token._.kind
        if kind == HASHTAG:
            hashtags.append(token.text)
        elif kind == MENTION:
            mentions.append(token.text)
        elif kind in (URL, EMAIL):
            urls.append(token.text)
        elif kind == EMOJI:
            emoji.append(token.text)
        for w, lemma in zip(token._.words, token._.lemmas, strict=True):
            words.append(w)
            lemmas.append(lemma)
            sentence_of.append(max(current, 0))
    stops = stop_words()
    content = tuple(lemma for lemma in lemmas if _is_content(lemma, stops))
    return Prepared(
        text=doc.text,
        model_text=doc._.model_text,
        language=language,
        words=tuple(words),
        lemmas=tuple(lemmas),
        sentence_of=tuple(sentence_of),
        sentences=tuple(sentences),
        **_pieces(doc),
        hashtags=tuple(hashtags),
        mentions=tuple(mentions),
        urls=tuple(urls),
        emoji=tuple(emoji),
        content_lemmas=content,
    )


def _pieces(doc: Doc) -> dict[str, tuple[str, ...]]:
    """``pieces`` and ``model_pieces`` of a :class:`Prepared` (pairs where either is blank are left out)."""
    if not len(doc):
        return {}
    bounds = [0, *doc._.piece_starts, len(doc)]
    pairs = [(doc[a:b].text.strip(), model) for (a, b), model in zip(pairwise(bounds), doc._.model_pieces, strict=True)]
    kept = [(text, model) for text, model in pairs if text and model]
    return {"pieces": tuple(t for t, _ in kept), "model_pieces": tuple(m for _, m in kept)}


def prepare(
    texts: Sequence[str],
    *,
    detect_language: bool = True,
    batch_size: int = 256,
    languages: Sequence[str | None] | None = None,
) -> list[Prepared]:
    """Preprocess ``texts`` (in order). Language detection is optional because it costs time on large batches.

    ``languages``: the languages already known (e.g. stored with the post), parallel to ``texts``; only the
    texts whose entry is None are detected."""
    known: list[str | None] = list(languages) if languages is not None else [None] * len(texts)
    if len(known) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(known)} languages")
    if detect_language:
        from nlp.language import detect_languages

        todo = [i for i, lang in enumerate(known) if lang is None]
        for i, lang in zip(todo, detect_languages([texts[i] for i in todo]), strict=True):
            known[i] = lang
    docs: Iterable[Doc] = get_nlp().pipe(texts, batch_size=batch_size)
    return [_prepared(doc, lang) for doc, lang in zip(docs, known, strict=True)]


def prepare_one(text: str, *, detect_language: bool = True) -> Prepared:
    return prepare([text], detect_language=detect_language)[0]


def lemmatise_phrase(phrase: str) -> tuple[str, ...]:
    """The normalised lemmas of a rule phrase, so that ``"Lieferungen"`` in a config matches ``"lieferung"``."""
    return prepare_one(phrase, detect_language=False).lemmas
