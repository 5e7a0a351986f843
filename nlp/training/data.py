"""Labelled training data: CSV (``text,label``), GermEval 2017 XML, GermEval 2018 TSV, and plain pairs.

Every loader returns a list of :class:`Example`. Malformed rows raise :class:`TrainingDataError` naming
the file and line/row, unless ``skip_bad=True``, in which case they are logged and skipped (the good
rows are never lost).
"""

from __future__ import annotations

import csv
import logging
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlp.errors import TrainingDataError

log = logging.getLogger(__name__)

SENTIMENT_LABELS: tuple[str, ...] = ("negative", "neutral", "positive")
OFFENSIVE_LABELS: tuple[str, ...] = ("OTHER", "OFFENSE")
TASK_LABELS: dict[str, tuple[str, ...]] = {"sentiment": SENTIMENT_LABELS, "offensive": OFFENSIVE_LABELS}

_ALIASES: dict[str, dict[str, str]] = {
    "sentiment": {
        "neg": "negative", "negative": "negative", "negativ": "negative", "-1": "negative",
        "neu": "neutral", "neutral": "neutral", "0": "neutral",
        "pos": "positive", "positive": "positive", "positiv": "positive", "1": "positive",
    },
    "offensive": {
        "other": "OTHER", "0": "OTHER", "no": "OTHER", "false": "OTHER",
        "offense": "OFFENSE", "offensive": "OFFENSE", "1": "OFFENSE", "yes": "OFFENSE", "true": "OFFENSE",
        "abuse": "OFFENSE", "insult": "OFFENSE", "profanity": "OFFENSE",
    },
}  # fmt: skip


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str = ""


def normalise_label(task: str, raw: str, where: str) -> str:
    """Map a raw label (any case, common synonyms) to the task's canonical label or raise."""
    if task not in TASK_LABELS:
        raise TrainingDataError(f"Unknown task {task!r}; choose one of {', '.join(TASK_LABELS)}.")
    label = _ALIASES[task].get(raw.strip().lower())
    if label is None:
        raise TrainingDataError(
            f"{where}: label {raw!r} is not a {task} label; use one of {', '.join(TASK_LABELS[task])}."
        )
    return label


def _check_text(text: str | None, where: str) -> str:
    if text is None or not text.strip():
        raise TrainingDataError(f"{where}: empty text.")
    return " ".join(text.split())


def load_csv(path: Path, task: str, *, skip_bad: bool = False) -> list[Example]:
    """A CSV with a header row containing ``text`` and ``label`` columns (other columns are ignored)."""
    out: list[Example] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            fields = [f.strip().lower() for f in reader.fieldnames or []]
            if "text" not in fields or "label" not in fields:
                raise TrainingDataError(
                    f"{path}: the CSV needs a header with 'text' and 'label' columns "
                    f"(found: {', '.join(fields) or 'none'})."
                )
            reader.fieldnames = fields
            for row in reader:
                where = f"{path}:{reader.line_num}"
                try:
                    if None in row:
                        raise TrainingDataError(f"{where}: more fields than the header has (unquoted comma?).")
                    text = _check_text(row.get("text"), where)
                    out.append(Example(text, normalise_label(task, row.get("label") or "", where), str(path)))
                except TrainingDataError as exc:
                    if not skip_bad:
                        raise
                    log.warning("skipped: %s", exc)
    except UnicodeDecodeError as exc:
        raise TrainingDataError(f"{path}: not UTF-8 text ({exc}). Save the file as UTF-8.") from exc
    return out


def load_germeval2017(path: Path, task: str = "sentiment", *, skip_bad: bool = False) -> list[Example]:
    """GermEval 2017 XML: ``<Document>`` elements with ``<text>`` and document-level ``<sentiment>``."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise TrainingDataError(f"{path}: malformed XML ({exc}).") from exc
    docs = list(root.iter("Document"))
    if not docs:
        raise TrainingDataError(f"{path}: no <Document> elements; is this a GermEval 2017 file?")
    out: list[Example] = []
    for i, doc in enumerate(docs, 1):
        where = f"{path}: document {i} ({doc.get('id', 'no id')})"
        try:
            text = _check_text(doc.findtext("text"), where)
            out.append(Example(text, normalise_label(task, doc.findtext("sentiment") or "", where), str(path)))
        except TrainingDataError as exc:
            if not skip_bad:
                raise
            log.warning("skipped: %s", exc)
    return out


def load_germeval2018(path: Path, task: str = "offensive", *, skip_bad: bool = False) -> list[Example]:
    """GermEval 2018 TSV: ``text<TAB>OTHER|OFFENSE<TAB>fine`` per line."""
    out: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 2:
                    raise TrainingDataError(f"{where}: expected text<TAB>label<TAB>fine, found no tab.")
                out.append(Example(_check_text(parts[0], where), normalise_label(task, parts[1], where), str(path)))
            except TrainingDataError as exc:
                if not skip_bad:
                    raise
                log.warning("skipped: %s", exc)
    return out


def load_file(path: Path, task: str, *, skip_bad: bool = False) -> list[Example]:
    """Dispatch on the file type: ``.csv``, ``.xml`` (GermEval 2017) or ``.txt``/``.tsv`` (GermEval 2018)."""
    if not path.is_file():
        raise TrainingDataError(f"{path}: no such file.")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        examples = load_csv(path, task, skip_bad=skip_bad)
    elif suffix == ".xml":
        examples = load_germeval2017(path, task, skip_bad=skip_bad)
    elif suffix in (".txt", ".tsv"):
        examples = load_germeval2018(path, task, skip_bad=skip_bad)
    else:
        raise TrainingDataError(f"{path}: unknown format {suffix!r}; use .csv (text,label), .xml or .tsv.")
    if not examples:
        raise TrainingDataError(f"{path}: no usable labelled rows.")
    return examples


def from_pairs(pairs: Iterable[tuple[str, str]], task: str, source: str = "feedback") -> list[Example]:
    """Plain ``(text, label)`` pairs, e.g. community managers' corrections read from the store."""
    out = []
    for i, (text, label) in enumerate(pairs, 1):
        where = f"{source} row {i}"
        out.append(Example(_check_text(text, where), normalise_label(task, label, where), source))
    return out


def describe(examples: Sequence[Example]) -> str:
    counts = Counter(e.label for e in examples)
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" (total {len(examples)})"
