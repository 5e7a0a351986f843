"""Turning platform markup and timestamps into clean text and aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "li", "ul", "ol", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6",
    "tr", "table", "section", "article", "header", "footer", "dd", "dt", "figure", "hr",
}  # fmt: skip
_SKIP = {"script", "style", "template", "noscript", "head"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


@lru_cache(maxsize=2048)  # bios and repeated snippets recur across posts
def html_to_text(html: str | None) -> str:
    """Readable plain text from HTML: paragraphs become blank lines, ``<br>`` a line break,
    links their visible text (Mastodon's hidden URL parts included, so URLs stay whole)."""
    if not html:
        return ""
    if "<" not in html:
        return normalise_whitespace(unescape(html))
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return normalise_whitespace("".join(parser.parts))


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
