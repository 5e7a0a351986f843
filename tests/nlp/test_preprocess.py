"""German social-media preprocessing with real edge cases."""

from __future__ import annotations

import pytest

from nlp.emoji_map import emoji_word
from nlp.language import detect_language, detect_languages
from nlp.preprocess import get_nlp, lemmatise_phrase, prepare, prepare_one
from nlp.social_tokenizer import EMOJI, HASHTAG, MENTION, URL, split_hashtag

TRICKY = [
    "Die Lieferung kam z.B. erst nach 3 Wochen, d.h. viel zu spät! @DB_Bahn #DeutscheBahnFail 😡😡",
    "Hallo @max@mastodon.social, schau mal: https://example.de/a?b=1. Suuuuper Größe, Maße & Straße!!!",
    "mail an kundenservice@firma.de bitte 👍🏻👨‍👩‍👧 🇩🇪 ❤️",
    "  zwei   Leerzeichen\nund Zeilenumbruch\t",
    "",
    "#5G #fail,#niewieder www.bahn.de/x",
]


@pytest.mark.parametrize("text", TRICKY)
def test_original_text_is_never_destroyed(text: str) -> None:
    doc = get_nlp()(text)
    assert doc.text == text
    assert prepare_one(text, detect_language=False).text == text


def test_abbreviations_are_not_sentence_ends() -> None:
    post = prepare_one("Die Lieferung kam z.B. erst spät, d.h. nach 3 Wochen. Danke für nix!", detect_language=False)
    assert post.sentences == ("Die Lieferung kam z.B. erst spät, d.h. nach 3 Wochen.", "Danke für nix!")
    assert "z.b." in post.words and "d.h." in post.words
    assert "z.b." not in post.content_lemmas


def test_social_entities_are_single_tokens() -> None:
    doc = get_nlp()(TRICKY[0] + " " + TRICKY[1])
    kinds = {t.text: t._.kind for t in doc if t._.kind}
    assert kinds["@DB_Bahn"] == MENTION
    assert kinds["@max@mastodon.social"] == MENTION
    assert kinds["#DeutscheBahnFail"] == HASHTAG
    assert kinds["https://example.de/a?b=1"] == URL  # the sentence's full stop is not part of the URL
    assert [t.text for t in doc if t._.kind == EMOJI] == ["😡", "😡"]


def test_emoji_sequences_email_and_bare_urls() -> None:
    doc = get_nlp()(TRICKY[2] + " " + TRICKY[5])
    emoji = [t.text for t in doc if t._.kind == EMOJI]
    assert emoji == ["👍🏻", "👨\u200d👩\u200d👧", "🇩🇪", "❤️"]
    assert {t.text for t in doc if t._.kind == "email"} == {"kundenservice@firma.de"}
    assert [t.text for t in doc if t._.kind == HASHTAG] == ["#5G", "#fail", "#niewieder"]
    assert [t.text for t in doc if t._.kind == URL] == ["www.bahn.de/x"]


def test_hashtag_splitting() -> None:
    assert split_hashtag("#DeutscheBahnFail") == ["Deutsche", "Bahn", "Fail"]
    assert split_hashtag("#BahnChaos2024") == ["Bahn", "Chaos", "2024"]
    assert split_hashtag("#niewieder") == ["niewieder"]
    assert split_hashtag("#5G") == ["5G"]
    assert split_hashtag("#kein_Anschluss") == ["kein", "Anschluss"]


def test_words_lemmas_and_model_text() -> None:
    post = prepare_one(TRICKY[0], detect_language=False)
    assert post.mentions == ("@DB_Bahn",)
    assert post.hashtags == ("#DeutscheBahnFail",)
    assert post.lemmas[-5:-2] == ("deutsch", "bahn", "fail")
    assert post.words[-2:] == ("wütend", "wütend")
    assert "lieferung" in post.lemmas
    # model text: mention replaced, hashtag as words, the emoji run kept and followed by its word once
    assert post.model_text.endswith("@user Deutsche Bahn Fail 😡😡 wütend")
    assert "#" not in post.model_text


def test_urls_and_mentions_are_placeholders_for_the_model() -> None:
    post = prepare_one(TRICKY[1], detect_language=False)
    assert post.urls == ("https://example.de/a?b=1",)
    assert post.model_text.startswith("Hallo @user, schau mal: http. Suuuuper")  # elongation kept for the model
    assert "super" in post.words  # ... but normalised for rules
    assert {"größe", "maße", "straße"} <= set(post.words)


def test_elongation_and_casing() -> None:
    post = prepare_one("Sooo schleeecht, NEEEEIN! ÄRGER mit der Schifffahrt", detect_language=False)
    assert post.words[:3] == ("so", "schlecht", "nein")
    assert "ärger" in post.lemmas
    assert "schifffahrt" in post.words  # a real triple letter stays


def test_lemmas_for_rules() -> None:
    assert lemmatise_phrase("Lieferungen") == ("lieferung",)
    assert lemmatise_phrase("gekündigt") == ("kündigen",)
    assert prepare_one("ich kündige", detect_language=False).lemmas == ("ich", "kündigen")
    assert prepare_one("lieferungen", detect_language=False).lemmas == ("lieferung",)  # lower-case noun


def test_emoji_lexicon() -> None:
    assert emoji_word("😡") == "wütend"
    assert emoji_word("👍🏽") == "gut"  # skin tone stripped
    assert emoji_word("❤️") == "liebe"  # variation selector stripped
    assert emoji_word("🦩") is None


def test_empty_and_whitespace_texts() -> None:
    for text in ("", "   ", "\n"):
        post = prepare_one(text)
        assert post.words == () and post.language is None


def test_language_detection() -> None:
    assert detect_language("Die Lieferung kam wieder zu spät, echt ärgerlich.") == "de"
    assert detect_language("The delivery was late again, really annoying.") == "en"
    assert detect_language("La livraison est arrivée en retard.") == "fr"
    assert detect_language("Das Update ist echt ein Game Changer, love it") == "de"  # mixed, mostly German
    assert detect_language("Danke!") == "de"
    assert detect_languages(["😡😡", "ok", "12345"]) == [None, None, None]  # too little to tell
    assert prepare(["Ich bin sehr zufrieden mit dem Service."])[0].language == "de"


def test_pieces_are_sentences_and_lines_with_short_ones_joined() -> None:
    from nlp.preprocess import MIN_PIECE_WORDS

    text = "Der Kaffee war gut. Die Lieferung kam nie an!!! @dhl #Lieferchaos 🙄\nKundenservice antwortet nicht\nHallo?"
    (p,) = prepare([text], detect_language=False)
    assert p.pieces == (
        "Der Kaffee war gut.",
        "Die Lieferung kam nie an!!! @dhl #Lieferchaos 🙄",  # hashtag, mention and emoji are no words of their own
        "Kundenservice antwortet nicht\nHallo?",  # a one-word line joins the piece before it
    )
    assert len(p.model_pieces) == len(p.pieces) and " ".join(p.model_pieces).split() == p.model_text.split()
    assert "@user Liefer" in p.model_pieces[1] and MIN_PIECE_WORDS == 2
    (short,) = prepare(["Danke! Super."], detect_language=False)
    assert short.pieces == ("Danke! Super.",)  # two one-word sentences: one piece
    (empty,) = prepare([""], detect_language=False)
    assert empty.pieces == () and empty.model_pieces == ()
