"""Load sequence-classification and encoder models from ``"default"``, a local directory or a Hugging Face id.

The version that is stored with every score comes from, in order: the config key
``resonanz_model_version`` (the bundled models), the Hugging Face commit hash of a downloaded
model, or a content hash of the weight files of a local directory. A non-default precision is
appended (``+bf16``) because it changes the numbers slightly.

Memory: the default sentiment, offensive and embedding models carry the same e5 tokenizer files and the same
embedding matrix (250k x 384). Identical tokenizer files give one tokenizer object (:func:`load_tokenizer`); an
XLM-R-style Unigram tokenizer (the e5 one) runs its vocabulary in SentencePiece (:mod:`nlp.lean_tokenizer`: a few
MB instead of ~280 MB for 🤗 tokenizers' trie), any other keeps the 🤗 tokenizer without the Python copy of its
vocabulary that transformers keeps. A local single-file
``.safetensors`` model is read tensor by tensor, in chunks, straight into its target dtype (no whole fp32 copy
before a bf16 conversion), keeping one tensor for weights that are bit-identical to a tensor an already loaded
model holds (:func:`read_weights`). The models are therefore for inference only: training one in place would
change the others. Importing this module does not import torch
(``resonanz ask`` reads :func:`train_prior` through it).
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import math
import os
import struct
import sys
import threading
import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.errors import ModelLoadError

if TYPE_CHECKING:
    import torch

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
DEFAULT_NAMES: dict[str, str] = {
    "sentiment": DEFAULT_SENTIMENT_NAME,
    "offensive": DEFAULT_OFFENSIVE_NAME,
    "offensive-deep": "resonanz-default-offensive-deep",
}
"""The stored model name of each kind's bundled default (``offensive-deep``: the offensive cascade's second model)."""
PRECISIONS = ("auto", "fp32", "bf16")
"""``auto``: bf16 where the CPU has native bf16 matrix instructions (AMX or AVX512-BF16), else fp32."""
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
TOKENIZER_FILES = (
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "vocab.txt",
    "vocab.json", "merges.txt", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model", "chat_template.jinja",
)  # fmt: skip
"""The files a tokenizer is loaded from; two directories with the same contents of these share one tokenizer."""
READ_CHUNK_BYTES = 8 << 20
"""Weights are read and converted in pieces of this size (the only transient buffer of :func:`read_weights`)."""


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
    """The directory of helper model ``kind`` (``sentiment``, ``offensive``, ``offensive-deep``, ``base``) from
    nlp.default_model."""
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
        "offensive-deep": ("ensure_offensive_deep_model",),
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


def _tokenizer_key(source: str) -> str | None:
    """The model type plus a content hash of the tokenizer files of directory ``source``; None for hub ids."""
    path = Path(source)
    files = [path / name for name in TOKENIZER_FILES if (path / name).is_file()] if path.is_dir() else []
    if not files:
        return None
    config = path / "config.json"
    model_type = json.loads(config.read_text(encoding="utf-8")).get("model_type") if config.is_file() else None
    return f"{model_type}:" + _hash_files(tuple((str(p), p.stat().st_size, p.stat().st_mtime) for p in files))


_TOKENIZERS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_TOKENIZER_LOCK = threading.Lock()


def load_tokenizer(source: str) -> Any:
    """``AutoTokenizer.from_pretrained(source)``, one object per content of the tokenizer files (see the module
    doc): kept while a model uses it."""
    from transformers import AutoTokenizer

    key = _tokenizer_key(source)
    if key is None:
        return AutoTokenizer.from_pretrained(source)
    with _TOKENIZER_LOCK:
        tokenizer = _TOKENIZERS.get(key)
        if tokenizer is None:
            tokenizer = _lean_tokenizer(source, key) or _without_build_vocab(AutoTokenizer.from_pretrained(source))
            _TOKENIZERS[key] = tokenizer
        else:
            log.debug("tokenizer of %s shared with an already loaded model", source)
        return tokenizer


def _lean_tokenizer(source: str, key: str) -> Any | None:
    """The :class:`~nlp.lean_tokenizer.LeanTokenizer` of ``source``'s tokenizer files (converted once into
    ``<cache>/models/lean-tokenizer/``), or None where it does not apply: not an XLM-R-style Unigram tokenizer,
    no cache directory, SentencePiece missing, or different ids on the conversion's probes."""
    from transformers import AutoTokenizer

    from nlp.default_model import models_dir
    from nlp.runtime import trim_heap

    try:
        from nlp.lean_tokenizer import PIPELINE_FILE, LeanTokenizer, convert
    except ImportError:  # sentencepiece is a dependency; without it the 🤗 tokenizer is used
        return None
    directory = models_dir() / "lean-tokenizer" / hashlib.sha256(key.encode()).hexdigest()[:16]
    try:
        if (directory / PIPELINE_FILE).is_file():
            return LeanTokenizer.load(directory)
        full = AutoTokenizer.from_pretrained(source)
        lean = convert(full, directory)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:  # RuntimeError: SentencePiece rejects the file
        log.warning("the lean tokenizer is off for %s (%s); the 🤗 tokenizer is used", source, exc)
        return None
    if lean is not None:
        del full
        gc.collect()
        trim_heap()  # the 🤗 tokenizer's ~280 MB go back to the OS
        log.info("tokenizer of %s converted to SentencePiece (%s)", source, directory)
    return lean


