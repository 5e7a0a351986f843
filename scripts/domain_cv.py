"""Sentiment training with weakly labelled extra data: GermEval CV, out-of-domain checks, the shipped artefact.

    .venv/bin/python scripts/domain_cv.py --flausch 800 --offensive 500 --toxic 300 --no-lexical-extra \
        --tag ship --save nlp/weights/sentiment-germeval.safetensors   # the germeval model (nlp/MODEL_CARD.md)

GermEval 2017 folds (stratified 5-fold, seed 13) are the only validation and scoring data; the extra
examples (:mod:`extra_sentiment_data`) join each training fold of the transformer (and, with
``--lexical-extra``, of the lexical model). Reports transformer / lexical / hybrid micro/macro-F1 on
GermEval (out-of-fold; the hybrid's mixing weight ``w`` is chosen per outer fold on the other four),
then fits both on all data and scores two out-of-domain sets that are never trained on: the 60
labelled posts of ``resonanz/demo/data`` (a coffee roaster) and ``tests/nlp/data/ood_sentiment.tsv``
(90 posts about telecoms, shops, banks, food, travel, software). ``--save`` writes the artefact and
its lexical part (``x.lexical.safetensors``, with ``w``). Results: ``artifacts/results/domain-<tag>.json``.
Resumable: transformer folds are checkpointed under ``artifacts/features/cv``.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).parent))
from cv_oof import load_task  # noqa: E402
from extra_sentiment_data import describe_extra, extra_examples  # noqa: E402

from nlp.default_model import ensure_base_model  # noqa: E402
from nlp.labels import CLASSES  # noqa: E402
from nlp.lexical import LexicalModel, choose_mix_weight, lexical_path_for, mix_probabilities  # noqa: E402
from nlp.training.features import encode_lower  # noqa: E402
from nlp.training.model import TopModel, load_top_from_base  # noqa: E402
from nlp.training.pipeline import label_ids  # noqa: E402
from nlp.training.recipes import MAX_LENGTH, RECIPES  # noqa: E402
from nlp.training.trainer import TrainConfig, cross_validate, cv_splitter, predict_proba, train_top  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FEATURES = ROOT / "artifacts" / "features"
log = logging.getLogger("domain_cv")


def f1s(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    pred = proba.argmax(1)
    return {
        "micro_f1": round(float(f1_score(y, pred, average="micro")), 4),
        "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
        "per_class": [round(float(v), 4) for v in f1_score(y, pred, average=None, labels=range(3))],
        "predicted": np.bincount(pred, minlength=3).tolist(),
    }


def demo_set() -> tuple[list[str], np.ndarray]:
    data = ROOT / "resonanz" / "demo" / "data"
    posts = {p["external_id"]: p for p in map(json.loads, (data / "posts.jsonl").open(encoding="utf-8"))}
    truth = json.loads((data / "truth.json").read_text(encoding="utf-8"))["sentiment_sample"]
    return [posts[t["external_id"]]["text"] for t in truth], np.array([CLASSES.index(t["sentiment"]) for t in truth])


def ood_set() -> tuple[list[str], np.ndarray]:
    """90 German posts we wrote and labelled (30 per class) about telecoms, shops, banks, food, travel, ..."""
    import csv

    with (ROOT / "tests" / "nlp" / "data" / "ood_sentiment.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r["text"] for r in rows], np.array([CLASSES.index(r["label"]) for r in rows])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flausch", type=int, default=0)
    ap.add_argument("--offensive", type=int, default=0)
    ap.add_argument("--toxic", type=int, default=0)
    ap.add_argument("--neutral", type=int, default=0)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--w", type=float, default=None, help="fixed mixing weight (default: chosen by nested CV)")
    ap.add_argument("--lexical-extra", action=argparse.BooleanOptionalAction, default=True,
                    help="train the lexical half on the extra examples too")  # fmt: skip
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 avoids spinning against other jobs)")
    ap.add_argument("--save", type=Path, help="also write the all-data transformer artefact here")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    examples = load_task("sentiment")
    extra = extra_examples(args.flausch, args.offensive, args.toxic, args.neutral)
    y, ye = label_ids("sentiment", examples), label_ids("sentiment", extra)
    config = TrainConfig(**RECIPES["sentiment"])
    config.threads = args.threads
    base = ensure_base_model()
    template: TopModel = load_top_from_base(str(base), config.n_top, 3, config.dropout)
    cache = encode_lower(base, [e.text for e in examples], template.first_layer, MAX_LENGTH, cache_dir=FEATURES,
                         desc="germeval")  # fmt: skip
    extra_pair = None
    if extra:
        ecache = encode_lower(base, [e.text for e in extra], template.first_layer, MAX_LENGTH, cache_dir=FEATURES,
                              desc="extra")  # fmt: skip
        extra_pair = (ecache, ye)

    def make_model() -> TopModel:
        return copy.deepcopy(template)

    cv = cross_validate(make_model, cache, y, config, 5, extra=extra_pair, label_names=CLASSES,
                        checkpoint_dir=FEATURES / "cv", return_proba=True)  # fmt: skip
    pt = np.asarray(cv.pop("oof_proba"))
    transformer_cv = {k: cv[k] for k in ("folds", "mean_micro_f1", "mean_macro_f1", "pooled", "per_class_f1")}
    texts, names = [e.text for e in examples], [e.label for e in examples]
    etexts, enames = [e.text for e in extra], [e.label for e in extra]
    if not args.lexical_extra:  # the lexical half stays in-domain: its n-grams are what carries GermEval
        etexts, enames = [], []
    pl = np.zeros_like(pt)
    for tr, te in cv_splitter(5, config.seed).split(np.zeros(len(y)), y):
        lex = LexicalModel(list(CLASSES)).fit([texts[i] for i in tr] + etexts, [names[i] for i in tr] + enames)
        pl[te] = lex.predict_proba([texts[i] for i in te])
    oof = ROOT / "artifacts" / "oof"
    oof.mkdir(parents=True, exist_ok=True)
    np.save(oof / f"domain-{args.tag}.transformer.npy", pt)
    np.save(oof / f"domain-{args.tag}.lexical.npy", pl)
    folds = [te for _, te in cv_splitter(5, config.seed).split(np.zeros(len(y)), y)]
    nested = np.zeros_like(pt)
    per_fold, fold_w = [], []
    for te in folds:  # w chosen on the other four folds only
        rest = np.setdiff1d(np.arange(len(y)), te)
        fold_w.append(
            args.w if args.w is not None else float(choose_mix_weight(y[rest], pt[rest], pl[rest])["mix_weight"])
        )
        nested[te] = mix_probabilities(pt[te], pl[te], fold_w[-1], ())
        per_fold.append({k: v for k, v in f1s(y[te], nested[te]).items() if k in ("micro_f1", "macro_f1")})
    w = args.w if args.w is not None else float(choose_mix_weight(y, pt, pl)["mix_weight"])
    result: dict[str, Any] = {"args": vars(args) | {"save": str(args.save)}, "n_extra": len(extra), "mix_weight": w}
    result["cv"] = {
        "what": "GermEval 2017 dev+test_dia, stratified 5-fold (seed 13), hybrid with w chosen per fold on the others",
        "folds": per_fold,
        "w_per_fold": fold_w,
        "mean_micro_f1": round(float(np.mean([f["micro_f1"] for f in per_fold])), 4),
        "mean_macro_f1": round(float(np.mean([f["macro_f1"] for f in per_fold])), 4),
    }
    result["germeval"] = {"transformer": f1s(y, pt), "lexical": f1s(y, pl), "hybrid_nested": f1s(y, nested)}
    log.info("GermEval OOF: %s", json.dumps(result["germeval"]))
    final = train_top(make_model, cache, y, config, extra=extra_pair, desc="final")
    lex = LexicalModel(list(CLASSES)).fit(texts + etexts, names + enames)
    for name, (dtexts, dy) in (("demo", demo_set()), ("ood90", ood_set())):
        dcache = encode_lower(base, dtexts, template.first_layer, MAX_LENGTH, cache_dir=None, desc=name)
        dpt, dpl = predict_proba(final.model, dcache), lex.predict_proba(dtexts)
        result[name] = {
            "transformer": f1s(dy, dpt),
            "lexical": f1s(dy, dpl),
            "hybrid": f1s(dy, mix_probabilities(dpt, dpl, w, ())),
        }
        log.info("%s (out of domain): %s", name, json.dumps(result[name]))
    if args.save:
        from nlp.training.artefact import ArtefactMeta, save_artefact

        base_sha = json.loads((base / "config.json").read_text(encoding="utf-8"))["resonanz_source"]["sha256"]
        sources = ["GermEval 2017 dev.xml + test_dia.xml (document sentiment)"]
        meta = ArtefactMeta(
            task="sentiment",
            labels=list(CLASSES),
            base_sha256=base_sha,
            n_top=config.n_top,
            max_length=MAX_LENGTH,
            lora_scale=template.lora_scale,
            # "cv" is this transformer's own CV, as in every artefact; the hybrid's nested CV is "hybrid_cv"
            metrics={**result, "cv": transformer_cv, "hybrid_cv": result["cv"]},
            train_config=config.to_dict(),
            data=sources + describe_extra(args.flausch, args.offensive, args.toxic, args.neutral),
            created=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        save_artefact(args.save, final.model, meta)
        lex.mix_weight = w
        lex.info = {"task": "sentiment", "cv": {"hybrid_nested": result["cv"], **result["germeval"]}}
        lex.save(lexical_path_for(args.save))
        log.info("wrote %s and its lexical part", args.save)
    out = ROOT / "artifacts" / "results" / f"domain-{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
