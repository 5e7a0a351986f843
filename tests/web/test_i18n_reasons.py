"""Reasons and evidence written by the library packages (flags from ``nlp``, link evidence from ``linker``, a
person's correction, a spam cluster) show in the page's language (issue 17 leftovers): German pages carry no
English reason, English pages no German one, and the stored data stays as the packages wrote it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from linker.identity import evidence as ev
from nlp.flag_model import REASON
from nlp.flags import NEGATIVE, NEGATIVE_REASON, Flag, packaged_reasons
from resonanz.core import i18n, messages
from resonanz.review.corrections import Correction, _apply_flags
from store.models import IdentityLink, ReviewItem, User
from tests.answers.factory import Scenario
from tests.web.conftest import login
from tests.web.test_i18n import english_fixture, visible  # noqa: F401  (the English app fixture)

CITY = ev.text("city_same", city="Köln", where=ev.text("place_bio", place="Köln"))
NAME = ev.text(
    "name", customer="Anna Amsel", shown="anna_amsel", jw="0.97",
    parts=", ".join([ev.text("first_fuzzy", theirs="Ana", ours="Anna"), ev.text("last_exact")]),
)  # fmt: skip
KEY = ev.text("key_email", found="anna@example.de", platform="mastodon", label=ev.text("crm_email"), raw="a@x.de")
EVIDENCE = [NAME, CITY, KEY, "a text no template wrote"]


def _german(msgid: str) -> str:
    with i18n.language("de"):
        return i18n.gettext(msgid)


@pytest.fixture(name="reasons")
def reasons_fixture(session: Session, scenario: Scenario) -> Iterator[ReviewItem]:
    """anna1's item with a churn flag as the model stores it (with its code), a legal flag stored before codes
    (no code), a person's correction, a spam cluster's reason, and a user's own rule; her link's evidence as
    the linker writes it."""
    item = session.get(ReviewItem, scenario.items["anna1"].id)
    assert item is not None
    item.reasons = [
        Flag("churn", 4, REASON["churn"], ["kündige"]).as_dict(),
        {"flag": "legal", "severity": 4, "reason": packaged_reasons()["legal"], "evidence": []},
        {"flag": NEGATIVE, "severity": 2, "reason": NEGATIVE_REASON},
        {"flag": "spam", "severity": 3, "reason": "Gleicher Text von 4 Konten (Copy-Paste-Spam, Phishing?)",
         "code": "copy_paste", "params": {"accounts": 4}},
        {"flag": "bug", "severity": 2, "reason": "Absturz der App"},
    ]  # fmt: skip
    item.reasons = _apply_flags(item.reasons, Correction(flags={"question": True}, actors={"flag:question": "carla"}))
    for link in session.exec(select(IdentityLink)):
        link.evidence = list(EVIDENCE)
        session.add(link)
    session.add(item)
    session.commit()
    yield item


GERMAN = ["Kündigungs- oder Wechselabsicht", "Rechtliche Drohung oder Verbraucherschutz", "Stark negativer Beitrag",
          "Gleicher Text von 4 Konten (Copy-Paste-Spam, Phishing?)", "Korrektur von carla", "Absturz der App",
          "Vorname ähnlich ('Ana' ~ 'Anna', Tippfehler?), Nachname gleich", "Stadt Köln = Köln (Bio)",
          "E-Mail anna@example.de im Profil von mastodon = CRM-E-Mail a@x.de", "a text no template wrote"]  # fmt: skip
ENGLISH = ["Intends to cancel or switch", "Legal threat or consumer protection", "Strongly negative post",
           "Same text from 4 accounts (copy-paste spam, phishing?)", "Correction by carla", "Absturz der App",
           "first name similar ('Ana' ~ 'Anna', typo?), last name the same", "City Köln = Köln (bio)",
           "E-mail anna@example.de in the mastodon profile = CRM e-mail a@x.de",
           "a text no template wrote"]  # fmt: skip


def _plain(html: str) -> str:
    return visible(html).replace("&#39;", "'").replace("&#34;", '"')


def test_the_item_page_shows_flag_reasons_and_link_evidence_in_german(
    client: TestClient, scenario: Scenario, as_user: Callable[[str], str], users: dict[str, User], reasons: ReviewItem
) -> None:
    as_user("carla")
    page = _plain(client.get(f"/queue/{reasons.id}").text)
    assert [t for t in GERMAN if t not in page] == []
    assert [t for t in ENGLISH if t in page and t not in GERMAN] == []
    assert "Thema: " in page and "topic: " not in page  # the topic lines of the evidence table
    links = _plain(client.get("/links").text)
    assert "Stadt Köln = Köln (Bio)" in links


def test_the_item_page_shows_them_in_english_when_set(
    english: TestClient, scenario: Scenario, users: dict[str, User], reasons: ReviewItem
) -> None:
    login(english, "carla")
    page = _plain(english.get(f"/queue/{reasons.id}").text)
    assert [t for t in ENGLISH if t not in page] == []
    assert [t for t in GERMAN if t in page and t not in ENGLISH] == []
    assert not re.search(r"\b(Vorname|Nachname|Stadt|Widerspruch|Korrektur)\b", page)
    links = _plain(english.get("/links").text)
    assert "City Köln = Köln (bio)" in links and "Stadt Köln" not in links


def test_the_stored_reasons_stay_as_the_packages_wrote_them(session: Session, reasons: ReviewItem) -> None:
    """Rendering translates; the database keeps the packages' text and the code, never a translation."""
    session.refresh(reasons)
    stored = {r["flag"]: r for r in reasons.reasons}
    assert stored["churn"]["reason"] == REASON["churn"] and stored["churn"]["code"] == "churn"
    assert stored["question"]["code"] == "correction" and stored["question"]["params"] == {"actor": "carla"}
    with i18n.language("en"):
        assert messages.flag_reason(stored["churn"]) == "Intends to cancel or switch"
    assert messages.flag_reason(stored["churn"]) == "Kündigungs- oder Wechselabsicht"
    stored_english = {"flag": "x", "reason": "Complaint"}  # a stored English msgid still renders in German later
    assert messages.flag_reason(stored_english) == "Beschwerde"


