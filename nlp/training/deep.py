"""End-to-end fine-tuning of every encoder layer with LoRA adapters: resumable, bf16 where the CPU has it.

The cached-hidden-state trainer (:mod:`nlp.training.trainer`) trains only the top layer(s), because
it runs the frozen lower layers once. That is cheap but shallow: the lower layers never learn that
"Super, schon wieder…🙄" is a complaint. This trainer runs the whole encoder on every step and trains

* rank-``r`` adapters on the six linear maps of **all** layers (:mod:`nlp.training.lora`),
* every bias and LayerNorm, the pooler and the head,

while the 96M-parameter word-embedding matrix and the base weight matrices stay frozen. What ships
is a few MB (the adapters are merged into the base weights when the model directory is built), and
the forward/backward costs about two thirds of a full fine-tune because no weight gradients of the
big matrices are computed.

Trade-offs, measured on a 2-core Xeon (see nlp/MODEL_CARD.md): bf16 autocast where the CPU has
native bf16 (the master weights and the optimizer stay fp32); batches of similar length (little
padding); a checkpoint every ``checkpoint_every`` steps with the optimizer, scheduler and position,
so a killed run resumes at the next batch (``resume=True``).

Examples carry a loss weight, so several corpora can be mixed without the biggest or the most
skewed one dictating the label prior (see ``scripts/train_general_sentiment.py``).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from nlp.training.model import TopModel, load_top_from_base
from nlp.training.trainer import bf16_autocast, class_weights, length_batches

log = logging.getLogger(__name__)


@dataclass
class DeepConfig:
    lora_rank: int = 16
    """0: no adapters, every matrix of the encoder layers trains (a full fine-tune, embeddings still frozen)."""
    lora_alpha: float = 32.0
    epochs: float = 2.0
    """May be fractional: training stops after ``epochs * steps_per_epoch`` steps."""
    batch_size: int = 32
    lr: float = 5e-4
    """Adapters, biases and LayerNorms."""
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.06
    dropout: float = 0.1
    label_smoothing: float = 0.05
    max_length: int = 128
    seed: int = 13
    threads: int = 2
    bf16: bool = True
    """Autocast matmuls to bf16 (only where :func:`nlp.runtime.cpu_supports_bf16`); fp32 master weights."""
    checkpoint_every: int = 100

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Tokenised:
    ids: list[np.ndarray]

    def lengths(self) -> np.ndarray:
        return np.array([len(x) for x in self.ids], dtype=np.int64)


def tokenise(base_dir: Path, texts: Sequence[str], max_length: int, prefix: str = "passage: ") -> Tokenised:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(base_dir))
    enc = tok([prefix + t for t in texts], truncation=True, max_length=max_length)
    return Tokenised([np.asarray(x, dtype=np.int64) for x in enc["input_ids"]])


def pad(batch_ids: Sequence[np.ndarray], pad_id: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(x) for x in batch_ids)
    ids = np.full((len(batch_ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch_ids), width), dtype=np.int64)
    for row, x in enumerate(batch_ids):
        ids[row, : len(x)] = x
        mask[row, : len(x)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """:func:`~nlp.training.trainer.length_batches` with a generator seeded by ``(seed, epoch)``, so a resumed
    run sees the same batches."""
    return length_batches(lengths, batch_size, np.random.default_rng([seed, epoch]))


class DeepClassifier(nn.Module):
    """Frozen embeddings + all encoder layers with LoRA (a :class:`TopModel` with ``n_top`` = all layers)."""

    def __init__(self, base_dir: Path, num_labels: int, config: DeepConfig) -> None:
        super().__init__()
        from safetensors.torch import load_file
        from transformers import BertConfig
        from transformers.models.bert.modeling_bert import BertEmbeddings

        bert_config = BertConfig.from_pretrained(str(base_dir))
        self.embeddings = BertEmbeddings(bert_config)  # type: ignore[no-untyped-call]
        weights = load_file(str(base_dir / "model.safetensors"))
        emb = {k.removeprefix("embeddings."): v for k, v in weights.items() if k.startswith("embeddings.")}
        self.embeddings.load_state_dict(emb, strict=False)
        self.embeddings.requires_grad_(False)
        self.embeddings.eval()
        self.top: TopModel = load_top_from_base(
            str(base_dir), bert_config.num_hidden_layers, num_labels, config.dropout
        )
        if config.lora_rank > 0:
            self.top.enable_lora(config.lora_rank, config.lora_alpha)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            hidden = self.embeddings(input_ids=ids)
        return cast(torch.Tensor, self.top(hidden, mask))

    def train(self, mode: bool = True) -> DeepClassifier:
        super().train(mode)
        self.embeddings.eval()  # frozen: no dropout noise on the input either
        return self


def use_bf16(config: DeepConfig) -> bool:
    from nlp.runtime import cpu_supports_bf16

    return config.bf16 and cpu_supports_bf16()


@torch.inference_mode()
def predict_logits(model: DeepClassifier, data: Tokenised, *, bf16: bool, batch_size: int = 64) -> np.ndarray:
    model.eval()
    out = np.zeros((len(data.ids), model.top.classifier.out_features), dtype=np.float32)
    order = np.argsort(data.lengths(), kind="stable")
    with bf16_autocast(bf16):
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            ids, mask = pad([data.ids[j] for j in batch])
            out[batch] = model(ids, mask).float().numpy()
    return out


def _checkpoint_path(work_dir: Path) -> Path:
    return work_dir / "checkpoint.pt"


def train_deep(
    base_dir: Path,
    data: Tokenised,
    labels: np.ndarray,
    weights: np.ndarray,
    num_labels: int,
    config: DeepConfig,
    work_dir: Path,
    *,
    resume: bool = True,
    on_epoch: Callable[[DeepClassifier, int], dict[str, float]] | None = None,
    max_steps: int | None = None,
    progress: bool = True,
) -> DeepClassifier:
    """Fine-tune; checkpoints and a JSON-lines log go to ``work_dir``; returns the model after the last step.

    ``weights``: per-example loss weights (mean 1 keeps the learning rate meaningful).
    ``on_epoch(model, epoch)``: called after each full epoch (e.g. validation); its dict is logged.
    ``max_steps``: stop after this many steps in this call (checkpointed; a later call resumes), e.g. to
    fit training into time slots. ``progress``: a progress bar over the steps.
    """
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    work_dir.mkdir(parents=True, exist_ok=True)
    bf16 = use_bf16(config)
    model = DeepClassifier(base_dir, num_labels, config)
    head = [p for n, p in model.top.named_parameters() if n.startswith(("pooler.", "classifier.")) and p.requires_grad]
    head_ids = {id(p) for p in head}
    body = [p for p in model.top.parameters() if p.requires_grad and id(p) not in head_ids]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": config.lr}, {"params": head, "lr": config.lr_head}], weight_decay=config.weight_decay
    )
    lengths = data.lengths()
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = max(1, int(round(config.epochs * steps_per_epoch)))
    warm = max(1, int(total * config.warmup))

    def lr_factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    step = 0
    ckpt = _checkpoint_path(work_dir)
    if resume and ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        if _recipe(state.get("config") or {}) != _recipe(config.to_dict()) or state.get("n") != len(lengths):
            raise ValueError(f"{ckpt} belongs to another configuration or data set; delete it or use another work dir")
        model.top.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        torch.set_rng_state(state["rng"])  # dropout continues as if never interrupted
        step = int(state["step"])
        log.info("resumed from %s at step %d of %d", ckpt, step, total)
    loss_fn = nn.CrossEntropyLoss(reduction="none", label_smoothing=config.label_smoothing)
    y = torch.from_numpy(labels.astype(np.int64))
    w = torch.from_numpy(weights.astype(np.float32))
    logf = (work_dir / "train.log.jsonl").open("a", encoding="utf-8")
    t0, running, seen = time.perf_counter(), 0.0, 0
    model.train()
    stop_at = total if max_steps is None else min(total, step + max_steps)
    kind = "LoRA" if config.lora_rank > 0 else "full"
    bar = tqdm(total=total, initial=step, desc=f"Training (all layers, {kind})", unit="step", disable=not progress)
    while step < stop_at:
        epoch, pos = divmod(step, steps_per_epoch)
        batches = epoch_batches(lengths, config.batch_size, config.seed, epoch)
        for batch in batches[pos:]:
            if step >= stop_at:
                break
            ids, mask = pad([data.ids[i] for i in batch])
            with bf16_autocast(bf16):
                logits = model(ids, mask)
            loss_vec = loss_fn(logits.float(), y[batch])
            loss = (loss_vec * w[batch]).sum() / w[batch].sum().clamp_min(1e-6)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(body + head, 1.0)
            opt.step()
            sched.step()
            step += 1
            bar.update(1)
            running += float(loss.detach())
            seen += 1
            if step % 20 == 0 or step == total:
                rate = (time.perf_counter() - t0) / seen
                row = {"step": step, "total": total, "epoch": epoch + 1, "loss": running / seen,
                       "s_per_step": rate, "eta_min": (total - step) * rate / 60}  # fmt: skip
                logf.write(json.dumps(row) + "\n")
                logf.flush()
                log.info("step %d/%d loss %.4f (%.2f s/step, %.0f min left)", step, total, row["loss"], rate,
                         row["eta_min"])  # fmt: skip
                running, seen, t0 = 0.0, 0, time.perf_counter()
            if step % config.checkpoint_every == 0 or step in (total, stop_at):
                _save_checkpoint(ckpt, model, opt, sched, step, config, len(lengths))
        if on_epoch is not None and (step % steps_per_epoch == 0 or step >= total):
            scores = on_epoch(model, epoch + 1)
            logf.write(json.dumps({"epoch_end": epoch + 1, "step": step, **scores}) + "\n")
            logf.flush()
            model.train()
    bar.close()
    logf.close()
    model.eval()
    return model


def _recipe(config: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must agree on to be resumed (threads and checkpoint spacing do not change the result)."""
    return {k: v for k, v in config.items() if k not in {"threads", "checkpoint_every"}}


