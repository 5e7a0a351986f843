"""5-fold CV of an all-layer LoRA offensive-language model on GermEval 2018 training (issue 12).

    .venv/bin/python scripts/offensive_deep_cv.py --work artifacts/deep/offensive-cv [--ship]

The same stratified folds (seed 13) as the shipped offensive model's CV in nlp/MODEL_CARD.md. Each fold
trains ``nlp.training.deep.train_deep_task`` on the other four folds (a 5 % slice of them fits the
temperature) and predicts the held-out fold; micro/macro-F1 per fold and the mean go to
``<work>/cv.json``, the held-out class probabilities to ``<work>/oof.npy`` (float32 [n, 2], in the order of
the GermEval loader; ``scripts/offensive_cascade_cv.py`` reads them). A finished fold is skipped when the
script is run again (resumable); a finished fold without its probabilities gets them from its saved model.
``--ship`` then trains the same recipe on all of GermEval 2018 training: the offensive cascade's second model
(``nlp/weights/offensive-deep.safetensors``, :class:`nlp.offensive.OffensiveCascade`).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from nlp.classifier import TransformerClassifier, softmax
from nlp.default_model import ensure_base_model, ensure_classifier_model
from nlp.preprocess import prepare
from nlp.training.data import TASK_LABELS, load_germeval2018
from nlp.training.deep import DeepConfig, train_deep_task
from nlp.training.trainer import cv_splitter

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
log = logging.getLogger("offensive_deep_cv")
SHIP = ROOT / "nlp" / "weights" / "offensive-deep.safetensors"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--epochs", type=float, default=3.0)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--ship", action="store_true",
                    help=f"after the CV, train on all of GermEval 2018 training and write {SHIP}")  # fmt: skip
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s",
                        handlers=[logging.FileHandler(args.work / "cv.log"), logging.StreamHandler()])  # fmt: skip
    examples = load_germeval2018(DATA / "germeval2018" / "training.txt")
    labels = TASK_LABELS["offensive"]
    y = np.array([labels.index(e.label) for e in examples])
    texts = [p.model_text for p in prepare([e.text for e in examples], detect_language=False)]
    results_path = args.work / "cv.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {"folds": {}}
    config = DeepConfig(epochs=args.epochs, lora_rank=args.rank)
    oof_path = args.work / "oof.npy"
    oof = np.load(oof_path) if oof_path.is_file() else np.full((len(y), len(labels)), np.nan, dtype=np.float32)
    for k, (train_idx, test_idx) in enumerate(cv_splitter(args.folds).split(np.zeros(len(y)), y)):
        fold_dir = args.work / f"fold{k}"
        artefact = fold_dir / "offensive.safetensors"
        if str(k) in results["folds"]:
            if np.isnan(oof[test_idx]).any() and artefact.is_file():
                model_dir = ensure_classifier_model(artefact, fold_dir / "model", name=f"offensive-fold{k}")
                clf = TransformerClassifier(str(model_dir), progress=False)
                oof[test_idx] = softmax(clf.logits([texts[i] for i in test_idx]))
                np.save(oof_path, oof)
            continue
        train_deep_task(
            "offensive",
            [examples[i] for i in train_idx],
            base_dir=ensure_base_model(),
            output=artefact,
            config=config,
            work_dir=fold_dir / "work",
            model_texts=[texts[i] for i in train_idx],
        )
        model_dir = ensure_classifier_model(artefact, fold_dir / "model", name=f"offensive-fold{k}")
        clf = TransformerClassifier(str(model_dir), progress=False)
        proba = softmax(clf.logits([texts[i] for i in test_idx]))
        oof[test_idx] = proba
        np.save(oof_path, oof)
        pred = proba.argmax(1)
        results["folds"][str(k)] = {
            "micro_f1": round(float(f1_score(y[test_idx], pred, average="micro")), 4),
            "macro_f1": round(float(f1_score(y[test_idx], pred, average="macro")), 4),
        }
        log.info("fold %d: %s", k, results["folds"][str(k)])
        results_path.write_text(json.dumps(results, indent=2))
    folds = results["folds"].values()
    results["mean"] = {m: round(float(np.mean([f[m] for f in folds])), 4) for m in ("micro_f1", "macro_f1")}
    results["config"] = config.to_dict()
    results_path.write_text(json.dumps(results, indent=2))
    log.info("mean over %d folds: %s", len(results["folds"]), results["mean"])
    if args.ship:
        train_deep_task("offensive", examples, base_dir=ensure_base_model(), output=SHIP, config=config,
                        work_dir=args.work / "ship", model_texts=texts,
                        sources=["germeval2018/training.txt (CC BY 4.0)"])  # fmt: skip
        log.info("wrote %s (%.2f MB)", SHIP, SHIP.stat().st_size / 1e6)


if __name__ == "__main__":
    main()
