"""Topics and flags from the packaged TOML files, and custom rule files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp.errors import RuleConfigError
from nlp.flags import NEGATIVE, OFFENSIVE, FlagRules, max_severity
from nlp.preprocess import prepare_one
from nlp.rules import KeywordSet, compile_keyword
from nlp.topics import TopicModel


def post(text: str):  # type: ignore[no-untyped-def]
    return prepare_one(text, detect_language=False)


def test_keywords_match_lemmas_globs_and_phrases() -> None:
    ks = KeywordSet.compile(["Lieferung", "liefer*", "*paket", "nie wieder", "kündige"])
    hits = {h.keyword: h.matched for h in ks.find(post("Die Lieferungen und das Ersatzpaket kamen nie wieder an."))}
    assert hits == {"Lieferung": "lieferungen", "*paket": "ersatzpaket", "nie wieder": "nie wieder"}
    assert [h.keyword for h in ks.find(post("Ich habe gekündigt"))] == ["kündige"]
    assert [h.keyword for h in ks.find(post("Lieferzeiten sind lang"))] == ["liefer*"]
    assert ks.find(post("nie mehr wieder")) == []  # a phrase needs consecutive words
    assert ks.find(post("Das Wetter ist schön")) == []


def test_hit_reports_its_sentence() -> None:
    hits = KeywordSet.compile(["Rechnung"]).find(post("Hallo zusammen. Die Rechnung ist falsch! Danke."))
    assert hits[0].sentence == "Die Rechnung ist falsch!"


def test_keyword_without_word_is_rejected() -> None:
    with pytest.raises(RuleConfigError):
        compile_keyword("  ")


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("Mein Paket ist seit zwei Wochen unterwegs", "Lieferung"),
        ("Viel zu teuer geworden, 20 € mehr im Monat", "Preis"),
        ("Nach einer Woche kaputt, billig verarbeitet", "Qualität"),
        ("Seit einer Stunde in der Warteschleife der Hotline", "Kundenservice"),
        ("Mir wurde doppelt abgebucht, wo bleibt die Erstattung?", "Rechnung/Zahlung"),
        ("Die App stürzt nach dem Update ständig ab", "App/Website"),
        ("Retoure abgeschickt, aber kein Geld zurück", "Rückgabe"),
        ("Schon wieder ausverkauft", "Verfügbarkeit"),
        ("Wie kann ich meinen Vertrag kündigen?", "Vertrag/Kündigung"),
        ("Die Filiale am Bahnhof hatte geschlossen", "Filiale"),
    ],
)
def test_default_topics_by_keyword(text: str, topic: str) -> None:
    matches = TopicModel.load().match(post(text))
    assert topic in [m.name for m in matches]
    found = next(m for m in matches if m.name == topic)
    assert found.method == "keyword" and found.evidence and 0 < found.score <= 1


def test_no_topic_for_small_talk() -> None:
    assert TopicModel.load().match(post("Schönes Wochenende euch allen!")) == []


def test_embedding_fallback_only_without_keywords() -> None:
    tm = TopicModel.load()
    n = len(tm.topics)
    best = tm.names.index("Kundenservice")
    sims = np.full(n, 0.80, dtype=np.float32)
    sims[best] = 0.86
    # no keyword: the most similar topic above the threshold is added, with the similarity as evidence
    matches = tm.match(post("Die Dame am Telefon war super nett"), sims)
    assert [(m.name, m.method) for m in matches] == [("Kundenservice", "embedding")]
    assert matches[0].similarity == pytest.approx(0.86, abs=1e-4)
    # below the threshold: nothing
    assert tm.match(post("Die Dame am Telefon war super nett"), np.full(n, 0.82, dtype=np.float32)) == []
    # keyword topics exist: no extra embedding-only topic, but the agreeing keyword topic is confirmed
    sims2 = np.full(n, 0.80, dtype=np.float32)
    sims2[tm.names.index("Lieferung")] = 0.88
    assert [(m.name, m.method) for m in tm.match(post("Die Lieferung war pünktlich"), sims2)] == [
        ("Lieferung", "keyword+embedding")
    ]
    sims2[tm.names.index("Lieferung")] = 0.80
    sims2[best] = 0.88
    assert [(m.name, m.method) for m in tm.match(post("Die Lieferung war pünktlich"), sims2)] == [
        ("Lieferung", "keyword")
    ]


def test_custom_topics_file(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(
        """
