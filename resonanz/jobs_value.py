"""Scheduled jobs of the linker area, found by ``resonanz run`` (see :mod:`resonanz.scheduler`).

* link new identities every ``settings.link.interval_minutes`` (then re-weight posts);
* recompute customer values daily at ``settings.value.schedule_hour`` (then re-weight posts).
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from resonanz.scheduler import ExtraJob
from resonanz.settings import Settings


def scheduled_jobs(settings: Settings) -> list[ExtraJob]:
    return [
        ExtraJob(
            id="resonanz:link",
            func="resonanz.linking:scheduled_link_job",
            trigger=IntervalTrigger(minutes=settings.link.interval_minutes),
            name="link new identities",
        ),
        ExtraJob(
            id="resonanz:value",
            func="resonanz.valuation:scheduled_value_job",
            trigger=CronTrigger(hour=settings.value.schedule_hour, minute=15, timezone=settings.digest.timezone),
            name="recompute customer values",
        ),
    ]
