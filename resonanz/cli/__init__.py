"""The ``resonanz`` command line: :data:`app` (the entry point), one module per area."""

from resonanz.cli.main import app

__all__ = ["app"]
