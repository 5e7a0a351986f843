"""Exceptions of the distributed mode (``resonanz worker``). Messages say what to do."""

from __future__ import annotations

from resonanz.core.errors import AnswersError
from resonanz.core.settings import ConfigError


class WorkerError(AnswersError):
    """Base class for errors of ``resonanz worker`` and of ``resonanz run`` in the distributed mode."""


class NeedsPostgresError(WorkerError, ConfigError):
    """Several workers were asked for, but the configured database is not PostgreSQL."""


class QueueSchemaError(WorkerError):
    """The job queue's tables (procrastinate) cannot be installed or do not match the installed version."""


class ModelMismatchError(WorkerError):
    """A scoring job was planned for another model version than the one this worker scores with."""


class SourceBusyError(WorkerError):
    """A collection run of the source is still marked as running; the job is tried again later."""
