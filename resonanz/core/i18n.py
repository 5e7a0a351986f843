"""The interface language: gettext catalogues (Babel) and German/English number, currency and date formats.

Source texts are English msgids (standard gettext); ``resonanz/locale/de/LC_MESSAGES/messages.po`` holds the
German translations and is read at run time (no compiled ``.mo`` in the repository): ``read_po`` ->
``write_mo`` into memory -> :class:`babel.support.Translations`, once per process. ``make messages``
refreshes the catalogue from the sources (``babel.cfg``).

The language is ``settings.language`` (``RESONANZ_LANGUAGE``; ``de`` by default, ``en``). Entry points set
it for the process (:func:`set_language`: the CLI) or for one piece of work (:func:`language`: a web request,
a digest, an alert message); :func:`gettext` and the formatters read :func:`current_language` at call time.
Times are shown in Europe/Berlin with their zone (``24.11.2026, 09:15 MEZ``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date as date_type
from datetime import datetime as datetime_type
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path
from typing import Final, TypeVar

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

from resonanz.core.periods import zone
from resonanz.core.settings import ConfigError

LANGUAGES: Final = ("de", "en")
DEFAULT_LANGUAGE: Final = "de"
DOMAIN: Final = "messages"
LOCALE_DIR: Final = Path(__file__).resolve().parent.parent / "locale"
TIME_ZONE: Final = "Europe/Berlin"
FORMAT_LOCALES: Final = {"de": "de_DE", "en": "en_GB"}
"""Number and date conventions per language: English texts with European dates (24/11/2026) and CET/CEST."""
DATE_PATTERNS: Final = {"de": "dd.MM.yyyy", "en": "dd/MM/yyyy"}
MISSING: Final = "–"
"""Shown for a number that does not exist (no posts, no previous period)."""
_SPACES: Final = str.maketrans({"\u00a0": " ", "\u202f": " "})
"""CLDR's no-break spaces (``42\u00a0%``) as plain spaces, like every other text of Resonanz (``42 %``)."""

K = TypeVar("K")

_language: ContextVar[str | None] = ContextVar("resonanz_language", default=None)
_process_language = DEFAULT_LANGUAGE


def check_language(value: str) -> str:
    """``de``/``en`` (also ``de_DE``, ``en-GB`` ...); anything else is a :class:`ConfigError`."""
    code = value.strip().replace("-", "_").split("_")[0].lower()
    if code not in LANGUAGES:
        raise ConfigError(
            f"Die Sprache {value!r} gibt es nicht; erlaubt sind {' und '.join(LANGUAGES)} "
            "(RESONANZ_LANGUAGE oder language = ... in resonanz.toml)."
        )
    return code


def set_language(value: str) -> None:
    """The language of this process (an entry point's setting; :func:`language` overrides it for a while)."""
    global _process_language
    _process_language = check_language(value)


def current_language() -> str:
    return _language.get() or _process_language


@contextmanager
def language(value: str) -> Iterator[str]:
    """Texts and formats in ``value`` within the block (this thread/task only)."""
    token = _language.set(check_language(value))
    try:
        yield current_language()
    finally:
        _language.reset(token)


def use_language(value: str) -> None:
    """Set the language of the current context (e.g. one web request) without a block to close."""
    _language.set(check_language(value))


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> NullTranslations:
    """The catalogue of ``lang`` (English: the msgids themselves). Fuzzy entries are left out."""
    if lang == "en":
        return NullTranslations()
    path = catalogue_path(lang)
    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
    except OSError as exc:
        raise ConfigError(
            f"Der Sprachkatalog {path} fehlt oder ist nicht lesbar ({exc}); Resonanz neu installieren "
            "(pip install -e .) oder RESONANZ_LANGUAGE=en setzen."
        ) from exc
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


def gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a constant for extraction; it is translated where it is shown (``_(CONSTANT)``)."""
    return message


class TranslatedNames(Mapping[K, str]):
    """Display names of codes (``{1: N_("notice")}``) that come out in the current language on every lookup.

    A drop-in for a plain ``dict`` of names: ``NAMES[code]``, ``NAMES.get(code, code)``, ``NAMES.items()`` (a
    template's ``<select>``) and the keys (``", ".join(NAMES)``) work as before; only the values are translated
    where they are shown, never when the module is imported.
    """

    def __init__(self, names: Mapping[K, str]) -> None:
        self._names = dict(names)

    def __getitem__(self, key: K) -> str:
        return gettext(self._names[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def msgid(self, key: K) -> str:
        """The English source text (for logs and stored data, which stay language-neutral)."""
        return self._names[key]


# --- formats ------------------------------------------------------------------------------------------------


def _locale() -> str:
    return FORMAT_LOCALES[current_language()]


def number(value: float | None, digits: int = 0) -> str:
    """``1.234,5`` (de) / ``1,234.5`` (en), with exactly ``digits`` decimals."""
    if value is None or math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞"
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_locale())


def compact(value: float | None, max_digits: int = 2) -> str:
    """Like ``%g``: as many decimals as needed, at most ``max_digits`` (``2,5``, ``5``)."""
    if value is None or math.isnan(value):
        return MISSING
    return format_decimal(value, format="#,##0." + "#" * max_digits, locale=_locale())


def signed(value: float | None, digits: int = 2) -> str:
    """A net sentiment: ``+0,12`` / ``-0,40``."""
    if value is None or math.isnan(value):
        return MISSING
    body = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=f"+{body};-{body}", locale=_locale())


def percent(value: float | None, digits: int = 0) -> str:
    """A share: ``42 %`` (de) / ``42%`` (en)."""
    if value is None or math.isnan(value):
        return MISSING
    pattern = Locale.parse(_locale()).percent_formats[None].pattern
    if digits > 0:
        pattern = pattern.replace("0", "0." + "0" * digits, 1) if "." not in pattern else pattern
    return format_percent(value, format=pattern, locale=_locale()).translate(_SPACES)


def currency(value: float | None, digits: int = 0, code: str = "EUR") -> str:
    """Money: ``855.578,81 €`` (de, ``digits=2``) / ``€855,578.81`` (en)."""
    if value is None or math.isnan(value):
        return MISSING
    pattern = Locale.parse(_locale()).currency_formats["standard"].pattern.split(";")[0]
    head, _dot, tail = pattern.partition(".")
    if _dot:  # "#,##0.00 ¤" -> the wanted decimals, the symbol and spacing kept
        tail = tail.lstrip("0")
        pattern = head + ("." + "0" * digits if digits > 0 else "") + tail
    return format_currency(value, code, format=pattern, locale=_locale(), currency_digits=False).translate(_SPACES)


def date(value: date_type | datetime_type | None) -> str:
    """``24.11.2026`` (de) / ``24/11/2026`` (en); a datetime is taken in Europe/Berlin first."""
    if value is None:
        return MISSING
    if isinstance(value, datetime_type):
        value = value.astimezone(zone(TIME_ZONE)) if value.tzinfo else value
        value = value.date()
    return format_date(value, DATE_PATTERNS[current_language()], locale=_locale())


def datetime(value: datetime_type | None, *, with_zone: bool = True, tz: str = TIME_ZONE) -> str:
    """``24.11.2026, 09:15 MEZ`` (de) / ``24/11/2026, 09:15 CET`` (en), in ``tz`` (naive = UTC)."""
    if value is None:
        return MISSING
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone("UTC"))
    pattern = DATE_PATTERNS[current_language()] + ", HH:mm" + (" zzz" if with_zone else "")
    return format_datetime(value, pattern, tzinfo=zone(tz), locale=_locale()).translate(_SPACES)


def weekday_date(value: datetime_type, tz: str = TIME_ZONE) -> str:
    """``Mo. 16.11.2026`` (de) / ``Mon 16/11/2026`` (en)."""
    local = value.astimezone(zone(tz))
    return format_datetime(local, "EEE " + DATE_PATTERNS[current_language()], tzinfo=zone(tz), locale=_locale())
