"""``resonanz import`` reports its problems in the interface language (issue 17): row errors, file errors and
skipped rows read German by default and English with ``language = "en"``; numbers and dates in them follow the
language's format."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core import i18n
from resonanz.core.settings import reset_settings_cache
from resonanz.importing import ImportFileError, import_customers, import_orders, import_posts
from resonanz.pipeline.suppression import CRM_ID
from store.db import make_engine
from store.erasure import erasure_hash
from store.models import ErasedKey

CUSTOMERS = (
    "crm_id,first_name,emails,consent_status,consent_basis\n"
    "K-1,Anna,anna@example.de,granted,Vertrag\n"
    "K-2,Eva,kaputt,unknown,\n"
    "K-3,Tom,,vielleicht,\n"
)
ORDERS = (
    "order_id,crm_id,ordered_at,revenue,cost\n"
    "O-1,K-1,2026-01-15,10.50,1\n"
    "O-2,K-1,2026-01-16,1e400,1\n"
    "O-3,K-9,2026-01-17,5,1\n"
    "O-4,K-1,gestern,5,1\n"
)


@pytest.fixture
def engine() -> Engine:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    return engine


def _reasons(report: object) -> dict[int, str]:
    return {e.line: e.reason for e in report.errors}  # type: ignore[attr-defined]


def _import(engine: Engine, tmp_path: Path, lang: str) -> tuple[dict[int, str], dict[int, str], str]:
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "o.csv").write_text(ORDERS, encoding="utf-8")
    with i18n.language(lang):
        customers = import_customers(engine, tmp_path / "c.csv")
        orders = import_orders(engine, tmp_path / "o.csv")
        return _reasons(customers), _reasons(orders), orders.summary()


def test_a_bad_row_reads_german_by_default(engine: Engine, tmp_path: Path) -> None:
    customers, orders, summary = _import(engine, tmp_path, "de")
    assert customers == {
        3: "emails: keine E-Mail-Adresse: 'kaputt' (gefunden: 'kaputt')",
        4: "consent_status: muss einer dieser Werte sein: granted, unknown, withdrawn (gefunden: 'vielleicht')",
    }
    assert "kein brauchbarer Betrag: '1e400' (muss eine endliche Zahl unter 1.000.000.000.000 sein)" in orders[3]
    assert orders[4] == "unbekannte Kund:in crm_id 'K-9'; zuerst die Kund:innen importieren"
    assert orders[5].startswith("ordered_at: kein Datum: 'gestern'")
    assert "3 abgelehnt" in summary


def test_the_same_rows_read_english_when_set(engine: Engine, tmp_path: Path) -> None:
    customers, orders, summary = _import(engine, tmp_path, "en")
    assert customers[3] == "emails: not an e-mail address: 'kaputt' (got 'kaputt')"
    assert customers[4].startswith("consent_status: must be one of granted, unknown, withdrawn")
    assert "(must be a finite number below 1,000,000,000,000)" in orders[3]
    assert orders[4] == "unknown customer crm_id 'K-9'; import customers first"
    assert orders[5].startswith("ordered_at: not a date: 'gestern'")
    assert "3 rejected" in summary


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("de", ["text: muss Text sein (gefunden: 5)", "author.account_id: Pflichtangabe fehlt", "ungültiges JSON"]),
     ("en", ["text: must be text (got 5)", "author.account_id: required", "invalid JSON"])],
)  # fmt: skip
def test_pydantic_s_own_problems_are_translated_too(
    engine: Engine, tmp_path: Path, lang: str, expected: list[str]
) -> None:
    bad = {"platform": "x", "external_id": "1", "text": 5, "created_at": "2026-01-01T10:00:00Z", "author": {}}
    (tmp_path / "p.jsonl").write_text(json.dumps(bad) + "\n{kaputt\n", encoding="utf-8")
    with i18n.language(lang):
        reasons = _reasons(import_posts(engine, tmp_path / "p.jsonl"))
    assert reasons[1] == f"{expected[0]}; {expected[1]}"
    assert reasons[2].startswith(expected[2])


def test_file_errors_follow_the_language(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "o.csv").write_text("order_id,ordered_at\nO-1,2026-01-01\n", encoding="utf-8")
    with pytest.raises(
        ImportFileError, match=r"o.csv:1: Pflichtspalte\(n\) crm_id, revenue fehlen; gefunden: order_id"
    ):
        import_orders(engine, tmp_path / "o.csv")
    with i18n.language("en"), pytest.raises(ImportFileError, match=r"o.csv:1: missing required column\(s\) crm_id"):
        import_orders(engine, tmp_path / "o.csv")
    with i18n.language("en"), pytest.raises(ImportFileError, match="unknown export format 'sprinklr'"):
        import_posts(engine, tmp_path / "o.csv", source_format="sprinklr")
    with i18n.language("en"), pytest.raises(ImportFileError, match="unknown time zone 'Mars/Olymp'"):
        import_posts(engine, tmp_path / "o.csv", source_format="brandwatch", timezone="Mars/Olymp")


def test_a_row_skipped_for_an_erasure_names_the_date_in_the_language_s_format(engine: Engine, tmp_path: Path) -> None:
    with Session(engine) as session:
        erased_at = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
        session.add(ErasedKey(kind=CRM_ID, key_hash=erasure_hash(CRM_ID, "K-1"), erased_at=erased_at))
        session.commit()
    (tmp_path / "c.csv").write_text("crm_id,first_name\nK-1,Anna\n", encoding="utf-8")
    german = import_customers(engine, tmp_path / "c.csv")
    assert [e.reason for e in german.suppressed] == ["übersprungen: am 24.11.2026 nach DSGVO Art. 17 gelöscht"]
    with i18n.language("en"):
        english = import_customers(engine, tmp_path / "c.csv")
    assert [e.reason for e in english.suppressed] == ["skipped: erased under GDPR Art. 17 on 24/11/2026"]


def test_the_cli_prints_the_rejected_rows_in_english_when_set(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "c.csv").write_text(CUSTOMERS, encoding="utf-8")
    monkeypatch.setenv("RESONANZ_LANGUAGE", "en")
    reset_settings_cache()
    result = CliRunner().invoke(app, ["import", "customers", str(tmp_path / "c.csv")], terminal_width=400)
    assert result.exit_code == 1
    assert f"{tmp_path / 'c.csv'}:3: emails: not an e-mail address: 'kaputt'" in result.output
    assert "keine E-Mail-Adresse" not in result.output
