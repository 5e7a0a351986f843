"""The import and status commands, as a user runs them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from resonanz.cli.main import app

runner = CliRunner()


def test_import_reports_rejected_rows_and_exits_nonzero(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    path.write_text("crm_id,first_name,emails,consent_status\nK-1,Max,max@example.de,unknown\nK-2,Eva,kaputt,unknown\n")
    result = runner.invoke(app, ["import", "customers", str(path)])
    assert result.exit_code == 1
    assert "2 Zeilen, 1 neu" in result.output  # the summary in German by default
    assert f"{path}:3: emails: keine E-Mail-Adresse: 'kaputt'" in result.output  # the reason too
    status = runner.invoke(app, ["status"])
    assert status.exit_code == 0
    row = next(line for line in status.output.splitlines() if " Kund:innen " in line)  # German by default
    assert row.split()[-2] == "1"


def test_unreadable_file_exits_2_with_the_reason(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id\n1\n")
    result = runner.invoke(app, ["import", "orders", str(path)])
    assert result.exit_code == 2
    assert "Pflichtspalte(n) crm_id, ordered_at, revenue fehlen" in result.output  # German by default


def test_db_upgrade_names_the_revision(db_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Schema auf Revision" in result.output
