"""Train the flag heads (nlp/flag_model.py) on the project's labelled flag posts.

    .venv/bin/python scripts/train_flags.py                      # -> nlp/weights/flags-de.safetensors
    .venv/bin/python scripts/train_flags.py --data my_flags.tsv --out my_flags.safetensors

Features are what the Analyzer computes for every post anyway: the default e5 passage embedding of the
preprocessed text and the keyword-rule hits of the flag file. Cross-validated precision/recall per flag
are logged and stored in the artefact's metadata. The evaluation set (tests/nlp/data/flags_eval.tsv) is
not read here; scripts/eval_flags.py measures on it.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

import numpy as np

from nlp.embedder import Embedder
from nlp.flag_model import DEFAULT_FILE, churn_cue, feature_matrix
from nlp.flags import FlagRules
from nlp.preprocess import prepare
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT / "nlp" / "training" / "data" / "written_flags.tsv")
    ap.add_argument("--out", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--weak-churn-negatives", type=int, default=1500,
                    help="negative posts from SB-10k, PotTS, GermEval 2017 and hotel reviews without leaving "
                         "language, as extra non-churn examples for the churn head (0: none)")  # fmt: skip
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    texts, labels = read_flag_tsv(args.data)
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
    model.meta.update({"data": str(args.data.relative_to(ROOT)) if args.data.is_relative_to(ROOT) else str(args.data),
                       "embedder": embedder.version})  # fmt: skip
    model.save(args.out)
    for line in describe_cv(model):
        log.info("cross-validated %s", line)
    log.info("wrote %s (version %s): %s", args.out, model.version, json.dumps(model.meta["cv"]))


if __name__ == "__main__":
    main()