def test_every_reason_and_evidence_code_has_a_german_and_an_english_text() -> None:
    """A new code in the packages without a msgid here would show German on English pages (and the reverse)."""
    assert set(packaged_reasons()) <= set(messages.FLAG_REASONS)
    assert set(ev.TEMPLATES) == set(messages.LINK_EVIDENCE)
    placeholders = re.compile(r"\{(\w+)\}")
    for code, template in ev.TEMPLATES.items():
        msgid = messages.LINK_EVIDENCE[code]
        assert set(placeholders.findall(template)) == set(placeholders.findall(msgid)), code
        # translated, and saying what the linker says: the stored sentence and the German page agree
        assert _german(msgid) == template, code
    for code, reason in packaged_reasons().items():
        assert _german(messages.FLAG_REASONS[code]) == reason, code


@pytest.mark.parametrize("sentence", [NAME, CITY, KEY, ev.text("review_namesakes", many=ev.text("namesakes_many"))])
def test_link_evidence_reads_back_and_renders_in_both_languages(sentence: str) -> None:
    parsed = ev.parse(sentence)
    assert parsed is not None and parsed.text == sentence
    # German: what the linker wrote, its numbers with a decimal comma (Jaro-Winkler 0,97)
    assert messages.link_sentence(sentence) == re.sub(r"(\d)\.(\d)", r"\1,\2", sentence)
    with i18n.language("en"):
        english = messages.link_sentence(sentence)
    assert english != sentence
    assert not re.search(r"\b(Vorname|Nachname|Stadt|Profil|viele|Deutschland)\b", english)
