"""End-to-end training of a classifier artefact: encode once, cross-validate, train on all data, save."""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlp.errors import TrainingDataError
from nlp.lexical import LexicalModel, choose_mix_weight, lexical_path_for
from nlp.training.artefact import ArtefactMeta, save_artefact
from nlp.training.data import TASK_LABELS, Example, describe
from nlp.training.features import encode_lower
from nlp.training.model import TopModel, init_uniform_attention, load_top_from_base
from nlp.training.trainer import TrainConfig, cross_validate, cv_splitter, train_top

log = logging.getLogger(__name__)


def label_ids(task: str, examples: Sequence[Example]) -> np.ndarray:
    labels = TASK_LABELS[task]
    return np.array([labels.index(e.label) for e in examples], dtype=np.int64)


def train_task(
    task: str,
    examples: Sequence[Example],
    *,
    base_dir: Path,
    output: Path,
    folds: int = 5,
    config: TrainConfig | None = None,
    max_length: int = 128,
    feature_dir: Path | None = None,
    extra: Sequence[Example] = (),
    sources: Sequence[str] = (),
    lexical: bool = True,
) -> dict[str, Any]:
    """Cross-validate (``folds`` > 1) and then train on all ``examples``; write the artefact to ``output``.

    ``extra`` examples join every training split but are never used for validation or CV scoring.
    With ``lexical``, the lexical model of the hybrid is trained too (:func:`train_lexical`) and written
    next to ``output`` (``x.safetensors`` -> ``x.lexical.safetensors``).
    Returns the metrics dict that is also stored in the artefact.
    """
    config = config or TrainConfig()
    if task not in TASK_LABELS:
        raise TrainingDataError(f"Unknown task {task!r}; choose one of {', '.join(TASK_LABELS)}.")
    labels = TASK_LABELS[task]
    y = label_ids(task, examples)
    counts = np.bincount(y, minlength=len(labels))
    if len(examples) < 20 or (counts > 0).sum() < 2:
        raise TrainingDataError(f"Too little {task} data to train: {describe(examples)}. Need >= 20 rows, >= 2 labels.")
    if folds > 1 and counts[counts > 0].min() < folds:
        raise TrainingDataError(
            f"{folds}-fold CV needs >= {folds} rows per label; have {describe(examples)}. Use fewer --folds."
        )
    torch.set_num_threads(config.threads)
    log.info("training %s on %s", task, describe(examples))
    template: TopModel = load_top_from_base(str(base_dir), config.n_top, len(labels), config.dropout)
    if config.uniform_attention_init:
        init_uniform_attention(template)
    if config.lora_rank:
        template.enable_lora(config.lora_rank, config.lora_alpha)
    n_frozen = template.first_layer
    cache = encode_lower(base_dir, [e.text for e in examples], n_frozen, max_length, cache_dir=feature_dir, desc=task)
    extra_pair = None
    if extra:
        extra_cache = encode_lower(
            base_dir, [e.text for e in extra], n_frozen, max_length, cache_dir=feature_dir, desc="extra"
        )
        extra_pair = (extra_cache, label_ids(task, extra))

    def make_model() -> TopModel:
        return copy.deepcopy(template)

    metrics: dict[str, Any] = {
        "n_examples": len(examples),
        "label_counts": dict(zip(labels, counts.tolist(), strict=True)),
    }
    if extra:
        metrics["n_extra"] = len(extra)
    oof_proba: np.ndarray | None = None
    if folds > 1:
        metrics["cv"] = cross_validate(
            make_model, cache, y, config, folds, extra=extra_pair, label_names=labels,
            checkpoint_dir=feature_dir / "cv" if feature_dir else None, return_proba=True,
        )  # fmt: skip
        oof_proba = metrics["cv"].pop("oof_proba")
        log.info("CV %s: %s", task, json.dumps({k: metrics["cv"][k] for k in ("mean_micro_f1", "mean_macro_f1")}))
    final = train_top(make_model, cache, y, config, extra=extra_pair, desc="final")
    metrics["final"] = {"best_epoch": final.best_epoch, "val_macro_f1": final.val_macro_f1, "history": final.history}
    meta = ArtefactMeta(
        task=task,
        labels=list(labels),
        base_sha256=json.loads((base_dir / "config.json").read_text(encoding="utf-8"))["resonanz_source"]["sha256"],
        n_top=config.n_top,
        max_length=max_length,
        lora_scale=template.lora_scale,
        metrics=metrics,
        train_config=config.to_dict(),
        data=list(sources),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    save_artefact(output, final.model, meta)
    log.info("wrote %s", output)
    if lexical:
        metrics["lexical"] = train_lexical(task, examples, y, oof_proba, folds, config.seed, lexical_path_for(output))
    return metrics


def train_lexical(
    task: str,
    examples: Sequence[Example],
    y: np.ndarray,
    transformer_oof: np.ndarray | None,
    folds: int,
    seed: int,
    output: Path,
) -> dict[str, Any]:
    """Fit the hybrid's lexical model on all ``examples`` and save it to ``output``.

    With the transformer's out-of-fold probabilities (``folds`` > 1), the lexical model's are computed
    on the same folds and the mixing weight ``w`` is the grid value that maximises the mean of micro- and
    macro-F1 of the mixture; without CV ``w`` = 0.5.
    """
    labels = list(TASK_LABELS[task])
    texts, names = [e.text for e in examples], [e.label for e in examples]
    out: dict[str, Any] = {"mix_weight": 0.5}
    if transformer_oof is not None and folds > 1:
        lexical_oof = np.zeros_like(transformer_oof)
        for tr, te in cv_splitter(folds, seed).split(np.zeros(len(y)), y):
            fold_model = LexicalModel(labels).fit([texts[i] for i in tr], [names[i] for i in tr])
            lexical_oof[te] = fold_model.predict_proba([texts[i] for i in te])
        out = choose_mix_weight(y, transformer_oof, lexical_oof)
    model = LexicalModel(labels, mix_weight=float(out["mix_weight"]), info={"task": task, "cv": out})
    model.fit(texts, names).save(output)
    log.info("wrote %s (mix weight %.2f)", output, model.mix_weight)
    return out
