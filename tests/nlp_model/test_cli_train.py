"""`resonanz train` data gathering: files plus review-queue corrections read from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer

from nlp.errors import TrainingDataError
from resonanz.cli_train import feedback_pairs, gather
from resonanz.settings import reset_settings_cache
from store.db import open_engine, session_scope
from store.models import LabelFeedback, Post


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setenv("RESONANZ_DATABASE_URL", url)
    reset_settings_cache()
    engine = open_engine(url)
    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with session_scope(engine) as s:
        posts = [Post(platform="mastodon", external_id=str(i), text=t) for i, t in enumerate(
            ["Bahn schon wieder zu spät", "Danke für die Hilfe!", "Fahrplan ab Montag", "   "])]  # fmt: skip
        s.add_all(posts)
        s.flush()
        ids = [int(p.id or 0) for p in posts]
        rows = [
            (ids[0], "sentiment", "negative", t0),
            (ids[1], "sentiment", "neutral", t0),
            (ids[1], "sentiment", "positive", t0 + timedelta(hours=1)),  # a later correction of the same post wins
            (ids[2], "topic", "Fahrplan", t0),
            (ids[3], "sentiment", "negative", t0),  # empty text: skipped
        ]
        s.add_all([LabelFeedback(post_id=p, field=f, new_value=v, actor="cm", at=at) for p, f, v, at in rows])
    yield url
    reset_settings_cache()


def test_feedback_pairs_latest_correction_wins(db: str) -> None:
    assert sorted(feedback_pairs("sentiment")) == [
        ("Bahn schon wieder zu spät", "negative"), ("Danke für die Hilfe!", "positive"),
    ]  # fmt: skip
    assert feedback_pairs("offensive") == []


def test_gather_files_and_feedback(db: str, tmp_path: Path) -> None:
    csv = tmp_path / "mine.csv"
    csv.write_text("text,label\nSuper Service,positive\nNaja,neutral\n", encoding="utf-8")
    examples, sources = gather("sentiment", [csv], True, False)
    assert [e.label for e in examples] == ["positive", "neutral", "negative", "positive"]
    assert sources[0] == str(csv) and sources[1].startswith("label_feedback (2")
    with pytest.raises(typer.BadParameter, match="No training data"):
        gather("sentiment", [], False, False)
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,sehr gut\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad\.csv:2"):
        gather("sentiment", [bad], False, False)
