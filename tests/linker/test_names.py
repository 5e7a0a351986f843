"""Reading names out of display names and handles."""

from __future__ import annotations

import pytest

from linker.identity.names import (
    NameLexicon,
    handle_user,
    identity_name,
    parse_display_name,
    parse_handle,
    split_compact,
)
from linker.identity.nicknames import canonical_first_name

LEX = NameLexicon.build(["Max", "Anna", "Johannes", "Stefanie"], ["Müller", "Schmidt", "Meier", "Weber"])


@pytest.mark.parametrize(
    ("display", "first", "last"),
    [
        ("Max Müller", "max", "mueller"),
        ("Max M.", "max", "m"),
        ("M. Müller", "m", "mueller"),
        ("max mueller", "max", "mueller"),
        ("Dr. Hans-Peter Müller | Fotograf", "hans", "mueller"),
        ("Müller Max", "max", "mueller"),  # surname first, recognised by the first-name lexicon
        ("MaxMueller", "max", "mueller"),
        ("Steffi 🌻", "steffi", None),
        ("Anna Weber (sie/ihr)", "anna", "weber"),
    ],
)
def test_display_names(display: str, first: str | None, last: str | None) -> None:
    parsed = parse_display_name(display, LEX)
    assert (parsed.first, parsed.last) == (first, last)


def test_display_name_organisations_and_pseudonyms() -> None:
    assert parse_display_name("Kaffee & Kuchen GmbH", LEX).empty
    assert parse_display_name("Kaffeejunkie", LEX).empty
    assert parse_display_name("", LEX).empty


@pytest.mark.parametrize(
    ("handle", "first", "last"),
    [
        ("max_mueller87", "max", "mueller"),
        ("@max_mueller87@mastodon.social", "max", "mueller"),
        ("maxmueller", "max", "mueller"),
        ("annaschmidt87", "anna", "schmidt"),
        ("m.mueller", "m", "mueller"),
        ("mueller.max", "max", "mueller"),
        ("mmueller", "m", "mueller"),
        ("MaxMueller.bsky.social", "max", "mueller"),
        ("u/anna_weber", "anna", "weber"),
        ("@max", "max", None),
    ],
)
def test_handles(handle: str, first: str | None, last: str | None) -> None:
    parsed = parse_handle(handle, LEX)
    assert (parsed.first, parsed.last) == (first, last)


def test_handles_that_are_no_names() -> None:
    assert parse_handle("kaffeejunkie42", LEX).empty
    assert parse_handle("did:plc:abc", LEX).empty
    assert split_compact("maximilian", LEX) is None  # a first name on its own, not max + imilian


def test_handle_user() -> None:
    assert handle_user("@max@mastodon.social") == "max"
    assert handle_user("https://mastodon.social/@max") == "max"
    assert handle_user("max-mueller.de") == "max-mueller"
    assert handle_user("anna.weber") == "anna.weber"


def test_merge_display_and_handle() -> None:
    merged = identity_name("Max M.", "max_mueller87", LEX)
    assert (merged.first, merged.last, merged.source) == ("max", "mueller", "display+handle")
    shown = identity_name("Max Müller", "kaffeejunkie", LEX)
    assert (shown.first, shown.last, shown.source) == ("max", "mueller", "display")
    only = identity_name(None, "anna_weber", LEX)
    assert (only.first, only.last, only.source) == ("anna", "weber", "handle")
    assert identity_name("Steffi", "steffi_k", LEX).last == "k"


@pytest.mark.parametrize(
    ("a", "b"),
    [("hans", "johannes"), ("sepp", "josef"), ("steffi", "stefanie"), ("alex", "alexander"), ("kathi", "katharina")],
)
def test_nicknames(a: str, b: str) -> None:
    assert canonical_first_name(a) == canonical_first_name(b)


def test_unknown_names_are_their_own_group() -> None:
    assert canonical_first_name("zoltan") == "zoltan"
    assert canonical_first_name("hans") != canonical_first_name("josef")


def test_compound_first_name_written_together() -> None:
    lex = NameLexicon.build(["Hans-Willi", "Annemarie", "Anne-Marie"], ["Weiß", "Graf"])
    assert parse_display_name("hanswilli weiss", lex).first == "hans"  # compared as the CRM's "Hans-Willi"
    assert parse_display_name("Annemarie Graf", lex).first == "annemarie"  # a first name of its own stays
