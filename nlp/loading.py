"""Load sequence-classification and encoder models from ``"default"``, a local directory or a Hugging Face id.

The version that is stored with every score comes from, in order: the config key
``resonanz_model_version`` (the bundled models), the Hugging Face commit hash of a downloaded
model, or a content hash of the weight files of a local directory. A non-default precision is
appended (``+bf16``) because it changes the numbers slightly.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

from nlp.errors import ModelLoadError

log = logging.getLogger(__name__)

DEFAULT = "default"
GENERAL = "general"
GERMEVAL = "germeval"
BUNDLED_SENTIMENT_NAMES: dict[str, str] = {
    DEFAULT: "resonanz-default-sentiment",
    GERMEVAL: "resonanz-germeval-sentiment",
}
"""Bundled sentiment models by setting value -> stored model name (``default``: one model for any brand;
``germeval``: the earlier Deutsche Bahn hybrid, see nlp/MODEL_CARD.md)."""
SENTIMENT_ALIASES: dict[str, str] = {GENERAL: DEFAULT}
"""Retired bundled names and what they select now (``general`` was superseded by the default model)."""
DEFAULT_SENTIMENT_NAME = BUNDLED_SENTIMENT_NAMES[DEFAULT]
DEFAULT_OFFENSIVE_NAME = "resonanz-default-offensive"
PRECISIONS = ("auto", "fp32", "bf16")
"""``auto``: bf16 where the CPU has native bf16 matrix instructions (AMX or AVX512-BF16), else fp32."""
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass
class LoadedModel:
    tokenizer: Any
    model: Any
    name: str
    version: str


def _model_help(what: str) -> str:
    return (
        f"Set the {what} to 'default' (works offline; for sentiment also 'germeval'), "
        "to a local directory that holds config.json, the weights "
        "and the tokenizer, or to a Hugging Face model id (needs internet the first time)."
    )


def resolve_default(kind: str, cache_dir: Path | None = None) -> Path:
    """The directory of helper model ``kind`` (``sentiment``, ``offensive``, ``base``) from nlp.default_model."""
    try:
        from nlp import default_model
    except ImportError as exc:
        raise ModelLoadError(
            f"the bundled default {kind} model is not part of this installation ({exc}). " + _model_help("model")
        ) from exc
    if kind.startswith("sentiment-"):
        return Path(default_model.ensure_bundled_sentiment_model(kind.removeprefix("sentiment-"), cache_dir))
    loaders = {
        "sentiment": ("ensure_sentiment_model",),
        "offensive": ("ensure_offensive_model", "ensure_offensive_classifier"),
        "base": ("ensure_base_model",),
    }
    for attr in loaders[kind]:
        fn = getattr(default_model, attr, None)
        if fn is not None:
            return Path(fn(cache_dir))
    raise ModelLoadError(f"this installation has no bundled default {kind} model. " + _model_help("model"))


@lru_cache(maxsize=32)
def _hash_files(files: tuple[tuple[str, int, float], ...]) -> str:
    digest = hashlib.sha256()
    for path, size, _mtime in files:
        digest.update(Path(path).name.encode())
        digest.update(str(size).encode())
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def content_version(directory: Path) -> str:
    """A short content hash of the weight files in ``directory`` (cached per size and mtime)."""
    files = sorted(p for p in directory.iterdir() if p.suffix in _WEIGHT_SUFFIXES and p.is_file())
    if not files:
        return "unknown"
    return "sha-" + _hash_files(tuple((str(p), p.stat().st_size, p.stat().st_mtime) for p in files))


def model_version(model: Any, source: str) -> str:
    config = model.config
    explicit = getattr(config, "resonanz_model_version", None)
    if explicit:
        return str(explicit)
    commit = getattr(config, "_commit_hash", None)
    if commit:
        return str(commit)[:12]
    path = Path(source)
    return content_version(path) if path.is_dir() else "unknown"


def _source(spec: str, kind: str, cache_dir: Path | None) -> str:
    if spec == DEFAULT:
        return str(resolve_default(kind, cache_dir))
    if kind == "sentiment" and spec in BUNDLED_SENTIMENT_NAMES:
        return str(resolve_default(f"sentiment-{spec}", cache_dir))
    path = Path(spec).expanduser()
    return str(path) if path.is_dir() else spec


def _name_for(spec: str, source: str, default_name: str) -> str:
    if spec == DEFAULT:
        return default_name
    if default_name == DEFAULT_SENTIMENT_NAME and spec in BUNDLED_SENTIMENT_NAMES:
        return BUNDLED_SENTIMENT_NAMES[spec]
    path = Path(source)
    return path.name if path.is_dir() else spec


def resolve_precision(precision: str) -> str:
    """``fp32``/``bf16`` as given; ``auto``: bf16 where :func:`nlp.runtime.cpu_supports_bf16`, else fp32."""
    if precision not in PRECISIONS:
        raise ModelLoadError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}.")
    if precision == "auto":
        from nlp.runtime import cpu_supports_bf16

        return "bf16" if cpu_supports_bf16() else "fp32"
    return precision


def train_prior(spec: str, *, cache_dir: Path | None = None) -> list[float] | None:
    """The label prior (negative, neutral, positive) a sentiment model was trained under, from its config
    (``resonanz_train_prior``: bundled models and ``resonanz train --deep`` output); None where unknown
    (Hugging Face ids, older models). Builds a bundled model's directory if it is not built yet."""
    import json

    spec = SENTIMENT_ALIASES.get(spec, spec)
    try:
        source = Path(_source(spec, "sentiment", cache_dir))
    except (ModelLoadError, OSError):
        return None
    config = source / "config.json"
    if not config.is_file():
        return None
    prior = json.loads(config.read_text(encoding="utf-8")).get("resonanz_train_prior")
    if not isinstance(prior, list) or len(prior) != 3 or min(float(p) for p in prior) <= 0:
        return None
    return [float(p) for p in prior]


def _apply_precision(model: Any, precision: str) -> Any:
    precision = resolve_precision(precision)
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    return model


def load_classifier(
    spec: str,
    *,
    kind: str = "sentiment",
    cache_dir: Path | None = None,
    precision: str = "fp32",
) -> LoadedModel:
    """Load a sequence classifier and its tokenizer (``spec``: 'default', a directory or a hub id)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    source = _source(spec, kind, cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load the {kind} model {spec!r}: {exc}. " + _model_help(f"{kind} model")) from exc
    precision = resolve_precision(precision)
    model = _apply_precision(model.eval(), precision)
    default_name = DEFAULT_SENTIMENT_NAME if kind == "sentiment" else DEFAULT_OFFENSIVE_NAME
    version = model_version(model, source)
    if precision != "fp32":
        version = f"{version}+{precision}"
    name = _name_for(spec, source, default_name)
    log.info("loaded %s model %s (version %s, %s)", kind, name, version, precision)
    return LoadedModel(tokenizer=tokenizer, model=model, name=name, version=version)


def load_encoder(spec: str, *, cache_dir: Path | None = None, precision: str = "fp32") -> LoadedModel:
    """Load a plain encoder (``AutoModel``) for embeddings; ``'default'`` is the bundled e5-small."""
    from transformers import AutoModel, AutoTokenizer

    source = _source(spec, "base", cache_dir)
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModel.from_pretrained(source)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load the embedding model {spec!r}: {exc}. " + _model_help("model")) from exc
    precision = resolve_precision(precision)
    model = _apply_precision(model.eval(), precision)
    version = model_version(model, source)
    return LoadedModel(tokenizer=tokenizer, model=model, name=_name_for(spec, source, "e5-small"), version=version)
