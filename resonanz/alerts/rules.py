"""Alert rules: typed, validated value objects, the shipped defaults, and how overrides apply.

A rule is one of five kinds, each with its own parameter record:

* ``customer`` -- an A or B customer's churn signal or strong complaint, alerted at once;
* ``spike`` -- volume or negative share of one slice (a topic, a platform, a customer class, or all
  posts) against its own seasonal baseline (:mod:`resonanz.alerts.baseline`);
* ``weighted`` -- value-weighted negative share over a window crossing a threshold;
* ``emerging`` -- a word or hashtag that suddenly many authors use and few used before;
* ``viral`` -- one post whose engagement grows much faster than the platform's usual.

Where a rule comes from, lowest first: :data:`DEFAULT_RULES` (shipped), ``[alerts.rules.<name>]`` in the
TOML file, the web app (table ``alert_rule_override``). Each layer names the rule and gives only what it
changes (``enabled``, ``severity``, ``title`` or any parameter); a name that is not shipped must say its
``kind``. Every layer is validated when the rules are built, so a typo fails with a message that names the
rule and the valid keys rather than being silently ignored.

In the TOML file (``resonanz alerts rules`` shows the result, the web app's /alerts/rules edits it)::

    [alerts]
    email_recipients = ["social@lindenhof.example"]
    quiet_hours = "22:00-07:00"          # Europe/Berlin; kritisch (an A customer leaving) still goes out

    [[alerts.webhooks]]
    url = "https://hooks.slack.com/services/..."
    format = "slack"                     # generic | slack | mattermost | teams
    min_severity = 2

    [alerts.rules.spike_thema_volumen]
    z = 5                                # fewer, surer topic spikes
    windows_hours = [1, 24]

    [alerts.rules.spike_abo]             # a rule of your own: kind is required
    kind = "spike"
    dimension = "topic"
    keys = ["Abo"]
    min_count = 4

Trade-off: one parameter record per kind (rather than a free-form dict) costs a few lines per kind but lets
mypy and the constructor check every threshold, and the web form shows exactly the knobs a kind has.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from nlp.flags import NEGATIVE as STRONGLY_NEGATIVE
from resonanz.core.errors import AlertRuleError
from resonanz.core.i18n import N_, TranslatedNames


class Severity(IntEnum):
    HINWEIS = 1
    WARNUNG = 2
    KRITISCH = 3


SEVERITY_NAMES = TranslatedNames({1: N_("notice"), 2: N_("warning"), 3: N_("critical")})
"""The severities in words, in the current language (German: Hinweis, Warnung, kritisch)."""


class RuleKind(StrEnum):
    CUSTOMER = "customer"
    SPIKE = "spike"
    WEIGHTED = "weighted"
    EMERGING = "emerging"
    VIRAL = "viral"


DIMENSIONS = ("all", "topic", "platform", "class")
METRICS = ("volume", "negative_share")
CLASSES = ("A", "B", "C", "unvalued", "prospect")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,79}$")


def _positive(name: str, value: float, *, allow_zero: bool = False) -> None:
    if value < 0 or (value == 0 and not allow_zero):
        raise AlertRuleError(f"{name} muss größer als 0 sein, nicht {value!r}.")


def _share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise AlertRuleError(f"{name} ist ein Anteil zwischen 0 und 1, nicht {value!r}.")


@dataclass(frozen=True)
class CustomerParams:
    """An A/B customer's post with a churn flag, or a complaint flag with a very negative score."""

    classes: tuple[str, ...] = ("A", "B")
    critical_classes: tuple[str, ...] = ("A",)
    """These classes alert as 'kritisch' (and break quiet hours); the others as 'Warnung'."""
    churn_flags: tuple[str, ...] = ("churn", "legal")
    complaint_flags: tuple[str, ...] = ("complaint", STRONGLY_NEGATIVE)
    min_p_negative: float = 0.9
    """A complaint is 'strong' from this p(negative) on."""
    lookback_hours: float = 72.0
    """Besides the last day's posts, posts stored late (a slow platform, a backfill) raise an alert when they
    are at most this old; older ones raise nothing."""

    def __post_init__(self) -> None:
        for name in (*self.classes, *self.critical_classes):
            if name not in CLASSES:
                raise AlertRuleError(f"Unbekannte Kundenklasse {name!r}; erlaubt: {', '.join(CLASSES)}.")
        if not self.classes:
            raise AlertRuleError("classes darf nicht leer sein (z. B. ['A', 'B']).")
        _share("min_p_negative", self.min_p_negative)
        _positive("lookback_hours", self.lookback_hours)


