"""The compact German lemma table (nlp.lemmas) answers what spaCy's lookup table answers."""

from __future__ import annotations

from spacy.lookups import Table
from spacy.strings import get_string_id

from nlp.lemmas import LemmaTable, german_lemmas
from nlp.preprocess import get_nlp, prepare


def test_a_small_table_by_hand() -> None:
    table = LemmaTable(
        {get_string_id("Häuser"): "Haus", get_string_id("Hauses"): "Haus", get_string_id("ging"): "gehen"}
    )
    assert (table.get("Häuser"), table.get("Hauses"), table.get("ging")) == ("Haus", "Haus", "gehen")
    assert table.get("häuser") is None and table.get("") is None  # forms are case-sensitive, as in spaCy
    assert len(table) == 3 and sorted(table.lemmas()) == ["Haus", "gehen"]  # each lemma once


def test_the_german_table_matches_spacys_on_every_lemma_and_sample_forms() -> None:
    from spacy.lookups import load_lookups

    spacy_table: Table = load_lookups("de", ["lemma_lookup"]).get_table("lemma_lookup")
    compact = german_lemmas()
    assert len(compact) == len(spacy_table) > 300_000
    assert set(compact.lemmas()) == set(spacy_table.values())
    forms = ["Lieferungen", "kamen", "Rechnungen", "Kündigungen", "besser", "Zügen", "xyzzy", "Bahn"]
    assert [compact.get(f) for f in forms] == [spacy_table.get(f) for f in forms]
    assert compact.get("Lieferungen") == "Lieferung"


def test_preprocessing_lemmatises_without_spacys_lemmatizer_component() -> None:
    assert "lemmatizer" not in get_nlp().pipe_names
    (post,) = prepare(["Die Lieferungen kamen zu spääääät"], detect_language=False)
    assert "lieferung" in post.lemmas and "kommen" in post.lemmas and "spät" in post.words
