"""What the ``resonanz`` command modules share: the one error path and opening the database.

Every command reports a failure the same way: ``Fehler: <message>`` on stderr (the message of the
package's exception says what to do), and an exit code scripts can rely on:

* ``1`` - the work itself failed or was refused (a run failed, a row was rejected, a rule said no);
* ``2`` - the command cannot start: a bad option value, an unreadable file, no database, no model.
"""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import Engine

from resonanz.core.db import engine_from_settings
from resonanz.core.i18n import _
from resonanz.core.settings import ConfigError
from store.errors import StoreError

FAILED = 1
"""Exit code: the work failed or a rule refused it."""
CANNOT_START = 2
"""Exit code: bad usage, configuration, input file, database or model."""

err_console = Console(stderr=True, soft_wrap=True)


def fail(exc: BaseException | str, code: int = CANNOT_START) -> typer.Exit:
    """Print ``Fehler: <exc>`` (English: ``Error:``) on stderr; raise the returned exit (``raise fail(exc) from None``).

    The message is printed as it is (no rich markup: ``[smtp]`` stays). A :class:`ConfigError` (settings,
    database URL) always exits with ``CANNOT_START``, whatever ``code`` the command passes."""
    if isinstance(exc, ConfigError):
        code = CANNOT_START
    label = _("Error:")
    err_console.print(f"[red]{label}[/red] {escape(str(exc))}", highlight=False)  # [abschnitt] stays visible
    return typer.Exit(code=code)


def engine_or_exit() -> Engine:
    """The configured database, or exit 2 with the store's error."""
    try:
        return engine_from_settings()
    except StoreError as exc:
        raise fail(exc) from None
