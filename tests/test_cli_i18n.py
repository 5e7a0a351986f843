"""The command line in German by default and in English with ``RESONANZ_LANGUAGE=en`` (issue 17): help texts of
``resonanz`` and its sub-commands, typer's own words around them, and a command's output, all from the catalogue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core import i18n
from resonanz.core.settings import reset_settings_cache

BOX = str.maketrans(dict.fromkeys("│╭╮╰╯─", " "))


@pytest.fixture(autouse=True)
def _restore_language() -> Iterator[None]:
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)  # a command sets the process language; later tests expect German


def _german(msgid: str) -> str:
    with i18n.language("de"):
        return i18n.gettext(msgid)


def _invoke(args: list[str], monkeypatch: pytest.MonkeyPatch, lang: str | None) -> str:
    if lang is None:
        monkeypatch.delenv("RESONANZ_LANGUAGE", raising=False)
    else:
        monkeypatch.setenv("RESONANZ_LANGUAGE", lang)
    reset_settings_cache()
    result = CliRunner().invoke(app, args, terminal_width=400)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.translate(BOX).split())  # rich wraps, pads and draws panels; compare words


ROOT_TEXTS = (
    "German-first social listening, weighted by who is speaking.",  # the app's help
    "Show the database location and what it holds.",  # a sub-command in the list
    "Show this message and exit.",  # click's --help option
    "Commands",  # typer's panel title
)
IMPORT_TEXTS = (
    "Import posts and comments from a CSV or JSON-lines export, or with --from from a Brandwatch or Talkwalker export.",
    "File encoding, e.g. cp1252 for Excel exports.",  # a shared option
    "[required]",
    "Options",
)


@pytest.mark.parametrize(("args", "texts"), [(["--help"], ROOT_TEXTS), (["import", "posts", "--help"], IMPORT_TEXTS)])
def test_help_is_german_by_default_and_english_when_set(
    args: list[str], texts: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    german = _invoke(args, monkeypatch, None)
    english = _invoke(args, monkeypatch, "en")
    for msgid in texts:
        translated = _german(msgid)
        assert translated != msgid  # the catalogue has it
        assert translated in german and msgid not in german
        assert msgid in english and translated not in english
    assert _invoke(args, monkeypatch, "de") == german  # and back: the tree is translated anew on every call


def test_every_help_text_of_the_commands_has_a_german_translation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walks the whole command tree, as ``resonanz ... --help`` shows it, and collects texts left in English."""
    tree = typer.main.get_command(app)
    english: set[str] = set()

    seen: set[str] = set()

    def walk(command: object, path: str) -> None:
        for text in (getattr(command, "help", None), *(getattr(p, "help", None) for p in command.params)):  # type: ignore[attr-defined]
            seen.add(f"{path}: {text}")
            if text and _german(text) == text:
                english.add(f"{path}: {text}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(tree, "resonanz")
    assert len(seen) > 150  # the walk reached the sub-commands and their options
    assert sorted(english) == []


def test_help_texts_written_out_name_every_choice() -> None:
    """Help texts are catalogue entries, so lists in them are written out; they must not fall behind the code."""
    from collectors import platforms
    from resonanz.cli.brand import add_command
    from resonanz.cli.collect import PLATFORM_HELP
    from resonanz.pipeline.brand import KINDS

    assert all(p in PLATFORM_HELP for p in platforms())
    kind_help = typer.main.get_command(app).commands["brand"].commands["add"].params[0].help  # type: ignore[attr-defined]
    assert add_command is not None and all(k in str(kind_help) for k in KINDS)


@pytest.mark.parametrize("args", [["search", "--help"], ["alerts", "list", "--help"], ["brand", "--help"]])
def test_help_once_german_only_is_english_when_set(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    english = _invoke(args, monkeypatch, "en")
    german = _invoke(args, monkeypatch, None)
    for word in ("Mehrfach", "Standard:", "Einträge", "Alarme"):
        assert word not in english
    assert english != german


def test_a_command_prints_in_the_configured_language(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    german = _invoke(["status"], monkeypatch, None)
    english = _invoke(["status"], monkeypatch, "en")
    for msgid in ("What is in the store", "posts and comments", "customer values"):
        assert _german(msgid) in german and msgid not in german
        assert msgid in english
    assert german.startswith(_german("database: {url}").format(url=db_url))
    assert english.startswith(f"database: {db_url}")


def test_errors_say_fehler_in_german_and_error_in_english(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    for lang, word in ((None, "Fehler:"), ("en", "Error:")):
        if lang:
            monkeypatch.setenv("RESONANZ_LANGUAGE", lang)
        reset_settings_cache()
        result = CliRunner().invoke(app, ["links", "export", "--format", "xml"])
        assert result.exit_code == 2
        msgid = "unknown format {format!r}; use --format csv or --format json"
        expected = (msgid if lang else _german(msgid)).format(format="xml")
        assert word in result.output and expected in " ".join(result.output.split())