[embedding]
max_topics = 1
[[topic]]
name = "Bahn"
keywords = ["Zug", "Verspätung"]
patterns = ['\\bice \\d+\\b']
exclude = ["kein Zug"]
""",
        encoding="utf-8",
    )
    tm = TopicModel.load(path)
    assert tm.names == ["Bahn"] and tm.max_topics == 1
    evidence = tm.match(post("Der ICE 123 hat wieder Verspätung"))[0].evidence
    assert evidence == ["Verspätung", "/\\bice \\d+\\b/ (ice 123)"]
    assert tm.match(post("Heute fährt kein Zug, aber Verspätung gibt es trotzdem")) == []


@pytest.mark.parametrize(
    "content",
    [
        "not toml [",
        "[[topic]]\nkeywords = ['x']",  # no name
        "[[topic]]\nname = 'A'\n",  # nothing to match
        "[[topic]]\nname = 'A'\nkeywords = 'x'",  # not a list
        "[[topic]]\nname = 'A'\npatterns = ['(']",  # bad regex
        "",  # no topics
    ],
)
def test_bad_topic_files_fail_with_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleConfigError, match=str(path).replace("\\", "\\\\")):
        TopicModel.load(path)


def test_missing_rules_file() -> None:
    with pytest.raises(RuleConfigError, match="cannot read"):
        TopicModel.load(Path("/nonexistent/topics.toml"))


@pytest.mark.parametrize(
    ("text", "flag", "severity"),
    [
        ("Ich kündige meinen Vertrag, nie wieder!", "churn", 4),
        ("Ich wechsle zu O2.", "churn", 4),
        ("Wir sind dann raus.", "churn", 4),
        ("#niewieder", "churn", 4),
        ("Das ist eine Frechheit!", "complaint", 2),
        ("Ich schalte jetzt meinen Anwalt ein", "legal", 4),
        ("Der Akku ist explodiert", "safety", 5),
        ("Ihr seid Idioten", "abusive_words", 3),
    ],
)
def test_default_flag_rules(text: str, flag: str, severity: int) -> None:
    flags = FlagRules.load().evaluate(post(text))
    found = {f.name: f for f in flags}
    assert flag in found and found[flag].severity == severity and found[flag].reason and found[flag].evidence


def test_churn_negation_is_excluded() -> None:
    assert FlagRules.load().evaluate(post("Keine Sorge, ich werde nicht kündigen.")) == []


def test_model_based_flags_and_severity_order() -> None:
    rules = FlagRules.load()
    plain = post("Das Paket ist da.")
    assert rules.evaluate(plain, p_negative=0.5, p_offensive=0.1) == []
    flags = rules.evaluate(plain, p_negative=0.9, p_offensive=0.9)
    assert [(f.name, f.severity) for f in flags] == [(OFFENSIVE, 4), (NEGATIVE, 2)]
    assert [f.severity for f in rules.evaluate(plain, p_negative=0.97)] == [3]
    assert max_severity(flags) == 4 and max_severity([]) == 0


def test_custom_flags_file(tmp_path: Path) -> None:
    path = tmp_path / "flags.toml"
    path.write_text(
        "[negative]\nthreshold = 0.6\nseverity = 1\n[[flag]]\nname = 'vip'\nseverity = 5\nreason = 'VIP'\n"
        "keywords = ['Vorstand']\n",
        encoding="utf-8",
    )
    rules = FlagRules.load(path)
    assert [(f.name, f.severity) for f in rules.evaluate(post("Ich schreibe dem Vorstand"), p_negative=0.7)] == [
        ("vip", 5),
        (NEGATIVE, 1),
    ]
    path.write_text("[[flag]]\nname = 'x'\nseverity = 9\nkeywords = ['a']\n", encoding="utf-8")
    with pytest.raises(RuleConfigError, match="severity"):
        FlagRules.load(path)
