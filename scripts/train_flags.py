"""Train the flag model (nlp/flag_model.py) on the project's labelled flag posts.

    .venv/bin/python scripts/train_flags.py                      # -> nlp/weights/flags-de.safetensors
    .venv/bin/python scripts/train_flags.py --top-layers 0       # heads on the frozen passage embedding
    .venv/bin/python scripts/train_flags.py --data my_flags.tsv --out my_flags.safetensors

Default (``--top-layers 1``): a fine-tuned copy of the embedder's top layer plus the heads
(nlp/training/flag_layer.py); the frozen lower layers' token states are computed once (and cached in
``--cache-dir``), then 5-fold cross-validation and the final fit take minutes on a CPU. ``--top-layers 0``:
logistic-regression heads over the frozen e5 passage embedding. Either way the heads also read the
keyword-rule hits of the flag file. Cross-validated precision/recall per flag are logged and stored in
the artefact's metadata. The evaluation set (tests/nlp/data/flags_eval.tsv) is not read here;
scripts/eval_flags.py measures on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

from nlp.embedder import Embedder
from nlp.flag_model import DEFAULT_FILE, FLAG_CLASSES, FlagModel, churn_cue, extra_features, feature_matrix
from nlp.flags import FlagRules
from nlp.preprocess import prepare
from nlp.runtime import cpu_supports_bf16
from nlp.training.flags import describe_cv, read_flag_tsv, train_flag_model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))
import sentiment_corpora as corpora  # noqa: E402

log = logging.getLogger("train_flags")


def weak_churn_negatives(n: int, seed: int = 13) -> list[str]:
    """``n`` negative posts from the public sentiment corpora (training splits) without leaving language:
    angry, but not leaving - what the churn head must learn is not churn."""
    pool = [e.text for e in corpora.sb10k("train") + corpora.potts("train") + corpora.germeval2017()
            + corpora.hotel_documents("train") if e.label == "negative" and not churn_cue(e.text)]  # fmt: skip
    rng = random.Random(seed)
    return rng.sample(pool, min(n, len(pool)))


DATA = ROOT / "nlp" / "training" / "data"


def read_data(paths: list[Path]) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    parts = []
    for path in paths:
        t, y = read_flag_tsv(path)
        texts += t
        parts.append(y)
    return texts, np.vstack(parts)


def train_layer(args: argparse.Namespace, texts: list[str], labels: np.ndarray) -> FlagModel:
    """The flag branch: a fine-tuned copy of the embedder's top layer(s) + heads (nlp/training/flag_layer.py)."""
    from nlp.default_model import ensure_base_model
    from nlp.training import flag_layer as fl
    from nlp.training.features import HiddenCache, encode_lower

    rules = FlagRules.load()
    embedder = Embedder()
    base = ensure_base_model()
    n_frozen = int(embedder.fast_model.num_layers if embedder.fast_model else 12) - args.top_layers
    cache_dir = args.cache_dir or Path(tempfile.gettempdir()) / "resonanz-flag-cache"

    def rows(raw: list[str], desc: str) -> tuple[HiddenCache, np.ndarray]:
        prepared = prepare(raw, detect_language=False)
        extra = np.array([extra_features(p.text, rules.rule_hits(p)) for p in prepared], dtype=np.float64)
        cache = encode_lower(base, [p.model_text for p in prepared], n_frozen, embedder.max_length,
                             cache_dir=cache_dir, desc=desc)  # fmt: skip
        return cache, extra.reshape(len(raw), -1)

    cache, extra = rows(texts, "labelled posts")
    weak = weak_churn_negatives(args.weak_churn_negatives) if args.weak_churn_negatives else []
    weak_cache, weak_extra = rows(weak, "weak negatives") if weak else (None, None)
    data = fl.FlagData(cache, labels, extra, weak_cache, weak_extra)
    config = fl.FlagLayerConfig(top_layers=args.top_layers, epochs=args.epochs, lr_layers=args.lr, lr_head=5e-3,
                                warm_start_c=0.0, bf16=cpu_supports_bf16(), threads=args.threads)  # fmt: skip
    thresholds = np.full(labels.shape[1], args.threshold or 0.5)

    def make() -> fl.FlagTop:
        return fl.load_flag_top(base, args.top_layers, config.dropout)

    meta: dict[str, object] = {"recipe": config.to_dict(), "examples": int(len(labels)),
                               "weak_churn_negatives": len(weak), "embedder": embedder.version}  # fmt: skip
    if args.folds:
        oof = fl.cross_validate(make, data, config, args.folds)
        if not args.threshold:
            thresholds = fl.choose_thresholds(oof, labels, extra)
        meta["cv"] = fl.cv_scores(oof, labels, extra, thresholds)
    meta["thresholds"] = dict(zip(FLAG_CLASSES, thresholds.tolist(), strict=True))
    model = fl.train_flag_layer(make, *data.rows(np.arange(len(labels))), config)
    return fl.to_flag_model(model, thresholds, meta)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, nargs="+",
                    default=[DATA / f"written_flags{n}.tsv" for n in ("", "_2", "_3", "_4")])  # fmt: skip
    ap.add_argument("--out", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--weak-churn-negatives", type=int, default=1500,
                    help="negative posts from SB-10k, PotTS, GermEval 2017 and hotel reviews without leaving "
                         "language, as extra non-churn examples for the churn head (0: none)")  # fmt: skip
    ap.add_argument("--top-layers", type=int, default=2,
                    help="fine-tune a copy of the embedder's top N layers with the heads (0: heads on the frozen "
                         "passage embedding)")  # fmt: skip
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-4, help="learning rate of the fine-tuned layers")
    ap.add_argument("--threshold", type=float, default=0.0,
                    help="one decision threshold for every flag (0: per flag from the cross-validation, see "
                         "nlp.training.flag_layer.choose_thresholds; 0.5 without cross-validation)")  # fmt: skip
    ap.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: skip, train only)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="where the frozen layers' token states are cached (default: the temp folder)")  # fmt: skip
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    texts, labels = read_data(args.data)
    if args.top_layers > 0:
        model = train_layer(args, texts, labels)
        model.meta["data"] = [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in args.data]
        model.save(args.out)
        for line in describe_cv(model):
            log.info("cross-validated %s", line)
        log.info("wrote %s (version %s)", args.out, model.version)
        return
    prepared = prepare(texts, detect_language=False)
    rules = FlagRules.load()
    embedder = Embedder()
    embeddings = embedder.embed_passages([p.model_text for p in prepared])
    features = feature_matrix(embeddings, [p.text for p in prepared], [rules.rule_hits(p) for p in prepared])
    extra: dict[str, np.ndarray] = {}
    if args.weak_churn_negatives:
        weak = weak_churn_negatives(args.weak_churn_negatives)
        weak_prepared = prepare(weak, detect_language=False)
        extra["churn"] = feature_matrix(
            embedder.embed_passages([p.model_text for p in weak_prepared]),
            [p.text for p in weak_prepared],
            [rules.rule_hits(p) for p in weak_prepared],
        )
        log.info("%d weak non-churn examples for the churn head", len(weak))
    model = train_flag_model(features, labels, extra_negatives=extra)
    model.meta["weak_churn_negatives"] = len(extra.get("churn", []))
    model.meta.update({"data": [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in args.data],
                       "embedder": embedder.version})  # fmt: skip
    model.save(args.out)
    for line in describe_cv(model):
        log.info("cross-validated %s", line)
    log.info("wrote %s (version %s): %s", args.out, model.version, json.dumps(model.meta["cv"]))


if __name__ == "__main__":
    main()
