"""Model directories in the cache: missing weights, atomic build shared between concurrent callers."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nlp.default_model import build_atomically, ensure_classifier_model, is_complete
from nlp.errors import ModelNotAvailableError


def test_missing_weights_raise_model_not_available(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailableError, match="resonanz train"):
        ensure_classifier_model(tmp_path / "nope.safetensors", tmp_path)


def test_build_atomically_builds_once_under_concurrency(tmp_path: Path) -> None:
    target = tmp_path / "models" / "thing"
    target.parent.mkdir(parents=True)
    calls: list[int] = []

    def build(tmp: Path) -> None:
        calls.append(1)
        time.sleep(0.2)
        (tmp / "config.json").write_text("{}")

    threads = [threading.Thread(target=build_atomically, args=(target, build)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and is_complete(target)
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == ["thing"]  # no temp left


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "thing"

    def build(tmp: Path) -> None:
        (tmp / "half").write_text("x")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        build_atomically(target, build)
    assert not target.exists() and [p for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []
