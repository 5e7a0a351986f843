"""The digest's Jinja2 environment (autoescaped: post texts are untrusted), translated like the web pages.

Texts are in ``{% trans %}``/``_()`` (resonanz/core/i18n.py); the digest is rendered in the language that is
current while it is built (``settings.language``, see :func:`resonanz.digest.builder.build_digest`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from resonanz.answers.format import TEMPLATE_FILTERS
from resonanz.core import i18n

TEMPLATES = Path(__file__).parent / "templates"


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are rendered; anything else (``javascript:`` ...) is dropped."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(TEMPLATE_FILTERS, safe_url=safe_url)
    env.globals.update(language=i18n.current_language)
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
