"""Which posts a backfill scores: the unscored posts of the current model name + version, as id ranges.

"Unscored" is the one definition in :mod:`resonanz.pipeline.scoring`, read page by page through
:func:`resonanz.workers.claims.pending_ids`; the ranges are cut by :func:`resonanz.workers.claims.plan_ranges`
(the planner of ``resonanz worker``'s scoring jobs), so a backfill range holds what a ``score_range`` job would.
The plan is a snapshot: posts stored later get higher ids and are left to the next run (or to ``resonanz run``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from resonanz.workers.claims import pending_ids, plan_ranges

PAGE = 100_000
"""Ids read per query while planning (rounded down to whole ranges, so no range is cut at a page end)."""


@dataclass(frozen=True)
class PostRange:
    """The posts ``first_id`` to ``last_id`` (inclusive), of which ``posts`` were unscored when it was planned."""

    first_id: int
    last_id: int
    posts: int


def unscored_ranges(
    engine: Engine, name: str, version: str, *, chunk: int, limit: int | None = None, page: int = PAGE
) -> list[PostRange]:
    """The unscored posts (ids in order) in ranges of ``chunk`` posts; at most ``limit`` posts in all."""
    return list(_ranges(engine, name, version, chunk=chunk, limit=limit, page=page))


def _ranges(
    engine: Engine, name: str, version: str, *, chunk: int, limit: int | None, page: int
) -> Iterator[PostRange]:
    size = max(chunk, page - page % chunk)  # whole ranges per page
    after, left = 0, limit
    while left is None or left > 0:
        ids = pending_ids(engine, name, version, after=after, limit=size if left is None else min(size, left))
        for first, last in plan_ranges(ids, [], chunk, len(ids)):
            yield PostRange(first, last, bisect_right(ids, last) - bisect_left(ids, first))
        if left is not None:
            left -= len(ids)
        if len(ids) < size:
            return
        after = ids[-1]