def _without_build_vocab(tokenizer: Any) -> Any:
    """``tokenizer`` without the Python copy of the vocabulary its Rust tokenizer was built from: transformers 5
    keeps that list of (piece, score) tuples as ``_vocab`` (~65 MB for XLM-R's 250,002 pieces) and reads it only
    while building. The Rust tokenizer holds the vocabulary; encoding is unchanged."""
    if isinstance(getattr(tokenizer, "_vocab", None), list) and getattr(tokenizer, "_tokenizer", None) is not None:
        tokenizer._vocab = None
    return tokenizer


def safetensors_header(path: Path) -> tuple[int, dict[str, Any]]:
    """The byte offset of the data and the JSON header of a ``.safetensors`` file (8-byte little-endian length,
    then JSON: ``__metadata__`` and per tensor ``dtype``, ``shape``, ``data_offsets``); no torch needed.
    Raises ValueError for anything that is not such a file."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) != 8:
            raise ValueError("the file is too short")
        (length,) = struct.unpack("<Q", head)
        if length > min(size - 8, 100 << 20):
            raise ValueError(f"header length {length} does not fit the file size {size}")
        header = json.loads(fh.read(length).decode("utf-8"))
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return 8 + length, header


MAPPED_MIN_BYTES = 64 << 20
"""A tensor at least this large in its target dtype (the 250,002 x 384 token embeddings: 192 MB in bf16) is written
once, converted, to a file in the cache (:func:`_mapped_dir`) and memory-mapped instead of held in memory: only the
pages of the rows of tokens that occur are read, as clean file pages the OS may drop again (German posts touch a
few thousand of the 250,002 rows). The values are the same as converting in memory."""
_BITS = {"float32": "int32", "float16": "int16", "bfloat16": "int16"}
_SHARED: dict[tuple[tuple[int, ...], str], list[weakref.ref[Any]]] = {}
"""Tensors of loaded models by shape and dtype (weak references), for :func:`read_weights` to share."""
_SHARED_LOCK = threading.Lock()


_MAPPED: dict[str, int] = {}
"""The address of each memory-mapped file by name (the content hash of its source): a loaded model's tensor there
(:func:`register_model`) is shared by the next model instead of mapping the file again."""


def _mapped_dir() -> Path | None:
    """Where converted large tensors are kept: ``<cache>/models/mapped`` (None if it cannot be created)."""
    from nlp.default_model import models_dir

    directory = models_dir() / "mapped"
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.debug("no directory for memory-mapped tensors (%s); they are held in memory", exc)
        return None
    return directory


def _read_mapped(fh: Any, offset: int, shape: tuple[int, ...], dtype: str, directory: Path) -> torch.Tensor:
    """The float32 tensor of ``shape`` at byte ``offset`` of ``fh`` as a read-only mapping of a ``dtype`` file in
    ``directory``, named by the SHA-256 of the float32 bytes (so identical tensors of several models map one file,
    written on first use)."""
    import torch

    numel = math.prod(shape)
    digest = hashlib.sha256()
    fh.seek(offset)
    left = numel * 4
    while left:
        chunk = fh.read(min(left, READ_CHUNK_BYTES))
        if not chunk:
            raise ModelLoadError(f"{fh.name} is truncated; rebuild or re-download the model.")
        digest.update(chunk)
        left -= len(chunk)
    target = getattr(torch, dtype)
    path = directory / f"{digest.hexdigest()[:32]}-{numel}-{dtype}.bin"
    address = _MAPPED.get(path.name)
    if address is not None:
        row = numel // shape[0] if shape else numel
        ends = []
        for at in (offset, offset + (numel - row) * 4):  # the first and last row: a freed mapping's address reused
            fh.seek(at)
            ends.append(torch.frombuffer(bytearray(fh.read(row * 4)), dtype=torch.float32).to(target))
        for loaded in _candidates(shape, dtype):
            flat = loaded.view(-1)
            if loaded.data_ptr() == address and torch.equal(flat[:row], ends[0]) and torch.equal(flat[-row:], ends[1]):
                return loaded
    size = numel * target.itemsize
    if not path.is_file() or path.stat().st_size != size:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fh.seek(offset)
        try:
            with tmp.open("wb") as out:
                done = 0
                while done < numel:
                    n = min(numel - done, READ_CHUNK_BYTES // 4)
                    piece = torch.frombuffer(bytearray(fh.read(n * 4)), dtype=torch.float32).to(target)
                    out.write(piece.view(getattr(torch, _BITS[dtype])).numpy().tobytes())
                    done += n
            os.replace(tmp, path)  # atomic: another process may write the same file meanwhile
        finally:
            tmp.unlink(missing_ok=True)
    tensor = torch.from_file(str(path), shared=False, size=numel, dtype=target).view(shape)
    _MAPPED[path.name] = tensor.data_ptr()
    return tensor


def _candidates(shape: tuple[int, ...], dtype: str) -> list[torch.Tensor]:
    """The live registered tensors of this shape and dtype, one per storage (several models may hold one)."""
    refs = _SHARED.get((shape, dtype), [])
    live = [t for t in (r() for r in refs) if t is not None]
    if len(live) != len(refs):
        _SHARED[(shape, dtype)] = [weakref.ref(t) for t in live]
    return list({t.data_ptr(): t for t in reversed(live)}.values())


def register_model(model: Any) -> None:
    """Offer ``model``'s parameters to later :func:`read_weights` calls (weakly: kept while the model lives)."""
    with _SHARED_LOCK:
        for tensor in model.parameters():
            key = (tuple(tensor.shape), str(tensor.dtype).removeprefix("torch."))
            _SHARED.setdefault(key, []).append(weakref.ref(tensor))


