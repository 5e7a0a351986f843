"""A ``[section]`` of resonanz.toml named in a help text shows up in ``--help``, in German and in English.

Typer renders help texts as rich markup, where ``[workers]`` is a style tag and vanishes ("( mode = ..."); such a
text writes ``\\[workers]``. This walks every command, renders its ``--help`` in both languages and looks for each
bracketed name of its help texts (the command's and its options'), as the source or the catalogue writes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core import i18n
from resonanz.core.settings import reset_settings_cache

BOX = str.maketrans(dict.fromkeys("│╭╮╰╯─", " "))
SECTION = re.compile(r"\\?\[([A-Za-z0-9_.\-]+)\]")
"""A TOML table name in brackets (``[workers]``, ``[alerts.rules]``), escaped for rich or not."""


@dataclass(frozen=True)
class Page:
    args: tuple[str, ...]
    texts: tuple[str, ...]
    """The msgids of the command's help and of its visible parameters' help."""


def _pages() -> list[Page]:
    pages: list[Page] = []

    def walk(command: Any, args: tuple[str, ...]) -> None:  # typer's own click, typed loosely
        texts = [command.help or ""]
        texts += [getattr(p, "help", None) or "" for p in command.params if not getattr(p, "hidden", False)]
        pages.append(Page(args=(*args, "--help"), texts=tuple(t for t in texts if t)))
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk(sub, (*args, name))

    walk(typer.main.get_command(app), ())
    return pages


def _sections(text: str) -> list[str]:
    return [f"[{name}]" for name in SECTION.findall(text)]


def _render(args: tuple[str, ...], lang: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RESONANZ_LANGUAGE", lang)
    reset_settings_cache()
    result = CliRunner().invoke(app, list(args), terminal_width=400)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.translate(BOX).split())


def test_the_walk_finds_the_help_texts_with_sections() -> None:
    pages = {" ".join(p.args): p for p in _pages()}
    assert len(pages) > 40  # every command, not just the root
    with_sections = {args for args, page in pages.items() if any(_sections(t) for t in page.texts)}
    assert {"worker --help", "alerts rules --help"} <= with_sections


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_section_named_in_a_help_text_is_shown(lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    missing: list[str] = []
    for page in _pages():
        with i18n.language(lang):
            wanted = [s for text in page.texts for s in _sections(i18n.gettext(text))]
        output = _render(page.args, lang, monkeypatch)
        # as often as the texts name it: a section in the command's help must not hide one lost in an option's
        missing += [f"resonanz {' '.join(page.args)}: {s}" for s in set(wanted) if output.count(s) < wanted.count(s)]
    assert missing == []
