"""The ``resonanz`` command line. Sub-commands live in ``resonanz/cli/<area>.py``, one module per area."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from typer import rich_utils
from typer.core import TyperGroup

from resonanz.cli.common import fail
from resonanz.core import i18n
from resonanz.core.i18n import N_, gettext
from resonanz.core.settings import ConfigError, get_settings

HELP_FRAME: dict[str, str] = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "REQUIRED_LONG_STRING": N_("[required]"),
}
"""Typer's own words around the help texts (module constants of :mod:`typer.rich_utils`), English msgids."""
HELP_OPTION = N_("Show this message and exit.")


def configured_language() -> str:
    """``settings.language``; with a broken configuration the default (the callback then reports the error)."""
    try:
        return get_settings().language
    except ConfigError:
        return i18n.DEFAULT_LANGUAGE


def localise_help(command: Any) -> None:
    """Translate the help texts of ``command`` and every sub-command in place (current language).

    Typer builds a fresh command tree from the registered commands on every call, so the English msgids
    (``help=N_(...)``) are still there to translate; texts not in the catalogue stay as they are. (Typer
    vendors its own click, ``typer._click``: the tree is walked by attribute, not by click's classes.)"""
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if text:
            setattr(command, attr, gettext(text))
    for param in command.params:
        text = getattr(param, "help", None)
        if text:
            param.help = gettext(text)
    help_option = command.get_help_option(command.context_class(command, **command.context_settings))
    if help_option is not None:
        help_option.help = gettext(HELP_OPTION)
    for sub in getattr(command, "commands", {}).values():
        localise_help(sub)


class LocalisedGroup(TyperGroup):
    """The root command: help texts (and typer's panel titles) in the configured language, German by default.

    Help is printed while the arguments are parsed, before :func:`main` below (``resonanz --help`` never
    runs it), so the language is set here, when the command starts."""

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> Any:
        i18n.set_language(configured_language())
        for name, msgid in HELP_FRAME.items():
            setattr(rich_utils, name, gettext(msgid))
        localise_help(self)
        return super().main(args=args, prog_name=prog_name, **extra)


app = typer.Typer(
    name="resonanz",
    cls=LocalisedGroup,
    help=N_("German-first social listening, weighted by who is speaking."),
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help=N_("Debug logging."))) -> None:
    try:
        settings = get_settings()
    except ConfigError as exc:  # a broken resonanz.toml or value: one clear line, not a traceback
        raise fail(exc) from None
    i18n.set_language(settings.language)  # texts and numbers of every command (RESONANZ_LANGUAGE)
    level = "DEBUG" if verbose else settings.log_level
    # Logs go to stderr so that `--format json|csv` output on stdout stays clean.
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])
    if not verbose:  # libraries that narrate every step at INFO
        for noisy in ("alembic", "httpx", "httpcore", "apscheduler.scheduler", "spacy"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _register() -> None:
    """Attach each area's commands. Each module exposes ``register(app)``."""
    from resonanz.cli import (
        alerts,
        answers,
        backfill,
        brand,
        collect,
        competitors,
        demo,
        link,
        nlp,
        rollups,
        search,
        store,
        train,
        workers,
    )

    for area in (store, collect, nlp, train, link, brand, answers, competitors, search, alerts, demo, workers):
        area.register(app)
    rollups.register(app)  # `resonanz db rebuild-rollups`
    backfill.register(app)  # `resonanz backfill` (Ray, the optional `cluster` extra)


_register()
