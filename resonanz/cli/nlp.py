"""``resonanz classify`` (texts in, JSON lines out, no database) and ``resonanz score`` (the stored posts)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import typer
from rich.console import Console
from tqdm.auto import tqdm

from nlp.errors import NlpError
from resonanz.cli.common import fail
from resonanz.core.i18n import N_, _
from resonanz.core.settings import get_settings
from store.errors import StoreError

console = Console(stderr=True, soft_wrap=True)
CHUNK = 1024
"""Texts per analysis call: enough batches that no worker idles at the end of a chunk."""


class InputError(ValueError):
    """A line of the input cannot be read."""


def read_items(stream: TextIO) -> Iterator[dict[str, Any]]:
    """Items from text lines or JSON lines (``{"text": ..., ...}``); blank lines are skipped."""
    for number, line in enumerate(stream, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("{"):
            try:
                item = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise InputError(
                    _("line {number}: not valid JSON ({error}).").format(number=number, error=exc.msg)
                ) from None
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise InputError(
                    _('line {number}: a JSON line needs a "text" field with a string.').format(number=number)
                )
            yield item
        else:
            yield {"text": line.rstrip("\r\n")}


def _chunks(items: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def classify(
    file: Path | None = typer.Argument(
        None,
        help=N_("Text file (one post per line) or JSON lines with a 'text' field; '-' or nothing reads stdin."),
    ),
    model: str | None = typer.Option(
        None, "--model", help=N_("Sentiment model (default: settings nlp.sentiment_model).")
    ),
) -> None:
    from resonanz.pipeline.scoring import build_analyzer

    settings = get_settings()
    if model:
        settings = settings.model_copy(update={"nlp": settings.nlp.model_copy(update={"sentiment_model": model})})
    try:
        stream: TextIO = sys.stdin if file is None or str(file) == "-" else file.open(encoding="utf-8")
    except OSError as exc:
        raise fail(_("cannot read {file}: {error}").format(file=file, error=exc.strerror)) from None
    analyzer = build_analyzer(settings)
    out = sys.stdout
    try:
        with stream, tqdm(desc=_("Classifying"), unit=_("text"), file=sys.stderr, disable=None) as bar:
            for chunk in _chunks(read_items(stream), CHUNK):
                for item, analysis in zip(chunk, analyzer.analyse([i["text"] for i in chunk]), strict=True):
                    record = {"id": item["id"]} if "id" in item else {}
                    record.update(analysis.as_dict())
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                bar.update(len(chunk))
    except InputError as exc:
        raise fail(exc) from None
    except NlpError as exc:
        raise fail(exc) from None


def score(
    rescore: bool = typer.Option(
        False, "--rescore", help=N_("Recompute the current model's scores (e.g. after editing topic or flag rules).")
    ),
    limit: int | None = typer.Option(None, "--limit", min=1, help=N_("Score at most this many posts.")),
) -> None:
    from resonanz.core.db import engine_from_settings
    from resonanz.pipeline.scoring import score_posts

    settings = get_settings()
    try:
        engine = engine_from_settings(settings)
        report = score_posts(engine, settings, rescore=rescore, limit=limit)
    except (NlpError, StoreError) as exc:
        raise fail(exc) from None
    Console(soft_wrap=True).print(report.summary(), highlight=False)


def register(app: typer.Typer) -> None:
    app.command(
        "classify",
        help=N_(
            "Analyse texts without the database: one JSON line per input line (label, probabilities, topics, flags)."
        ),
    )(classify)
    app.command("score", help=N_("Score all stored posts that have no score from the current model name + version."))(
        score
    )
