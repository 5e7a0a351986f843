"""CSV exports neutralise formula prefixes (issue 13, OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.format import to_csv
from resonanz.cli.link import _write_export
from resonanz.core.csv_safe import neutralise
from resonanz.core.periods import iso_week
from resonanz.pipeline.link_export import EXPORT_COLUMNS
from tests.answers.factory import MONDAY, WEEK, Factory

ATTACKS = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1,2)", "\t=1", "  =1+1"]


def test_neutralise_prefixes_text_only() -> None:
    assert [neutralise(a) for a in ATTACKS] == ["'" + a for a in ATTACKS]
    assert neutralise("Lieferung kam spät") == "Lieferung kam spät"
    assert neutralise(-0.25) == -0.25 and neutralise(None) is None  # numbers stay numbers


def test_link_export_csv_cells_cannot_run(tmp_path) -> None:  # noqa: ANN001
    row = {name: "" for name in EXPORT_COLUMNS} | {"handle": "@SUM(1,2)", "display_name": ATTACKS[1], "evidence": []}
    buf = io.StringIO()
    _write_export([row], "csv", buf)
    (parsed,) = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert parsed["handle"] == "'@SUM(1,2)" and parsed["display_name"] == "'" + ATTACKS[1]


def test_ask_csv_quotes_cannot_run(engine: Engine) -> None:
    with Session(engine) as session:
        f = Factory(session)
        ident = f.identity("@mallory@x.social")
        f.post(ident, '=HYPERLINK("http://evil","Rabatt") Lieferung kaputt', MONDAY, topics=["Lieferung"])
        session.commit()
        answer = ask(session, AnswerFilter(period=iso_week(WEEK)))
    cells = [cell for row in csv.reader(io.StringIO(to_csv(answer))) for cell in row]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c.lstrip(" ").startswith(("=", "+", "@")) for c in cells)
