"""Rendered pages shared by everyone who asks for the same page while the database has not changed.

Fifty community managers working one queue ask the server for the same few pages again and again; each
render costs a handful of queries and a template of a few hundred fields (about 5 ms of CPU here), and
under load that CPU *is* the latency. This cache keeps the rendered HTML of a page per

* the page (template, path and query string; the user's name where the page depends on it),
* what the reader may do (role: the action forms differ),
* the language of the interface,
* the **data version**: a number that changes whenever anything in the database changed.

The per-user parts of a page are holes filled on every response: the CSRF token and the user's name are
rendered as placeholders and replaced; a page with flash messages is never cached.

**The data version** must change with every committed write by anyone, or a manager who resolves an item
would see the item open again on a page rendered before. Two sources, and why both:

* SQLite's ``PRAGMA data_version`` changes when *another* connection (another worker, ``resonanz run``,
  the CLI, another pooled connection of this process) committed since this connection last asked; it is
  per connection and costs microseconds. It does not change for the connection's own commits, so:
* every commit of this process that wrote something (an INSERT, UPDATE, DELETE … was executed) bumps a
  process-wide counter.

PostgreSQL has no ``data_version``; ``pg_current_wal_lsn()`` serves instead (every write, and every
commit record, advances the write-ahead log), which over-invalidates (any database of the cluster) but
never serves stale pages. Where neither is available the cache is off: correctness before speed.

After a write, the clients that ask for one page at the same moment wait for a single render of it
instead of each rendering it (single flight).

Trade-off: a cached page is only as fresh as the data version says, which is exact; what a cache costs is
memory (``max_entries`` pages of ~10-30 kB) and a cold render after every write. Entries of old versions
age out of the LRU.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from markupsafe import escape
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from resonanz.core import i18n
from resonanz.web.security import csrf_token

log = logging.getLogger(__name__)

CSRF_HOLE = "rz-csrf-hole-5b1f0c"
USER_HOLE = "rz-user-hole-5b1f0c"
_WRITES = ("insert", "update", "delete", "replace", "create", "drop", "alter", "upsert", "merge", "truncate")
_WROTE = "resonanz_wrote"
_SEEN = "resonanz_data_version"


@dataclass(frozen=True)
class HoleUser:
    """What a cached page sees as the user: the real role, a placeholder for the name."""

    role: str
    username: str = USER_HOLE


class DataVersion:
    """A number that changes whenever the database changed (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self._dialect = engine.dialect.name
        self._lock = threading.Lock()
        self._local = 0
        self.enabled = self._dialect in ("sqlite", "postgresql")
        event.listen(engine, "before_cursor_execute", self._mark_write)
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def _mark_write(self, conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:8].lower().startswith(_WRITES):
            conn.info[_WROTE] = True

    def _on_commit(self, conn: Connection) -> None:
        if conn.info.pop(_WROTE, False):
            self._bump()

    def _on_rollback(self, conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    def _bump(self) -> None:
        with self._lock:
            self._local += 1

    def current(self, session: Session) -> tuple[int, int | str] | None:
        """The version now, read through ``session``'s connection; ``None`` when it cannot be known."""
        if not self.enabled:
            return None
        try:
            conn = session.connection()
            if self._dialect == "sqlite":
                seen = int(conn.exec_driver_sql("PRAGMA data_version").scalar_one())
                if conn.info.get(_SEEN) != seen:
                    if _SEEN in conn.info:  # another connection committed since this one last looked
                        self._bump()
                    conn.info[_SEEN] = seen
                external: int | str = 0
            else:
                external = str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())
        except DBAPIError as exc:
            log.warning("page cache off: the data version cannot be read (%s)", exc)
            self.enabled = False
            session.rollback()
            return None
        with self._lock:
            return (self._local, external)


class PageCache:
    """An LRU of rendered pages, keyed by page, role, language and data version."""

    def __init__(self, engine: Engine, max_entries: int = 256) -> None:
        self.version = DataVersion(engine)
        self.max_entries = max_entries
        self._pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._renders: dict[tuple[Any, ...], tuple[threading.Lock, int]] = {}
        self.hits = 0
        self.misses = 0

    def _cached(self, key: tuple[Any, ...]) -> bytes | None:
        with self._lock:
            body = self._pages.get(key)
            if body is not None:
                self._pages.move_to_end(key)
                self.hits += 1
            return body

    def _keep(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            self.misses += 1
            self._pages[key] = body
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)

    @contextmanager
    def _rendering(self, key: tuple[Any, ...]) -> Iterator[None]:
        """Hold the render lock of ``key`` (created on first use, dropped by its last holder)."""
        with self._lock:
            lock, users = self._renders.get(key, (threading.Lock(), 0))
            self._renders[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._renders[key]
                if users == 1:
                    del self._renders[key]
                else:
                    self._renders[key] = (lock, users - 1)

    def render(
        self,
        request: Request,
        session: Session,
        key: tuple[Any, ...],
        build: Callable[[Mapping[str, Any]], Response],
    ) -> Response:
        """The page of ``key`` from the cache, or ``build`` it (and keep it when it may be shared).

        ``build`` gets the context overrides that turn the per-user parts into holes and must render with
        them (``render(request, name, **holes, **context)``).
        """
        user = getattr(request.state, "user", None)
        if user is None or request.session.get("flash"):
            return build({})
        version = self.version.current(session)
        if version is None:
            return build({})
        full_key = (*key, user.role, i18n.current_language(), version)
        body = self._cached(full_key)
        if body is None:
            with self._rendering(full_key):  # one render per page and version; the others wait for it
                body = self._cached(full_key)
                if body is None:
                    response = build({"user": HoleUser(user.role), "csrf_token": CSRF_HOLE})
                    if response.status_code != 200 or not isinstance(response.body, bytes):
                        return response
                    body = response.body
                    self._keep(full_key, body)
        page = body.replace(CSRF_HOLE.encode(), csrf_token(request).encode())
        page = page.replace(USER_HOLE.encode(), str(escape(user.username)).encode())
        return HTMLResponse(page)
