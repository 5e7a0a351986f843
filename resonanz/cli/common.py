"""Helpers shared by the ``resonanz`` command modules: error exits and opening the database."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.engine import Engine

from resonanz.core.db import engine_from_settings
from store.errors import StoreError


def fail(console: Console, exc: Exception, code: int = 2) -> typer.Exit:
    """Print ``exc`` as an error on ``console``; raise the returned exit."""
    console.print(f"[red]error:[/red] {exc}", highlight=False)
    return typer.Exit(code=code)


def engine_or_exit(console: Console) -> Engine:
    """The configured database, or exit 2 with the store's error."""
    try:
        return engine_from_settings()
    except StoreError as exc:
        raise fail(console, exc) from None
