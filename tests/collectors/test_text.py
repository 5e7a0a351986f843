from __future__ import annotations

from datetime import UTC, datetime

from collectors.text import (
    QUOTE_FALLBACK,
    html_to_text,
    join_text,
    language_code,
    link_note,
    markdown_to_text,
    media_note,
    parse_time,
    poll_note,
)


def test_paragraphs_breaks_links_and_entities() -> None:
    html = (
        '<p>Hallo <span class="h-card"><a href="https://x.example/@anna" class="u-url mention">@<span>anna</span></a>'
        "</span>, das ist &quot;super&quot; &amp; schnell!</p><p>Zeile 1<br>Zeile 2<br/>Zeile 3</p>"
        '<p><a href="https://www.example.de/a/b-c"><span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.de/a/</span><span class="invisible">b-c</span></a></p>'
    )
    assert html_to_text(html) == (
        'Hallo @anna, das ist "super" & schnell!\n\nZeile 1\nZeile 2\nZeile 3\n\nhttps://www.example.de/a/b-c'
    )


def test_scripts_are_dropped_and_plain_text_passes() -> None:
    assert html_to_text("<div>a<script>alert(1)</script> b</div>") == "a b"
    assert html_to_text("Tom &amp; Jerry") == "Tom & Jerry"
    assert html_to_text(None) == ""


def test_parse_time_variants() -> None:
    expected = datetime(2026, 11, 20, 9, 0, 0, 123456, tzinfo=UTC)
    assert parse_time("2026-11-20T09:00:00.123456789Z") == expected
    assert parse_time("2026-11-20T10:00:00.123456+01:00") == expected
    assert parse_time("Fri, 20 Nov 2026 09:00:00 GMT") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert parse_time("2026-11-20T09:00:00") == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert parse_time("gestern") is None


def test_language_code() -> None:
    assert language_code("de-DE") == "de"
    assert language_code("de_AT") == "de"
    assert language_code("") is None


def test_markdown_as_a_reader_sees_it() -> None:
    """Issue 14: Reddit bodies are Markdown with HTML entities; the NLP step gets what a reader sees."""
    body = (
        "**Fett**, *kursiv*, _auch_, ~~durch~~ und `code *bleibt*`\n\n"
        "> zitiert\n\n* eins\n* zwei\n\n"
        "[die Seite](https://www.brand.de/x) und [https://a.de](https://a.de), <https://b.de>\n\n"
        ">!Spoiler!< \\*kein Stern\\* snake_case ಠ_ಠ &#3232;_&#3232; &amp; 3 &lt; 4&#x200B;\n\n"
        "| Sorte | Note |\n|---|:-:|\n| Espresso | 2 |\n\n## Fazit ##\n\n***\n^(klein gedruckt)"
    )
    assert markdown_to_text(body) == (
        "Fett, kursiv, auch, durch und code *bleibt*\n\nzitiert\n\n- eins\n- zwei\n\n"
        "die Seite (https://www.brand.de/x) und https://a.de, https://b.de\n\n"
        "Spoiler *kein Stern* snake_case ಠ_ಠ ಠ_ಠ & 3 < 4\n\nSorte | Note\n\nEspresso | 2\n\nFazit\n\nklein gedruckt"
    )
    assert markdown_to_text(None) == "" and markdown_to_text("[deleted]") == "[deleted]"


def test_dropped_classes_take_their_whole_element() -> None:
    mastodon = (
        '<p>Gute Idee!</p><p class="quote-inline">RE: <a href="https://social.example/@a/1" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="ellipsis">social.example/@a/</span>'
        '<span class="invisible">1</span></a></p>'
    )
    akkoma = '<p>Stimmt<span class="quote-inline"><br/><br/>RE: <a href="https://x.test/objects/1">x</a></span></p>'
    assert html_to_text(mastodon, QUOTE_FALLBACK) == "Gute Idee!"
    assert html_to_text(akkoma, QUOTE_FALLBACK) == "Stimmt"
    assert html_to_text(mastodon).endswith("RE: https://social.example/@a/1")  # only where asked


def test_notes_for_media_polls_and_links() -> None:
    assert media_note("image", "  Ein  Latte-Art-Herz ") == "[Bild: Ein Latte-Art-Herz]"
    assert media_note("video", None) == "[Video]" and media_note("unknown", "") == "[Anhang]"
    assert poll_note(["Ja", " Nein ", "", None]) == "[Umfrage: Ja | Nein]" and poll_note([]) == ""
    assert link_note("https://a.de/x", "Titel") == "[Link: Titel] https://a.de/x"
    assert join_text("", "a", None, " b ") == "a\n\nb"
