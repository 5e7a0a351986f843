"""The weekly digest: builder, charts, mail delivery and the scheduler job."""

from __future__ import annotations

from resonanz.digest.builder import build_digest, render_digest
from resonanz.digest.job import digest_trigger, weekly_digest_job
from resonanz.digest.mailer import send_digest

__all__ = ["build_digest", "digest_trigger", "render_digest", "send_digest", "weekly_digest_job"]