def read_weights(path: Path, dtype: str) -> dict[str, torch.Tensor] | None:
    """The tensors of a ``.safetensors`` file of float32 tensors as ``dtype`` (``float32``/``bfloat16``), read in
    :data:`READ_CHUNK_BYTES` pieces and converted piece by piece (the same rounding as converting the whole
    tensor). A tensor that is bit-identical to one of an already loaded model's (:func:`register_model`) is that
    tensor, not a copy; one of at least :data:`MAPPED_MIN_BYTES` is a mapped file. None where this reader does
    not apply (other dtypes, a big-endian machine): then the caller loads the model the usual way."""
    import numpy as np
    import torch

    try:
        start, header = safetensors_header(path)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    if sys.byteorder != "little" or not entries or any(e.get("dtype") != "F32" for e in entries.values()):
        return None
    target = getattr(torch, dtype)
    bits = getattr(torch, _BITS[dtype])
    buffer = np.empty(READ_CHUNK_BYTES // 4, dtype=np.float32)
    out: dict[str, torch.Tensor] = {}
    shared = 0
    large = [int(e["data_offsets"][1]) - int(e["data_offsets"][0]) for e in entries.values()]
    mapped_dir = _mapped_dir() if max(large) // 4 * target.itemsize >= MAPPED_MIN_BYTES else None
    with _SHARED_LOCK, path.open("rb") as fh:
        for name, entry in entries.items():
            shape = tuple(int(d) for d in entry["shape"])
            begin, end = (int(x) for x in entry["data_offsets"])
            numel = (end - begin) // 4
            if numel != math.prod(shape) or begin > end:
                raise ModelLoadError(f"{path}: tensor {name} does not fit its shape; rebuild or re-download the model.")
            if mapped_dir is not None and numel * target.itemsize >= MAPPED_MIN_BYTES:
                try:
                    out[name] = _read_mapped(fh, start + begin, shape, dtype, mapped_dir)
                    continue
                except OSError as exc:  # a full or read-only cache: held in memory as before
                    log.warning("cannot keep %s of %s as a mapped file (%s); it is held in memory", name, path, exc)
            matching = [c.view(-1) for c in _candidates(shape, dtype)]
            tensor: torch.Tensor | None = None  # None while what was read so far equals ``matching[0]``
            fh.seek(start + begin)
            done = 0
            while done < numel:
                n = min(numel - done, buffer.size)
                if fh.readinto(buffer.data.cast("B")[: n * 4]) != n * 4:
                    raise ModelLoadError(f"{path} is truncated at tensor {name}; rebuild or re-download the model.")
                piece = torch.from_numpy(buffer[:n]).to(target)
                if tensor is None:
                    before = matching
                    matching = [c for c in before if torch.equal(c[done : done + n].view(bits), piece.view(bits))]
                    if not matching:
                        tensor = torch.empty(numel, dtype=target)
                        if done:  # what was read so far equals the last matching tensor
                            tensor[:done] = before[0][:done]
                if tensor is not None:
                    tensor[done : done + n] = piece
                done += n
            if tensor is None:
                shared += bool(matching)
                tensor = matching[0] if matching else torch.empty(numel, dtype=target)
            out[name] = tensor.view(shape)
    if shared:
        log.debug("%s: %d of %d tensors shared with loaded models", path, shared, len(out))
    return out


def train_prior(spec: str, *, cache_dir: Path | None = None) -> list[float] | None:
    """The label prior (negative, neutral, positive) a sentiment model was trained under, from its config
    (``resonanz_train_prior``: bundled models and ``resonanz train --deep`` output); None where unknown
    (Hugging Face ids, older models). Builds a bundled model's directory if it is not built yet."""
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
    import torch

    precision = resolve_precision(precision)
    if precision == "bf16":
        model = model.to(torch.bfloat16)
    return model


def _load_model(auto_class: Any, source: str, precision: str) -> Any:
    """``auto_class.from_pretrained(source)`` in ``precision`` (resolved), in eval mode. A local single-file
    safetensors model goes through :func:`read_weights` (shared tensors, no fp32 copy before bf16); anything
    else loads the usual way and is converted after."""
    import torch
    from transformers import AutoConfig

    directory = Path(source)
    weights = directory / "model.safetensors"
    dtype = "bfloat16" if precision == "bf16" else "float32"
    state = None
    if directory.is_dir() and weights.is_file() and not (directory / "model.safetensors.index.json").exists():
        state = read_weights(weights, dtype)
    if state is None:
        model = _apply_precision(auto_class.from_pretrained(source).eval(), precision)
    else:
        config = AutoConfig.from_pretrained(source)
        model_class = auto_class._model_mapping[type(config)]
        model = model_class.from_pretrained(None, config=config, state_dict=state, dtype=getattr(torch, dtype)).eval()
        model.config.name_or_path = source
        del state
        register_model(model)
    gc.collect()  # what loading left in reference cycles
    return model


def load_classifier(
    spec: str,
    *,
    kind: str = "sentiment",
    cache_dir: Path | None = None,
    precision: str = "fp32",
) -> LoadedModel:
    """Load a sequence classifier and its tokenizer (``spec``: 'default', a directory or a hub id)."""
    from transformers import AutoModelForSequenceClassification

    source = _source(spec, kind, cache_dir)
    precision = resolve_precision(precision)
    try:
        tokenizer = load_tokenizer(source)
        model = _load_model(AutoModelForSequenceClassification, source, precision)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load the {kind} model {spec!r}: {exc}. " + _model_help(f"{kind} model")) from exc
    default_name = DEFAULT_NAMES.get(kind, DEFAULT_OFFENSIVE_NAME)
    version = model_version(model, source)
    if precision != "fp32":
        version = f"{version}+{precision}"
    name = _name_for(spec, source, default_name)
    log.info("loaded %s model %s (version %s, %s)", kind, name, version, precision)
    return LoadedModel(tokenizer=tokenizer, model=model, name=name, version=version)


def load_encoder(spec: str, *, cache_dir: Path | None = None, precision: str = "fp32") -> LoadedModel:
    """Load a plain encoder (``AutoModel``) for embeddings; ``'default'`` is the bundled e5-small."""
    from transformers import AutoModel

    source = _source(spec, "base", cache_dir)
    precision = resolve_precision(precision)
    try:
        tokenizer = load_tokenizer(source)
        model = _load_model(AutoModel, source, precision)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"cannot load the embedding model {spec!r}: {exc}. " + _model_help("model")) from exc
    version = model_version(model, source)
    return LoadedModel(tokenizer=tokenizer, model=model, name=_name_for(spec, source, "e5-small"), version=version)
