"""``resonanz train sentiment|offensive``: retrain the default classifiers on your own labelled data.

The logic lives in :mod:`nlp.training`; this module only gathers the data (files and, with
``--from-feedback``, the community managers' corrections from the store) and reports.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console

from nlp.errors import NlpError
from nlp.training.data import Example, describe, from_pairs, load_file
from resonanz.cli.common import FAILED, fail
from resonanz.core.i18n import N_, _

console = Console(soft_wrap=True)
log = logging.getLogger(__name__)

train_app = typer.Typer(
    help=N_("Train the sentiment or offensive-language model on labelled data."), no_args_is_help=True
)

FEEDBACK_FIELDS = {"sentiment": ("sentiment",), "offensive": ("offensive", "flag")}
"""``label_feedback.field`` read for each task; ``new_value`` is the corrected label (for ``flag``
corrections of the queue: ``+offensive`` is OFFENSE, ``-offensive`` is OTHER, other flags are skipped)."""
FLAG_LABELS = {"+offensive": "OFFENSE", "offensive": "OFFENSE", "-offensive": "OTHER"}

DATA = typer.Option(
    None,
    "--data",
    "-d",
    help=N_("Labelled file: CSV (text,label), GermEval 2017 XML or GermEval 2018 TSV. Repeatable."),
)
FEEDBACK = typer.Option(False, "--from-feedback", help=N_("Also learn from review-queue corrections in the database."))
OUTPUT = typer.Option(None, "--output", "-o", help=N_("Output directory (default: <data dir>/models/<task>-<date>)."))
FOLDS = typer.Option(
    5, "--folds", min=0, help=N_("Cross-validation folds to report before the final fit (0/1 = none).")
)
SKIP_BAD = typer.Option(False, "--skip-bad", help=N_("Skip malformed rows (logged) instead of stopping at the first."))
EPOCHS = typer.Option(None, "--epochs", min=1, help=N_("Maximum epochs (early stopping picks the best)."))
THREADS = typer.Option(None, "--threads", min=1, help=N_("CPU threads (default: settings.nlp.threads or 2)."))
DEEP = typer.Option(
    False,
    "--deep",
    help=N_(
        "LoRA adapters on all 12 layers (the default model's recipe): better, but about 0.5 s per 32 posts "
        "and epoch on a bf16 CPU; resumable (run the same command again), no cross-validation."
    ),
)


def feedback_pairs(task: str) -> list[tuple[str, str]]:
    """(post text, corrected label) from ``label_feedback``; the latest correction per post wins."""
    from sqlmodel import col, select

    from resonanz.core.db import engine_from_settings
    from store.db import session_scope
    from store.models import LabelFeedback, Post

    engine = engine_from_settings()
    latest: dict[int, tuple[str, str]] = {}
    with session_scope(engine) as session:
        rows = session.exec(
            select(LabelFeedback.post_id, Post.text, LabelFeedback.field, LabelFeedback.new_value)
            .join(Post, Post.id == LabelFeedback.post_id)  # type: ignore[arg-type]
            .where(col(LabelFeedback.field).in_(FEEDBACK_FIELDS[task]))
            .order_by(LabelFeedback.at, LabelFeedback.id)  # type: ignore[arg-type]
        ).all()
        for post_id, text, field, value in rows:
            label = FLAG_LABELS.get(value.strip()) if field == "flag" else value
            if label and text and text.strip():
                latest[post_id] = (text, label)
    return list(latest.values())


def gather(task: str, data: list[Path] | None, from_feedback: bool, skip_bad: bool) -> tuple[list[Example], list[str]]:
    examples: list[Example] = []
    sources: list[str] = []
    for path in data or []:
        loaded = load_file(path, task, skip_bad=skip_bad)
        console.print(f"{path}: {describe(loaded)}")
        examples += loaded
        sources.append(str(path))
    if from_feedback:
        pairs = feedback_pairs(task)
        loaded = from_pairs(pairs, task, source="label_feedback")
        console.print(_("review-queue corrections: {found}").format(found=describe(loaded) if loaded else _("none")))
        examples += loaded
        sources.append(f"label_feedback ({len(loaded)} corrections)")
    if not examples:
        raise typer.BadParameter(_("No training data: pass --data FILE (repeatable) and/or --from-feedback."))
    return examples, sources


def run_training(
    task: str,
    data: list[Path] | None,
    from_feedback: bool,
    output: Path | None,
    folds: int,
    skip_bad: bool,
    epochs: int | None,
    threads: int | None,
    deep: bool = False,
) -> None:
    from datetime import date

    from nlp.default_model import ensure_base_model, ensure_classifier_model
    from nlp.lexical import lexical_path_for
    from nlp.training.pipeline import train_task
    from nlp.training.recipes import RECIPES
    from nlp.training.trainer import TrainConfig
    from resonanz.core.settings import cache_dir, data_dir, get_settings

    try:
        examples, sources = gather(task, data, from_feedback, skip_bad)
        config = TrainConfig(**RECIPES[task])
        config.threads = threads or get_settings().nlp.threads or config.threads
        if epochs:
            config.max_epochs = epochs
        out_dir = output or data_dir() / "models" / f"{task}-{date.today().isoformat()}"
        weights = out_dir / f"{task}.safetensors"
        base = ensure_base_model(cache_dir())
        if deep:
            from nlp.training.deep import DeepConfig, train_deep_task

            deep_config = DeepConfig(threads=config.threads)
            if epochs:
                deep_config.epochs = float(epochs)
            metrics = train_deep_task(
                task, examples, base_dir=base, output=weights, config=deep_config, work_dir=out_dir / "work",
                sources=sources,
            )  # fmt: skip
        else:
            metrics = train_task(
                task, examples, base_dir=base, output=weights, folds=folds if folds > 1 else 0, config=config,
                feature_dir=cache_dir() / "features", sources=sources,
            )  # fmt: skip
        (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2), encoding="utf-8")
        model_dir = ensure_classifier_model(weights, out_dir / "build", name=task)
    except NlpError as exc:
        raise fail(exc, FAILED) from None
    cv = metrics.get("cv")
    if cv:
        console.print(
            _("{folds}-fold CV: micro-F1 {micro:.3f}, macro-F1 {macro:.3f}").format(
                folds=folds, micro=cv["mean_micro_f1"], macro=cv["mean_macro_f1"]
            )
        )
    val = metrics.get("validation")
    if val:
        console.print(
            _("Validation ({n} held-out rows): micro-F1 {micro:.3f}, macro-F1 {macro:.3f}").format(
                n=val["n"], micro=val["micro_f1"], macro=val["macro_f1"]
            )
        )
    console.print(_("Weights: {weights}").format(weights=weights))
    console.print(_("Model directory (transformers): {path}").format(path=model_dir))
    if "lexical" in metrics:
        lexical = lexical_path_for(weights)
        mix = metrics["lexical"]["mix_weight"]
        console.print(_("Lexical part of the hybrid: {path} (mix weight {mix:.2f})").format(path=lexical, mix=mix))
    if task == "sentiment":
        console.print(_("Use it: {setting}").format(setting=f"RESONANZ_NLP__SENTIMENT_MODEL={model_dir}"))


TASK_HELP = {
    "sentiment": N_("Train the negative/neutral/positive model."),
    "offensive": N_("Train the OTHER/OFFENSE model."),
}


def _train_command(task: str) -> Callable[..., None]:
    """The ``resonanz train <task>`` command: the options are the same for every task."""

    def command(
        data: list[Path] | None = DATA,
        from_feedback: bool = FEEDBACK,
        output: Path | None = OUTPUT,
        folds: int = FOLDS,
        skip_bad: bool = SKIP_BAD,
        epochs: int | None = EPOCHS,
        threads: int | None = THREADS,
        deep: bool = DEEP,
    ) -> None:
        run_training(task, data, from_feedback, output, folds, skip_bad, epochs, threads, deep)

    command.__name__ = f"train_{task}"
    command.__doc__ = TASK_HELP[task]
    return command


for _task in TASK_HELP:
    train_app.command(_task)(_train_command(_task))


def register(app: typer.Typer) -> None:
    app.add_typer(train_app, name="train")
