"""``resonanz sources add/tag --brand`` and ``resonanz competitors`` on a real SQLite file (issue 17, part 6)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine
from tests.answers.competitor_world import BRIX, RL, build_world
from tests.answers.factory import WEEK

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        build_world(session)
    engine.dispose()
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    return url


def _json(*args: str) -> dict:  # type: ignore[type-arg]
    result = runner.invoke(app, ["competitors", "--week", WEEK, "--weeks", "2", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    data: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return data


def test_competitors_json_has_the_numbers_per_brand_and_week(db_url: str) -> None:
    data = _json()
    assert data["weeks"] == ["2026-W46", WEEK] and data["posts"] == [2, 6]
    brands = {b["brand"]: b for b in data["brands"]}
    assert [b["brand"] for b in data["brands"]] == [None, RL, BRIX] and brands[None]["own"] is True
    assert [w["posts"] for w in brands[RL]["weeks"]] == [0, 3]
    assert brands[RL]["weeks"][1]["share_weighted"] == pytest.approx(0.5)
    assert brands[None]["total"]["share"] == pytest.approx(3 / 8)
    a_only = {b["brand"]: b["total"]["posts"] for b in _json("--class", "A")["brands"]}
    assert a_only == {None: 1, RL: 1, BRIX: 0}


def test_competitors_table_and_csv(db_url: str) -> None:
    table = runner.invoke(app, ["competitors", "--week", WEEK, "--weeks", "2", "--quotes", "1"], env=WIDE)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    rl_row = next(line for line in lines if line.startswith("│ Röstlicht") and "roestlicht-tag" in line)
    assert "3" in rl_row and "38 %" in rl_row  # 3 of 8 posts over both weeks
    assert any("Eigene Marke" in line for line in lines) and "rl_ben text" in table.stdout  # a quote
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["competitors", "--week", WEEK, "--weeks", "2",
                                                               "-f", "csv"]).stdout)))  # fmt: skip
    assert {(r["week"], r["brand"]): int(r["posts"]) for r in rows if r["week"] == WEEK} == {
        (WEEK, ""): 2,
        (WEEK, RL): 3,
        (WEEK, BRIX): 1,
    }


def test_sources_add_tag_and_list(db_url: str) -> None:
    added = runner.invoke(app, ["sources", "add", "rss", "brix-blog", "-q", "https://brix.example/feed", "--brand",
                                "brix kaffeehafen"], env=WIDE)  # fmt: skip
    assert added.exit_code == 0, added.output
    assert f"Wettbewerber {BRIX}" in added.stdout  # the existing tag's spelling
    listed = runner.invoke(app, ["sources", "list"], env=WIDE).stdout
    assert next(line for line in listed.splitlines() if "brix-blog" in line).count(BRIX) == 1
    assert "eigene Marke" in next(line for line in listed.splitlines() if "eigen " in line)
    moved = runner.invoke(app, ["sources", "tag", "brix-suche", "--own"])
    assert moved.exit_code == 0, moved.output
    assert "2 Beiträge" in moved.stdout
    assert {b["brand"]: b["total"]["posts"] for b in _json()["brands"]}[None] == 5  # 3 own + Brix's 2
    retag = runner.invoke(app, ["sources", "tag", "brix-suche", "--brand", "Kaffee Drei"])
    assert retag.exit_code == 0 and "Kaffee Drei" in retag.stdout
    assert {b["brand"] for b in _json()["brands"]} == {None, RL, BRIX, "Kaffee Drei"}  # brix-blog keeps Brix


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sources", "tag", "nope", "--brand", "X"], "nope"),
        (["sources", "tag", "eigen"], "--brand NAME oder --own"),
        (["sources", "tag", "eigen", "--brand", "X", "--own"], "--brand NAME oder --own"),
        (["sources", "tag", "eigen", "--brand", "*"], "reserviert"),
        (["competitors", "--class", "D"], "Unbekannte Kundenklasse"),
        (["competitors", "--week", "2026-W99"], "2026-W99"),
        (["competitors", "--format", "xml"], "xml"),
    ],
)
def test_mistakes_are_clear_errors(db_url: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env=WIDE)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
