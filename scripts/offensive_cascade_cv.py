"""Honest 5-fold CV of the offensive cascade on GermEval 2018 training (issue 12; nlp/MODEL_CARD.md).

    .venv/bin/python scripts/cv_oof.py offensive                                    # the shared-trunk model
    .venv/bin/python scripts/offensive_deep_cv.py --work artifacts/deep/offensive-cv  # the all-layer LoRA model
    .venv/bin/python scripts/offensive_cascade_cv.py [--gate 0.25]

The cascade (:class:`nlp.offensive.OffensiveCascade`): the shared-trunk offensive head (layer 11 on the
embedder's layers 0-10, nearly free) reads every post; the posts it gives at least ``gate`` go to the all-layer
LoRA model, whose probability replaces the head's. Both models' out-of-fold probabilities come from the same
stratified folds (seed 13), so the cascade's held-out predictions are honest. ``gate`` is fixed before looking
(0.25: the head gives the post at least a one-in-four chance); the other gates are printed for information.
Prints per-fold and mean macro/micro-F1, the share of posts sent to the second model and the head's recall of
OFFENSE at the gate; ``--out`` writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

from nlp.training.trainer import cv_splitter

OOF = Path("artifacts/oof")
DEEP = Path("artifacts/deep/offensive-cv/oof.npy")
GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def cascade(p_head: np.ndarray, p_deep: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """P(OFFENSE) of the cascade and which posts went to the second model (``p_*``: P(OFFENSE) per post)."""
    second = p_head >= gate
    return np.where(second, p_deep, p_head), second


def evaluate(y: np.ndarray, p: np.ndarray, folds: list[np.ndarray]) -> dict[str, Any]:
    pred = (p >= 0.5).astype(int)
    macro = [float(f1_score(y[te], pred[te], average="macro")) for te in folds]
    micro = [float(f1_score(y[te], pred[te], average="micro")) for te in folds]
    return {"macro_f1": round(float(np.mean(macro)), 4), "micro_f1": round(float(np.mean(micro)), 4),
            "macro_per_fold": [round(m, 4) for m in macro]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gate", type=float, default=0.25)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    y = np.load(OOF / "offensive.labels.npy")
    head = np.load(OOF / "offensive.transformer.npy")[:, 1]
    deep = np.load(DEEP)
    if np.isnan(deep).any():
        raise SystemExit(f"{DEEP} lacks folds: run scripts/offensive_deep_cv.py first")
    deep = deep[:, 1]
    folds = [te for _, te in cv_splitter(5).split(np.zeros(len(y)), y)]
    report: dict[str, Any] = {
        "n": int(len(y)),
        "offense_share": round(float(y.mean()), 4),
        "head_alone": evaluate(y, head, folds),
        "deep_alone": evaluate(y, deep, folds),
        "gates": {},
    }
    for gate in sorted({*GRID, args.gate}):
        p, second = cascade(head, deep, gate)
        report["gates"][str(gate)] = {
            **evaluate(y, p, folds),
            "sent_to_second": round(float(second.mean()), 4),
            "head_recall_of_offense": round(float(second[y == 1].mean()), 4),
        }
    report["chosen_gate"] = args.gate
    report["cascade"] = report["gates"][str(args.gate)]
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
