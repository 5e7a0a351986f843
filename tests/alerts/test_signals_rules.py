"""Per-post signals (text diversity, engagement, term groups) and the rule value objects with their layers."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from resonanz.alerts.rules import (
    DEFAULT_RULES,
    CustomerParams,
    Rule,
    RuleKind,
    SpikeParams,
    apply_override,
    build_rules,
    lookbacks,
)
from resonanz.alerts.signals import (
    engagement,
    group_terms,
    shingles,
    template_share,
    terms,
    text_diversity,
    velocity,
)
from resonanz.core.errors import AlertRuleError


def test_templated_posts_by_hand() -> None:
    assert shingles("Die App ist down") == [("die", "app", "ist"), ("app", "ist", "down")]
    copies = ["Die App ist down!!"] * 4  # each triple is in three other posts
    assert template_share(copies) == 1.0
    assert template_share(copies[:3]) == 0.0  # ... but not with only two others
    assert template_share([*copies, "Meine Bestellung kam heute zum Glück an"]) == 0.8
    assert template_share([]) == 0.0


def test_text_diversity_by_hand() -> None:
    assert text_diversity(["Die App ist down", "die APP ist down!!"]) == 0.5  # 2 distinct of 4 triples
    assert text_diversity(["Lieferung seit 3 Tagen unterwegs", "Lieferung seit 12 Tagen unterwegs"]) == 0.5
    assert text_diversity([]) == 1.0
    assert text_diversity(["a b c", "a b c", "d e f"], sample=1) == 1.0  # only the last text


def test_a_bot_template_is_templated_and_people_are_not() -> None:
    rng = random.Random(3)
    bots = [f"Lindenhof Betrug!!! {rng.randint(3, 99)} Leute krank nach dem Kaffee. Finger weg #Skandal{i}"
            for i in range(30)]  # fmt: skip
    openers = ["Also", "Ehrlich gesagt", "Heute", "Mal ehrlich", "Puh", "Naja"]
    subjects = ["die App", "der Login", "die Bestellung", "mein Konto", "der Shop"]
    preds = ["geht nicht", "zeigt Fehler", "lädt ewig", "ist kaputt", "stürzt ab"]
    vocab = "Kaffee Morgen Büro gerade wieder endlich bitte danke Woche leider Tasse Milch".split()  # noqa: SIM905
    people = [
        f"{rng.choice(openers)}, {rng.choice(subjects)} {rng.choice(preds)}. {' '.join(rng.sample(vocab, 5))}"
        for _ in range(200)
    ]
    assert template_share(bots) == 1.0
    assert template_share(people) < 0.1
    assert text_diversity(bots[:8]) < 0.5 < text_diversity(people[:8])  # a flood's first minutes
    # the first minutes of a flood, mixed with a slice's ordinary posts, are already mostly templated
    assert template_share(bots[:12] + people[:8]) >= 0.5


def test_engagement_and_velocity() -> None:
    assert engagement({"likes": 10, "reposts": 3, "replies": 2}) == 18.0
    assert engagement({"likes": "7", "reposts": None, "replies": "n/a", "views": 10**6}) == 7.0
    assert engagement({"likes": -5, "reposts": float("nan")}) == 0.0
    assert engagement(None) == 0.0
    t = datetime(2026, 11, 16, 8, tzinfo=UTC)
    assert velocity(18.0, t, t + timedelta(hours=2)) == 9.0
    assert velocity(10.0, t, t + timedelta(minutes=2)) == 40.0  # at least 15 minutes of age


def test_terms_and_groups() -> None:
    assert {"bohnengate", "punkte"} <= terms("#Bohnengate: meine Punkte sind weg!")
    groups = group_terms({"bohnengate": {1, 2, 3, 4}, "punkte": {1, 2, 3}, "lieferung": {7, 8}, "dhl": {8, 9}})
    assert groups[0] == ["bohnengate", "punkte"]
    assert sorted(map(sorted, groups[1:])) == [["dhl", "lieferung"]]  # overlap 1/2 >= 0.5
    assert group_terms({"a": {1}, "b": {2}}) == [["a"], ["b"]]


def test_defaults_are_valid_and_named_once() -> None:
    names = [r.name for r in DEFAULT_RULES]
    assert len(names) == len(set(names))
    assert {r.kind for r in DEFAULT_RULES} == set(RuleKind)
    lb = lookbacks(DEFAULT_RULES)
    assert lb.window_hours == 24.0 and lb.baseline_days == 28 and lb.late_hours == 72.0


def test_override_changes_only_what_it_names() -> None:
    rule = next(r for r in DEFAULT_RULES if r.name == "spike_thema_volumen")
    changed = apply_override(rule, {"z": 5, "windows_hours": [1, 6], "enabled": "false"}, "TOML")
    assert isinstance(changed.params, SpikeParams)
    assert changed.params.z == 5.0 and changed.params.windows_hours == (1.0, 6.0)
    assert not changed.enabled and changed.source == "TOML"
    assert changed.params.min_count == rule.params.min_count  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"zz": 3}, "unbekannte Einstellung zz; erlaubt: enabled, severity, title, dimension"),
        ({"z": "hoch"}, "erwartet eine Zahl"),
        ({"windows_hours": [1.5]}, "ganze Stunden"),
        ({"dimension": "stadt"}, "dimension 'stadt' gibt es nicht"),
        ({"kind": "viral"}, "lässt sich nicht ändern"),
        ({"severity": 4}, "severity ist 1"),
        ({"min_delta": 1.5}, "Anteil zwischen 0 und 1"),
    ],
)
def test_invalid_overrides_say_what_to_do(override: dict[str, object], message: str) -> None:
    rule = next(r for r in DEFAULT_RULES if r.name == "spike_thema_volumen")
    with pytest.raises(AlertRuleError, match=message):
        apply_override(rule, override, "TOML")


def test_layers_web_over_toml_and_new_rules_need_a_kind() -> None:
    rules = build_rules([
        ("TOML", {"kunde_abwanderung": {"classes": ["A"]}, "spike_abo": {"kind": "spike", "keys": ["Abo"], "z": 3}}),
        ("Web-App", {"kunde_abwanderung": {"min_p_negative": 0.8}}),
    ])  # fmt: skip
    by_name = {r.name: r for r in rules}
    customer = by_name["kunde_abwanderung"].params
    assert isinstance(customer, CustomerParams)
    assert customer.classes == ("A",) and customer.min_p_negative == 0.8
    assert by_name["kunde_abwanderung"].source == "Web-App"
    assert by_name["spike_abo"].kind == RuleKind.SPIKE and by_name["spike_abo"].params.keys == ("Abo",)  # type: ignore[union-attr]
    with pytest.raises(AlertRuleError, match="braucht kind"):
        build_rules([("TOML", {"meine_regel": {"z": 3}})])
    with pytest.raises(AlertRuleError, match="Kundenklasse 'D'"):
        build_rules([("TOML", {"kunde_abwanderung": {"classes": ["D"]}})])


def test_rule_checks_itself() -> None:
    with pytest.raises(AlertRuleError, match="Regelname"):
        Rule("Große Regel", RuleKind.SPIKE, "x", SpikeParams())
    with pytest.raises(AlertRuleError, match="passen nicht"):
        Rule("regel", RuleKind.VIRAL, "x", SpikeParams())