def _save_checkpoint(
    path: Path, model: DeepClassifier, opt: Any, sched: Any, step: int, config: DeepConfig, n: int
) -> None:
    trainable = {k: v.detach() for k, v in model.top.named_parameters() if v.requires_grad}
    state = {"model": trainable, "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step,
             "config": config.to_dict(), "n": n, "rng": torch.get_rng_state()}  # fmt: skip
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def class_balance_weights(labels: np.ndarray, num_labels: int, power: float = 0.5) -> np.ndarray:
    """Per-example loss weights: :func:`~nlp.training.trainer.class_weights` of each example's label (mean 1)."""
    return np.asarray(class_weights(labels, num_labels, power).numpy()[labels], dtype=np.float64)


def train_deep_task(
    task: str,
    examples: Sequence[Any],
    *,
    base_dir: Path,
    output: Path,
    config: DeepConfig,
    work_dir: Path,
    sources: Sequence[str] = (),
    model_texts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Train an all-layer LoRA artefact for ``task`` on ``examples`` (:class:`~nlp.training.data.Example`).

    ``model_texts``: the texts as the scorer sees them (default: ``nlp.preprocess.prepare``'s
    ``model_text`` of each example). A 5 % stratified slice is held out to fit the temperature and to
    report micro/macro-F1; the training prior is the loss-weighted label share. Resumable in ``work_dir``.
    Returns the metrics stored in the artefact.
    """
    from datetime import UTC, datetime

    from sklearn.metrics import f1_score
    from sklearn.model_selection import train_test_split

    from nlp.calibration import fit_temperature
    from nlp.errors import TrainingDataError
    from nlp.training.artefact import ArtefactMeta, save_artefact
    from nlp.training.data import TASK_LABELS, describe

    labels = TASK_LABELS[task]
    y_all = np.array([labels.index(e.label) for e in examples], dtype=np.int64)
    counts = np.bincount(y_all, minlength=len(labels))
    if len(examples) < 40 or (counts > 0).sum() < 2 or counts[counts > 0].min() < 4:
        raise TrainingDataError(
            f"Too little {task} data for --deep: {describe(examples)}. Need >= 40 rows and >= 4 per label."
        )
    if model_texts is None:
        from nlp.preprocess import prepare

        model_texts = [p.model_text for p in prepare([e.text for e in examples], detect_language=False)]
    idx = np.arange(len(examples))
    train_idx, val_idx = train_test_split(idx, test_size=max(len(labels), int(0.05 * len(idx))),
                                          random_state=config.seed, stratify=y_all)  # fmt: skip
    tok = tokenise(base_dir, list(model_texts), config.max_length)
    train_tok, val_tok = Tokenised([tok.ids[i] for i in train_idx]), Tokenised([tok.ids[i] for i in val_idx])
    y, val_y = y_all[train_idx], y_all[val_idx]
    weights = class_balance_weights(y, len(labels))
    model = train_deep(base_dir, train_tok, y, weights, len(labels), config, work_dir)
    val_logits = predict_logits(model, val_tok, bf16=False)
    shares = np.bincount(y, weights=weights, minlength=len(labels))
    metrics: dict[str, Any] = {
        "n_examples": len(examples),
        "label_counts": dict(zip(labels, counts.tolist(), strict=True)),
        "validation": {
            "n": int(len(val_y)),
            "micro_f1": float(f1_score(val_y, val_logits.argmax(1), average="micro")),
            "macro_f1": float(f1_score(val_y, val_logits.argmax(1), average="macro")),
        },
    }
    calibration = {"temperature": fit_temperature(val_logits, val_y),
                   "train_prior": [round(float(v), 4) for v in shares / shares.sum()]}  # fmt: skip
    meta = ArtefactMeta(
        task=task,
        labels=list(labels),
        base_sha256=json.loads((base_dir / "config.json").read_text(encoding="utf-8"))["resonanz_source"]["sha256"],
        n_top=model.top.n_top,
        max_length=256,
        lora_scale=model.top.lora_scale,
        calibration=calibration,
        metrics=metrics,
        train_config={**config.to_dict(), "recipe": "deep-lora"},
        data=list(sources),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    save_artefact(output, model.top, meta)
    log.info("wrote %s (validation macro-F1 %.3f)", output, metrics["validation"]["macro_f1"])
    return metrics
