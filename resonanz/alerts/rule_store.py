"""Rules changed in the web app: what differs from the layer below (shipped defaults + the TOML file) is kept
in ``alert_rule_override``, so that a later change in the TOML file still reaches every value nobody changed
in the web app. A change is validated as a whole rule before it is stored."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from sqlmodel import Session, col, select

from resonanz.alerts.evaluate import rule_layers
from resonanz.alerts.rules import Rule, apply_override, build_rules
from resonanz.core.errors import NotFoundError
from resonanz.core.settings import Settings
from store.models import AlertRuleOverride
from store.types import utcnow

log = logging.getLogger(__name__)


def _below_web(session: Session, settings: Settings) -> dict[str, Rule]:
    layers = [layer for layer in rule_layers(session, settings) if layer[0] != "Web-App"]
    return {r.name: r for r in build_rules(layers)}


def save_override(session: Session, settings: Settings, name: str, form: Mapping[str, Any], actor: str) -> Rule:
    """Store what ``form`` (``enabled``, ``severity`` and parameters as text) changes in rule ``name``."""
    base = _below_web(session, settings).get(name)
    if base is None:
        raise NotFoundError(f"Regel {name} gibt es nicht; die Regeln stehen unter /alerts/rules.")
    wanted = apply_override(base, dict(form), "Web-App")  # validates every value
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(base.params):
        new = getattr(wanted.params, f.name)
        if new != getattr(base.params, f.name):
            changes[f.name] = list(new) if isinstance(new, tuple) else new
    row = session.exec(select(AlertRuleOverride).where(col(AlertRuleOverride.name) == name)).first()
    if row is None:
        row = AlertRuleOverride(name=name)
    row.enabled = wanted.enabled if wanted.enabled != base.enabled else None
    if wanted.severity != base.severity:
        changes["severity"] = wanted.severity
    row.params = changes
    row.updated_by = actor
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    rules = {r.name: r for r in build_rules(rule_layers(session, settings))}
    log.info("alert rule %s changed by %s: %s", name, actor, changes or "back to the file's values")
    return rules[name]


def reset_override(session: Session, name: str) -> bool:
    """Forget the web app's changes to ``name``; True if there were any."""
    row = session.exec(select(AlertRuleOverride).where(col(AlertRuleOverride.name) == name)).first()
    if row is None:
        return False
    session.delete(row)
    return True


def form_values(rule: Rule) -> dict[str, str]:
    """The rule's parameters as form text (lists comma-separated)."""
    out = {}
    for key, value in rule.param_dict().items():
        out[key] = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return out
