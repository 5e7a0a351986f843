"""Training the flag branch (:mod:`nlp.flag_model` with ``top_layers`` > 0): a fine-tuned copy of the embedder's
top layer(s) plus the five sigmoid heads, on cached hidden states of the frozen lower layers.

The lower layers are the embedder's own (the Analyzer computes them anyway), so their per-token states
are computed once (:func:`nlp.training.features.encode_lower`) and only the top layer(s) and heads train:
mean pooling, L2 normalisation and ``EMBED_SCALE`` as for the passage embedding, then the same rule
features as the heads on the frozen embedding (:func:`nlp.flag_model.extra_features`).

Weak negatives (posts that are known not to be churn) only enter the churn head's loss. Everything -
layers, epochs, learning rates, thresholds - is chosen by 5-fold cross-validation on the training posts
(:func:`cross_validate`); the evaluation set is never read here.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from nlp.errors import TrainingDataError
from nlp.flag_model import EMBED_SCALE, EXTRA_FEATURES, FLAG_CLASSES, LAYER_PREFIX, FlagModel
from nlp.training.features import HiddenCache
from nlp.training.trainer import bf16_autocast, collate, length_batches

log = logging.getLogger(__name__)


@dataclass
class FlagLayerConfig:
    """Defaults: the recipe chosen by 5-fold cross-validation (see the model card, "Triage flags")."""

    top_layers: int = 2
    epochs: int = 8
    lr_layers: float = 1e-4
    lr_head: float = 5e-3
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1
    warm_start_c: float = 0.0
    """> 0: start the heads from logistic regressions (this inverse L2 penalty) on the untrained branch's
    output (= the frozen embedding); cross-validated, it held the branch close to the head-only model."""
    seed: int = 0
    threads: int = 2
    bf16: bool = False
    """Autocast to bfloat16 (worth it where the CPU has AVX512-BF16/AMX)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FlagTop(nn.Module):
    """The top ``k`` encoder layers (from the base model), mean pooling and one linear head per flag."""

    def __init__(self, config: Any, first_layer: int, top_layers: int, dropout: float = 0.1) -> None:
        from transformers.models.bert.modeling_bert import BertLayer

        super().__init__()
        config = copy.deepcopy(config)
        config.hidden_dropout_prob = config.attention_probs_dropout_prob = dropout
        config._attn_implementation = "sdpa"
        self.first_layer = first_layer
        self.layers = nn.ModuleList(
            [BertLayer(config, layer_idx=i) for i in range(first_layer, first_layer + top_layers)]  # type: ignore[no-untyped-call]
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(int(config.hidden_size) + EXTRA_FEATURES, len(FLAG_CLASSES))
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def pooled(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``EMBED_SCALE`` x the L2-normalised mean of the top layer's token states (what the heads read)."""
        extended = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers:
            out = layer(hidden, attention_mask=extended)
            hidden = out[0] if isinstance(out, tuple) else out
        weights = mask[:, :, None].to(hidden.dtype)
        mean = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        return nn.functional.normalize(mean, dim=-1) * EMBED_SCALE

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor, extra: torch.Tensor) -> torch.Tensor:
        pooled = self.dropout(self.pooled(hidden, mask))
        return cast(torch.Tensor, self.head(torch.cat([pooled, extra.to(pooled.dtype)], 1)))

    def layer_tensors(self) -> dict[str, np.ndarray]:
        """The fine-tuned layers under :data:`nlp.flag_model.LAYER_PREFIX` names."""
        return {
            f"{LAYER_PREFIX}{self.first_layer + i}.{name}": value.detach().float().numpy().copy()
            for i, layer in enumerate(self.layers)
            for name, value in layer.named_parameters()
        }


def load_flag_top(base_dir: Path, top_layers: int, dropout: float = 0.1) -> FlagTop:
    """A :class:`FlagTop` with the base model's top ``top_layers`` layers and fresh heads."""
    from safetensors.torch import load_file
    from transformers import BertConfig

    config = BertConfig.from_pretrained(base_dir)
    n = int(config.num_hidden_layers)
    if not 1 <= top_layers <= n:
        raise TrainingDataError(f"top_layers must be 1..{n}, got {top_layers}")
    model = FlagTop(config, n - top_layers, top_layers, dropout)
    tensors = load_file(str(base_dir / "model.safetensors"))
    for i, layer in enumerate(model.layers):
        prefix = f"encoder.layer.{model.first_layer + i}."
        state = {k.removeprefix("bert.")[len(prefix) :]: v for k, v in tensors.items()
                 if k.removeprefix("bert.").startswith(prefix)}  # fmt: skip
        layer.load_state_dict(state)
    return model


@torch.inference_mode()
def predict(model: FlagTop, cache: HiddenCache, extra: np.ndarray, *, bf16: bool = False) -> np.ndarray:
    """``(n, classes)`` probabilities."""
    model.eval()
    out = np.zeros((len(cache), len(FLAG_CLASSES)), dtype=np.float64)
    for batch in length_batches(cache.lengths(), 64, None):
        hidden, mask = collate(cache, batch)
        with bf16_autocast(bf16):
            logits = model(hidden, mask, torch.from_numpy(extra[batch].astype(np.float32)))
        out[batch] = torch.sigmoid(logits.float()).numpy()
    return out


@torch.inference_mode()
def _pooled(model: FlagTop, cache: HiddenCache) -> np.ndarray:
    model.eval()
    out = np.zeros((len(cache), model.head.in_features - EXTRA_FEATURES), dtype=np.float64)
    for batch in length_batches(cache.lengths(), 64, None):
        hidden, mask = collate(cache, batch)
        out[batch] = model.pooled(hidden, mask).float().numpy()
    return out


def warm_start(model: FlagTop, cache: HiddenCache, labels: np.ndarray, weights: np.ndarray, extra: np.ndarray,
               c: float) -> None:  # fmt: skip
    """Set each head to a logistic regression on the untrained branch's output (rows with weight 0 left out)."""
    from sklearn.linear_model import LogisticRegression

    x = np.hstack([_pooled(model, cache), extra])
    w, b = np.zeros((len(FLAG_CLASSES), x.shape[1])), np.zeros(len(FLAG_CLASSES))
    for j in range(len(FLAG_CLASSES)):
        rows = weights[:, j] > 0
        y = labels[rows, j]
        if y.min() == y.max():  # one class only (tiny data): a constant head
            rate = float(np.clip(y.mean(), 0.01, 0.99))
            b[j] = np.log(rate / (1 - rate))
            continue
        head = LogisticRegression(C=c, max_iter=5000).fit(x[rows], y)
        w[j], b[j] = head.coef_[0], head.intercept_[0]
    with torch.no_grad():
        model.head.weight.copy_(torch.from_numpy(w))
        model.head.bias.copy_(torch.from_numpy(b))


def train_flag_layer(
    make_model: Callable[[], FlagTop],
    cache: HiddenCache,
    labels: np.ndarray,
    weights: np.ndarray,
    extra: np.ndarray,
    config: FlagLayerConfig,
) -> FlagTop:
    """Fine-tune the branch on all rows of ``cache``. ``weights`` ``(n, classes)``: each label's weight in the
    loss (0: unknown, e.g. a weak negative's other flags)."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = make_model()
    if config.warm_start_c > 0:
        warm_start(model, cache, labels, weights, extra, config.warm_start_c)
    opt = torch.optim.AdamW(
        [{"params": model.layers.parameters(), "lr": config.lr_layers},
         {"params": model.head.parameters(), "lr": config.lr_head}],
        weight_decay=config.weight_decay,
    )  # fmt: skip
    total = math.ceil(len(cache) / config.batch_size) * config.epochs
    warm = max(1, int(total * config.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    y, w = torch.from_numpy(labels.astype(np.float32)), torch.from_numpy(weights.astype(np.float32))
    x_extra = torch.from_numpy(extra.astype(np.float32))
    for epoch in range(1, config.epochs + 1):
        model.train()
        total_loss = 0.0
        for batch in length_batches(cache.lengths(), config.batch_size, rng):
            hidden, mask = collate(cache, batch)
            with bf16_autocast(config.bf16):
                logits = model(hidden, mask, x_extra[batch])
            loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), y[batch], reduction="none")
            loss = (loss * w[batch]).sum() / w[batch].sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total_loss += float(loss.detach()) * len(batch)
        log.info("flag layer epoch %d/%d: loss %.4f", epoch, config.epochs, total_loss / len(cache))
    model.eval()
    return model


def _concat(a: HiddenCache, b: HiddenCache) -> HiddenCache:
    tokens = np.concatenate([np.asarray(a.tokens), np.asarray(b.tokens)])
    offsets = np.concatenate([a.offsets, a.offsets[-1] + b.offsets[1:]]).astype(np.int64)
    return HiddenCache(tokens, offsets)


@dataclass
class FlagData:
    """Training rows: labelled posts, then weak negatives that only count for the churn head."""

    cache: HiddenCache
    labels: np.ndarray
    extra: np.ndarray
    weak_cache: HiddenCache | None = None
    weak_extra: np.ndarray | None = None

    def rows(self, idx: np.ndarray) -> tuple[HiddenCache, np.ndarray, np.ndarray, np.ndarray]:
        """Cache, labels, loss weights and extra features of the labelled rows ``idx`` plus all weak negatives."""
        cache, labels, extra = self.cache.subset(idx), self.labels[idx], self.extra[idx]
        weights = np.ones(labels.shape)
        if self.weak_cache is not None and self.weak_extra is not None and len(self.weak_cache):
            n = len(self.weak_cache)
            weak_weights = np.zeros((n, labels.shape[1]))
            weak_weights[:, FLAG_CLASSES.index("churn")] = 1.0
            cache = _concat(cache, self.weak_cache)
            labels = np.vstack([labels, np.zeros((n, labels.shape[1]), labels.dtype)])
            weights = np.vstack([weights, weak_weights])
            extra = np.vstack([extra, self.weak_extra])
        return cache, labels, weights, extra


def folds(labels: np.ndarray, n: int = 5, seed: int = 13) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified on churn x complaint (the two flags that decide the most)."""
    from sklearn.model_selection import StratifiedKFold

    key = labels[:, FLAG_CLASSES.index("churn")] * 2 + labels[:, FLAG_CLASSES.index("complaint")]
    splitter = StratifiedKFold(n, shuffle=True, random_state=seed)
    return [(a, b) for a, b in splitter.split(np.zeros(len(labels)), key)]


def cross_validate(
    make_model: Callable[[], FlagTop], data: FlagData, config: FlagLayerConfig, n_folds: int = 5
) -> np.ndarray:
    """Out-of-fold probabilities ``(n_labelled, classes)``; weak negatives join every training fold, no test fold."""
    oof = np.zeros(data.labels.shape, dtype=np.float64)
    for k, (train_idx, test_idx) in enumerate(folds(data.labels, n_folds), 1):
        model = train_flag_layer(make_model, *data.rows(train_idx), config)
        oof[test_idx] = predict(model, data.cache.subset(test_idx), data.extra[test_idx], bf16=config.bf16)
        log.info("fold %d/%d done", k, n_folds)
    return oof


def cv_scores(oof: np.ndarray, labels: np.ndarray, extra: np.ndarray, thresholds: np.ndarray) -> dict[str, Any]:
    """Precision/recall per flag of the out-of-fold probabilities, decided as the Analyzer decides."""
    k = len(FLAG_CLASSES)
    fired = FlagModel(np.zeros((k, 1)), np.zeros(k), thresholds).decide(oof, extra)
    out: dict[str, Any] = {}
    for j, name in enumerate(FLAG_CLASSES):
        gold, pred = labels[:, j].astype(bool), fired[:, j]
        tp = int((gold & pred).sum())
        out[name] = {"precision": round(tp / max(1, int(pred.sum())), 4),
                     "recall": round(tp / max(1, int(gold.sum())), 4), "positives": int(gold.sum())}  # fmt: skip
    return out


TARGET_PRECISION, TARGET_RECALL = 0.85, 0.80
"""Issue 12's targets per flag."""


def choose_thresholds(oof: np.ndarray, labels: np.ndarray, extra: np.ndarray) -> np.ndarray:
    """Per flag, the threshold (0.30-0.90 in steps of 0.05) whose out-of-fold precision and recall clear the
    targets by the widest margin (maximise ``min(P - 0.85, R - 0.80)``), so neither target is traded away."""
    grid = np.round(np.arange(0.30, 0.901, 0.05), 2)
    margins = np.zeros((len(grid), len(FLAG_CLASSES)))
    for g, t in enumerate(grid):
        scores = cv_scores(oof, labels, extra, np.full(len(FLAG_CLASSES), t))
        margins[g] = [min(s["precision"] - TARGET_PRECISION, s["recall"] - TARGET_RECALL) for s in scores.values()]
    return np.asarray(grid[margins.argmax(0)], dtype=np.float64)


def to_flag_model(model: FlagTop, thresholds: np.ndarray, meta: dict[str, Any]) -> FlagModel:
    """The artefact: fine-tuned layers, heads, thresholds; the version is a hash of all weights."""
    layers = model.layer_tensors()
    weight = model.head.weight.detach().double().numpy().copy()
    bias = model.head.bias.detach().double().numpy().copy()
    digest = hashlib.sha1(weight.astype(np.float32).tobytes())
    for name in sorted(layers):
        digest.update(layers[name].astype(np.float16).tobytes())
    meta = {**meta, "version": f"L{len(model.layers)}-{digest.hexdigest()[:12]}", "first_layer": model.first_layer}
    return FlagModel(weight=weight, bias=bias, thresholds=np.asarray(thresholds, dtype=np.float64), meta=meta,
                     layers=layers)  # fmt: skip