@dataclass(frozen=True)
class SpikeParams:
    """A slice's count (or negative share) in a recent window against its seasonal baseline."""

    dimension: str = "topic"
    metric: str = "volume"
    windows_hours: tuple[float, ...] = (3.0, 24.0)
    """Each window is tested; a short one catches sudden outages, a long one a backlash that builds over a day."""
    baseline_days: int = 28
    min_baseline_days: int = 7
    """With less history the slice is not tested (a baseline of a few days is mostly noise)."""
    z: float = 4.0
    """Robust z (observed against expected, in units of the slice's own past scatter); see baseline.py."""
    min_count: int = 6
    """volume: posts in the window; negative_share: negative posts in the window."""
    min_ratio: float = 2.0
    """volume only: observed / expected."""
    min_share_ratio: float = 1.5
    min_share_z: float = 3.0
    """volume of a topic, platform or class only: its share of all posts in the window must be this many
    times its usual share, and significantly so (binomial z). A day on which everything is busier (a TV
    mention, a holiday) lifts every slice alike; that is not a topic's spike (a rule on ``all`` reports it)."""
    min_delta: float = 0.25
    """negative_share only: share now minus baseline share."""
    keys: tuple[str, ...] = ()
    """Only these slices (e.g. the classes A and B); empty: every slice of the dimension."""

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise AlertRuleError(f"dimension {self.dimension!r} gibt es nicht; erlaubt: {', '.join(DIMENSIONS)}.")
        if self.metric not in METRICS:
            raise AlertRuleError(f"metric {self.metric!r} gibt es nicht; erlaubt: {', '.join(METRICS)}.")
        if not self.windows_hours:
            raise AlertRuleError("windows_hours braucht mindestens ein Fenster, z. B. [3, 24].")
        for hours in self.windows_hours:
            _positive("windows_hours", hours)
            if hours != int(hours):
                raise AlertRuleError(f"windows_hours sind ganze Stunden (die Basislinie ist stündlich), nicht {hours}.")
            if hours > 168:
                raise AlertRuleError(f"Ein Fenster von {hours} Stunden ist länger als eine Woche; höchstens 168.")
        if self.min_baseline_days < 1 or self.baseline_days < self.min_baseline_days:
            raise AlertRuleError("baseline_days muss mindestens min_baseline_days (>= 1) sein.")
        _positive("z", self.z)
        _positive("min_count", self.min_count)
        _positive("min_ratio", self.min_ratio, allow_zero=True)
        _positive("min_share_ratio", self.min_share_ratio, allow_zero=True)
        _positive("min_share_z", self.min_share_z, allow_zero=True)
        _share("min_delta", self.min_delta)

    @property
    def max_window_hours(self) -> float:
        return max(self.windows_hours)


@dataclass(frozen=True)
class WeightedParams:
    """Value-weighted negative share (sum of weights of negative posts / sum of weights) over a window."""

    window_hours: float = 24.0
    threshold: float = 0.55
    min_weight: float = 15.0
    """Sum of the window's weights (an A customer weighs 5, a prospect 0.5 by default)."""
    min_authors: int = 3
    """Distinct customers (linked authors) in the window: one customer alone is the customer rule's job."""

    def __post_init__(self) -> None:
        _positive("window_hours", self.window_hours)
        _share("threshold", self.threshold)
        _positive("min_weight", self.min_weight, allow_zero=True)
        _positive("min_authors", self.min_authors)


@dataclass(frozen=True)
class EmergingParams:
    """A word or hashtag many authors use now and few used in the days before."""

    window_hours: float = 24.0
    baseline_days: int = 14
    min_authors: int = 6
    growth: float = 5.0
    """authors now >= growth x (baseline authors per day + 1)."""
    min_diversity: float = 0.5
    """The term's latest posts must be this diverse (distinct word triples, resonanz/alerts/signals.py)."""

    def __post_init__(self) -> None:
        _positive("window_hours", self.window_hours)
        _positive("baseline_days", self.baseline_days)
        _positive("min_authors", self.min_authors)
        _positive("growth", self.growth)
        _share("min_diversity", self.min_diversity)


