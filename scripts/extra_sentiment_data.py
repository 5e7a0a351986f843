"""Weakly labelled extra sentiment examples from the other GermEval corpora (training folds only).

GermEval 2017 is about Deutsche Bahn and only ~5 % positive; on other domains (shops, apps, coffee)
a model trained on it alone calls almost everything neutral. These sources add clearly positive and
clearly negative German social-media language (see ``../shared/data/README.md`` for licences):

* GermEval 2025 Flausch ``yes`` (supportive, warm comments) -> positive;
* GermEval 2018 ``OFFENSE`` (abuse, insults) -> negative;
* GermEval 2021 ``Sub1_Toxic = 1`` -> negative;
* GermEval 2021 comments that are neither toxic nor engaging, and GermEval 2018 ``OTHER`` tweets ->
  neutral. Without these, every extra example is off-domain *and* non-neutral, and the model learns
  "not about trains = not neutral" (an opening-hours notice came out positive).

They are weak labels (a supportive comment is not always positive about a product; an insult is
negative, but not about a product), so they join the training folds only, never validation or
scoring. Sampling is deterministic (``seed``), texts shorter than ``min_chars`` are skipped.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from nlp.training.data import Example

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _sample(rows: list[str], n: int, seed: int, min_chars: int) -> list[str]:
    rows = [" ".join(t.replace("|LBR|", " ").split()) for t in rows]
    rows = [t for t in rows if len(t) >= min_chars]
    random.Random(seed).shuffle(rows)
    return rows[:n]


def flausch_positives(n: int, seed: int = 13, data: Path = DATA, min_chars: int = 15) -> list[Example]:
    with (data / "germeval2025_flausch" / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r["comment"] for r in csv.DictReader(fh) if r["flausch"] == "yes"]
    return [Example(t, "positive", "germeval2025_flausch") for t in _sample(rows, n, seed, min_chars)]


def offensive_negatives(n: int, seed: int = 13, data: Path = DATA, min_chars: int = 15) -> list[Example]:
    with (data / "germeval2018" / "training.txt").open(encoding="utf-8") as fh:
        rows = [p[0] for p in (line.rstrip("\n").split("\t") for line in fh) if len(p) >= 2 and p[1] == "OFFENSE"]
    return [Example(t, "negative", "germeval2018_offense") for t in _sample(rows, n, seed, min_chars)]


def toxic_negatives(n: int, seed: int = 13, data: Path = DATA, min_chars: int = 15) -> list[Example]:
    with (data / "germeval2021" / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r["comment_text"] for r in csv.DictReader(fh) if r["Sub1_Toxic"] == "1"]
    return [Example(t, "negative", "germeval2021_toxic") for t in _sample(rows, n, seed, min_chars)]


def neutral_comments(n: int, seed: int = 13, data: Path = DATA, min_chars: int = 15) -> list[Example]:
    """Half GermEval 2021 comments with no toxic/engaging label, half GermEval 2018 OTHER tweets."""
    with (data / "germeval2021" / "train.csv").open(encoding="utf-8", newline="") as fh:
        calm = [r["comment_text"] for r in csv.DictReader(fh) if r["Sub1_Toxic"] == "0" and r["Sub2_Engaging"] == "0"]
    with (data / "germeval2018" / "training.txt").open(encoding="utf-8") as fh:
        other = [p[0] for p in (line.rstrip("\n").split("\t") for line in fh) if len(p) >= 2 and p[1] == "OTHER"]
    rows = _sample(calm, n - n // 2, seed, min_chars) + _sample(other, n // 2, seed, min_chars)
    return [Example(t, "neutral", "germeval2021_2018_neutral") for t in rows]


def extra_examples(
    flausch: int = 0, offensive: int = 0, toxic: int = 0, neutral: int = 0, seed: int = 13
) -> list[Example]:
    return [
        *(flausch_positives(flausch, seed) if flausch else []),
        *(offensive_negatives(offensive, seed) if offensive else []),
        *(toxic_negatives(toxic, seed) if toxic else []),
        *(neutral_comments(neutral, seed) if neutral else []),
    ]


def describe_extra(flausch: int, offensive: int, toxic: int, neutral: int = 0) -> list[str]:
    out = []
    if flausch:
        out.append(f"GermEval 2025 Flausch: {flausch} supportive comments as extra positives")
    if offensive:
        out.append(f"GermEval 2018: {offensive} OFFENSE tweets as extra negatives")
    if toxic:
        out.append(f"GermEval 2021: {toxic} toxic comments as extra negatives")
    if neutral:
        out.append(f"GermEval 2021 (calm) + 2018 (OTHER): {neutral} comments as extra neutrals")
    return out
