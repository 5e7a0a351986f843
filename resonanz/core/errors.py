"""Exceptions of the answers area (ask, review queue, web, digest). Messages say what to do."""

from __future__ import annotations


class AnswersError(Exception):
    """Base class for errors of ``resonanz ask``, the web app and the digest."""


class InvalidFilterError(AnswersError, ValueError):
    """A filter value (period, class, week ...) cannot be understood."""


class NotFoundError(AnswersError, LookupError):
    """A review item, digest, user or link does not exist."""


class ActionError(AnswersError):
    """A queue action is not allowed in the item's current state."""


class UserError(AnswersError):
    """A user cannot be created or changed (duplicate name, unknown role, weak password)."""


class DigestError(AnswersError):
    """The weekly digest cannot be built."""


class MailError(AnswersError):
    """The digest cannot be sent (SMTP refused, unreachable, login failed)."""


class AlertError(AnswersError):
    """Alerts cannot be evaluated, changed or sent."""


class AlertRuleError(AlertError, ValueError):
    """An alert rule (shipped default, ``[alerts.rules]`` in the TOML file or the web app) is invalid."""


class NotifyError(AlertError):
    """An alert could not be delivered (SMTP or a webhook refused, unreachable, or misconfigured)."""
