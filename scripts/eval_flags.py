"""Precision and recall of the triage flags on the project's held-out flag set, as `resonanz score` flags.

    .venv/bin/python scripts/eval_flags.py        # -> artifacts/results/eval-flags.json
    .venv/bin/python scripts/eval_flags.py --flag-model old.safetensors --out /tmp/old.json
    .venv/bin/python scripts/eval_flags.py --data new_posts.tsv --out /tmp/new.json  # another labelled set

Runs the default Analyzer twice on ``tests/nlp/data/flags_eval.tsv`` (440 posts written apart from the
training posts and never trained or tuned on): with the classifier heads (the default) and without them
(the keyword rules and the offensive threshold alone, as before). Reports per flag precision/recall and
the false-offensive rate on complaints that are not abusive. ``--flag-model``: another flag artefact than
the bundled one (e.g. an earlier version, for a before/after).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from nlp.flag_model import DEFAULT_FILE, FLAG_CLASSES, FlagModel
from nlp.pipeline import Analyzer
from nlp.training.flags import read_flag_tsv

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "nlp" / "data" / "flags_eval.tsv"
ALIASES = {"offensive": {"offensive", "abusive_words"}}
log = logging.getLogger("eval_flags")


def predicted(analyzer: Analyzer, texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), len(FLAG_CLASSES)), dtype=np.int64)
    for i, analysis in enumerate(analyzer.analyse(texts)):
        names = {f.name for f in analysis.flags}
        for j, flag in enumerate(FLAG_CLASSES):
            out[i, j] = int(bool(names & ALIASES.get(flag, {flag})))
    return out


def report(gold: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for j, flag in enumerate(FLAG_CLASSES):
        tp = int((gold[:, j] & pred[:, j]).sum())
        rows[flag] = {
            "precision": round(tp / max(1, int(pred[:, j].sum())), 4),
            "recall": round(tp / max(1, int(gold[:, j].sum())), 4),
            "gold": int(gold[:, j].sum()),
            "predicted": int(pred[:, j].sum()),
        }
    complaints = (gold[:, 1] == 1) & (gold[:, 2] == 0)
    rows["false_offensive_on_complaints"] = {
        "rate": round(float(pred[complaints, 2].mean()), 4),
        "n": int(complaints.sum()),
    }
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--flag-model", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--data", type=Path, default=EVAL,
                    help="another labelled TSV (e.g. new training posts an older model never saw)")  # fmt: skip
    ap.add_argument("--out", type=Path, default=ROOT / "artifacts" / "results" / "eval-flags.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    texts, gold = read_flag_tsv(args.data)
    heads = Analyzer.create(detect_language=False, progress=False, flag_model=args.flag_model)
    rules_only = Analyzer.create(detect_language=False, progress=False, flag_model=None)
    data = args.data.resolve()
    out = {"set": str(data.relative_to(ROOT) if data.is_relative_to(ROOT) else data), "n": len(texts),
           "version": heads.version,
           "flag_model": FlagModel.load(args.flag_model).meta,
           "classifier": report(gold, predicted(heads, texts)),
           "rules_only": report(gold, predicted(rules_only, texts))}  # fmt: skip
    path = args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2), encoding="utf-8")
    for kind in ("classifier", "rules_only"):
        print(kind)
        for flag in FLAG_CLASSES:
            r = out[kind][flag]
            print(f"  {flag:10} precision {r['precision']:.3f} recall {r['recall']:.3f} ({r['predicted']}/{r['gold']})")
        fo = out[kind]["false_offensive_on_complaints"]
        print(f"  false offensive on {fo['n']} non-abusive complaints: {fo['rate']:.3f}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
