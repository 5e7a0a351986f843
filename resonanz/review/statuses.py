"""The statuses of a review item: the one vocabulary of the queue, its actions and the scoring that fills it."""

from __future__ import annotations

from enum import StrEnum


class ReviewStatus(StrEnum):
    """Where a review item stands (stored as its string value)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    """The brand replied on the post's thread (:mod:`resonanz.pipeline.brand`); still in the queue."""
    MERGED = "merged"
    """A duplicate of another item (the same author's cross-post, or a spam cluster's copy)."""
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


STATUSES: tuple[str, ...] = tuple(status.value for status in ReviewStatus)
ACTIVE_STATUSES: tuple[str, ...] = (
    ReviewStatus.OPEN.value,
    ReviewStatus.IN_PROGRESS.value,
    ReviewStatus.ANSWERED.value,
)
"""Items still in the queue (shown by default): a new scoring may update their reasons; resolved and
dismissed ones stay as decided."""
UNANSWERED_STATUSES: tuple[str, ...] = (ReviewStatus.OPEN.value, ReviewStatus.IN_PROGRESS.value)
"""Active items nobody has answered yet: what a brand reply or a brand post closes."""
