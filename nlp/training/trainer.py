"""Train the top layers + head on cached hidden states; stratified cross-validation with the same recipe."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from torch import nn
from tqdm import tqdm

from nlp.training.features import HiddenCache
from nlp.training.model import TopModel

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    n_top: int = 1
    max_epochs: int = 6
    patience: int = 2
    batch_size: int = 32
    lr_layers: float = 8e-5
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1
    class_weight_power: float = 0.5
    """Loss weight of a class = (frequency)^-power, normalised; 0 = unweighted, 1 = fully balanced."""
    label_smoothing: float = 0.0
    lora_rank: int = 0
    """0: train the top layers fully; > 0: train rank-r adapters (tiny artefact, allows more layers)."""
    lora_alpha: float = 16.0
    uniform_attention_init: bool = False
    """Start the last layer with zero queries (a mean-pooling-like first token); see model.init_uniform_attention."""
    val_fraction: float = 0.1
    seed: int = 13
    threads: int = 2
    bf16: bool = False
    """Autocast the layers to bfloat16 (several times faster where the CPU has AVX512-BF16 or AMX; see
    :func:`nlp.runtime.cpu_supports_bf16`); the loss and the optimizer state stay float32."""

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class TrainResult:
    model: TopModel
    best_epoch: int
    val_macro_f1: float
    history: list[dict[str, float]] = field(default_factory=list)


def class_weights(labels: np.ndarray, num_labels: int, power: float) -> torch.Tensor:
    counts = np.bincount(labels, minlength=num_labels).astype(np.float64)
    freq = np.maximum(counts, 1.0) / counts.sum()
    weights = freq**-power
    weights = weights / (weights * freq).sum()  # expected weight per example = 1
    return torch.tensor(weights, dtype=torch.float32)


def length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Batches of similar length (less padding); batch order shuffled when ``rng`` is given."""
    idx = np.arange(len(lengths))
    if rng is not None:
        idx = rng.permutation(idx)
        # sort within windows of 50 batches: similar lengths together, still random across epochs
        window = batch_size * 50
        idx = np.concatenate(
            [
                w[np.argsort(lengths[w], kind="stable")]
                for w in np.array_split(idx, max(1, math.ceil(len(idx) / window)))
            ]
        )
    else:
        idx = idx[np.argsort(lengths, kind="stable")]
    batches = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


def collate(cache: HiddenCache, batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    lens = cache.lengths()[batch]
    width = int(lens.max())
    hidden = np.zeros((len(batch), width, cache.tokens.shape[1]), dtype=np.float32)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for row, i in enumerate(batch):
        hidden[row, : lens[row]] = cache.get(int(i))
        mask[row, : lens[row]] = 1
    return torch.from_numpy(hidden), torch.from_numpy(mask)


def bf16_autocast(enabled: bool) -> torch.autocast:
    """bfloat16 autocast on the CPU where ``enabled`` (``TrainConfig.bf16`` and the other trainers' flag)."""
    return torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled)


@torch.inference_mode()
def predict_proba(model: TopModel, cache: HiddenCache, batch_size: int = 64, *, bf16: bool = False) -> np.ndarray:
    model.eval()
    out = np.zeros((len(cache), model.classifier.out_features), dtype=np.float32)
    for batch in length_batches(cache.lengths(), batch_size, None):
        hidden, mask = collate(cache, batch)
        with bf16_autocast(bf16):
            logits = model(hidden, mask)
        out[batch] = torch.softmax(logits.float(), dim=-1).numpy()
    return out


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro")),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro")),
    }


