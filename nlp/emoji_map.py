"""A small German emoji lexicon: the emoji people use in customer posts, mapped to one German word.

The words are chosen so that topic and flag rules can match them like ordinary lemmas
(``😡`` -> ``wütend``) and so that the sentiment model sees the emoji's meaning in words
as well. Skin-tone modifiers and the emoji variation selector are stripped before lookup.
"""

from __future__ import annotations

_SKIN_TONES = {chr(c) for c in range(0x1F3FB, 0x1F400)}
_VARIATION_SELECTORS = {"\ufe0e", "\ufe0f"}

EMOJI_WORDS: dict[str, str] = {
    # anger, frustration
    "😡": "wütend",
    "😠": "verärgert",
    "🤬": "fluchen",
    "👿": "wütend",
    "💢": "ärger",
    "😤": "frustriert",
    "🙄": "genervt",
    "😒": "genervt",
    "😑": "genervt",
    "😐": "neutral",
    "😶": "sprachlos",
    "🤦": "facepalm",
    "🤷": "ratlos",
    "🖕": "beleidigung",
    "💩": "mist",
    "🤮": "eklig",
    "🤢": "eklig",
    "👎": "schlecht",
    "💔": "enttäuscht",
    # sadness, worry
    "😢": "traurig",
    "😭": "weinen",
    "😞": "enttäuscht",
    "😔": "enttäuscht",
    "☹": "traurig",
    "🙁": "traurig",
    "😕": "verwirrt",
    "😟": "besorgt",
    "😩": "erschöpft",
    "😫": "erschöpft",
    "😱": "schockiert",
    "😬": "peinlich",
    "🥺": "bitte",
    "😴": "langweilig",
    "🥱": "langweilig",
    "🤔": "nachdenklich",
    "⏳": "warten",
    "⌛": "warten",
    "🐌": "langsam",
    "🚫": "verboten",
    "❌": "falsch",
    "⚠": "warnung",
    "🆘": "hilfe",
    # joy, praise
    "😀": "fröhlich",
    "😃": "fröhlich",
    "😄": "fröhlich",
    "😁": "fröhlich",
    "😊": "freundlich",
    "🙂": "freundlich",
    "😉": "zwinkern",
    "😍": "begeistert",
    "🥰": "liebe",
    "😘": "kuss",
    "🤩": "begeistert",
    "🥳": "feiern",
    "🎉": "feiern",
    "🎊": "feiern",
    "😂": "lachen",
    "🤣": "lachen",
    "😆": "lachen",
    "😅": "erleichtert",
    "😇": "brav",
    "😎": "cool",
    "🤗": "umarmung",
    "👍": "gut",
    "👌": "okay",
    "👏": "applaus",
    "🙌": "jubel",
    "🙏": "danke",
    "💪": "stark",
    "✌": "frieden",
    "❤": "liebe",
    "🧡": "liebe",
    "💛": "liebe",
    "💚": "liebe",
    "💙": "liebe",
    "💜": "liebe",
    "🖤": "liebe",
    "💕": "liebe",
    "💖": "liebe",
    "😻": "begeistert",
    "⭐": "stern",
    "🌟": "stern",
    "✨": "toll",
    "🔥": "klasse",
    "💯": "perfekt",
    "✅": "erledigt",
    "✔": "erledigt",
    "🏆": "sieger",
    # business things
    "📦": "paket",
    "🚚": "lieferung",
    "🚛": "lieferung",
    "🚀": "schnell",
    "💶": "geld",
    "💰": "geld",
    "💸": "teuer",
    "💳": "karte",
    "🧾": "rechnung",
    "📱": "handy",
    "💻": "computer",
    "📧": "mail",
    "📞": "telefon",
    "☎": "telefon",
    "🏪": "filiale",
    "🛒": "einkauf",
    "🛍": "einkauf",
    "🚆": "zug",
    "🚄": "zug",
    "🚂": "zug",
    "🚌": "bus",
    "✈": "flug",
    "🔧": "reparatur",
    "🐛": "fehler",
    "🤡": "clown",
}


def base_emoji(emoji: str) -> str:
    """``emoji`` without skin-tone modifiers and variation selectors (ZWJ sequences keep their first part)."""
    first = emoji.split("\u200d", 1)[0]
    return "".join(ch for ch in first if ch not in _SKIN_TONES and ch not in _VARIATION_SELECTORS)


def emoji_word(emoji: str) -> str | None:
    """The German word for ``emoji`` (e.g. ``"😡"`` -> ``"wütend"``), or None if it is not in the lexicon."""
    return EMOJI_WORDS.get(emoji) or EMOJI_WORDS.get(base_emoji(emoji))
