"""Honest CV of transformer, lexical and hybrid (see nlp/MODEL_CARD.md); optionally ships the lexical models.

    .venv/bin/python scripts/cv_oof.py sentiment offensive      # transformer OOF probabilities first
    .venv/bin/python scripts/hybrid_cv.py sentiment offensive [--ship]

Lexical OOF probabilities use the same folds (``nlp.training.trainer.cv_splitter``). The mixing weight
``w`` of ``softmax(w log p_transformer + (1 - w) log p_lexical)`` is chosen per outer fold on the other
four folds' OOF probabilities only (criterion: mean of micro- and macro-F1), so no test fold picks its
own ``w``; a fixed ``w = 0.5`` is reported too. ``--ship`` fits the lexical model on all data and writes
``nlp/weights/<task>.lexical.safetensors`` with ``w`` (and, with ``--bias``, per-class log offsets, chosen
after ``w`` by coordinate ascent) chosen on all OOF probabilities.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).parent))
from cv_oof import OUT, load_task  # noqa: E402

from nlp.lexical import LexicalConfig, LexicalModel, choose_mix_weight, mix_probabilities  # noqa: E402
from nlp.training.data import TASK_LABELS  # noqa: E402
from nlp.training.trainer import cv_splitter  # noqa: E402

log = logging.getLogger("hybrid_cv")
WEIGHTS = Path("nlp/weights")


def scores(y: np.ndarray, proba: np.ndarray, labels: list[str]) -> dict[str, Any]:
    pred = proba.argmax(1)
    per_class = f1_score(y, pred, average=None, labels=range(len(labels)))
    return {
        "micro_f1": round(float(f1_score(y, pred, average="micro")), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "per_class_f1": {name: round(float(v), 4) for name, v in zip(labels, per_class, strict=True)},
    }


def fold_means(y: np.ndarray, proba: np.ndarray, folds: list[np.ndarray]) -> dict[str, float]:
    micro = [f1_score(y[te], proba[te].argmax(1), average="micro") for te in folds]
    macro = [f1_score(y[te], proba[te].argmax(1), average="macro") for te in folds]
    return {"mean_micro_f1": round(float(np.mean(micro)), 4), "mean_macro_f1": round(float(np.mean(macro)), 4)}


def pick_w(y: np.ndarray, pt: np.ndarray, pl: np.ndarray) -> float:
    return float(choose_mix_weight(y, pt, pl)["mix_weight"])


BIAS_GRID = np.round(np.arange(-0.6, 1.21, 0.1), 2)


def pick_bias(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per-class log-probability offsets (class 0 fixed at 0) maximising (micro + macro) / 2; coordinate ascent."""
    logp = np.log(np.clip(proba, 1e-7, 1.0))
    bias = np.zeros(proba.shape[1])

    def crit(b: np.ndarray) -> float:
        pred = (logp + b).argmax(1)
        return float(f1_score(y, pred, average="micro") + f1_score(y, pred, average="macro")) / 2

    for _ in range(2):
        for c in range(1, proba.shape[1]):
            best = max(BIAS_GRID, key=lambda v: (crit(np.r_[bias[:c], v, bias[c + 1 :]]), -abs(v)))
            bias[c] = best
    return bias


def with_bias(proba: np.ndarray, bias: np.ndarray) -> np.ndarray:
    z = np.log(np.clip(proba, 1e-7, 1.0)) + bias
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def lexical_oof(task: str, texts: list[str], labels: list[str], y: np.ndarray, config: LexicalConfig) -> np.ndarray:
    path = OUT / f"{task}.lexical.npy"
    key = json.dumps(config.to_dict(), sort_keys=True)
    key_path = path.with_suffix(".json")
    if path.is_file() and key_path.is_file() and key_path.read_text(encoding="utf-8") == key:
        return np.load(path)
    oof = np.zeros((len(y), len(TASK_LABELS[task])), np.float32)
    for k, (tr, te) in enumerate(cv_splitter(5, 13).split(np.zeros(len(y)), y), 1):
        model = LexicalModel(list(TASK_LABELS[task]), config).fit([texts[i] for i in tr], [labels[i] for i in tr])
        oof[te] = model.predict_proba([texts[i] for i in te])
        log.info("%s lexical fold %d: micro %.4f", task, k, f1_score(y[te], oof[te].argmax(1), average="micro"))
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(path, oof)
    key_path.write_text(key, encoding="utf-8")
    return oof