def train_top(
    make_model: Callable[[], TopModel],
    cache: HiddenCache,
    labels: np.ndarray,
    config: TrainConfig,
    *,
    extra: tuple[HiddenCache, np.ndarray] | None = None,
    desc: str = "train",
) -> TrainResult:
    """Train with early stopping on a stratified ``val_fraction`` split of ``cache``; returns the best epoch's model.

    ``extra`` examples (e.g. additional positives from another corpus) are added to the training part only.
    """
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = make_model()
    num_labels = model.classifier.out_features
    idx = np.arange(len(cache))
    counts = np.bincount(labels)
    present = int((counts > 0).sum())
    n_val = max(present, math.ceil(config.val_fraction * len(labels)))  # stratification needs >= 1 per class
    can_stratify = counts[counts > 0].min() >= 2 and n_val <= len(labels) - present
    train_idx, val_idx = train_test_split(
        idx, test_size=n_val, random_state=config.seed, stratify=labels if can_stratify else None
    )
    train_cache, train_y = cache.subset(train_idx), labels[train_idx]
    if extra is not None:
        train_cache = _concat(train_cache, extra[0])
        train_y = np.concatenate([train_y, extra[1]])
    val_cache, val_y = cache.subset(val_idx), labels[val_idx]
    loss_fn = nn.CrossEntropyLoss(
        weight=class_weights(train_y, num_labels, config.class_weight_power), label_smoothing=config.label_smoothing
    )
    head = list(model.pooler.parameters()) + list(model.classifier.parameters())
    opt = torch.optim.AdamW(
        [
            {"params": [p for p in model.layers.parameters() if p.requires_grad], "lr": config.lr_layers},
            {"params": head, "lr": config.lr_head},
        ],
        weight_decay=config.weight_decay,
    )
    steps_per_epoch = math.ceil(len(train_y) / config.batch_size)
    total = steps_per_epoch * config.max_epochs
    warm = max(1, int(total * config.warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    best_state, best_f1, best_loss, best_epoch, bad = copy.deepcopy(model.state_dict()), -1.0, math.inf, 0, 0
    history: list[dict[str, float]] = []
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        t0, total_loss = time.perf_counter(), 0.0
        batches = length_batches(train_cache.lengths(), config.batch_size, rng)
        for batch in tqdm(batches, desc=f"{desc} epoch {epoch}", unit="batch", leave=False):
            hidden, mask = collate(train_cache, batch)
            with bf16_autocast(config.bf16):
                logits = model(hidden, mask)
            loss = loss_fn(logits.float(), torch.from_numpy(train_y[batch]).long())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total_loss += float(loss.detach()) * len(batch)
        val_proba = predict_proba(model, val_cache, bf16=config.bf16)
        scores = _scores(val_y, val_proba.argmax(1))
        val_loss = float(-np.log(np.maximum(val_proba[np.arange(len(val_y)), val_y], 1e-9)).mean())
        row = {"epoch": epoch, "loss": total_loss / len(train_y), "val_loss": val_loss,
               "seconds": time.perf_counter() - t0, **scores}  # fmt: skip
        history.append(row)
        log.info("%s epoch %d: loss %.4f, val micro-F1 %.4f macro-F1 %.4f (%.0f s)", desc, epoch, row["loss"],
                 scores["micro_f1"], scores["macro_f1"], row["seconds"])  # fmt: skip
        if (scores["macro_f1"], -val_loss) > (best_f1, -best_loss):
            best_state, best_f1, best_loss = copy.deepcopy(model.state_dict()), scores["macro_f1"], val_loss
            best_epoch, bad = epoch, 0
        else:
            bad += 1
            if bad >= config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(model, best_epoch, best_f1, history)


def _concat(a: HiddenCache, b: HiddenCache) -> HiddenCache:
    tokens = np.concatenate([np.asarray(a.tokens), np.asarray(b.tokens)])
    offsets = np.concatenate([a.offsets, a.offsets[-1] + b.offsets[1:]]).astype(np.int64)
    return HiddenCache(tokens, offsets)


def cross_validate(
    make_model: Callable[[], TopModel],
    cache: HiddenCache,
    labels: np.ndarray,
    config: TrainConfig,
    folds: int = 5,
    *,
    extra: tuple[HiddenCache, np.ndarray] | None = None,
    label_names: Sequence[str] = (),
    checkpoint_dir: Path | None = None,
    return_proba: bool = False,
) -> dict[str, object]:
    """Stratified ``folds``-fold CV (fixed seed); returns per-fold and pooled micro/macro F1.

    With ``checkpoint_dir``, each finished fold's predictions (argmax and class probabilities) are saved
    there and reused when the run is restarted with the same data, labels and config (an interrupted CV
    resumes at the next fold). With ``return_proba``, the result also holds ``"oof_proba"``: the
    out-of-fold class probabilities, ``float32 [n, num_labels]`` (a numpy array, so not JSON-serialisable).
    """
    skf = cv_splitter(folds, config.seed)
    pred = np.full(len(labels), -1)
    proba: np.ndarray | None = None
    per_fold: list[dict[str, float]] = []
    run_key = hashlib.sha256(
        json.dumps([config.to_dict(), folds, extra is not None and len(extra[1])]).encode()
        + labels.tobytes() + np.asarray(cache.offsets).tobytes()
    ).hexdigest()[:16]  # fmt: skip
    for k, (tr, te) in enumerate(skf.split(np.zeros(len(labels)), labels), 1):
        done = checkpoint_dir / f"cv-{run_key}-fold{k}.json" if checkpoint_dir else None
        saved = json.loads(done.read_text(encoding="utf-8")) if done is not None and done.is_file() else None
        if saved is not None and (saved.get("proba") is not None or not return_proba):
            pred[te] = np.array(saved["pred"])
            if saved.get("proba") is not None:
                fold_proba = np.asarray(saved["proba"], dtype=np.float32)
                proba = np.zeros((len(labels), fold_proba.shape[1]), np.float32) if proba is None else proba
                proba[te] = fold_proba
            per_fold.append(saved["scores"])
            log.info("fold %d: resumed from %s", k, done)
            continue
        result = train_top(make_model, cache.subset(tr), labels[tr], config, extra=extra, desc=f"fold {k}/{folds}")
        fold_proba = predict_proba(result.model, cache.subset(te), bf16=config.bf16)
        proba = np.zeros((len(labels), fold_proba.shape[1]), np.float32) if proba is None else proba
        proba[te] = fold_proba
        pred[te] = fold_proba.argmax(1)
        scores = {**_scores(labels[te], pred[te]), "best_epoch": result.best_epoch}
        per_fold.append(scores)
        if done is not None:
            done.parent.mkdir(parents=True, exist_ok=True)
            payload = {"scores": scores, "pred": pred[te].tolist(), "proba": np.round(fold_proba, 6).tolist()}
            done.write_text(json.dumps(payload), encoding="utf-8")
        log.info("fold %d: micro-F1 %.4f macro-F1 %.4f (best epoch %d)", k, scores["micro_f1"], scores["macro_f1"],
                 result.best_epoch)  # fmt: skip
    pooled = _scores(labels, pred)
    per_class = f1_score(labels, pred, average=None)
    out: dict[str, object] = {
        "folds": per_fold,
        "mean_micro_f1": float(np.mean([f["micro_f1"] for f in per_fold])),
        "mean_macro_f1": float(np.mean([f["macro_f1"] for f in per_fold])),
        "pooled": pooled,
        "per_class_f1": {
            (label_names[i] if i < len(label_names) else str(i)): float(v) for i, v in enumerate(per_class)
        },
        "config": config.to_dict(),
    }
    if return_proba:
        if proba is None or len(per_fold) < folds:
            raise RuntimeError("out-of-fold probabilities are incomplete")  # pragma: no cover - defensive
        out["oof_proba"] = proba
    return out


def cv_splitter(folds: int = 5, seed: int = 13) -> StratifiedKFold:
    """The fold split of :func:`cross_validate` (shared with the lexical model's CV so folds match)."""
    return StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
