"""The scheduled jobs besides collection, named in one list for ``resonanz run``.

* link new identities every ``settings.link.interval_minutes`` (then re-weight posts);
* recompute customer values daily at ``settings.value.schedule_hour`` (then re-weight posts);
* the weekly digest (``settings.digest``: day_of_week, hour, minute, time zone Europe/Berlin);
* alerts every ``settings.alerts.interval_minutes`` (reads only what came in since the last pass);
* score new posts (``settings.score``): at start, right after every collection run that stored new posts
  (the source job asks for it: :func:`resonanz.pipeline.scheduler.request_scoring`), and every
  ``score.interval_minutes`` as a fallback (posts imported or collected by another process). One pass scores
  every unscored post in batches of ``score.batch_size`` with the models loaded once per process, and
  evaluates the alerts right after each batch that scored posts, so an A customer's churn threat is alerted
  within one collection interval of being collected. One pass at a time (a request during a pass makes it go
  round once more); errors are logged and the next collection or interval tries again.
  ``score.enabled = false`` leaves scoring to ``resonanz score``.

A new job is one more entry here: the list is explicit so that a reader sees every job in one place.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from resonanz.core.settings import Settings
from resonanz.digest.job import JOB_ID, digest_trigger
from resonanz.pipeline.scheduler import SCORE_JOB_ID, ExtraJob


def scheduled_jobs(settings: Settings) -> list[ExtraJob]:
    """Every job ``resonanz run`` adds next to the collection jobs, configured from ``settings``."""
    scoring = [
        ExtraJob(
            id=SCORE_JOB_ID,
            func="resonanz.pipeline.scheduler:score_job",
            trigger=IntervalTrigger(minutes=settings.score.interval_minutes),
            name="score new posts",
            run_at_start=True,
        )
    ]
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
        *(scoring if settings.score.enabled else []),
    ]
