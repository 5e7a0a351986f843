"""The ``resonanz`` command line. Sub-commands live in ``resonanz/cli/<area>.py``, one module per area."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.logging import RichHandler

from resonanz.core.settings import get_settings

app = typer.Typer(
    name="resonanz",
    help="German-first social listening, weighted by who is speaking.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    level = "DEBUG" if verbose else get_settings().log_level
    # Logs go to stderr so that `--format json|csv` output on stdout stays clean.
    handler = RichHandler(console=Console(stderr=True), show_path=False, rich_tracebacks=False)
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler])
    if not verbose:  # libraries that narrate every step at INFO
        for noisy in ("alembic", "httpx", "httpcore", "apscheduler.scheduler", "spacy"):
            logging.getLogger(noisy).setLevel(logging.WARNING)


def _register() -> None:
    """Attach each area's commands. Each module exposes ``register(app)``."""
    from resonanz.cli import answers, brand, collect, demo, link, nlp, store, train

    for area in (store, collect, nlp, train, link, brand, answers, demo):
        area.register(app)


_register()
