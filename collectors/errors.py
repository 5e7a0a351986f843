"""The collectors package's exceptions. Every message says what went wrong and what the user can do.

Fatal errors (raised out of a collector run) stop that source's run; what was already handed
out in earlier batches stays stored and the next run resumes from the last stored cursor.
Recoverable problems (one malformed page or item) never raise: collectors log them and report
them in ``Batch.errors``.
"""

from __future__ import annotations


class CollectorError(Exception):
    """Base class of every error raised by :mod:`collectors`."""


class ConfigurationError(CollectorError):
    """A source is missing something it needs (an instance URL, a credential, a query ...)."""


class FetchError(CollectorError):
    """A request kept failing (network, timeouts, 5xx) after all retries."""


class HttpStatusError(CollectorError):
    """The platform answered with a non-retryable HTTP error status."""

    def __init__(self, message: str, *, status: int, url: str, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.body = body


class AuthError(HttpStatusError):
    """401/403: credentials are missing, wrong or lack a permission."""


class NotFoundError(HttpStatusError):
    """404/410: the object (status, thread, feed ...) does not exist (any more)."""


class RateLimitedError(CollectorError):
    """The platform asked us to wait longer than we are willing to wait within one run."""

    def __init__(self, message: str, *, retry_at: float | None = None) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class QuotaExhaustedError(CollectorError):
    """A daily API quota (YouTube) is used up; collection continues after the quota resets."""


class MalformedResponseError(CollectorError):
    """A response could not be understood (invalid or truncated JSON, unexpected shape)."""

    def __init__(self, message: str, *, url: str = "") -> None:
        super().__init__(message)
        self.url = url


class CollectionInterrupted(CollectorError):
    """A stop was requested (SIGTERM, Ctrl-C, scheduler shutdown) while waiting."""
