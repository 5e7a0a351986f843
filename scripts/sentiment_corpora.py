"""The German sentiment corpora of ``../shared/data`` as :class:`Example` lists, plus the project's own sets.

Readers for SB-10k, PotTS, the hotel-review aspects, GermEval 2017 (with its fixed 5-fold split) and
the posts this project wrote itself. Dev splits are returned separately and are never trained on.
Read by path; the data is never copied into the repository (see ``../shared/data/README.md``).
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from nlp.training.data import Example

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
POLARITY = {"positiv": "positive", "negativ": "negative", "neutral": "neutral"}


def sb10k(split: str, data: Path = DATA) -> list[Example]:
    with (data / "sb10k" / f"{split}.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Example(" ".join(r["text"].split()), r["sentiment"], "sb10k") for r in rows if r["text"].strip()]


def potts(split: str, data: Path = DATA, *, mixed: bool = False) -> list[Example]:
    """PotTS; ``mixed`` tweets (both polarities) are dropped unless ``mixed`` (then labelled 'mixed')."""
    with (data / "potts" / f"{split}.tsv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Example(" ".join(r["text"].split()), r["sentiment"], "potts")
        for r in rows
        if r["text"].strip() and (mixed or r["sentiment"] != "mixed")
    ]


def hotel_aspects(split: str, data: Path = DATA) -> list[tuple[str, list[tuple[str, str]]]]:
    """``(sentence, [(ASPECT, polarity), ...])`` with polarity in negative/neutral/positive."""
    out = []
    for line in (data / "hotel_aspect" / f"{split}.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        labels, _, text = line.partition("\t")
        pairs = []
        for raw in labels.split():
            aspect, _, pol = raw.removeprefix("__label__").rpartition(":")
            pairs.append((aspect, POLARITY[pol]))
        out.append((" ".join(text.split()), pairs))
    return out


def hotel_documents(split: str, data: Path = DATA) -> list[Example]:
    """Hotel sentences whose aspects all agree, with that polarity as the sentence label."""
    out = []
    for text, pairs in hotel_aspects(split, data):
        polarities = {p for _, p in pairs}
        if len(polarities) == 1:
            out.append(Example(text, polarities.pop(), "hotel"))
    return out


def germeval2017(data: Path = DATA) -> list[Example]:
    """dev.xml + test_dia.xml (both training material here), document sentiment."""
    out = []
    for name in ("dev.xml", "test_dia.xml"):
        for doc in ET.parse(data / "germeval2017" / name).getroot().iter("Document"):
            text = " ".join((doc.findtext("text") or "").split())
            if text:
                out.append(Example(text, doc.findtext("sentiment") or "neutral", "germeval2017"))
    return out


def germeval2017_folds(examples: list[Example], folds: int = 5, seed: int = 13) -> list[np.ndarray]:
    """Test indices of the fixed stratified split (same split as the older scripts' CV)."""
    y = np.array([e.label for e in examples])
    return [te for _, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)]


def written(path: Path = ROOT / "nlp" / "training" / "data" / "written_sentiment.tsv") -> list[Example]:
    """Posts the project wrote as training signal (irony/sarcasm, churn intent, sincere praise, neutral)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Example(r["text"].strip(), r["label"].strip(), f"written_{r['kind'].strip()}") for r in rows]


def labelled_tsv(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    """``(text, label, other columns)`` from a project TSV with ``label`` and ``text`` columns."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r["text"], r["label"], r) for r in rows]


def demo_sample() -> list[tuple[str, str]]:
    """The 60 hand-labelled posts of the demo brand (``resonanz/demo/data/truth.json``)."""
    demo = ROOT / "resonanz" / "demo" / "data"
    posts = {}
    for line in (demo / "posts.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            posts[row["external_id"]] = row
    truth = json.loads((demo / "truth.json").read_text(encoding="utf-8"))["sentiment_sample"]
    return [(posts[t["external_id"]]["text"], t["sentiment"]) for t in truth]
