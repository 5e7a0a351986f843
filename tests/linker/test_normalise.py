"""Folding, places, e-mail, phone, handle and profile-URL keys."""

from __future__ import annotations

import pytest

from linker.identity.handles import handle_keys, url_keys
from linker.identity.normalise import (
    emails_in,
    fold,
    normalise_city,
    normalise_email,
    normalise_phone,
    personal_domain,
    phones_in,
    urls_in,
)
from linker.identity.phonetics import koelner_phonetik


def test_fold_german() -> None:
    assert fold("Müller") == fold("MUELLER") == "mueller"
    assert fold("Straße") == "strasse"
    assert fold("  Hans-Peter  Ölmann ") == "hans peter oelmann"
    assert fold("José Ñúñez") == "jose nunez"
    assert fold(None) == ""


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("Müller-Lüdenscheidt", "65752682"),  # the textbook example
        ("Wikipedia", "3412"),
        ("Breschnew", "17863"),
        ("Meier", "67"),
        ("Mayer", "67"),
        ("Meyer", "67"),
        ("Maier", "67"),
        ("Müller", "657"),
        ("mueller", "657"),
        ("Muller", "657"),
        ("Schmidt", "862"),
        ("Schmitt", "862"),
        ("Christoph", "47823"),
        ("Xaver", "4837"),
        ("", ""),
    ],
)
def test_koelner_phonetik(word: str, code: str) -> None:
    assert koelner_phonetik(word) == code


@pytest.mark.parametrize(
    ("raw", "city"),
    [
        ("Köln", "koeln"),
        ("Koeln, Germany", "koeln"),
        ("Cologne 🇩🇪", "koeln"),
        ("Köln / NRW", "koeln"),
        ("München, Bayern", "muenchen"),
        ("Frankfurt am Main", "frankfurt"),
        ("Berlin-Kreuzberg", "berlin kreuzberg"),
        ("Deutschland", None),
        ("", None),
    ],
)
def test_city(raw: str, city: str | None) -> None:
    assert normalise_city(raw) == city


def test_email() -> None:
    assert normalise_email(" Max.Mueller@GoogleMail.com ") == "max.mueller@gmail.com"
    assert normalise_email("mailto:a@b.de") == "a@b.de"
    assert normalise_email("not an address") is None
    assert personal_domain("max@web.de") is None
    assert personal_domain("max@mueller-design.de") == "mueller-design.de"
    assert emails_in("Kontakt: Max@Web.de oder max@web.de!") == ["max@web.de"]


@pytest.mark.parametrize(
    "raw", ["+49 221 1234567", "0221 1234567", "0049 221 1234567", "+49 (0)221 123-4567", "(0221) 123 45 67"]
)
def test_phone_forms(raw: str) -> None:
    assert normalise_phone(raw) == "492211234567"


def test_phone_rejects_non_numbers() -> None:
    assert normalise_phone("1987") is None
    assert normalise_phone("221 1234567") is None  # no prefix: ambiguous
    assert phones_in("seit 1987-2024 dabei, Tel. 0221/1234567") == ["492211234567"]


def test_urls_in_bio() -> None:
    assert urls_in("Portfolio: mueller-design.de | https://www.example.org/max/ .") == [
        "https://www.example.org/max/",
        "mueller-design.de",
    ]


@pytest.mark.parametrize(
    "form",
    [
        "@max@mastodon.social",
        "max@mastodon.social",
        "https://mastodon.social/@max",
        "https://mastodon.social/@max/",
        "mastodon.social/@Max",
        "https://mastodon.social/users/max",
    ],
)
def test_mastodon_forms_share_a_key(form: str) -> None:
    assert "fedi:max@mastodon.social" in handle_keys(form)


def test_other_platforms() -> None:
    assert handle_keys("max.bsky.social") == {"bsky:max.bsky.social"}
    assert "bsky:max.bsky.social" in url_keys("https://bsky.app/profile/max.bsky.social")
    assert handle_keys("did:plc:abc123") == {"bsky:did:plc:abc123"}
    assert handle_keys("u/Max_M") == {"reddit:max_m"}
    assert handle_keys("/u/max_m") == {"reddit:max_m"}
    assert "reddit:max_m" in url_keys("https://www.reddit.com/user/max_m/")
    assert "reddit:max_m" in url_keys("reddit.com/u/max_m")
    assert handle_keys("@MaxVlog", "youtube") == {"youtube:maxvlog"}
    assert "youtube:maxvlog" in url_keys("https://www.youtube.com/@MaxVlog")
    assert "youtube:channel:ucabc" in url_keys("youtube.com/channel/UCabc")
    assert "x:maxm" in url_keys("http://twitter.com/maxm")
    assert "x:maxm" in url_keys("https://x.com/maxm/")


def test_url_key_ignores_scheme_www_and_trailing_slash() -> None:
    a = url_keys("https://www.example.de/Max/")
    b = url_keys("example.de/max")
    assert a & b == {"url:example.de/max"}


def test_bare_handles_are_weak() -> None:
    assert handle_keys("@max") == {"bare:max"}
    assert handle_keys("max", "mastodon") == {"bare:max"}  # a mastodon user without instance
    assert handle_keys("max", "reddit") == {"reddit:max"}
    assert handle_keys("") == set()
