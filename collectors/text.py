"""Turning platform markup and timestamps into clean text and aware UTC datetimes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from typing import Any

_BLOCK = {
    "p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "section", "article", "header", "footer", "dd", "dt", "figure", "hr",
}  # fmt: skip
_SKIP = {"script", "style", "template", "noscript", "head"}
_VOID = {"br", "img", "hr", "wbr", "input", "meta", "link", "area", "base", "col", "embed", "source", "track"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")

QUOTE_FALLBACK = frozenset({"quote-inline"})
"""The ``RE: <link>`` paragraph or span that Mastodon (4.4+), Akkoma and Misskey add to a quote post's content
for old clients and hide in their own interfaces: not words of the author."""


class _TextExtractor(HTMLParser):
    def __init__(self, drop_classes: frozenset[str] = frozenset()) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._drop_classes = drop_classes
        self._dropping = 0  # depth inside an element whose class is dropped

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            self._dropping += tag not in _VOID
            return
        if self._drop_classes and tag not in _VOID:
            classes = set(str(dict(attrs).get("class") or "").split())
            if classes & self._drop_classes:
                self._dropping = 1
                return
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._dropping:
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if self._dropping:
            self._dropping -= tag not in _VOID
            return
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip and not self._dropping:
            self.parts.append(data)


@lru_cache(maxsize=2048)  # bios and repeated snippets recur across posts
def html_to_text(html: str | None, drop_classes: frozenset[str] = frozenset()) -> str:
    """Readable plain text from HTML: paragraphs become blank lines, ``<br>`` a line break,
    links their visible text (Mastodon's hidden URL parts included, so URLs stay whole).

    Elements with a class in ``drop_classes`` are left out with everything inside them (see
    :data:`QUOTE_FALLBACK`)."""
    if not html:
        return ""
    if "<" not in html:
        return normalise_whitespace(unescape(html))
    parser = _TextExtractor(drop_classes)
    parser.feed(html)
    parser.close()
    return normalise_whitespace("".join(parser.parts))


# -- Markdown (Reddit) -----------------------------------------------------------------------------------------

_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~^|&<])")
_MD_CODE = re.compile(r"`+([^`\n]+?)`+")
_MD_FENCE = re.compile(r"^[ \t]*(```|~~~).*$", re.M)
_MD_SPOILER = re.compile(r">!(.+?)!<", re.S)
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]*(.*?)[ \t]*#*[ \t]*$", re.M)
_MD_QUOTE = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+", re.M)
_MD_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.M)
_MD_TABLE_SEP = re.compile(r"^(?=[^\n]*\|)(?=[^\n]*-)[ \t|:-]+$", re.M)
_MD_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.M)
_MD_BULLET = re.compile(r"^([ \t]*)[*+][ \t]+", re.M)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)\s]+(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_MD_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EM_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_MD_EM_UNDERSCORE = re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)")
_MD_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_MD_SUPERSCRIPT = re.compile(r"\^\(([^)]*)\)")
_PROTECTED = re.compile("\ue000(\\d+)\ue001")


def _link(match: re.Match[str]) -> str:
    shown, target = match.group(1).strip(), match.group(2)
    bare = re.sub(r"^https?://(www\.)?", "", target).rstrip("/")
    if shown == target or re.sub(r"^https?://(www\.)?", "", shown).rstrip("/") == bare:
        return target
    return f"{shown} ({target})"


def markdown_to_text(markdown: str | None) -> str:
    """Plain text from Reddit's Markdown, as a reader sees it: emphasis, headings, quotes, spoilers, tables and
    code markers dropped, links as ``text (url)``, escapes resolved and HTML entities decoded (``&#3232;_&#3232;``
    is ``ಠ_ಠ``). Underscores inside words stay (``snake_case``, ``ಠ_ಠ``)."""
    if not markdown:
        return ""
    kept: list[str] = []

    def protect(text: str) -> str:
        kept.append(text)
        return f"\ue000{len(kept) - 1}\ue001"

    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    text = _MD_ESCAPE.sub(lambda m: protect(m.group(1)), text)
    text = _MD_CODE.sub(lambda m: protect(m.group(1)), text)
    text = _MD_FENCE.sub("", text)
    text = _MD_SPOILER.sub(r"\1", text)
    text = _MD_HEADING.sub(r"\1", text)
    text = _MD_RULE.sub("", text)
    text = _MD_QUOTE.sub("", text)
    text = _MD_TABLE_SEP.sub("", text)
    text = _MD_TABLE_ROW.sub(lambda m: " | ".join(cell.strip() for cell in m.group(1).split("|")), text)
    text = _MD_BULLET.sub(r"\1- ", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(lambda m: protect(_link(m)), text)
    text = _MD_AUTOLINK.sub(lambda m: protect(m.group(1)), text)
    for pattern in (_MD_STRONG, _MD_STRIKE):
        text = pattern.sub(lambda m: m.group(m.lastindex or 1), text)
    text = _MD_EM_STAR.sub(r"\1", text)
    text = _MD_EM_UNDERSCORE.sub(r"\1", text)
    text = _MD_SUPERSCRIPT.sub(r"\1", text)
    while _PROTECTED.search(text):
        text = _PROTECTED.sub(lambda m: kept[int(m.group(1))], text)
    return normalise_whitespace(_INVISIBLE.sub("", unescape(text)))


# -- what is not text: media, polls, link cards --------------------------------------------------------------

MEDIA_LABELS = {"image": "Bild", "gifv": "GIF", "video": "Video", "audio": "Audio"}


def media_note(kind: str | None, alt: str | None) -> str:
    """``[Bild: alt text]`` -- an attachment with its description, so a post of only a picture keeps its words."""
    label = MEDIA_LABELS.get(str(kind or ""), "Anhang")
    described = normalise_whitespace(str(alt or ""))
    return f"[{label}: {described}]" if described else f"[{label}]"


def poll_note(options: Iterable[Any]) -> str:
    """``[Umfrage: Ja | Nein]`` -- a poll's options are part of what the post says."""
    shown = [normalise_whitespace(str(o)) for o in options if o is not None and str(o).strip()]
    return f"[Umfrage: {' | '.join(shown)}]" if shown else ""


def link_note(uri: str, title: str | None = None) -> str:
    """``[Link: Titel] https://...`` -- a link card the post carries besides its text."""
    title = normalise_whitespace(str(title or ""))
    return f"[Link: {title}] {uri}" if title else f"[Link] {uri}"


def join_text(*parts: str | None) -> str:
    """The non-empty parts, one paragraph each."""
    return "\n\n".join(p for p in (part.strip() if part else "" for part in parts) if p)


def normalise_whitespace(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: str | None) -> datetime | None:
    """Parse ISO 8601 (``Z``, offsets, any fraction length) or an RFC 2822 date into aware UTC."""
    if not value:
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def require_time(value: str | None, what: str = "timestamp") -> datetime:
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"unreadable {what}: {value!r}")
    return parsed


def from_epoch(value: float | int | str) -> datetime:
    return datetime.fromtimestamp(float(value), UTC)


def language_code(value: str | None) -> str | None:
    """``de-DE`` -> ``de``; at most 8 characters as the store allows."""
    if not value:
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code[:8] or None
