"""The digest's Jinja2 environment (autoescaped: post texts are untrusted)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

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
    )
    env.filters["safe_url"] = safe_url
    return env


def render_template(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
