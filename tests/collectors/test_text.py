from __future__ import annotations

from datetime import UTC, datetime

from collectors.text import html_to_text, language_code, parse_time


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
