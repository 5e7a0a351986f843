"""``resonanz classify`` and ``resonanz score`` through the real CLI (tiny models configured by environment)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from resonanz.cli.main import app
from resonanz.core.settings import reset_settings_cache
from store.db import open_engine
from store.models import Post, Score


@pytest.fixture
def tiny_settings(tiny_family: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("RESONANZ_NLP__SENTIMENT_MODEL", str(tiny_family["sentiment"]))
    monkeypatch.setenv("RESONANZ_NLP__OFFENSIVE_MODEL", str(tiny_family["offensive"]))
    monkeypatch.setenv("RESONANZ_NLP__EMBEDDING_MODEL", str(tiny_family["encoder"]))
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    return url


def test_classify_plain_and_json_lines_in_order(tiny_settings: str) -> None:
    lines = [
        "die lieferung kam zu spät",
        json.dumps({"id": "a-1", "text": "ich will kündigen nie wieder"}),
        "",
        json.dumps({"text": "super danke 👍"}, ensure_ascii=False),
        "der preis ist viel zu hoch",
    ]
    result = CliRunner().invoke(app, ["classify"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(out) == 4  # the blank line is skipped
    assert out[1]["id"] == "a-1" and "id" not in out[0]
    for record in out:
        assert record["label"] in {"negative", "neutral", "positive"}
        assert abs(record["p_negative"] + record["p_neutral"] + record["p_positive"] - 1) < 1e-5
        assert isinstance(record["topics"], list) and isinstance(record["flags"], list)
    assert [t["topic"] for t in out[0]["topics"]][:1] == ["Lieferung"]
    assert "churn" in [f["flag"] for f in out[1]["flags"]]
    assert [t["topic"] for t in out[3]["topics"]][:1] == ["Preis"]


def test_classify_file_and_bad_input(tiny_settings: str, tmp_path: Path) -> None:
    path = tmp_path / "posts.txt"
    path.write_text("app stürzt ab\nrechnung falsch\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["classify", str(path)])
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 2
    bad = CliRunner().invoke(app, ["classify"], input='ok\n{"txt": "no text field"}\n')
    assert bad.exit_code == 2 and "Zeile 2" in bad.output
    missing = CliRunner().invoke(app, ["classify", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "nicht lesbar" in missing.output


def test_classify_bad_model_fails_clearly(tiny_settings: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["classify", "--model", str(tmp_path)], input="hallo\n")
    assert result.exit_code == 2 and "cannot load the sentiment model" in result.output


def test_score_command(tiny_settings: str) -> None:
    engine = open_engine(tiny_settings)
    with Session(engine) as session:
        session.add_all([Post(platform="t", external_id=str(i), text=t) for i, t in enumerate(["gut", "schlecht"])])
        session.commit()
    first = CliRunner().invoke(app, ["score"])
    assert first.exit_code == 0, first.output
    assert "Scored 2 posts" in first.output
    again = CliRunner().invoke(app, ["score", "--rescore", "--limit", "1"])
    assert again.exit_code == 0 and "Scored 1 posts" in again.output
    with Session(engine) as session:
        assert len(session.exec(select(Score)).all()) == 2
