"""Flags: why a post needs a human, with a severity from 0 (informational) to 5 (act now).

Three sources: the sentiment model (strongly negative posts), the offensive-language classifier,
and keyword/pattern rules from a TOML file (the packaged ``flags_default.toml`` unless a path is
given: churn intent, complaints, legal threats, safety, data breaches, abusive words). Every flag
carries a reason for the community manager and the evidence that triggered it.

The reasons this package writes (the classifier heads', the two threshold flags', the packaged rules') are
German sentences with a stable code, the flag's name (:func:`reason_code`); the stored form carries the code, so
an application can show the reason in another language. A reason from a user's own flags file has no code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from nlp.errors import RuleConfigError
from nlp.flag_model import REASON, SUPERSEDED_RULES
from nlp.preprocess import Prepared
from nlp.rules import Rule, load_toml, require

log = logging.getLogger(__name__)

DEFAULT_FILE = "flags_default.toml"
NEGATIVE = "strongly_negative"
OFFENSIVE = "offensive"
NEGATIVE_REASON = "Stark negativer Beitrag"
OFFENSIVE_REASON = "Beleidigende oder ausfallende Sprache"


@dataclass(frozen=True)
class Flag:
    name: str
    severity: int
    reason: str
    evidence: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stored/JSON form: ``{"flag", "severity", "reason", "evidence", "code"}`` (``code``: see
        :func:`reason_code`)."""
        out = asdict(self)
        return {"flag": out.pop("name"), **out, "code": reason_code(self.name, self.reason)}


@lru_cache(maxsize=1)
def packaged_reasons() -> dict[str, str]:
    """Flag name -> the reason this package writes for it (heads, thresholds, the packaged rules file)."""
    rules = {rule.name: rule.reason for rule in FlagRules.load().rules}
    return {**rules, **REASON, NEGATIVE: NEGATIVE_REASON, OFFENSIVE: OFFENSIVE_REASON}


def reason_code(name: str, reason: str) -> str | None:
    """The stable code of a reason this package wrote (the flag's name), None for a reason someone else wrote
    (a user's flags file, a person's correction)."""
    return name if packaged_reasons().get(name) == reason else None


@dataclass
class FlagRule:
    name: str
    severity: int
    reason: str
    rule: Rule


@dataclass
class Threshold:
    threshold: float
    severity: int
    high_threshold: float
    high_severity: int

    def severity_for(self, p: float) -> int | None:
        if p >= self.high_threshold:
            return self.high_severity
        if p >= self.threshold:
            return self.severity
        return None


def _severity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 5:
        raise RuleConfigError(f"{where}: severity must be an integer from 0 to 5, got {value!r}.")
    return value


def _threshold(data: dict[str, Any], section: str, default: Threshold, high_key: str, origin: str) -> Threshold:
    entry = data.get(section)
    if entry is None:
        return default
    if not isinstance(entry, dict):
        raise RuleConfigError(f"{origin}: [{section}] must be a table.")
    where = f"{origin}, [{section}]"
    out = Threshold(
        threshold=float(entry.get("threshold", default.threshold)),
        severity=_severity(entry.get("severity", default.severity), where),
        high_threshold=float(entry.get(f"{high_key}_threshold", default.high_threshold)),
        high_severity=_severity(entry.get(f"{high_key}_severity", default.high_severity), where),
    )
    for p in (out.threshold, out.high_threshold):
        if not 0.0 <= p <= 1.0:
            raise RuleConfigError(f"{where}: thresholds are probabilities between 0 and 1, got {p}.")
    return out


@dataclass
class FlagRules:
    negative: Threshold = field(default_factory=lambda: Threshold(0.85, 2, 0.95, 3))
    offensive: Threshold = field(default_factory=lambda: Threshold(0.5, 3, 0.85, 4))
    rules: list[FlagRule] = field(default_factory=list)
    origin: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> FlagRules:
        """Read a flags TOML (``None``: the packaged default)."""
        data, origin = load_toml(path, DEFAULT_FILE)
        base = cls()
        rules: list[FlagRule] = []
        for n, entry in enumerate(data.get("flag", []), 1):
            where = f"{origin}, flag #{n}"
            name = require(entry, "name", str, where)
            rules.append(
                FlagRule(
                    name=name,
                    severity=_severity(entry.get("severity", 1), f"{origin}, flag {name!r}"),
                    reason=str(entry.get("reason", name)),
                    rule=Rule.from_config(entry, f"{origin}, flag {name!r}"),
                )
            )
        return cls(
            negative=_threshold(data, "negative", base.negative, "strong", origin),
            offensive=_threshold(data, "offensive", base.offensive, "high", origin),
            rules=rules,
            origin=origin,
        )

    def rule_hits(self, post: Prepared) -> dict[str, list[str]]:
        """Every rule that matches ``post``, with its evidence (features for :mod:`nlp.flag_model`)."""
        hits: dict[str, list[str]] = {}
        for rule in self.rules:
            evidence = rule.rule.match(post)
            if evidence:
                hits[rule.name] = evidence[:5]
        return hits

    def evaluate(
        self,
        post: Prepared,
        p_negative: float | None = None,
        p_offensive: float | None = None,
        model: Sequence[Flag] | None = None,
    ) -> list[Flag]:
        """The flags of one post, most severe first.

        ``model``: the flags the classifier heads gave this post (:mod:`nlp.flag_model`). With them, the
        heads decide churn, complaint and offensive language (the keyword rules for those were their
        features, and the offensive threshold flag is left to the offensive head); the other rules
        (legal, safety, data breach, a user's own) and the strongly-negative flag stay as they are.
        """
        flags: list[Flag] = []
        if p_negative is not None:
            severity = self.negative.severity_for(p_negative)
            if severity is not None:
                flags.append(Flag(NEGATIVE, severity, NEGATIVE_REASON, [f"p_negative {p_negative:.2f}"]))
        if p_offensive is not None and model is None:
            severity = self.offensive.severity_for(p_offensive)
            if severity is not None:
                flags.append(Flag(OFFENSIVE, severity, OFFENSIVE_REASON, [f"p_offensive {p_offensive:.2f}"]))
        for rule in self.rules:
            if model is not None and rule.name in SUPERSEDED_RULES:
                continue
            evidence = rule.rule.match(post)
            if evidence:
                flags.append(Flag(rule.name, rule.severity, rule.reason, evidence[:5]))
        if model is not None:
            flags.extend(model)
        flags.sort(key=lambda f: -f.severity)
        return flags


def max_severity(flags: list[Flag]) -> int:
    return max((f.severity for f in flags), default=0)
