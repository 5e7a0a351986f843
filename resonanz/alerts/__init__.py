"""Alerts: rules weighted by who is speaking, evaluated after every collection, sent by e-mail and webhooks.

``rules`` (value objects and defaults) -> ``posts``/``aggregate`` (what the store holds, hourly) ->
``baseline``/``signals`` (pure statistics) -> ``detect`` (findings) -> ``incidents`` (one alert per
incident, audit trail) -> ``notify``/``shapes`` (outbox, e-mail, webhooks). ``evaluate`` runs one pass;
``job`` is what ``resonanz run`` schedules.
"""

from resonanz.alerts.evaluate import EvaluationReport, evaluate, load_rules
from resonanz.alerts.notify import dispatch

__all__ = ["EvaluationReport", "dispatch", "evaluate", "load_rules"]
