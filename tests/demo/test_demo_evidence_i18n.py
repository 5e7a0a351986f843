"""The link evidence that ``resonanz demo`` prints and ``resonanz links export`` writes, in the interface language
(issue 17): the linker stores German sentences; they are shown German (numbers with a decimal comma) or English."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from linker.identity.evidence import text
from resonanz.core import i18n
from resonanz.core.messages import link_evidence
from resonanz.demo.linking import demo_linking_summary
from resonanz.pipeline.link_export import EXPORT_COLUMNS, export_rows
from store.db import make_engine
from tests.answers.factory import Factory

EVIDENCE = [
    text("name", customer="Anna Amsel", shown="Anna Amsel", jw="0.93",
         parts=", ".join([text("first_exact"), text("last_exact")])),
    text("city_same", city="Köln", where=text("place_bio", place="Köln")),
    text("probability", probability="0.9712", weight="+16.2",
         parts="; ".join([text("bits_name", bits="+12.5"), text("bits_prior", bits="-3.0")])),
]  # fmt: skip


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        f = Factory(session)
        link = f.link(f.identity("@anna@social.example"), f.customer("Anna Amsel", "A"), probability=0.97)
        link.evidence = EVIDENCE
        session.commit()
    yield engine
    engine.dispose()


def _printed(engine: Engine) -> str:
    console = Console(record=True, width=400)
    console.print(demo_linking_summary(engine))
    return " ".join(console.export_text().split())


def test_the_demo_prints_the_evidence_in_german_with_decimal_commas(engine: Engine) -> None:
    printed = _printed(engine)
    assert "Name 'Anna Amsel' ~ 'Anna Amsel' (Jaro-Winkler 0,93): Vorname gleich, Nachname gleich" in printed
    assert "Stadt Köln = Köln (Bio)" in printed
    assert "Wahrscheinlichkeit 0,9712 (Gewicht +16,2 bit; Name +12,5; Vorwissen -3,0)" in printed
    assert "0.93" not in printed


def test_the_demo_prints_the_evidence_in_english_when_set(engine: Engine) -> None:
    with i18n.language("en"):
        printed = _printed(engine)
    assert "(Jaro-Winkler 0.93): first name the same, last name the same" in printed
    assert "City Köln = Köln (bio)" in printed
    assert "Probability 0.9712 (weight +16.2 bits; name +12.5; prior -3.0)" in printed
    assert "Vorname" not in printed and "Stadt" not in printed


def test_the_export_keeps_the_stored_evidence_and_adds_it_as_shown(engine: Engine) -> None:
    with i18n.language("en"):
        (row,) = export_rows(engine)
        english = " | ".join(link_evidence(EVIDENCE))
    assert list(row) == list(EXPORT_COLUMNS)
    assert row["evidence"] == EVIDENCE  # machine-readable: exactly what the linker stored
    assert row["evidence_shown"] == english and english.startswith(
        "Name 'Anna Amsel' ~ 'Anna Amsel' (Jaro-Winkler 0.93)"
    )
    (german,) = export_rows(engine)
    assert (
        german["evidence"] == EVIDENCE
        and "Stadt Köln = Köln (Bio) | Wahrscheinlichkeit 0,9712" in german["evidence_shown"]
    )


@pytest.mark.parametrize(
    ("stored", "german", "english"),
    [("0.93", "0,93", "0.93"), ("+16.2", "+16,2", "+16.2"), ("-3.0", "-3,0", "-3.0"), ("1234.5", "1.234,5", "1,234.5"),
     ("3", "3", "3"), ("0,93", "0,93", "0,93")],
)  # fmt: skip
def test_a_number_in_evidence_takes_the_language_s_format(stored: str, german: str, english: str) -> None:
    sentence = text("review_name_only", threshold=stored)
    assert link_evidence([sentence])[0].endswith(f"automatisch erst ab {german}")
    with i18n.language("en"):
        assert link_evidence([sentence])[0].endswith(f"automatic only from {english}")
