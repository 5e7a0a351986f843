"""``resonanz demo`` scores with the general-domain sentiment model unless one is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from resonanz.cli_demo import demo_settings
from resonanz.settings import Settings


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RESONANZ_CONFIG", "RESONANZ_NLP__SENTIMENT_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_demo_uses_the_general_model_by_default() -> None:
    settings = demo_settings(Settings())
    assert settings.nlp.sentiment_model == "general"
    assert Settings().nlp.sentiment_model == "default"  # everything else keeps the default hybrid


@pytest.mark.parametrize("configured", ["default", "oliverguhr/german-sentiment-bert"])
def test_a_configured_model_is_kept(monkeypatch: pytest.MonkeyPatch, configured: str) -> None:
    monkeypatch.setenv("RESONANZ_NLP__SENTIMENT_MODEL", configured)
    assert demo_settings(Settings()).nlp.sentiment_model == configured


def test_a_model_from_the_config_file_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "resonanz.toml"
    config.write_text('[nlp]\nsentiment_model = "default"\n', encoding="utf-8")
    monkeypatch.setenv("RESONANZ_CONFIG", str(config))
    assert demo_settings(Settings()).nlp.sentiment_model == "default"