@dataclass(frozen=True)
class ViralParams:
    """A single post's engagement velocity (likes + 2 x reposts + replies per hour since it was posted)."""

    lookback_hours: float = 24.0
    min_engagement: float = 150.0
    min_velocity: float = 20.0
    factor: float = 25.0
    """... and at least this many times the platform's mean engagement per post over the baseline."""
    baseline_days: int = 14

    def __post_init__(self) -> None:
        _positive("lookback_hours", self.lookback_hours)
        _positive("min_engagement", self.min_engagement)
        _positive("min_velocity", self.min_velocity)
        _positive("factor", self.factor, allow_zero=True)
        _positive("baseline_days", self.baseline_days)


Params = CustomerParams | SpikeParams | WeightedParams | EmergingParams | ViralParams
PARAMS_BY_KIND: dict[RuleKind, type[Any]] = {
    RuleKind.CUSTOMER: CustomerParams,
    RuleKind.SPIKE: SpikeParams,
    RuleKind.WEIGHTED: WeightedParams,
    RuleKind.EMERGING: EmergingParams,
    RuleKind.VIRAL: ViralParams,
}
RULE_FIELDS = ("enabled", "severity", "title", "kind")


@dataclass(frozen=True)
class Rule:
    name: str
    kind: RuleKind
    title: str
    params: Params
    enabled: bool = True
    severity: int = Severity.WARNUNG
    """For customer rules the class decides (critical_classes); for the others this is the alert's severity."""
    source: str = "Standard"
    """Where the effective values come from: Standard, TOML, Web-App (shown in the web app)."""

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise AlertRuleError(
                f"Regelname {self.name!r} ungültig: Kleinbuchstaben, Ziffern und _, mit einem Buchstaben am Anfang."
            )
        if not isinstance(self.params, PARAMS_BY_KIND[self.kind]):
            raise AlertRuleError(f"Regel {self.name}: Parameter passen nicht zur Art {self.kind.value}.")
        if self.severity not in (1, 2, 3):
            raise AlertRuleError(f"Regel {self.name}: severity ist 1 (Hinweis), 2 (Warnung) oder 3 (kritisch).")
        if not self.title.strip():
            raise AlertRuleError(f"Regel {self.name}: der Titel darf nicht leer sein.")

    def param_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self.params, f.name)) for f in dataclasses.fields(self.params)}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("kunde_abwanderung", RuleKind.CUSTOMER, "A/B-Kunde droht abzuwandern oder beschwert sich stark",
         CustomerParams(), severity=Severity.KRITISCH),
    Rule("spike_thema_volumen", RuleKind.SPIKE, "Ungewöhnlich viele Beiträge zu einem Thema",
         SpikeParams(dimension="topic", metric="volume")),
    Rule("spike_thema_negativ", RuleKind.SPIKE, "Negativer Anteil eines Themas springt",
         SpikeParams(dimension="topic", metric="negative_share", windows_hours=(6.0, 24.0), min_count=8)),
    Rule("spike_plattform_volumen", RuleKind.SPIKE, "Ungewöhnlich viele Beiträge auf einer Plattform",
         SpikeParams(dimension="platform", metric="volume", min_count=10)),
    Rule("spike_klasse_negativ", RuleKind.SPIKE, "Negativer Anteil einer Kundenklasse springt",
         SpikeParams(dimension="class", metric="negative_share", windows_hours=(24.0,), min_count=5,
                     keys=("A", "B"))),
    Rule("wertgewichtet_negativ", RuleKind.WEIGHTED, "Wertgewichtete Stimmung kippt ins Negative",
         WeightedParams()),
    Rule("neues_thema", RuleKind.EMERGING, "Neues Thema wächst schnell", EmergingParams(),
         severity=Severity.HINWEIS),
    Rule("viraler_beitrag", RuleKind.VIRAL, "Ein Beitrag geht viral", ViralParams()),
)  # fmt: skip


def _coerce(rule: str, key: str, default: Any, value: Any) -> Any:
    """``value`` as the type of the parameter's default (TOML and form values arrive as lists, ints, strings)."""
    where = f"Regel {rule}, {key}"
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "ja", "nein", "1", "0"):
            return value.strip().lower() in ("true", "ja", "1")
        raise AlertRuleError(f"{where}: erwartet wahr/falsch, nicht {value!r}.")
    if isinstance(default, tuple):
        items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise AlertRuleError(f"{where}: erwartet eine Liste, nicht {value!r}.")
        inner = default[0] if default else ""
        return tuple(_coerce(rule, key, inner, v) for v in items if v != "")
    if isinstance(default, int | float) and not isinstance(default, bool):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AlertRuleError(f"{where}: erwartet eine Zahl, nicht {value!r}.") from None
        if isinstance(default, int):
            if number != int(number):
                raise AlertRuleError(f"{where}: erwartet eine ganze Zahl, nicht {value!r}.")
            return int(number)
        return number
    if isinstance(value, str):
        return value.strip()
    raise AlertRuleError(f"{where}: erwartet Text, nicht {value!r}.")


