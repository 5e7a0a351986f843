"""Store <-> NLP wiring: analyse the posts that the current model has not scored yet.

:func:`score_posts` reads unscored posts in chunks (ordered by id), analyses each chunk with
:class:`nlp.pipeline.Analyzer`, writes one :class:`~store.models.Score` row per post and model
version, fills in the post's language if it was unknown, and opens or updates a
:class:`~store.models.ReviewItem` for every flagged post. Each chunk is committed on its own,
so a crash loses at most one chunk and the next run resumes where this one stopped. Scores are
kept per model name and version: a new model scores everything again without touching the old
rows; ``rescore`` recomputes (overwrites) the current model's rows, e.g. after editing the
topic or flag rules.

Memory: the languages of the posts without one are detected for a window of up to ``LANGUAGE_WINDOW`` pending posts
before its chunks are analysed; scoring a whole backlog (no ``limit``) then releases the language models
(:func:`nlp.language.release_models`, ~400 MB in the accurate mode) while the transformers run, so the two never
occupy memory together. The languages are the same as detected chunk by chunk (one text at a time, the same
detector); a next window loads the models again (a few seconds per window).

For ``resonanz run``: :func:`shared_analyzer` keeps the loaded models for the life of the process, and
:func:`score_in_batches` scores what is pending in bounded batches (the scheduled job in
:mod:`resonanz.pipeline.scheduler` evaluates the alerts after each one).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, exists, func, insert, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from tqdm.auto import tqdm

from nlp.errors import NlpError
from nlp.flag_model import DEFAULT_FILE as DEFAULT_FLAG_MODEL
from resonanz.answers.rollup import refresh_rollups
from resonanz.core.settings import Settings
from resonanz.pipeline.brand import BRAND, apply_brand_voice
from resonanz.pipeline.duplicates import merge_duplicates
from resonanz.pipeline.key_customers import KEY_FLAGS, watch_key_customers
from resonanz.review.competitors import close_competitor_items, competitor_posts
from resonanz.review.corrections import apply_corrections
from resonanz.review.standing import refresh_standing
from resonanz.review.statuses import ACTIVE_STATUSES
from store.db import session_scope
from store.models import Post, ReviewEvent, ReviewItem, Score
from store.types import utcnow

if TYPE_CHECKING:  # nlp.pipeline imports torch: only where posts are analysed (``ask`` reads the prior alone)
    from nlp.pipeline import Analysis, Analyzer

log = logging.getLogger(__name__)

ACTOR = "resonanz-score"
REVIEW_MIN_SEVERITY = 1
"""Posts whose most severe flag reaches this go to the review queue (severity 0 flags are informational)."""
LANGUAGE_WINDOW = 16_384
"""Pending posts whose languages are detected together, ahead of their chunks (see the module docstring): large
enough that reloading the released language models costs about 1 % of a backlog's time, small enough that the
window's texts stay a few MB."""


@dataclass
class ScoreReport:
    model_name: str
    model_version: str
    scored: int = 0
    flagged: int = 0
    review_created: int = 0
    review_updated: int = 0
    languages_set: int = 0
    chunks: int = 0
    seconds: float = 0.0

    @property
    def posts_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"Scored {self.scored} posts with {self.model_name} {self.model_version} "
            f"({self.posts_per_second:.1f} posts/s); {self.flagged} flagged, "
            f"{self.review_created} new and {self.review_updated} updated review items."
        )


def _flag_model_path(spec: str | None) -> Path | None:
    if not spec:
        return None
    return DEFAULT_FLAG_MODEL if spec == "default" else Path(spec)


