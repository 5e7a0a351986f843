"""Start-up stays light: the CLI, its help and the web app factory import no model libraries (torch, transformers,
spaCy, lingua) and no matplotlib; ``resonanz ask`` reads the sentiment model's training prior without torch. They are
imported where posts are analysed or charts drawn.

Each case runs in a fresh interpreter (``sys.modules`` of this test process already holds everything)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = ("torch", "transformers", "spacy", "lingua")
CASES = {
    "import resonanz.cli.main": ("import resonanz.cli.main", (*MODELS, "matplotlib")),
    "resonanz --help": (
        "from resonanz.cli.main import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass",
        (*MODELS, "matplotlib"),
    ),
    "web app factory": (
        "from resonanz.core.settings import Settings\nfrom resonanz.web import create_app\n"
        "from store.db import open_engine\n"
        "create_app(Settings(), engine=open_engine('sqlite://'))",
        (*MODELS, "matplotlib"),
    ),
}


def run_probe(code: str, tmp_path: Path, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (no configuration file, an empty SQLite database); its last output line."""
    env = {
        "RESONANZ_CONFIG": str(tmp_path / "none.toml"),
        "RESONANZ_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**_base_env(), **env},
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def imported(code: str, names: tuple[str, ...], tmp_path: Path, **env: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))"
    result: list[str] = json.loads(run_probe(probe, tmp_path, **env))
    return result


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("RESONANZ_")}


@pytest.mark.parametrize("case", list(CASES))
def test_start_up_imports_no_model_libraries(case: str, tmp_path: Path) -> None:
    code, heavy = CASES[case]
    assert imported(code, heavy, tmp_path) == []


def test_the_probe_sees_a_heavy_import(tmp_path: Path) -> None:
    """The check itself works: analysing a text does import them."""
    code = "from nlp.preprocess import prepare_one\nprepare_one('Hallo Welt', detect_language=False)"
    assert imported(code, ("spacy", "torch"), tmp_path) == ["spacy", "torch"]


def _built_default_sentiment(cache: Path, prior: list[float]) -> None:
    """A model cache in which the default sentiment model is built already (as after its first use), with ``prior``
    as its training prior: what ``ask`` reads then is the bundled artefact's header and this config."""
    from nlp import default_model
    from nlp.training.artefact import artefact_version, read_artefact_meta

    weights = default_model.SENTIMENT_WEIGHTS
    meta = read_artefact_meta(weights)
    base = default_model.models_dir(cache) / default_model.BASE_NAME
    model = default_model.models_dir(cache) / f"sentiment-de-{artefact_version(weights)}"
    configs = {base: {"resonanz_source": {"sha256": meta.base_sha256}}, model: {"resonanz_train_prior": prior}}
    for directory, config in configs.items():
        directory.mkdir(parents=True)
        (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
        (directory / default_model.COMPLETE_MARKER).write_text("ok\n", encoding="utf-8")


def test_ask_reads_the_training_prior_without_torch(tmp_path: Path) -> None:
    """``resonanz ask`` (which reads the training prior for its estimated shares) imports no model library and no
    matplotlib; the probe reads the prior once more to show that it came from the model's files."""
    prior = [0.25, 0.35, 0.4]
    _built_default_sentiment(tmp_path / "cache", prior)
    code = (
        "from resonanz.cli.main import app\napp(['ask'], standalone_mode=False)\n"
        "from resonanz.core.settings import get_settings\nfrom resonanz.pipeline.scoring import sentiment_train_prior\n"
        "prior = sentiment_train_prior(get_settings())"
    )
    heavy = (*MODELS, "matplotlib")
    probe = f"{code}\nimport json, sys\nprint(json.dumps([prior, sorted(m for m in {heavy!r} if m in sys.modules)]))"
    read, modules = json.loads(run_probe(probe, tmp_path, RESONANZ_CACHE_DIR=str(tmp_path / "cache")))
    assert read == prior
    assert modules == []
