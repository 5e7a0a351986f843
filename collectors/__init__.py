"""Collectors: fetch public posts and comments from social platforms, incrementally and politely.

Each platform module turns API answers into plain :class:`CollectedPost`/:class:`CollectedIdentity`
records and yields them in :class:`Batch` es together with the cursor to store; nothing here
imports the store (``resonanz.pipeline.collect`` wires the two together).
"""

from collectors.base import FAULT_SKIPS, SKIP_REASONS, Collector, Credentials, skip_summary
from collectors.errors import (
    AuthError,
    CollectionInterrupted,
    CollectorError,
    ConfigurationError,
    FetchError,
    HttpStatusError,
    MalformedResponseError,
    NotFoundError,
    QuotaExhaustedError,
    RateLimitedError,
)
from collectors.http import PoliteClient, RetryPolicy, redact_url
from collectors.items import (
    Batch,
    CollectedIdentity,
    CollectedPost,
    CollectOptions,
    SourceSpec,
    ThreadSnapshot,
)
from collectors.registry import collector_class, make_collector, platforms, validate

__all__ = [
    "FAULT_SKIPS",
    "SKIP_REASONS",
    "AuthError",
    "Batch",
    "CollectOptions",
    "CollectedIdentity",
    "CollectedPost",
    "CollectionInterrupted",
    "Collector",
    "CollectorError",
    "ConfigurationError",
    "Credentials",
    "FetchError",
    "HttpStatusError",
    "MalformedResponseError",
    "NotFoundError",
    "PoliteClient",
    "QuotaExhaustedError",
    "RateLimitedError",
    "RetryPolicy",
    "SourceSpec",
    "ThreadSnapshot",
    "collector_class",
    "make_collector",
    "platforms",
    "redact_url",
    "skip_summary",
    "validate",
]
