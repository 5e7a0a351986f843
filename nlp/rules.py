"""Keyword and pattern rules over preprocessed posts, shared by topics and flags.

A *keyword* is a word or phrase from a config file. Each of its words is lemmatised with the same
pipeline as the posts, so ``"Lieferungen"`` matches ``Lieferung``, ``geliefert`` does not, and
``"kündige"`` matches ``gekündigt``. A word with ``*``/``?`` is a glob over lemmas and words
(``"liefer*"`` matches ``Lieferzeiten``, ``"*lieferung"`` matches ``Paketlieferung``). A phrase
matches consecutive words (``"nie wieder"``). A *pattern* is a regular expression (case-
insensitive) over the post's normalised words joined by spaces. *Exclude* keywords veto a rule
(``"nicht kündigen"``).
"""

from __future__ import annotations

import fnmatch
import logging
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias

import regex

from nlp.errors import RuleConfigError
from nlp.preprocess import Prepared, lemmatise_phrase

log = logging.getLogger(__name__)

Element: TypeAlias = frozenset[str] | regex.Pattern[str]


@dataclass(frozen=True)
class Keyword:
    text: str
    """As written in the config."""
    elements: tuple[Element, ...]
    """Per word: the accepted lemma/word forms, or a compiled glob."""


@dataclass(frozen=True)
class Hit:
    keyword: str
    matched: str
    sentence: str

    def evidence(self) -> str:
        return self.keyword if self.matched == self.keyword.lower() else f"{self.keyword} ({self.matched})"


def _glob(word: str) -> regex.Pattern[str]:
    return regex.compile(fnmatch.translate(word.lower()))


def compile_keyword(text: str) -> Keyword:
    elements: list[Element] = []
    for word in text.split():
        if any(ch in word for ch in "*?"):
            elements.append(_glob(word))
            continue
        lemmas = lemmatise_phrase(word)
        if len(lemmas) == 1:
            elements.append(frozenset({lemmas[0], word.lower()}))
        else:  # an abbreviation or hashtag that the pipeline splits
            elements.extend(frozenset({lemma}) for lemma in lemmas)
    if not elements:
        raise RuleConfigError(f"the keyword {text!r} contains no word; remove it from the rules file.")
    return Keyword(text=text, elements=tuple(elements))


def _element_matches(element: Element, lemma: str, word: str) -> bool:
    if isinstance(element, frozenset):
        return lemma in element or word in element
    return bool(element.match(lemma) or element.match(word))


@dataclass
class KeywordSet:
    """Keywords indexed by their first word for fast matching."""

    keywords: list[Keyword] = field(default_factory=list)
    _by_first: dict[str, list[Keyword]] = field(default_factory=dict, repr=False)
    _glob_first: list[Keyword] = field(default_factory=list, repr=False)

    @classmethod
    def compile(cls, texts: Iterable[str]) -> KeywordSet:
        out = cls()
        for text in texts:
            out.add(compile_keyword(text))
        return out

    def add(self, keyword: Keyword) -> None:
        self.keywords.append(keyword)
        first = keyword.elements[0]
        if isinstance(first, frozenset):
            for form in first:
                self._by_first.setdefault(form, []).append(keyword)
        else:
            self._glob_first.append(keyword)

    def __bool__(self) -> bool:
        return bool(self.keywords)

    def find(self, post: Prepared, first_only: bool = False) -> list[Hit]:
        """All keyword occurrences in ``post`` (each keyword reported once)."""
        hits: list[Hit] = []
        seen: set[str] = set()
        spans: set[tuple[int, int]] = set()  # one hit per matched span, however many keywords fit it
        lemmas, words = post.lemmas, post.words
        for i, (lemma, word) in enumerate(zip(lemmas, words, strict=True)):
            candidates = self._by_first.get(lemma, []) + (self._by_first.get(word, []) if word != lemma else [])
            candidates += [k for k in self._glob_first if _element_matches(k.elements[0], lemma, word)]
            for keyword in candidates:
                if keyword.text in seen:
                    continue
                n = len(keyword.elements)
                if i + n > len(lemmas):
                    continue
                if (i, n) in spans:
                    continue
                if all(_element_matches(keyword.elements[j], lemmas[i + j], words[i + j]) for j in range(1, n)):
                    seen.add(keyword.text)
                    spans.add((i, n))
                    sentence = post.sentences[post.sentence_of[i]] if post.sentences else post.text
                    hits.append(Hit(keyword.text, " ".join(words[i : i + n]), sentence))
                    if first_only:
                        return hits
        return hits


@dataclass
class Rule:
    """Keywords + patterns + exclusions: the matching part of a topic or flag."""

    keywords: KeywordSet
    patterns: list[regex.Pattern[str]]
    exclude: KeywordSet

    @classmethod
    def from_config(cls, entry: dict[str, Any], where: str) -> Rule:
        try:
            patterns = [regex.compile(p, regex.IGNORECASE) for p in entry.get("patterns", [])]
        except regex.error as exc:
            raise RuleConfigError(f"{where}: invalid regular expression ({exc}); fix the 'patterns' entry.") from exc
        return cls(
            keywords=KeywordSet.compile(_strings(entry.get("keywords", []), where, "keywords")),
            patterns=patterns,
            exclude=KeywordSet.compile(_strings(entry.get("exclude", []), where, "exclude")),
        )

    def match(self, post: Prepared) -> list[str]:
        """Evidence strings for every keyword/pattern found, or [] (also when an exclusion matches)."""
        evidence = [hit.evidence() for hit in self.keywords.find(post)]
        text = post.norm_text
        for pattern in self.patterns:
            found = pattern.search(text)
            if found:
                evidence.append(f"/{pattern.pattern}/ ({found.group()})")
        if evidence and self.exclude and self.exclude.find(post, first_only=True):
            return []
        return evidence


def _strings(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleConfigError(f"{where}: '{key}' must be a list of strings.")
    return value


def load_toml(path: Path | None, default_resource: str) -> tuple[dict[str, Any], str]:
    """Parse ``path`` (or the packaged default ``nlp/<default_resource>``); returns the data and its origin."""
    try:
        if path is None:
            text = resources.files("nlp").joinpath(default_resource).read_text(encoding="utf-8")
            origin = f"nlp/{default_resource}"
        else:
            text = Path(path).expanduser().read_text(encoding="utf-8")
            origin = str(path)
    except OSError as exc:
        raise RuleConfigError(f"cannot read the rules file {path}: {exc}. Check the path in the settings.") from exc
    try:
        return tomllib.loads(text), origin
    except tomllib.TOMLDecodeError as exc:
        raise RuleConfigError(f"{origin} is not valid TOML: {exc}. Fix the file or remove the setting.") from exc


def require(entry: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise RuleConfigError(f"{where}: '{key}' is missing or not a {kind.__name__}.")
    return value


def as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list) else [value]
