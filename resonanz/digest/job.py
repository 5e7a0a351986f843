"""The Monday-morning job: build last week's digest and mail it (run by APScheduler with a CronTrigger)."""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from resonanz.core.errors import AnswersError
from resonanz.core.settings import Settings, get_settings
from resonanz.digest.builder import build_digest
from resonanz.digest.mailer import send_digest
from store.db import open_engine

log = logging.getLogger(__name__)

JOB_ID = "weekly-digest"


def digest_trigger(settings: Settings) -> CronTrigger:
    """settings.digest: day_of_week / hour / minute in the configured time zone (Europe/Berlin by default)."""
    d = settings.digest
    return CronTrigger(day_of_week=d.day_of_week, hour=d.hour, minute=d.minute, timezone=d.timezone)


def weekly_digest_job(engine_url: str | None = None, now: datetime | None = None) -> str | None:
    """Build the digest of the last complete ISO week and send it if recipients are configured.

    ``engine_url`` defaults to the configured database (so the job store keeps no credentials).
    Returns the week label, or ``None`` when it failed (the error is logged; the scheduler keeps running).
    """
    settings = get_settings()
    engine = open_engine(engine_url or settings.resolved_database_url())
    try:
        digest = build_digest(engine, settings, now=now)
        if settings.digest.recipients:
            send_digest(engine, settings, digest)
        else:
            log.info("digest %s archived; no recipients configured, nothing sent", digest.period_label)
        return digest.period_label
    except AnswersError as exc:
        log.error("weekly digest failed: %s", exc)
        return None
    finally:
        engine.dispose()
