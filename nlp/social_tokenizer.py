"""A spaCy tokenizer for social-media text: URLs, @mentions, #hashtags and emoji stay whole tokens.

spaCy's German tokenizer splits ``#DeutscheBahnFail`` into ``#`` + ``DeutscheBahnFail``, emoji
ZWJ sequences into their parts and skin-tone modifiers off their emoji. This tokenizer cuts
those entities out first, hands the text between them to spaCy's own tokenizer and builds one
``Doc`` whose text is exactly the input. Each token's kind is in ``token._.kind``.
"""

from __future__ import annotations

import regex
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Token
from spacy.vocab import Vocab

URL = "url"
MENTION = "mention"
HASHTAG = "hashtag"
EMOJI = "emoji"
EMAIL = "email"

_URL_RE = r"(?:https?://|www\.)[^\s<>\"'`]*[^\s<>\"'`.,;:!?)\]}»«“”]"
# @user, and Mastodon/fediverse handles @user@instance.tld; not the middle of e-mail addresses.
_MENTION_RE = r"(?<![\w@/.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?"
# #hashtag with at least one letter (not "#1"), Unicode letters included (#Größe).
_HASHTAG_RE = r"(?<![\w#&])#(?=\w*[^\W\d_])\w+"
# One emoji "grapheme": flags, keycaps, pictographs with skin tones / variation selectors / ZWJ joins.
_EMOJI_RE = (
    r"\p{Regional_Indicator}{2}"
    r"|[0-9#*]\ufe0f?\u20e3"
    r"|\p{Extended_Pictographic}[\p{Emoji_Modifier}\ufe0f\ufe0e]*"
    r"(?:\u200d\p{Extended_Pictographic}[\p{Emoji_Modifier}\ufe0f\ufe0e]*)*"
)
SOCIAL_RE = regex.compile(
    f"(?P<{URL}>{_URL_RE})|(?P<{MENTION}>{_MENTION_RE})|(?P<{HASHTAG}>{_HASHTAG_RE})|(?P<{EMOJI}>{_EMOJI_RE})",
    regex.V1,
)

_CAMEL_RE = regex.compile(r"\p{Lu}\p{Ll}+|\p{Lu}+(?!\p{Ll})|\p{Ll}+|\d+")
_CAMEL_BOUNDARY_RE = regex.compile(r"\p{Ll}\p{Lu}")

if not Token.has_extension("kind"):
    Token.set_extension("kind", default="")


def split_hashtag(tag: str) -> list[str]:
    """``"#DeutscheBahnFail"`` -> ``["Deutsche", "Bahn", "Fail"]``; lower-case tags stay one word."""
    body = tag.lstrip("#")
    if not _CAMEL_BOUNDARY_RE.search(body) and "_" not in body:
        return [body]  # #fail, #5G, #COVID19: nothing to split
    parts = _CAMEL_RE.findall(body.replace("_", " "))
    return parts or [body]


class SocialTokenizer:
    """Callable ``text -> Doc`` that wraps spaCy's rule-based tokenizer (see the module docstring)."""

    def __init__(self, vocab: Vocab, base: Tokenizer) -> None:
        self.vocab = vocab
        self.base = base

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        kinds: list[str] = []
        pos = 0
        for match in SOCIAL_RE.finditer(text):
            self._add_plain(text[pos : match.start()], words, spaces, kinds)
            end = match.end()
            space = end < len(text) and text[end] == " "
            words.append(match.group())
            spaces.append(space)
            kinds.append(match.lastgroup or "")
            pos = end + (1 if space else 0)
        self._add_plain(text[pos:], words, spaces, kinds)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        for token, kind in zip(doc, kinds, strict=True):
            if kind:
                token._.kind = kind
            elif token.like_email:
                token._.kind = EMAIL
            elif token.like_url:
                token._.kind = URL
        return doc

    def _add_plain(self, chunk: str, words: list[str], spaces: list[bool], kinds: list[str]) -> None:
        if not chunk:
            return
        for token in self.base(chunk):
            words.append(token.text)
            spaces.append(bool(token.whitespace_))
            kinds.append("")

    # spaCy calls these when the pipeline is serialised; the wrapped tokenizer holds all state.
    def to_bytes(self, **kwargs: object) -> bytes:
        return bytes(self.base.to_bytes())

    def from_bytes(self, data: bytes, **kwargs: object) -> SocialTokenizer:
        self.base.from_bytes(data)
        return self