def build_analyzer(settings: Settings, *, progress: bool = False) -> Analyzer:
    """The :class:`Analyzer` configured by ``settings.nlp`` (models are loaded on first use)."""
    from nlp.language import set_accuracy
    from nlp.pipeline import Analyzer
    from nlp.runtime import limit_malloc_arenas

    nlp = settings.nlp
    limit_malloc_arenas()  # before the thread pools start (see its docstring)
    set_accuracy(nlp.language_detection)
    return Analyzer.create(
        nlp.sentiment_model,
        offensive_model=nlp.offensive_model or None,
        offensive_second_model=nlp.offensive_second_model or None,
        offensive_gate=nlp.offensive_gate,
        embedding_model=nlp.embedding_model or None,
        topics_file=nlp.topics_file,
        flags_file=nlp.flags_file,
        flag_model=_flag_model_path(nlp.flag_model),
        label_map=nlp.label_map or None,
        batch_tokens=nlp.batch_tokens,
        max_length=nlp.max_length,
        workers=nlp.threads,
        precision=nlp.precision,
        progress=progress,
    )


_SHARED: dict[str, Analyzer] = {}
_SHARED_LOCK = threading.Lock()


def shared_analyzer(settings: Settings) -> Analyzer:
    """The loaded :class:`Analyzer` of ``settings.nlp``, built once per process and kept (a scheduled job must
    not load the models on every pass). Other ``nlp`` settings replace it; a failed load is tried again."""
    key = settings.nlp.model_dump_json()
    with _SHARED_LOCK:
        analyzer = _SHARED.get(key)
        if analyzer is None:
            analyzer = build_analyzer(settings)
            analyzer.load()
            _SHARED.clear()
            _SHARED[key] = analyzer
        return analyzer


def answer_cache_options(settings: Settings) -> dict[str, Any]:
    """What the cached answers depend on besides the rollups (:func:`resonanz.answers.rollup.warm`): the prospects'
    weight, the sentiment model's training prior (EM shares) and the key customers' classes."""
    return {
        "default_weight": settings.value.prospect_weight,
        "train_prior": sentiment_train_prior(settings),
        "key_classes": settings.review.key_classes,
    }


def refresh_answers(engine: Engine, settings: Settings) -> None:
    """After scoring: the answers' daily rollups of the days scored, and the cached answers users open most
    (:func:`answer_cache_options`; :func:`resonanz.answers.rollup.refresh_rollups`)."""
    refresh_rollups(engine, voices=True, **answer_cache_options(settings))


def sentiment_train_prior(settings: Settings) -> list[float] | None:
    """The configured sentiment model's training prior (for EM-estimated shares in answers); None if unknown."""
    from nlp.loading import train_prior

    nlp = settings.nlp
    try:
        return train_prior(nlp.sentiment_model)
    except NlpError as exc:
        log.info("no training prior for %s: %s", nlp.sentiment_model, exc)
        return None


def post_text(text: str | None, title: str | None) -> str:
    """What is analysed: the title (if any) and the text."""
    parts = [p.strip() for p in (title, text) if p and p.strip()]
    return "\n".join(parts)


def _has_content() -> Any:
    return or_(func.length(func.trim(col(Post.text))) > 0, and_(col(Post.title).is_not(None), col(Post.title) != ""))


def _unscored(name: str, version: str) -> Any:
    scored = exists().where(
        col(Score.post_id) == col(Post.id), col(Score.model_name) == name, col(Score.model_version) == version
    )
    return ~scored


def count_pending(
    engine: Engine, name: str, version: str, *, rescore: bool = False, ids: tuple[int, int] | None = None
) -> int:
    """How many posts :func:`score_posts` would analyse."""
    query = select(func.count()).select_from(Post).where(col(Post.deleted_at).is_(None), _has_content())
    if ids is not None:
        query = query.where(col(Post.id).between(*ids))
    if not rescore:
        query = query.where(_unscored(name, version))
    with Session(engine) as session:
        return int(session.exec(query).one())


