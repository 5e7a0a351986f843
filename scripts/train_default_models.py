"""Train (and cross-validate) the shipped default models on the GermEval data; see nlp/MODEL_CARD.md.

    .venv/bin/python scripts/train_default_models.py sentiment [--flausch 1500] [--folds 5] \
        [--output nlp/weights/sentiment-germeval.safetensors]
    .venv/bin/python scripts/train_default_models.py offensive

The shipped *sentiment* model is trained with weakly labelled extra data by ``scripts/domain_cv.py``
(see its docstring and the model card); this script trains the offensive model and plain variants.

Hidden states of the frozen layers are cached in artifacts/features (reused across runs); the CV
metrics go to artifacts/results/<task>-<tag>.json and into the artefact's metadata.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from extra_sentiment_data import flausch_positives

from nlp.default_model import ensure_base_model
from nlp.training.data import load_germeval2017, load_germeval2018
from nlp.training.pipeline import train_task
from nlp.training.recipes import MAX_LENGTH, RECIPES
from nlp.training.trainer import TrainConfig

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SOURCES = {
    "sentiment": ["GermEval 2017 dev.xml + test_dia.xml (document sentiment)"],
    "offensive": ["GermEval 2018 training.txt (coarse OTHER/OFFENSE)"],
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("task", choices=["sentiment", "offensive"])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--flausch", type=int, default=0, help="extra positives from GermEval 2025 Flausch (sentiment)")
    ap.add_argument("--output", type=Path)
    ap.add_argument("--tag", default="default")
    ap.add_argument("--max-length", type=int, default=MAX_LENGTH)
    for name, value in TrainConfig().to_dict().items():
        ap.add_argument("--" + name.replace("_", "-"), type=type(value), default=None, help="overrides the recipe")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    overrides = {k: getattr(args, k) for k in TrainConfig().to_dict() if getattr(args, k) is not None}
    config = TrainConfig(**{**RECIPES[args.task], **overrides})
    if args.task == "sentiment":
        examples = [e for f in ("dev.xml", "test_dia.xml") for e in load_germeval2017(DATA / "germeval2017" / f)]
    else:
        examples = load_germeval2018(DATA / "germeval2018" / "training.txt")
    extra = flausch_positives(args.flausch) if args.flausch else []
    sources = SOURCES[args.task] + (
        [f"GermEval 2025 Flausch: {args.flausch} supportive comments as extra positives"] if extra else []
    )
    output = args.output or Path("artifacts/weights") / f"{args.task}-{args.tag}.safetensors"
    metrics = train_task(
        args.task,
        examples,
        base_dir=ensure_base_model(),
        output=output,
        folds=args.folds,
        config=config,
        max_length=args.max_length,
        feature_dir=Path("artifacts/features"),
        extra=extra,
        sources=sources,
    )
    out = Path("artifacts/results") / f"{args.task}-{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    print(json.dumps({k: v for k, v in metrics.get("cv", {}).items() if k != "config"}, indent=2))


if __name__ == "__main__":
    main()
