"""Out-of-fold class probabilities of the shipped transformer recipe (stratified 5-fold CV, seed 13).

    .venv/bin/python scripts/cv_oof.py sentiment offensive

Resumable (per-fold checkpoints in artifacts/oof/ckpt); writes artifacts/oof/<task>.transformer.npy
(float32 [n, num_labels]) and artifacts/oof/<task>.labels.npy, in the order of the GermEval loaders.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from nlp.default_model import ensure_base_model
from nlp.runtime import cpu_supports_bf16
from nlp.training.data import TASK_LABELS, Example, load_germeval2017, load_germeval2018
from nlp.training.features import encode_lower
from nlp.training.model import TopModel, load_top_from_base
from nlp.training.pipeline import label_ids
from nlp.training.recipes import MAX_LENGTH, RECIPES
from nlp.training.trainer import TrainConfig, cross_validate

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path("artifacts/oof")
log = logging.getLogger("cv_oof")


def load_task(task: str) -> list[Example]:
    if task == "sentiment":
        return [e for f in ("dev.xml", "test_dia.xml") for e in load_germeval2017(DATA / "germeval2017" / f)]
    return load_germeval2018(DATA / "germeval2018" / "training.txt")


def run(task: str, overrides: dict[str, Any] | None = None) -> None:
    examples = load_task(task)
    y = label_ids(task, examples)
    config = TrainConfig(**{**RECIPES[task], **(overrides or {})})
    base = ensure_base_model()
    template: TopModel = load_top_from_base(str(base), config.n_top, len(TASK_LABELS[task]), config.dropout)
    cache = encode_lower(base, [e.text for e in examples], template.first_layer, MAX_LENGTH,
                         cache_dir=Path("artifacts/features"), desc=task)  # fmt: skip

    def make_model() -> TopModel:
        return copy.deepcopy(template)

    cv = cross_validate(make_model, cache, y, config, 5, label_names=TASK_LABELS[task],
                        checkpoint_dir=OUT / "ckpt", return_proba=True)  # fmt: skip
    OUT.mkdir(parents=True, exist_ok=True)
    np.save(OUT / f"{task}.transformer.npy", np.asarray(cv.pop("oof_proba")))
    np.save(OUT / f"{task}.labels.npy", y)
    (OUT / f"{task}.transformer.json").write_text(json.dumps(cv, indent=2), encoding="utf-8")
    log.info("%s: mean micro %.4f macro %.4f", task, cv["mean_micro_f1"], cv["mean_macro_f1"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("tasks", nargs="+", choices=["sentiment", "offensive"])
    ap.add_argument("--n-top", type=int, default=0, help="train this many top layers instead of the recipe's")
    ap.add_argument("--bf16", action="store_true", help="autocast to bfloat16 (where the CPU has it)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides: dict[str, Any] = {"n_top": args.n_top} if args.n_top else {}
    if args.bf16:
        overrides["bf16"] = cpu_supports_bf16()
    for task in args.tasks:
        run(task, overrides)


if __name__ == "__main__":
    main()