def run(task: str, ship: bool, bias_mode: str = "auto", fixed_w: float | None = None) -> dict[str, Any]:
    examples = load_task(task)
    texts, labels = [e.text for e in examples], [e.label for e in examples]
    names = list(TASK_LABELS[task])
    y = np.array([names.index(label) for label in labels])
    y_saved = np.load(OUT / f"{task}.labels.npy")
    if not np.array_equal(y, y_saved):
        raise SystemExit(f"{task}: transformer OOF labels do not match the data order; rerun cv_oof.py")
    pt = np.load(OUT / f"{task}.transformer.npy")
    config = LexicalConfig()
    pl = lexical_oof(task, texts, labels, y, config)
    folds = [te for _, te in cv_splitter(5, 13).split(np.zeros(len(y)), y)]
    nested = np.zeros_like(pt, dtype=np.float64)
    biased = np.zeros_like(nested)
    chosen, biases = [], []
    for te in folds:
        rest = np.setdiff1d(np.arange(len(y)), te)
        w = pick_w(y[rest], pt[rest], pl[rest])
        chosen.append(w)
        nested[te] = mix_probabilities(pt[te], pl[te], w)
        bias = pick_bias(y[rest], mix_probabilities(pt[rest], pl[rest], w))
        biases.append(bias.round(2).tolist())
        biased[te] = with_bias(nested[te], bias)
    fixed = mix_probabilities(pt, pl, 0.5)
    result: dict[str, Any] = {"task": task, "n": len(y)}
    for name, proba in (("transformer", pt), ("lexical", pl), ("hybrid_w0.5", fixed), ("hybrid_nested", nested),
                        ("hybrid_nested_bias", biased)):  # fmt: skip
        result[name] = {**scores(y, proba, names), **fold_means(y, proba, folds)}
    result["hybrid_nested"]["w_per_fold"] = chosen
    result["hybrid_nested_bias"]["bias_per_fold"] = biases
    w_all = pick_w(y, pt, pl)
    result["w_all_data"] = w_all
    bias_all = pick_bias(y, mix_probabilities(pt, pl, w_all))
    result["bias_all_data"] = (bias_all.round(2) + 0.0).tolist()
    gain = sum(result["hybrid_nested_bias"][k] - result["hybrid_nested"][k] for k in ("micro_f1", "macro_f1")) / 2
    use_bias = bias_mode == "on" or (bias_mode == "auto" and gain > 0.002)
    result["shipped_with_bias"] = use_bias
    log.info("%s: %s", task, json.dumps(result))
    if ship:
        w_ship = w_all if fixed_w is None else fixed_w
        result["shipped_mix_weight"] = w_ship
        bias_ship = pick_bias(y, mix_probabilities(pt, pl, w_ship)).round(2) + 0.0 if use_bias else None
        model = LexicalModel(names, config, w_ship, bias_ship.tolist() if bias_ship is not None else [])
        model.info = {
            "task": task,
            "data": load_sources(task),
            "cv": {
                k: result[k] for k in ("transformer", "lexical", "hybrid_nested", "hybrid_nested_bias", "hybrid_w0.5")
            },
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        model.fit(texts, labels).save(WEIGHTS / f"{task}.lexical.safetensors")
        log.info("wrote %s", WEIGHTS / f"{task}.lexical.safetensors")
    return result


def load_sources(task: str) -> list[str]:
    return {
        "sentiment": ["GermEval 2017 dev.xml + test_dia.xml (document sentiment)"],
        "offensive": ["GermEval 2018 training.txt (coarse OTHER/OFFENSE)"],
    }[task]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tasks", nargs="+", choices=["sentiment", "offensive"])
    ap.add_argument("--ship", action="store_true")
    ap.add_argument(
        "--mix-weight", type=float, help="ship this fixed (a priori) w instead of the one chosen on all OOF"
    )
    ap.add_argument(
        "--bias",
        choices=["auto", "on", "off"],
        default="auto",
        help="ship per-class offsets (auto: if the nested-CV bias variant gains > 0.002 in (micro+macro)/2)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out = Path("artifacts/results")
    out.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        result = run(task, args.ship, args.bias, args.mix_weight)
        (out / f"hybrid-{task}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
