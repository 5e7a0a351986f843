"""Backfills at cluster scale: score millions of stored posts on a Ray cluster (``resonanz backfill``).

When: a new source brought a million old posts, or a new model version has to score the whole store again.
``resonanz score`` does that in one process, ``resonanz worker`` on a few machines through the job queue; a backfill
borrows the cores of a Ray cluster for one run and gives them back.

* :mod:`.planning` - the unscored posts of the current model name + version as id ranges (the workers' planner);
* :mod:`.scorer` - :class:`RangeScorer`, what each actor runs: settings, engine and models loaded once per actor,
  then :func:`resonanz.pipeline.scoring.score_posts` per range, with the check of the model version;
* :mod:`.cluster` - starting or joining Ray, the environment every actor gets, the refusal on SQLite;
* :mod:`.driver` - :func:`run_backfill`: plan, score on a pool of actors (Ray Data ``map_batches``), add up, finish.

**The actors read the texts from the database themselves** (chosen): a range travels as two ids, each actor loads
the range's posts, analyses them and writes the scores with ``score_posts``, the one write path that ``resonanz
score`` and the workers' ``score_range`` jobs use (review items, corrections, brand and competitor rules, duplicate
merging, rollups). The cost: every actor needs network access to PostgreSQL (and the database URL travels in Ray's
``runtime_env``, visible to whoever sees the cluster's jobs), and each range repeats ``score_posts``' passes over the
whole store (brand voice, competitors, duplicates, rollups; milliseconds on thousands of posts, growing with the
store: ranges of 2000 posts keep them rare). The alternative, ``ray.data.read_sql`` -> inference -> one writer,
keeps the database away from the actors but needs a second write path for the scores and everything that hangs on
them, which would drift from the first.

**A crash costs at most one range per dead actor.** Ray restarts a dead actor (``max_restarts=-1``) and sends its
range again (``max_task_retries``); a range that raises (a deadlock, a database restart, two scorers opening the
same review item at once) runs again on its actor after a pause (Ray Data's ``max_map_retries``); both at most
``retries`` times (default 3), then the run stops with :class:`RangeFailedError` and the actor's own error. Scores
are written per post and model version under the unique key ``uq_score_post_model`` and a chunk that meets rows
written meanwhile is written again as updates, so a range scored twice writes nothing twice. What is committed
stays; the next ``resonanz backfill`` plans only what is left (also after the driver itself died).

**PostgreSQL only**: actors in other processes on other machines cannot share a SQLite file, so SQLite is refused
for any number of actors (``resonanz score`` is the path there). **One model version**: the driver plans for its
model version; an actor that loads another (other ``[nlp]`` settings, model files or CPU: ``precision = "auto"``)
scores nothing and the run stops with :class:`BackfillModelMismatchError`.
"""

from __future__ import annotations

from resonanz.backfill.cluster import LOCAL, actor_environment, connect, import_ray, require_postgres
from resonanz.backfill.driver import DEFAULT_CHUNK, RETRIES, BackfillReport, run_backfill
from resonanz.backfill.errors import (
    BackfillError,
    BackfillModelMismatchError,
    BackfillNeedsPostgresError,
    ClusterError,
    RangeFailedError,
    RayMissingError,
)
from resonanz.backfill.planning import PostRange, unscored_ranges
from resonanz.backfill.scorer import RangeScorer

__all__ = [
    "DEFAULT_CHUNK",
    "LOCAL",
    "RETRIES",
    "BackfillError",
    "BackfillModelMismatchError",
    "BackfillNeedsPostgresError",
    "BackfillReport",
    "ClusterError",
    "PostRange",
    "RangeFailedError",
    "RangeScorer",
    "RayMissingError",
    "actor_environment",
    "connect",
    "import_ray",
    "require_postgres",
    "run_backfill",
    "unscored_ranges",
]
