"""A lexical (bag-of-n-grams) classifier stored without pickle, and its mixture with the transformer.

Features: two hashed TF-IDF blocks, word 1-2-grams and ``char_wb`` 2-5-grams (scikit-learn's
``HashingVectorizer`` with ``alternate_sign=False``), each with sublinear term frequency, smooth IDF,
a minimum document frequency and L2 normalisation (per block, like a ``FeatureUnion`` of two
``TfidfVectorizer``). Only the hash buckets seen in >= ``min_df`` training documents are kept, so the
file stores per block the bucket indices (int32) and their IDF (fp16), plus the logistic-regression
coefficients (fp16) and intercepts (fp32), as safetensors; the configuration (n-gram ranges,
``n_features``, lowercase, label names, mixing weight) is JSON under the metadata key ``resonanz_lexical``.

:func:`mix_probabilities` combines transformer and lexical class probabilities as a weighted geometric
mean, ``softmax(w * log p_transformer + (1 - w) * log p_lexical)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nlp.errors import ModelFileError, TrainingDataError

if TYPE_CHECKING:
    import scipy.sparse as sp  # imported where the features are built: 0.4 s that `resonanz ask` does not need

log = logging.getLogger(__name__)

META_KEY = "resonanz_lexical"
FORMAT_VERSION = 1
BLOCKS = ("word", "char")
_EPS = 1e-7


LEXICAL_FILENAME = "resonanz.lexical.safetensors"
"""The lexical part of the hybrid inside a model directory built by ``resonanz train`` (see :mod:`nlp.hybrid`)."""
LEXICAL_SUFFIX = ".lexical.safetensors"


def lexical_path_for(weights: Path) -> Path:
    """Where the lexical model of a transformer artefact lives: ``x.safetensors`` -> ``x.lexical.safetensors``."""
    name = weights.name[: -len(".safetensors")] if weights.name.endswith(".safetensors") else weights.name
    return weights.with_name(name + LEXICAL_SUFFIX)


@dataclass
class LexicalConfig:
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (2, 5)
    n_features: int = 2**20
    """Hash buckets per block; only the buckets that occur in >= ``min_df`` documents are stored."""
    lowercase: bool = True
    min_df: int = 2
    c: float = 5.0
    """Inverse L2 regularisation of the logistic regression."""
    max_iter: int = 1000

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Block:
    index: np.ndarray  # int32 [k] kept hash buckets
    idf: np.ndarray  # float32 [k]


@dataclass
class LexicalModel:
    """Hashed word + character n-gram TF-IDF and multinomial logistic regression (see the module docstring)."""

    labels: list[str]
    config: LexicalConfig = field(default_factory=LexicalConfig)
    mix_weight: float = 0.5
    """Weight ``w`` of the transformer in :func:`mix_probabilities` (stored with the model)."""
    class_bias: list[float] = field(default_factory=list)
    """Optional per-label log-probability offsets added to the mixture (label order; empty: none)."""
    info: dict[str, Any] = field(default_factory=dict)
    """Free-form provenance (task, data, CV metrics) kept in the file's metadata."""
    blocks: dict[str, _Block] = field(default_factory=dict)
    coef: np.ndarray | None = None  # float32 [n_rows, n_kept_features]; one row for two labels
    intercept: np.ndarray | None = None  # float32 [n_rows]

    # -- features ---------------------------------------------------------------------------------------------
    def _hashed(self, texts: Sequence[str]) -> dict[str, sp.csr_matrix]:
        from sklearn.feature_extraction.text import HashingVectorizer

        cfg = self.config
        common: dict[str, Any] = {
            "n_features": cfg.n_features, "alternate_sign": False, "norm": None,
            "lowercase": cfg.lowercase, "dtype": np.float32,
        }  # fmt: skip
        word = HashingVectorizer(analyzer="word", ngram_range=tuple(cfg.word_ngrams), **common)
        char = HashingVectorizer(analyzer="char_wb", ngram_range=tuple(cfg.char_ngrams), **common)
        return {"word": word.transform(texts).tocsr(), "char": char.transform(texts).tocsr()}

    def _features(self, hashed: dict[str, sp.csr_matrix]) -> sp.csr_matrix:
        import scipy.sparse as sp

        parts = []
        for name in BLOCKS:
            block = self.blocks[name]
            x = hashed[name][:, block.index].tocsr()
            x.data = (1.0 + np.log(x.data)) * 1.0  # sublinear tf (counts >= 1)
            x = x.multiply(block.idf[None, :]).tocsr()
            norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
            x = sp.diags(1.0 / np.maximum(norms, 1e-12)) @ x
            parts.append(x)
        return sp.hstack(parts, format="csr", dtype=np.float32)

    # -- training and prediction ------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> LexicalModel:
        """Fit on ``texts`` with string ``labels`` (each one of :attr:`labels`); returns ``self``."""
        from sklearn.linear_model import LogisticRegression

        unknown = sorted(set(labels) - set(self.labels))
        if unknown:
            raise TrainingDataError(f"Unknown labels {unknown}; the model's labels are {self.labels}.")
        if len(texts) != len(labels) or len(set(labels)) < 2:
            raise TrainingDataError("The lexical model needs as many labels as texts and at least two distinct labels.")
        y = np.array([self.labels.index(label) for label in labels])
        hashed = self._hashed(texts)
        n = len(texts)
        for name in BLOCKS:
            df = np.bincount(hashed[name].indices, minlength=self.config.n_features)
            keep = np.flatnonzero(df >= self.config.min_df).astype(np.int32)
            idf = np.log((1.0 + n) / (1.0 + df[keep])) + 1.0
            # round through fp16 now, so the saved model predicts exactly like the fitted one
            self.blocks[name] = _Block(keep, idf.astype(np.float16).astype(np.float32))
        x = self._features(hashed)
        clf = LogisticRegression(C=self.config.c, max_iter=self.config.max_iter)
        clf.fit(x, y)
        coef = np.zeros((clf.coef_.shape[0], x.shape[1]), dtype=np.float32)
        coef[:] = clf.coef_
        intercept = np.asarray(clf.intercept_, dtype=np.float32)
        if len(clf.classes_) != len(self.labels):  # a label absent from the data: expand to all labels
            full_coef = np.zeros((len(self.labels), x.shape[1]), np.float32)
            full_int = np.full(len(self.labels), -30.0, np.float32)
            if coef.shape[0] == 1:  # binary fit: classes_[1] gets +z, classes_[0] gets 0
                full_coef[clf.classes_[1]], full_int[clf.classes_[1]] = coef[0], intercept[0]
                full_int[clf.classes_[0]] = 0.0
            else:
                full_coef[clf.classes_], full_int[clf.classes_] = coef, intercept
            coef, intercept = full_coef, full_int
        self.coef = coef.astype(np.float16).astype(np.float32)
        self.intercept = intercept
        return self

    def decision(self, texts: Sequence[str]) -> np.ndarray:
        """Logits ``[n, len(labels)]``."""
        if self.coef is None or self.intercept is None or not self.blocks:
            raise ModelFileError("The lexical model is not fitted; call fit() or LexicalModel.load().")
        z = np.asarray(self._features(self._hashed(texts)) @ self.coef.T) + self.intercept
        if z.shape[1] == 1:  # binary logistic regression: logit of labels[1]
            z = np.hstack([np.zeros_like(z), z])
        return np.asarray(z, dtype=np.float64)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities ``float32 [n, len(labels)]`` in the order of :attr:`labels`."""
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return _softmax(self.decision(texts)).astype(np.float32)

    def predict(self, texts: Sequence[str]) -> list[str]:
        return [self.labels[i] for i in self.predict_proba(texts).argmax(1)]

    # -- persistence ------------------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "labels": list(self.labels),
            "config": self.config.to_dict(),
            "mix_weight": self.mix_weight,
            "class_bias": list(self.class_bias),
            "mix": "softmax(w * log p_transformer + (1 - w) * log p_lexical + class_bias)",
            "info": self.info,
        }

    def save(self, path: Path) -> Path:
        """Write the model as safetensors (fp16 weights, no pickle), atomically."""
        from safetensors.numpy import save_file

        if self.coef is None or self.intercept is None:
            raise ModelFileError("Cannot save an unfitted lexical model; call fit() first.")
        tensors: dict[str, np.ndarray] = {
            "coef": self.coef.astype(np.float16),
            "intercept": self.intercept.astype(np.float32),
        }
        for name, block in self.blocks.items():
            tensors[f"{name}.index"] = block.index.astype(np.int32)
            tensors[f"{name}.idf"] = block.idf.astype(np.float16)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(self.metadata(), sort_keys=True)})
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> LexicalModel:
        """Read a file written by :meth:`save`; raises :class:`ModelFileError` when it is missing or malformed."""
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        path = Path(path)
        if not path.is_file():
            raise ModelFileError(f"Lexical model file {path} does not exist.")
        try:
            from safetensors import safe_open

            with safe_open(str(path), framework="numpy") as fh:
                raw = (fh.metadata() or {}).get(META_KEY)
            tensors = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelFileError(f"{path} is not a readable safetensors file ({exc}).") from exc
        if raw is None:
            raise ModelFileError(f"{path} has no '{META_KEY}' metadata: it is not a Resonanz lexical model.")
        try:
            meta = json.loads(raw)
            labels, cfg = list(meta["labels"]), dict(meta["config"])
            config = LexicalConfig(**{**cfg, "word_ngrams": tuple(cfg["word_ngrams"]),
                                      "char_ngrams": tuple(cfg["char_ngrams"])})  # fmt: skip
            mix_weight = float(meta["mix_weight"])
            class_bias = [float(b) for b in meta.get("class_bias") or []]
            version = int(meta["format_version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: malformed '{META_KEY}' metadata (missing or invalid {exc}).") from exc
        if version != FORMAT_VERSION:
            raise ModelFileError(f"{path}: lexical format version {version}, expected {FORMAT_VERSION}; retrain it.")
        needed = ["coef", "intercept"] + [f"{b}.{t}" for b in BLOCKS for t in ("index", "idf")]
        missing = [k for k in needed if k not in tensors]
        if missing:
            raise ModelFileError(f"{path} lacks the tensors {missing}; the file is truncated or not a lexical model.")
        if class_bias and len(class_bias) != len(labels):
            raise ModelFileError(f"{path}: class_bias has {len(class_bias)} values for {len(labels)} labels.")
        model = cls(labels, config, mix_weight, class_bias, info=dict(meta.get("info") or {}))
        model.blocks = {
            b: _Block(tensors[f"{b}.index"].astype(np.int32), tensors[f"{b}.idf"].astype(np.float32)) for b in BLOCKS
        }
        model.coef = tensors["coef"].astype(np.float32)
        model.intercept = tensors["intercept"].astype(np.float32)
        n_kept = sum(len(b.index) for b in model.blocks.values())
        if model.coef.shape[1] != n_kept or model.coef.shape[0] not in (1, len(labels)):
            raise ModelFileError(f"{path}: coefficient shape {model.coef.shape} does not match the feature blocks.")
        return model


def lexical_version(path: Path) -> str:
    """First 12 hex digits of the file's SHA-256 (part of the combined model version)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def mix_probabilities(
    p_transformer: np.ndarray, p_lexical: np.ndarray, w: float, bias: Sequence[float] | np.ndarray = ()
) -> np.ndarray:
    """``softmax(w * log p_transformer + (1 - w) * log p_lexical + bias)`` row-wise (probabilities clipped
    at 1e-7; ``bias``: optional per-class log offsets)."""
    if p_transformer.shape != p_lexical.shape:
        raise ValueError(f"probability shapes differ: {p_transformer.shape} vs {p_lexical.shape}")
    pt = np.log(np.clip(np.asarray(p_transformer, np.float64), _EPS, 1.0))
    pl = np.log(np.clip(np.asarray(p_lexical, np.float64), _EPS, 1.0))
    z = w * pt + (1.0 - w) * pl
    if len(bias):
        z = z + np.asarray(bias, np.float64)[None, :]
    return _softmax(z)


MIX_GRID = tuple(round(x, 2) for x in np.linspace(0.0, 1.0, 21))


def _f1s(y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    pred = proba.argmax(1)
    return {
        "micro_f1": round(float(f1_score(y, pred, average="micro")), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
    }


def choose_mix_weight(y: np.ndarray, p_transformer: np.ndarray, p_lexical: np.ndarray) -> dict[str, Any]:
    """The grid weight ``w`` (0, 0.05, ..., 1) whose mixture maximises (micro-F1 + macro-F1) / 2 on these
    out-of-fold probabilities (ties: closer to 0.5), with the scores of both parts and of the mixture.

    The mixture's score is in-sample for ``w``; for an honest estimate choose ``w`` on other folds.
    """

    def key(w: float) -> tuple[float, float]:
        s = _f1s(y, mix_probabilities(p_transformer, p_lexical, w))
        return (s["micro_f1"] + s["macro_f1"]) / 2, -abs(w - 0.5)

    w = max(MIX_GRID, key=key)
    return {
        "mix_weight": w,
        "transformer": _f1s(y, p_transformer),
        "lexical": _f1s(y, p_lexical),
        "hybrid": _f1s(y, mix_probabilities(p_transformer, p_lexical, w)),
    }
