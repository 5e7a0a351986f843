"""Who does which part of the work when N workers share one database.

**Scoring: id ranges planned once, run as jobs** (chosen), not rows claimed with ``SELECT ... FOR UPDATE SKIP
LOCKED``. A planner job (one at a time: procrastinate lock ``score-plan``) reads the posts the current model has
not scored, leaves out those inside the range of a scoring job that is waiting, running or failed, and defers one
``score_range(first_id, last_id)`` job per ``workers.score_chunk`` of the rest (:func:`plan_ranges`). The ranges
never overlap, so no post is analysed by two workers; procrastinate's own claim (``FOR UPDATE SKIP LOCKED`` on its
job table, in a short transaction) hands each job to one worker; a worker killed mid-job stops sending heartbeats
and its job goes back into the queue (:func:`resonanz.workers.tasks.retry_stalled`), where another worker scores
the range again; the score rows are written per post and model version under the unique key
``uq_score_post_model`` (insert, or update on a retry), so a range scored twice never has two rows per post.

Claiming rows with ``SKIP LOCKED`` instead would need one transaction held open across the model's work (seconds
per chunk): the locked ``post`` rows would block the collectors' updates of those posts, the scorer's own update of
a post's language would wait on its own lock from a second connection, and a long transaction holds back vacuum.
It needs no planner and no job table, but a killed worker's claim is only released when PostgreSQL notices the dead
connection (TCP keepalive, minutes), while a job comes back after ``workers.stalled_after_seconds``. The cost of
the ranges: the planner's pass (one indexed query over the unscored posts), the job rows (deleted once
successful), and that a range is the unit of repeated work (at most ``score_chunk`` posts scored again).

A range of a *failed* job (all attempts used, e.g. a post that crashes the model) counts as planned, so it is not
planned again and again; ``resonanz score`` scores what is left in-process, and the failure is in the job table.

**Collection: a lock per source.** Every collection job carries the procrastinate lock ``collect:<source id>``:
no two workers collect one source at the same time, and the queueing lock of the same name keeps at most one
waiting. A run left ``running`` by a killed worker is taken over by the next worker that holds the lock
(:func:`take_over_stale_runs`; on the same host ``resonanz.pipeline.collect`` sees at once that the process is gone).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.core.tables import POST
from resonanz.pipeline.scoring import _has_content, _unscored  # the one definition of "pending"
from store.db import session_scope
from store.models import CollectorRun
from store.types import utcnow

log = logging.getLogger(__name__)

Range = tuple[int, int]
PLANNED_STATUSES = "('todo', 'doing', 'failed')"


def planned_ranges(engine: Engine, task_name: str, model_version: str) -> list[Range]:
    """The id ranges of the scoring jobs for ``model_version`` that wait, run or failed, sorted."""
    query = text(
        "SELECT (args->>'first_id')::bigint, (args->>'last_id')::bigint FROM procrastinate_jobs "
        f"WHERE task_name = :task AND status IN {PLANNED_STATUSES} AND args->>'model_version' = :version"
    )
    with engine.connect() as conn:
        rows = conn.execute(query, {"task": task_name, "version": model_version}).all()
    return sorted((int(a), int(b)) for a, b in rows)


def waiting_jobs(engine: Engine, task_name: str) -> int:
    """How many jobs of ``task_name`` wait in the queue."""
    query = text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task AND status = 'todo'")
    with engine.connect() as conn:
        return int(conn.execute(query, {"task": task_name}).scalar_one())


def plan_ranges(ids: Sequence[int], planned: Sequence[Range], chunk: int, max_ranges: int) -> list[Range]:
    """Group sorted post ``ids`` into at most ``max_ranges`` ranges of up to ``chunk`` ids each, leaving out the ids
    inside a ``planned`` range and never letting a new range span one (so new and planned ranges are disjoint)."""
    ranges: list[Range] = []
    bounds = sorted(planned)
    current: list[int] = []
    b = 0
    for post_id in ids:
        while b < len(bounds) and bounds[b][1] < post_id:
            b += 1
        if b < len(bounds) and bounds[b][0] <= post_id:
            continue  # inside a planned range
        if current and (len(current) == chunk or (b > 0 and current[-1] < bounds[b - 1][0])):
            ranges.append((current[0], current[-1]))  # full, or a planned range lies between the two ids
            current = []
            if len(ranges) == max_ranges:
                return ranges
        current.append(post_id)
    if current and len(ranges) < max_ranges:
        ranges.append((current[0], current[-1]))
    return ranges


def pending_ids(engine: Engine, name: str, version: str, *, after: int, limit: int) -> list[int]:
    """Ids of posts (after ``after``, in order) that ``score_posts`` would analyse for this model version."""
    query = (
        select(POST.c.id)
        .where(POST.c.id > after, POST.c.deleted_at.is_(None), _has_content(), _unscored(name, version))
        .order_by(POST.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [int(row[0]) for row in conn.execute(query)]


def next_ranges(
    engine: Engine, name: str, version: str, planned: Sequence[Range], *, chunk: int, max_ranges: int
) -> list[Range]:
    """The next ranges to defer: the pending posts outside ``planned``, read page by page (bounded memory)."""
    ranges: list[Range] = []
    after = 0
    page = max(chunk * max_ranges, 1000)
    while len(ranges) < max_ranges:
        ids = pending_ids(engine, name, version, after=after, limit=page)
        if not ids:
            break
        ranges.extend(plan_ranges(ids, planned, chunk, max_ranges - len(ranges)))  # a page end cuts a range short
        if len(ids) < page:
            break
        after = ids[-1]
    return ranges


def take_over_stale_runs(engine: Engine, source_id: int, quiet_for: timedelta) -> int:
    """Mark the runs of ``source_id`` still ``running`` without a stored page for ``quiet_for`` as interrupted.

    Only called by the worker that holds the source's lock: such a run belonged to a worker that died (on
    another host, where its process cannot be checked) or to a ``resonanz collect`` that hangs."""
    now = utcnow()
    with session_scope(engine) as session:
        result = session.execute(
            update(CollectorRun)
            .where(
                col(CollectorRun.source_id) == source_id,
                col(CollectorRun.status) == "running",
                col(CollectorRun.heartbeat_at) < now - quiet_for,
            )
            .values(
                status="interrupted",
                finished_at=now,
                error=f"the worker collecting it is gone (no page stored for {quiet_for.total_seconds():.0f} s)",
            )
        )
        taken = int(getattr(result, "rowcount", 0) or 0)
    if taken:
        log.warning("source %s: took over %d run(s) of a worker that is gone", source_id, taken)
    return taken