def score_posts(
    engine: Engine,
    settings: Settings,
    analyzer: Analyzer | None = None,
    *,
    rescore: bool = False,
    limit: int | None = None,
    chunk_size: int = 1024,
    progress: bool = True,
    ids: tuple[int, int] | None = None,
    release_languages: bool | None = None,
) -> ScoreReport:
    """Score every post without a score from the current model name + version (see the module docstring).

    ``ids``: only the posts whose id lies in this closed range (a scoring job of ``resonanz worker``).

    ``chunk_size`` posts are analysed and committed together: large enough that the scoring workers
    get several batches each (so none idles at the end of a chunk), small enough that a crash
    loses little.

    ``release_languages``: release the language models after detecting a window of at least ``chunk_size`` posts
    (see the module docstring); default: when there is no ``limit`` (a whole backlog or id range, not one of
    :func:`score_in_batches`' small batches, which would reload them every time).
    """
    from nlp.runtime import trim_heap

    apply_brand_voice(engine)  # brand posts must be known before review items are opened
    close_competitor_items(engine)  # items opened before their source was tagged with a competitor
    analyzer = analyzer or build_analyzer(settings)
    analyzer.load()
    name, version = analyzer.name, analyzer.version
    report = ScoreReport(model_name=name, model_version=version)
    start = time.perf_counter()
    pending = count_pending(engine, name, version, rescore=rescore, ids=ids)
    total = min(pending, limit) if limit is not None else pending
    log.info("%d posts to score with %s %s", total, name, version)
    last_id = ids[0] - 1 if ids is not None else 0
    first_id: int | None = None
    until = ids[1] if ids is not None else None
    window = _LanguageWindow(
        lambda after, size: _next_chunk(engine, name, version, after, size, rescore, until),
        release=(limit is None if release_languages is None else release_languages),
        min_release=chunk_size,
    ) if analyzer.detect_language else None  # fmt: skip
    with tqdm(total=total, desc="Scoring posts", unit="post", disable=not progress or total == 0) as bar:
        while limit is None or report.scored < limit:
            size = chunk_size if limit is None else min(chunk_size, limit - report.scored)
            rows = _next_chunk(engine, name, version, last_id, size, rescore, until)
            if not rows:
                break
            if first_id is None:
                first_id = rows[0][0]
            known = rows  # the stored languages: the detected ones are written with the scores
            if window is not None:
                budget = LANGUAGE_WINDOW if limit is None else max(size, min(LANGUAGE_WINDOW, limit - report.scored))
                known = window.fill(rows, budget)
            analyses = _analyse(analyzer, known, settings.nlp.analyse_batch, detected=window is not None)
            _write_chunk(engine, rows, analyses, name, version, report)
            del analyses
            trim_heap()  # what the chunk left free in the heaps: the next chunk starts from the live memory
            last_id = rows[-1][0]
            report.scored += len(rows)
            report.chunks += 1
            bar.update(len(rows))
    if first_id is not None:  # key customers' negative posts among those just scored, flag or no flag
        watch_key_customers(engine, settings, post_ids=(first_id, last_id))
    merge_duplicates(engine)  # one item per cross-post, one per spam cluster
    with session_scope(engine) as session:
        refresh_standing(session, missing_only=True)  # the new items' authors, for the queue's order
    refresh_answers(engine, settings)
    report.seconds = time.perf_counter() - start
    log.info(report.summary())
    return report


def score_in_batches(
    engine: Engine,
    settings: Settings,
    analyzer: Analyzer,
    *,
    batch_size: int,
    stop: threading.Event | None = None,
    after_batch: Callable[[ScoreReport], None] | None = None,
) -> ScoreReport:
    """Score every pending post, ``batch_size`` at a time (each batch is one :func:`score_posts` call, so its
    review items, duplicates and spam clusters are settled before ``after_batch`` sees it). ``after_batch``
    runs after each batch that scored posts; ``stop`` ends the loop between batches."""
    total = ScoreReport(model_name=analyzer.name, model_version=analyzer.version)
    if not count_pending(engine, analyzer.name, analyzer.version):
        return total
    while stop is None or not stop.is_set():
        batch = score_posts(engine, settings, analyzer, limit=batch_size, chunk_size=min(batch_size, 1024),
                            progress=False)  # fmt: skip
        for name in ("scored", "flagged", "review_created", "review_updated", "languages_set", "chunks"):
            setattr(total, name, getattr(total, name) + getattr(batch, name))
        total.seconds += batch.seconds
        if batch.scored and after_batch is not None:
            after_batch(batch)
        if batch.scored < batch_size:
            break
    return total


