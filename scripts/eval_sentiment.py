"""Per-set numbers of one sentiment model on data it did not train on (nlp/MODEL_CARD.md, "Evaluation").

    .venv/bin/python scripts/eval_sentiment.py --model default --tag ship
    .venv/bin/python scripts/eval_sentiment.py --model path/to/artefact.safetensors --holdout-fold 0

Sets: SB-10k dev, PotTS dev (without ``mixed``), hotel dev (sentences whose aspects agree), the
GermEval 2017 fold the model was not trained on (``--holdout-fold``), the project's 90 out-of-domain
posts, the demo brand's 60 labelled posts and the 150 industry posts (with the irony subset). Texts go
through the same preprocessing as ``resonanz score`` (:func:`nlp.preprocess.prepare`). Per set:
micro/macro-F1, predicted label counts, ECE without the model's temperature (T = 1), as scored (with
it) and after EM prior adjustment on the set's
own unlabelled texts (:mod:`nlp.calibration`), and the error of the class shares a report would show
(total variation distance to the gold shares: mean probability as scored vs. the EM prior).
``--precision`` scores in fp32 or bf16.
Writes ``artifacts/results/eval-<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).parent))
import sentiment_corpora as corpora  # noqa: E402

from nlp.calibration import adjust_prior, estimate_prior, expected_calibration_error  # noqa: E402
from nlp.labels import CLASSES  # noqa: E402
from nlp.preprocess import prepare  # noqa: E402
from nlp.scorer import TransformerScorer, softmax  # noqa: E402

log = logging.getLogger("eval_sentiment")
TESTS = corpora.ROOT / "tests" / "nlp" / "data"


def eval_sets(holdout_fold: int) -> dict[str, tuple[list[str], np.ndarray, dict[str, np.ndarray]]]:
    def pack(pairs: list[tuple[str, str]]) -> tuple[list[str], np.ndarray]:
        return [t for t, _ in pairs], np.array([CLASSES.index(lab) for _, lab in pairs])

    sets: dict[str, tuple[list[str], np.ndarray, dict[str, np.ndarray]]] = {}
    for name, examples in (
        ("sb10k_dev", corpora.sb10k("dev")),
        ("potts_dev", corpora.potts("dev")),
        ("hotel_dev", corpora.hotel_documents("dev")),
    ):
        sets[name] = (*pack([(e.text, e.label) for e in examples]), {})
    if holdout_fold >= 0:
        ge = corpora.germeval2017()
        fold = corpora.germeval2017_folds(ge)[holdout_fold]
        sets[f"germeval2017_fold{holdout_fold}"] = (*pack([(ge[i].text, ge[i].label) for i in fold]), {})
    sets["ood90"] = (*pack([(t, lab) for t, lab, _ in corpora.labelled_tsv(TESTS / "ood_sentiment.tsv")]), {})
    sets["demo60"] = (*pack(corpora.demo_sample()), {})
    rows = corpora.labelled_tsv(TESTS / "industries_sentiment.tsv")
    irony = np.array([r["irony"] == "1" for _, _, r in rows])
    sets["industries150"] = (*pack([(t, lab) for t, lab, _ in rows]), {"irony": irony})
    return sets


def scores(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    pred = proba.argmax(1)
    return {
        "n": int(len(y)),
        "micro_f1": round(float(f1_score(y, pred, average="micro")), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "per_class_f1": [round(float(v), 4) for v in f1_score(y, pred, average=None, labels=range(3))],
        "predicted": np.bincount(pred, minlength=3).tolist(),
        "gold": np.bincount(y, minlength=3).tolist(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default", help="'default', 'germeval', a directory or an artefact")
    ap.add_argument("--tag", default="eval")
    ap.add_argument("--holdout-fold", type=int, default=0)
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--train-prior", default="", help="comma-separated training prior (default: from the model)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    spec = args.model
    if spec.endswith(".safetensors"):
        from nlp.default_model import ensure_classifier_model

        spec = str(ensure_classifier_model(Path(spec), name=f"eval-{args.tag}"))
    scorer = TransformerScorer(spec, precision=args.precision)
    scorer.load()
    config = scorer.model.config
    train_prior = np.array(
        [float(x) for x in args.train_prior.split(",")]
        if args.train_prior
        else getattr(config, "resonanz_train_prior", None) or [1 / 3] * 3
    )
    out: dict[str, Any] = {"model": args.model, "version": scorer.version, "precision": args.precision,
                           "temperature": getattr(config, "resonanz_temperature", 1.0),
                           "train_prior": train_prior.round(4).tolist(), "sets": {}}  # fmt: skip
    for name, (texts, y, extra) in eval_sets(args.holdout_fold).items():
        model_texts = [p.model_text for p in prepare(texts, detect_language=False)]
        logits = scorer.logits(model_texts)
        proba = scorer.probabilities(logits)
        row = scores(y, proba)
        row["ece_uncalibrated"] = round(expected_calibration_error(softmax(logits) @ scorer._matrix, y), 4)
        prior = estimate_prior(proba, train_prior)
        adjusted = adjust_prior(proba, train_prior, prior)
        row["ece"] = round(expected_calibration_error(proba, y), 4)
        row["em_prior"] = prior.round(3).tolist()
        row["ece_em"] = round(expected_calibration_error(adjusted, y), 4)
        row["em"] = {k: v for k, v in scores(y, adjusted).items() if k in ("micro_f1", "macro_f1", "predicted")}
        gold_share = np.bincount(y, minlength=3) / len(y)
        # what `ask` reports is a share of the stream: mean probability (as scored) vs. the EM prior
        row["share_error_mean_probability"] = round(float(np.abs(proba.mean(0) - gold_share).sum() / 2), 4)
        row["share_error_em"] = round(float(np.abs(prior - gold_share).sum() / 2), 4)
        if "irony" in extra:
            sel = extra["irony"]
            pred = proba.argmax(1)
            neg = sel & (y == 0)
            row["irony"] = {"n": int(sel.sum()), "accuracy": round(float((pred[sel] == y[sel]).mean()), 4),
                            "negatives": int(neg.sum()), "negatives_found": int((pred[neg] == 0).sum())}  # fmt: skip
        if name == "demo60":
            neg = y == 0
            row["negatives_found"] = f"{int((proba.argmax(1)[neg] == 0).sum())}/{int(neg.sum())}"
        out["sets"][name] = row
        log.info("%s: %s", name, json.dumps(row))
    results = corpora.ROOT / "artifacts" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"eval-{args.tag}.json"
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    print(
        f"{'set':24} {'n':>5} {'micro':>6} {'macro':>6} {'ECE-T1':>6} {'ECE':>6} {'ECE-EM':>6} {'TVD':>6} {'TVD-EM':>6}"
    )
    for name, row in out["sets"].items():
        cells = [row["micro_f1"], row["macro_f1"], row["ece_uncalibrated"], row["ece"], row["ece_em"],
                 row["share_error_mean_probability"], row["share_error_em"]]  # fmt: skip
        print(f"{name:24} {row['n']:5d} " + " ".join(f"{c:6.3f}" for c in cells) + f"  {row['predicted']}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
