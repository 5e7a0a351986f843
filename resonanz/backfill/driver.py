"""The driver of a backfill: plan the ranges, let a pool of Ray actors score them, add up, finish once.

:func:`run_backfill` plans the unscored posts of the current model (:mod:`.planning`), hands the ranges to Ray
Data (``from_items`` -> ``map_batches`` with :class:`~resonanz.backfill.scorer.RangeScorer` on a pool of
``actors`` actors, one range per call and per block, so an idle actor always takes the next range), sums the counts
the actors return as they come, and at the end runs what a scoring pass ends with once more, in this process:
:func:`~resonanz.pipeline.duplicates.merge_duplicates` and :func:`~resonanz.pipeline.scoring.refresh_answers`.
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from resonanz.backfill.cluster import LOCAL, actor_environment, check_capacity, connect, import_ray
from resonanz.backfill.errors import BackfillModelMismatchError, RangeFailedError
from resonanz.backfill.planning import PostRange, unscored_ranges
from resonanz.backfill.scorer import RangeScorer
from resonanz.core.settings import Settings
from resonanz.pipeline.duplicates import merge_duplicates
from resonanz.pipeline.scoring import build_analyzer, count_pending, refresh_answers

if TYPE_CHECKING:
    from nlp.pipeline import Analyzer

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 2000
"""Posts per range: an actor that dies scores at most this many again; every range also runs ``score_posts``'
passes over the whole store (brand voice, competitors, duplicates, rollups) once."""
RETRIES = 3
"""How often a range is tried again when its actor dies (Ray restarts the actor and sends the range again) or when
it raises (Ray Data runs it again on the same actor)."""
COUNTS = {"reported": "scored", "flagged": "flagged", "review_created": "review_created",
          "review_updated": "review_updated"}  # fmt: skip
"""Report field <- the actors' column."""


@dataclass
class BackfillReport:
    """What a backfill did. ``scored``/``left``: posts of the plan with/without a score of the model afterwards (read
    from the database); ``reported``, ``flagged`` and the review counts: what the actors returned (a range whose
    actor died after writing it returns its counts from the retry, which finds nothing left to score)."""

    model_name: str
    model_version: str
    actors: int
    ranges: int = 0
    planned: int = 0
    done: int = 0
    scored: int = 0
    left: int = 0
    reported: int = 0
    flagged: int = 0
    review_created: int = 0
    review_updated: int = 0
    seconds: float = 0.0

    @property
    def posts_per_second(self) -> float:
        return self.scored / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"backfill: {self.scored} of {self.planned} planned posts scored ({self.left} left) in "
                f"{self.done}/{self.ranges} ranges by {self.actors} actor(s) with {self.model_name} "
                f"{self.model_version} in {self.seconds:.1f} s ({self.posts_per_second:.1f} posts/s)")  # fmt: skip


def tally(report: BackfillReport, rows: Iterable[Mapping[str, Any]]) -> Iterable[int]:
    """Add the actors' ``rows`` to ``report``, yielding the planned posts of each finished range (for a progress
    bar); :class:`BackfillModelMismatchError` on the first row of an actor with another model version."""
    for row in rows:
        if row["mismatch"]:
            raise BackfillModelMismatchError(str(row["mismatch"]))
        report.done += 1
        for field, column in COUNTS.items():
            setattr(report, field, getattr(report, field) + int(row[column]))
        yield int(row["posts"])