Row = tuple[int, str, str | None, str | None]


class _LanguageWindow:
    """The languages of the pending posts without a stored one, detected a window ahead (module docstring).

    ``fetch(after, size)``: up to ``size`` pending rows with ids above ``after``, in id order (the chunk query).
    :meth:`fill` returns a chunk's rows with the detected language in place of None for those it detected;
    a language that stays undetermined stays None and is not detected again."""

    def __init__(self, fetch: Callable[[int, int], list[Row]], *, release: bool, min_release: int) -> None:
        self.fetch = fetch
        self.release = release
        self.min_release = min_release
        self.detected: dict[int, str | None] = {}

    def fill(self, rows: Sequence[Row], size: int) -> list[Row]:
        if any(lang is None and post_id not in self.detected for post_id, *_, lang in rows):
            self._detect(rows, size)
        return [(i, text, title, self.detected.pop(i, None) if lang is None else lang) for i, text, title, lang in rows]

    def _detect(self, rows: Sequence[Row], size: int) -> None:
        from nlp.language import detect_languages, release_models
        from nlp.runtime import small_buffers_mapped, trim_heap

        self.detected.clear()
        ahead = self.fetch(rows[0][0] - 1, max(size, len(rows)))
        todo = {i: post_text(text, title) for i, text, title, lang in [*ahead, *rows] if lang is None}
        ids = list(todo)
        with small_buffers_mapped():  # lingua's buffers for loading its models are unmapped when freed
            for start in range(0, len(ids), 1024):  # in slices: lingua's results per text are Python objects
                part = ids[start : start + 1024]
                self.detected.update(zip(part, detect_languages([todo[i] for i in part]), strict=True))
        log.debug("languages of %d posts detected ahead", len(ids))
        if self.release and len(ids) >= self.min_release:
            release_models()
            trim_heap()  # their pages go back to the OS, whichever thread's heap the transformers use


def _analyse(analyzer: Analyzer, rows: Sequence[Row], batch: int, *, detected: bool = False) -> list[Analysis]:
    """The analyses of a chunk's posts, ``batch`` at a time (the working memory grows with the batch).
    ``detected``: the rows' languages are final (a :class:`_LanguageWindow` filled them in)."""
    out: list[Analysis] = []
    for start in range(0, len(rows), batch):
        part = rows[start : start + batch]
        texts = [post_text(text, title) for _, text, title, _ in part]
        languages = [lang for *_, lang in part]  # stored languages are not detected again
        if detected:
            out += analyzer.analyse(texts, languages=languages, detect=False)
        else:
            out += analyzer.analyse(texts, languages=languages) if any(languages) else analyzer.analyse(texts)
    return out


def _next_chunk(
    engine: Engine, name: str, version: str, after: int, size: int, rescore: bool, until: int | None = None
) -> list[Row]:
    query = select(Post.id, Post.text, Post.title, Post.language).where(
        col(Post.id) > after, col(Post.deleted_at).is_(None), _has_content()
    )
    if until is not None:
        query = query.where(col(Post.id) <= until)
    if not rescore:
        query = query.where(_unscored(name, version))
    with Session(engine) as session:
        rows = session.exec(query.order_by(col(Post.id)).limit(size)).all()
    return [(int(i or 0), t or "", title, lang) for i, t, title, lang in rows]


def _write_chunk(
    engine: Engine, rows: Sequence[Row], analyses: Sequence[Analysis], name: str, version: str, report: ScoreReport
) -> None:
    for attempt in (1, 2):
        try:
            with session_scope(engine) as session:
                counts = _write(session, rows, analyses, name, version)
            break
        except IntegrityError:  # another scorer wrote some of these rows meanwhile: write again as updates
            if attempt == 2:
                raise
            log.info("scores for some posts appeared concurrently; retrying the chunk as updates")
    report.flagged += counts["flagged"]
    report.review_created += counts["created"]
    report.review_updated += counts["updated"]
    report.languages_set += counts["languages"]


