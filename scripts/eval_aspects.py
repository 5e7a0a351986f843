"""Aspect-level sentiment on the hotel_aspect corpus, run through the real Analyzer with a USER taxonomy.

    .venv/bin/python scripts/eval_aspects.py
    .venv/bin/python scripts/eval_aspects.py --sentiment-model artifacts/deep/ship/sentiment-de.safetensors

The five aspects (HOTEL, ZIMMER, LAGE, SERVICE, ESSEN&TRINKEN) are the taxonomy
``scripts/data/hotel_taxonomy.toml`` (keywords + descriptions written by hand). Its ``examples_file``
is generated here from the TRAIN split only (``artifacts/hotel_aspects/examples_train.tsv``). Two
variants run on the DEV sentences:

* ``keywords``: keywords + descriptions (the examples are dropped);
* ``examples``: the same plus the example classifier (:mod:`nlp.topic_examples`).

The description-similarity threshold of the taxonomy is replaced by the one with the best detection
micro-F1 on TRAIN (keywords + descriptions); the example classifier picks its thresholds by
cross-validation on TRAIN. Nothing is chosen on dev.

Metrics (per sentence, set-based, micro over the dev set): ``pair`` = aspect:polarity F1 (a pair counts
only if aspect and polarity are right), ``detection`` = aspect F1, ``polarity_acc`` = polarity accuracy
on the correctly detected aspects (right if the gold gives the aspect that polarity; 18 dev sentences give
an aspect two polarities). ``post_level`` repeats the pair F1 with every aspect given the
sentence's own label, i.e. what the aspect step adds; it is also reported on the sentences with two or
more predicted topics and on those whose gold aspects disagree in polarity ("gold mixed").
Writes ``artifacts/hotel_aspects/report-<tag>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import sentiment_corpora as corpora  # noqa: E402

from nlp.embedder import Embedder  # noqa: E402
from nlp.flags import FlagRules  # noqa: E402
from nlp.loading import DEFAULT  # noqa: E402
from nlp.pipeline import Analysis, Analyzer  # noqa: E402
from nlp.preprocess import prepare  # noqa: E402
from nlp.scorer import TransformerScorer  # noqa: E402
from nlp.topics import TopicModel  # noqa: E402

log = logging.getLogger("eval_aspects")
TAXONOMY = Path(__file__).parent / "data" / "hotel_taxonomy.toml"
OUT = corpora.ROOT / "artifacts" / "hotel_aspects"
EXAMPLES = OUT / "examples_train.tsv"

Pairs = set[tuple[str, str]]


def write_examples(path: Path = EXAMPLES) -> int:
    """The TRAIN sentences as ``ASPECT<TAB>sentence`` lines (one per aspect of a sentence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["topic\ttext"]
    for text, pairs in corpora.hotel_aspects("train"):
        lines += [f"{aspect}\t{text}" for aspect in dict.fromkeys(a for a, _ in pairs)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines) - 1


def micro_f1(gold: Sequence[set[Any]], predicted: Sequence[set[Any]]) -> dict[str, float]:
    tp = sum(len(g & p) for g, p in zip(gold, predicted, strict=True))
    n_pred, n_gold = sum(map(len, predicted)), sum(map(len, gold))
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def score(gold: Sequence[Pairs], analyses: Sequence[Analysis]) -> dict[str, Any]:
    predicted = [{(t.name, t.polarity or a.label) for t in a.topics} for a in analyses]
    post_level = [{(t.name, a.label) for t in a.topics} for a in analyses]
    gold_aspects = [{x for x, _ in g} for g in gold]
    pred_aspects = [{x for x, _ in p} for p in predicted]
    right = total = 0
    per_aspect: dict[str, list[int]] = {}
    for g, p in zip(gold, predicted, strict=True):
        found = {x for x, _ in g}
        for aspect, polarity in p:  # one polarity per predicted topic; gold may give an aspect two
            if aspect in found:
                ok = (aspect, polarity) in g
                total += 1
                right += ok
                per_aspect.setdefault(aspect, [0, 0])
                per_aspect[aspect][0] += ok
                per_aspect[aspect][1] += 1
    multi = [i for i, a in enumerate(analyses) if len(a.topics) >= 2]
    mixed = [i for i, g in enumerate(gold) if len({p for _, p in g}) > 1]
    return {
        "pair": micro_f1(gold, predicted),
        "detection": micro_f1(gold_aspects, pred_aspects),
        "polarity_acc": round(right / total, 4) if total else None,
        "polarity_acc_by_aspect": {k: round(v[0] / v[1], 4) for k, v in sorted(per_aspect.items())},
        "post_level_pair": micro_f1(gold, post_level),
        "sentences_with_2plus_topics": len(multi),
        "pair_on_those": micro_f1([gold[i] for i in multi], [predicted[i] for i in multi]),
        "post_level_pair_on_those": micro_f1([gold[i] for i in multi], [post_level[i] for i in multi]),
        "gold_mixed_sentences": len(mixed),
        "pair_on_gold_mixed": micro_f1([gold[i] for i in mixed], [predicted[i] for i in mixed]),
        "post_level_pair_on_gold_mixed": micro_f1([gold[i] for i in mixed], [post_level[i] for i in mixed]),
    }


def description_threshold(
    model: TopicModel, embedder: Embedder, data: Sequence[tuple[str, list[tuple[str, str]]]]
) -> float:
    """The description-similarity threshold with the best detection micro-F1 on ``data`` (TRAIN)."""
    posts = prepare([t for t, _ in data], detect_language=False)
    sims = model.similarities(embedder.embed_passages([p.model_text for p in posts]))
    gold = [{a for a, _ in pairs} for _, pairs in data]
    best = (model.threshold, -1.0)
    for threshold in np.arange(0.90, 0.6999, -0.005):
        model.threshold = float(threshold)
        predicted = [{m.name for m in model.match(p, sims[i])} for i, p in enumerate(posts)]
        f1 = micro_f1(gold, predicted)["f1"]
        if f1 > best[1] + 1e-9:  # ties: the highest threshold (the fewest embedding-only topics)
            best = (round(float(threshold), 3), f1)
    model.threshold = best[0]
    log.info("description threshold %.3f (train detection F1 %.4f)", *best)
    return best[0]


def resolve_model(spec: str) -> str | Path:
    if spec == "default":
        return DEFAULT
    path = Path(spec).expanduser()
    if path.suffix == ".safetensors":
        from nlp.default_model import ensure_classifier_model

        return ensure_classifier_model(path, name="eval-ship")
    return path if path.exists() else spec


def run(args: argparse.Namespace) -> dict[str, Any]:
    n_examples = write_examples()
    log.info("%d train examples -> %s", n_examples, EXAMPLES)
    dev = corpora.hotel_aspects("dev")
    gold = [set(pairs) for _, pairs in dev]
    texts = [t for t, _ in dev]
    sentiment_model = resolve_model(args.sentiment_model)
    opts: dict[str, Any] = {"workers": args.threads, "progress": False}
    scorer = TransformerScorer(sentiment_model, **opts)
    embedder = Embedder(DEFAULT, **opts)
    report: dict[str, Any] = {
        "sentiment_model": args.sentiment_model,
        "taxonomy": str(TAXONOMY.relative_to(corpora.ROOT)),
        "train_examples": n_examples,
        "dev_sentences": len(dev),
        "variants": {},
    }
    threshold: float | None = None
    for variant in ("keywords", "examples"):
        model = TopicModel.load(TAXONOMY)
        if variant == "keywords":
            model.examples = []
        analyzer = Analyzer(scorer, embedder=embedder, topics=model, flags=FlagRules.load(), detect_language=False)
        start = time.perf_counter()
        analyzer.load()
        if threshold is None:
            threshold = description_threshold(model, embedder, corpora.hotel_aspects("train"))
        model.threshold = threshold
        loaded = time.perf_counter()
        analyses = analyzer.analyse(texts)
        result = score(gold, analyses)
        result["seconds_load"] = round(loaded - start, 1)
        result["seconds_dev"] = round(time.perf_counter() - loaded, 1)
        if variant == "examples":
            assert model._classifier is not None
            result["example_thresholds"] = {
                model.topics[j].name: round(float(t), 3)
                for j, t in zip(model._classifier.topic_index, model._classifier.thresholds, strict=True)
            }
            result["example_cv_f1"] = {model.topics[j].name: round(f, 4) for j, f in model._classifier.cv_f1.items()}
        report["variants"][variant] = result
        report["sentiment_version"] = analyzer.version
        log.info("%s: %s", variant, json.dumps({k: result[k] for k in ("pair", "detection", "polarity_acc")}))
    report["description_threshold"] = None if threshold is None else round(threshold, 3)
    return report


def table(report: dict[str, Any]) -> Iterable[str]:
    yield f"hotel_aspect dev ({report['dev_sentences']} sentences), sentiment model {report['sentiment_model']}"
    yield (
        f"{'variant':10s} {'pair F1':>8s} {'detect F1':>10s} {'pol acc':>8s} {'post-level pair F1':>19s} "
        f"{'gold-mixed pair F1 (aspect / post)':>35s}"
    )
    for name, r in report["variants"].items():
        mixed = f"{r['pair_on_gold_mixed']['f1']:.4f} / {r['post_level_pair_on_gold_mixed']['f1']:.4f}"
        yield (
            f"{name:10s} {r['pair']['f1']:8.4f} {r['detection']['f1']:10.4f} {r['polarity_acc']:8.4f} "
            f"{r['post_level_pair']['f1']:19.4f} {mixed:>35s}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentiment-model", default="default", help="'default', a model dir/id or a .safetensors")
    parser.add_argument("--tag", default=None, help="report name (default: derived from the model)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    torch.set_num_threads(args.threads)
    report = run(args)
    tag = args.tag or Path(args.sentiment_model).stem
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"report-{tag}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for line in table(report):
        log.info(line)
    log.info("report: %s", path)


if __name__ == "__main__":
    main()