def run_backfill(
    engine: Engine,
    settings: Settings,
    *,
    address: str = LOCAL,
    actors: int = 2,
    cpus_per_actor: float = 1,
    chunk: int = DEFAULT_CHUNK,
    limit: int | None = None,
    retries: int = RETRIES,
    progress: bool = True,
    analyzer: Analyzer | None = None,
    scorer: type[RangeScorer] = RangeScorer,
) -> BackfillReport:
    """Score the posts the current model has not scored (at most ``limit``) on ``actors`` Ray actors.

    ``analyzer``: where the driver reads the model name + version from (default: built from ``settings`` and let go
    after planning); ``scorer``: the actors' class (a subclass in tests)."""
    env = actor_environment(settings, threads=max(1, int(cpus_per_actor)))  # refuses SQLite before anything loads
    if analyzer is None:
        analyzer = build_analyzer(settings)
    name, version = analyzer.name, analyzer.version
    del analyzer  # the driver only plans: the models may go
    start = time.perf_counter()
    ranges = unscored_ranges(engine, name, version, chunk=chunk, limit=limit)
    report = BackfillReport(model_name=name, model_version=version, actors=actors, ranges=len(ranges),
                            planned=sum(r.posts for r in ranges))  # fmt: skip
    log.info("backfill: %d posts in %d ranges for %s %s", report.planned, report.ranges, name, version)
    if ranges:
        ray = import_ray()
        cpus = max(1, math.ceil(actors * cpus_per_actor))
        started = connect(address, cpus=cpus)
        try:
            check_capacity(ray, cpus)
            rows = _score_on_ray(ray, ranges, env, version=version, actors=actors, cpus_per_actor=cpus_per_actor,
                                 chunk=chunk, retries=retries, scorer=scorer)  # fmt: skip
            with tqdm(total=report.planned, desc="Backfill", unit="post", disable=not progress) as bar:
                for posts in tally(report, rows):
                    bar.update(posts)
        except ray.exceptions.RayError as exc:
            raise RangeFailedError(_failure(exc)) from None
        finally:
            if started:
                ray.shutdown()
        merge_duplicates(engine)  # each range ran these already; once more after the last actor's writes
        refresh_answers(engine, settings)
        report.left = count_pending(engine, name, version, ids=(ranges[0].first_id, ranges[-1].last_id))
        report.scored = report.planned - report.left
    report.seconds = time.perf_counter() - start
    log.info(report.summary())
    return report


def _score_on_ray(
    ray: Any,
    ranges: list[PostRange],
    env: dict[str, str],
    *,
    version: str,
    actors: int,
    cpus_per_actor: float,
    chunk: int,
    retries: int,
    scorer: type[RangeScorer],
) -> Iterable[Mapping[str, Any]]:
    """The actors' rows, as the ranges finish (in any order)."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows its own bar, in posts
    context.print_on_execution_start = False
    context.retried_map_errors = True  # a Python error in a range (a deadlock, two scorers opening one review item,
    context.max_map_retries = retries  # a database restart): the range again on the same actor, after a pause
    dataset = ray.data.from_items([asdict(r) for r in ranges], override_num_blocks=len(ranges))  # a range per block
    with warnings.catch_warnings():  # Ray 2.60 has no other place for the two retry limits of the actors
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        scored = dataset.map_batches(
            scorer,
            fn_constructor_kwargs={"model_version": version, "chunk": chunk},
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=actors, max_tasks_in_flight_per_actor=1),
            num_cpus=cpus_per_actor,
            runtime_env={"env_vars": env},
            max_restarts=-1,  # a dead actor is started again ...
            max_task_retries=retries,  # ... and its range sent again, at most this often
        )
    rows: Iterable[Mapping[str, Any]] = scored.iter_rows()
    return rows


ANSI = re.compile(r"\x1b\[[0-9;]*m")
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*: \S")
"""The ``Type: message`` line that ends a Python traceback."""


def _failure(exc: BaseException) -> str:
    """A German message with the actor's own error (Ray hands it over as text: the traceback of the exception in
    the actor, then its own wrapper) and what to do."""
    text = ANSI.sub("", str(exc)).split("The above exception was the direct cause")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    found = [line for line in lines if EXCEPTION_LINE.match(line)] or lines or [type(exc).__name__]
    return (
        f"Ein Bereich ließ sich nicht bewerten: {found[-1][:500].rstrip('.')}. Was fertig ist, bleibt gespeichert; "
        "`resonanz backfill` erneut starten bewertet nur den Rest (die Logs der Actors: `ray logs` oder "
        "/tmp/ray/session_latest/logs)."
    )
