"""Server-side web sessions and login throttling.

**Sessions.** The signed cookie holds only a random token; the server keeps ``web_session`` rows (the
token's sha256, the user, when). A request is logged in only while its row exists, is not revoked and
is younger than ``SESSION_MAX_AGE``. Logout revokes the row, so a cookie copied before logout is worth
nothing afterwards; deactivating a user or changing their role or password revokes all their sessions.

**Throttling.** Failed logins are counted per account and per client address in a sliding window
(``FAIL_WINDOW``): after ``MAX_FAILS_ACCOUNT`` failures for an account, or ``MAX_FAILS_ADDRESS`` from an
address, further attempts are refused with 429 *before* any password is checked, until the window has
moved on. Password hashing (argon2, memory-hard) runs at most ``HASH_SLOTS`` at a time, so a flood of
parallel logins queues instead of allocating memory per attempt. The counters live in the process: with
several workers each counts on its own (an attacker gets at most workers x the limit).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import timedelta

from sqlmodel import Session, col, select, update

from store.models import WebSession
from store.types import as_utc, utcnow

SESSION_MAX_AGE = timedelta(hours=12)
FAIL_WINDOW = 15 * 60.0
MAX_FAILS_ACCOUNT = 5
MAX_FAILS_ADDRESS = 20
HASH_SLOTS = 2

hash_slots = threading.BoundedSemaphore(HASH_SLOTS)
"""Held while a password hash is computed or verified (see the module docstring)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user_id: int) -> str:
    """A new server-side session for ``user_id``; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), user_id=user_id))
    return token


def session_user_id(session: Session, token: object) -> int | None:
    """The user of a live session token, else ``None``."""
    if not isinstance(token, str) or not token:
        return None
    row = session.exec(select(WebSession).where(WebSession.token_hash == _digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    created = as_utc(row.created_at)
    if created is None or utcnow() - created > SESSION_MAX_AGE:
        return None
    return row.user_id


def revoke_session(session: Session, token: object) -> None:
    if isinstance(token, str) and token:
        session.exec(update(WebSession).where(col(WebSession.token_hash) == _digest(token)).values(revoked_at=utcnow()))


def revoke_user_sessions(session: Session, user_id: int) -> None:
    """End every session of a user (deactivated, new role or password)."""
    session.exec(
        update(WebSession)
        .where(col(WebSession.user_id) == user_id, col(WebSession.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


class LoginThrottle:
    """Sliding-window failure counters per account and per address (see the module docstring)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._fails: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _now(self) -> float:
        return float(self._clock())

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._fails[key]
        while times and now - times[0] > FAIL_WINDOW:
            times.popleft()
        return times

    def retry_after(self, account: str, address: str) -> int:
        """Seconds until a login for ``account`` from ``address`` may be tried again (0: now)."""
        now = self._now()
        with self._lock:
            waits = []
            for key, limit in (
                (f"account:{account.lower()}", MAX_FAILS_ACCOUNT),
                (f"address:{address}", MAX_FAILS_ADDRESS),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(int(FAIL_WINDOW - (now - times[0])) + 1)
            return max(waits, default=0)

    def failed(self, account: str, address: str) -> None:
        now = self._now()
        with self._lock:
            for key in (f"account:{account.lower()}", f"address:{address}"):
                self._recent(key, now).append(now)

    def succeeded(self, account: str) -> None:
        with self._lock:
            self._fails.pop(f"account:{account.lower()}", None)
