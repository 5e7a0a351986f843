"""Scheduled job of the answers area, found by ``resonanz run`` (see :mod:`resonanz.scheduler`):
the weekly digest, every Monday morning by default (``settings.digest``: day_of_week, hour, minute,
timezone Europe/Berlin)."""

from __future__ import annotations

from resonanz.digest.job import JOB_ID, digest_trigger
from resonanz.scheduler import ExtraJob
from resonanz.settings import Settings


def scheduled_jobs(settings: Settings) -> list[ExtraJob]:
    return [
        ExtraJob(
            id=f"resonanz:{JOB_ID}",
            func="resonanz.digest.job:weekly_digest_job",
            trigger=digest_trigger(settings),
            name="weekly digest",
        )
    ]
