"""Exceptions of ``resonanz backfill`` (scoring the stored posts on a Ray cluster). Messages say what to do.

The two that have a twin in the distributed mode subclass it as well, so code that catches the workers'
:class:`~resonanz.workers.errors.NeedsPostgresError` or :class:`~resonanz.workers.errors.ModelMismatchError` also
catches the backfill's."""

from __future__ import annotations

from resonanz.core.errors import AnswersError
from resonanz.core.settings import ConfigError
from resonanz.workers.errors import ModelMismatchError, NeedsPostgresError


class BackfillError(AnswersError):
    """Base class for errors of ``resonanz backfill``."""


class RayMissingError(BackfillError, ConfigError):
    """Ray is not installed (the optional ``cluster`` extra)."""


class ClusterError(BackfillError):
    """The Ray cluster cannot be reached or has too few CPUs for the requested actors."""


class BackfillNeedsPostgresError(BackfillError, NeedsPostgresError):
    """The configured database is SQLite: actors on other processes or machines cannot share it."""


class BackfillModelMismatchError(BackfillError, ModelMismatchError):
    """An actor loaded another model version than the driver planned the ranges for."""


class RangeFailedError(BackfillError):
    """A range could not be scored (a Python error in an actor, or the retries of a dying actor ran out)."""
