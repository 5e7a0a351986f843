"""The ``resonanz`` command line. Sub-commands live in ``resonanz/cli/<area>.py``, one module per area."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler

from resonanz.cli.common import fail
from resonanz.core import i18n
from resonanz.core.settings import ConfigError, get_settings

app = typer.Typer(
    name="resonanz",
    help="German-first social listening, weighted by who is speaking.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
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
    from resonanz.cli import alerts, answers, brand, collect, demo, link, nlp, search, store, train

    for area in (store, collect, nlp, train, link, brand, answers, search, alerts, demo):
        area.register(app)


_register()
