"""The alert job of ``resonanz run``: one evaluation pass every ``alerts.interval_minutes``.

A pass only reads what came in since the previous one (see :mod:`resonanz.alerts.evaluate`), so a short
interval costs little; posts stored and scored by a collection are evaluated at the next pass. The scoring job
of ``resonanz run`` (:func:`resonanz.pipeline.scheduler.score_job`) calls :func:`evaluate_after_pass` itself
after each batch it scored, so a churn threat waits for no interval. Passes in one process run one at a time
(the scoring job and this job share a lock and the baseline cache).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from resonanz.alerts.aggregate import BaselineCache
from resonanz.alerts.evaluate import EvaluationReport, evaluate
from resonanz.core.errors import AnswersError
from resonanz.core.settings import Settings, get_settings
from store.db import open_engine
from store.errors import StoreError

log = logging.getLogger(__name__)

JOB_ID = "alerts"
_CACHES: dict[str, BaselineCache] = {}
"""One baseline cache per database for the life of the process: a pass reads only the hours it lacks."""
_PASS = threading.Lock()
"""Two passes at once would raise the same incident twice and share a cache that is not thread-safe."""


def evaluate_after_pass(engine: Engine, settings: Settings) -> EvaluationReport | None:
    """Evaluate now (after a collection or scoring pass); errors are logged, never raised."""
    if not settings.alerts.enabled:
        return None
    with _PASS:
        cache = _CACHES.setdefault(engine.url.render_as_string(hide_password=True), BaselineCache())
        try:
            return evaluate(engine, settings, cache=cache)
        except (AnswersError, StoreError, SQLAlchemyError) as exc:
            log.error("alert evaluation failed: %s", exc)
            return None


def scheduled_alerts_job(engine_url: str | None = None) -> int | None:
    """The scheduled pass; returns the number of alerts raised (None when off or failed)."""
    settings = get_settings()
    if not settings.alerts.enabled:
        return None
    engine = open_engine(engine_url or settings.resolved_database_url(), migrate=False)
    try:
        report = evaluate_after_pass(engine, settings)
        return len(report.incidents.raised) if report is not None else None
    finally:
        engine.dispose()