def _write(
    session: Session, rows: Sequence[Row], analyses: Sequence[Analysis], name: str, version: str
) -> dict[str, int]:
    ids = [r[0] for r in rows]
    existing = dict(
        session.exec(
            select(Score.post_id, Score.id).where(
                col(Score.post_id).in_(ids), Score.model_name == name, Score.model_version == version
            )
        ).all()
    )
    reviews = {r.post_id: r for r in session.exec(select(ReviewItem).where(col(ReviewItem.post_id).in_(ids)))}
    brand = set(session.exec(select(Post.id).where(col(Post.id).in_(ids), Post.voice == BRAND)).all())
    brand |= competitor_posts(session, ids)  # competitors' posts are scored (share of voice), never queued
    counts = {"flagged": 0, "created": 0, "updated": 0, "languages": 0}
    now = utcnow()
    new_scores: list[dict[str, Any]] = []
    changed_scores: list[dict[str, Any]] = []
    languages: list[dict[str, Any]] = []
    events: list[tuple[ReviewItem, str, dict[str, Any]]] = []
    for (post_id, _text, _title, language), analysis in zip(rows, analyses, strict=True):
        values = _score_values(analysis)
        score_id = existing.get(post_id)
        if score_id is None:
            key = {"post_id": post_id, "model_name": name, "model_version": version}
            new_scores.append({**key, "scored_at": now, **values})
        else:
            changed_scores.append({"id": score_id, "scored_at": now, **values})
        if language is None and analysis.language:
            languages.append({"id": post_id, "language": analysis.language})
        if analysis.severity >= REVIEW_MIN_SEVERITY and post_id not in brand:
            counts["flagged"] += 1
            outcome = _review(session, reviews.get(post_id), post_id, analysis, name, version, events)
            if outcome:
                counts[outcome] += 1
    # one statement per kind of row for the whole chunk (executemany), not one round trip per post
    if new_scores:
        session.execute(insert(Score), new_scores)
    if changed_scores:
        session.execute(update(Score), changed_scores)  # by primary key
    if languages:
        session.execute(update(Post), languages)
    counts["languages"] = len(languages)
    session.flush()  # the new review items, in one batch: their ids for the events
    session.add_all(ReviewEvent(review_item_id=i.id, actor=ACTOR, action=a, detail=d) for i, a, d in events)
    session.flush()
    apply_corrections(session, ids)  # a person's corrections win over any model, also a new one
    return counts


def _score_values(analysis: Analysis) -> dict[str, Any]:
    s = analysis.sentiment
    return {
        "sentiment": s.label,
        "p_negative": s.p_negative,
        "p_neutral": s.p_neutral,
        "p_positive": s.p_positive,
        "topics": [t.as_dict() for t in analysis.topics],
        "flags": [f.as_dict() for f in analysis.flags],
    }


def _review(
    session: Session,
    item: ReviewItem | None,
    post_id: int,
    analysis: Analysis,
    name: str,
    version: str,
    events: list[tuple[ReviewItem, str, dict[str, Any]]],
) -> str | None:
    """Open a review item for a flagged post, or update an active one; closed items are left alone. The audit
    event goes to ``events`` (written once the chunk's new items have their ids)."""
    reasons = [f.as_dict() for f in analysis.flags]
    detail = {
        "model": name,
        "version": version,
        "severity": analysis.severity,
        "flags": [f.name for f in analysis.flags],
    }
    if item is None:
        item = ReviewItem(post_id=post_id, reasons=reasons, severity=analysis.severity)
        session.add(item)
        events.append((item, "flagged", detail))
        return "created"
    # a key customer's reason stays (resonanz.pipeline.key_customers): the model's flags add to it
    kept = [r for r in item.reasons or [] if r.get("flag") in KEY_FLAGS]
    reasons = reasons + kept
    severity = max([analysis.severity, *(int(r.get("severity", 0)) for r in kept)])
    if item.status not in ACTIVE_STATUSES or (item.reasons == reasons and item.severity == severity):
        return None
    item.reasons = reasons
    item.severity = severity
    item.updated_at = utcnow()
    session.add(item)
    events.append((item, "reflagged", detail))
    return "updated"
