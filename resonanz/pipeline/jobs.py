"""The scheduled jobs besides collection, named in one list for ``resonanz run``.

* link new identities every ``settings.link.interval_minutes`` (then re-weight posts);
* recompute customer values daily at ``settings.value.schedule_hour`` (then re-weight posts);
* the weekly digest (``settings.digest``: day_of_week, hour, minute, time zone Europe/Berlin);
* alerts every ``settings.alerts.interval_minutes`` (reads only what came in since the last pass).

A new job is one more entry here: the list is explicit so that a reader sees every job in one place.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from resonanz.core.settings import Settings
from resonanz.digest.job import JOB_ID, digest_trigger
from resonanz.pipeline.scheduler import ExtraJob


def scheduled_jobs(settings: Settings) -> list[ExtraJob]:
    """Every job ``resonanz run`` adds next to the collection jobs, configured from ``settings``."""
    return [
        ExtraJob(
            id="resonanz:link",
            func="resonanz.pipeline.linking:scheduled_link_job",
            trigger=IntervalTrigger(minutes=settings.link.interval_minutes),
            name="link new identities",
        ),
        ExtraJob(
            id="resonanz:value",
            func="resonanz.pipeline.valuation:scheduled_value_job",
            trigger=CronTrigger(hour=settings.value.schedule_hour, minute=15, timezone=settings.digest.timezone),
            name="recompute customer values",
        ),
        ExtraJob(
            id=f"resonanz:{JOB_ID}",
            func="resonanz.digest.job:weekly_digest_job",
            trigger=digest_trigger(settings),
            name="weekly digest",
        ),
        ExtraJob(
            id="resonanz:alerts",
            func="resonanz.alerts.job:scheduled_alerts_job",
            trigger=IntervalTrigger(minutes=settings.alerts.interval_minutes),
            name="evaluate alerts",
        ),
    ]