def apply_override(rule: Rule, override: Mapping[str, Any], source: str) -> Rule:
    """``rule`` with the keys of ``override`` changed; unknown keys fail with the valid ones listed."""
    names = {f.name: f for f in dataclasses.fields(rule.params)}
    unknown = sorted(set(override) - set(names) - set(RULE_FIELDS))
    if unknown:
        raise AlertRuleError(
            f"Regel {rule.name} ({source}): unbekannte Einstellung {', '.join(unknown)}; "
            f"erlaubt: {', '.join([*RULE_FIELDS[:3], *names])}."
        )
    if "kind" in override and override["kind"] != rule.kind.value:
        raise AlertRuleError(f"Regel {rule.name} ({source}): die Art {rule.kind.value} lässt sich nicht ändern.")
    changes = {
        key: _coerce(rule.name, key, getattr(rule.params, key), value)
        for key, value in override.items()
        if key in names
    }
    top: dict[str, Any] = {"source": source}
    if "enabled" in override and override["enabled"] is not None:
        top["enabled"] = _coerce(rule.name, "enabled", True, override["enabled"])
    if "severity" in override and override["severity"] is not None:
        top["severity"] = _coerce(rule.name, "severity", 1, override["severity"])
    if "title" in override and override["title"]:
        top["title"] = str(override["title"])
    return dataclasses.replace(rule, params=dataclasses.replace(rule.params, **changes), **top)


def new_rule(name: str, override: Mapping[str, Any], source: str) -> Rule:
    """A rule that is not shipped: ``kind`` is required, everything else starts at that kind's defaults."""
    kind_name = override.get("kind")
    try:
        kind = RuleKind(str(kind_name))
    except ValueError:
        raise AlertRuleError(
            f"Regel {name} ({source}) ist keine Standardregel und braucht kind = "
            f"{' | '.join(k.value for k in RuleKind)}."
        ) from None
    base = Rule(name, kind, str(override.get("title") or name), PARAMS_BY_KIND[kind]())
    return apply_override(base, override, source)


def build_rules(layers: Sequence[tuple[str, Mapping[str, Mapping[str, Any]]]]) -> list[Rule]:
    """The effective rules: the defaults, then each ``(source, {rule name: override})`` layer in order."""
    rules: dict[str, Rule] = {r.name: r for r in DEFAULT_RULES}
    for source, overrides in layers:
        for name, override in overrides.items():
            rules[name] = apply_override(rules[name], override, source) if name in rules else (
                new_rule(name, override, source)
            )  # fmt: skip
    return list(rules.values())


def enabled(rules: Iterable[Rule], kind: RuleKind) -> list[Rule]:
    return [r for r in rules if r.enabled and r.kind == kind]


@dataclass(frozen=True)
class Lookbacks:
    """How far back an evaluation reads posts (the longest window; at least a day), and how much bucket
    history it needs. The customer rule's longer lookback applies only to posts stored late."""

    window_hours: float = 24.0
    baseline_days: int = 28
    late_hours: float = 0.0


def lookbacks(rules: Iterable[Rule]) -> Lookbacks:
    hours = 24.0
    days = 1
    late = 0.0
    for rule in rules:
        if not rule.enabled:
            continue
        p = rule.params
        if isinstance(p, CustomerParams):
            late = max(late, p.lookback_hours)
        elif isinstance(p, SpikeParams):
            hours, days = max(hours, p.max_window_hours), max(days, p.baseline_days)
        elif isinstance(p, WeightedParams):
            hours = max(hours, p.window_hours)
        elif isinstance(p, EmergingParams):
            hours, days = max(hours, p.window_hours), max(days, p.baseline_days)
        elif isinstance(p, ViralParams):
            hours, days = max(hours, p.lookback_hours), max(days, p.baseline_days)
    return Lookbacks(window_hours=hours, baseline_days=days, late_hours=late)
