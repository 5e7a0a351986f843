"""Bulk upsert of collected posts and their authors, in the caller's transaction.

Takes :class:`store.records.PostRecord` mappings (no collector types): each has ``platform``, ``external_id``,
``kind``, ``url``, ``text``, ``title``, ``language``, ``created_at``, ``edited_at``,
``deleted`` (bool), ``metrics``, ``raw``, ``identity`` (a mapping or ``None``),
``parent_external_id`` and ``root_external_id``.

- Posts are upserted on (platform, external_id): a re-fetched post updates the stored row
  (text edits, metric changes, deletions) and counts as *unchanged* when nothing differs.
- A deletion marker (``deleted=True``) sets ``deleted_at`` and keeps the last known text; a
  marker for a post never stored is skipped.
- ``created_at`` and the first ``source_id`` are kept; a language already set (by the
  platform or by language detection) is not overwritten.
- Identities are upserted on (platform, account_id) with ``last_seen`` updated; known fields
  are never erased by a platform that does not report them.
- ``parent_id``/``thread_root_id`` are resolved from the external ids in both directions
  (a reply stored before its parent gets linked when the parent arrives).

Statements are few and set-based: one SELECT of the stored posts per chunk (500 on SQLite, 10,000 on
PostgreSQL; the ids go as one parameter, :func:`store.bulk.one_of`), then all new rows, all changed rows
and the identities of the call in one write each (:mod:`store.bulk`: driver ``executemany`` on SQLite,
``COPY`` into a temporary table on PostgreSQL), then the thread links. The collector pipeline hands
several pages to one call (``resonanz.pipeline.collect.store_pages``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from store import bulk
from store.bulk import one_of
from store.erasure import IDENTITY, erased_hashes, erasure_hash, identity_key
from store.models import Post, SocialIdentity
from store.records import IDENTITY_FIELDS, IdentityRecord, PostRecord
from store.types import as_utc, utcnow, without_nul

CHUNK = 500
"""Posts (or identities) per SELECT and thread-link statement on SQLite ..."""
PG_CHUNK = 10_000
"""... and on PostgreSQL (every statement is a round trip to the server)."""
_POST: Table = Post.__table__  # type: ignore[attr-defined]
_IDENTITY: Table = SocialIdentity.__table__  # type: ignore[attr-defined]


@dataclass
class IngestResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    identities: int = 0

    def add(self, other: IngestResult) -> None:
        for name in ("new", "updated", "unchanged", "deleted", "skipped", "identities"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _chunk(conn: Connection) -> int:
    return PG_CHUNK if conn.dialect.name == "postgresql" else CHUNK


def upsert_identities(
    conn: Connection, identities: Iterable[IdentityRecord], now: datetime
) -> dict[tuple[str, str], int]:
    """Insert or refresh identities; return their ids by (platform, account_id).

    A ``None`` never erases a known field; ``last_seen`` moves to ``now``. PostgreSQL: one upsert of all of
    them in (platform, account_id) order, so concurrent runs (several workers) take the row locks of the
    identities they share in the same order. SQLite (one writer at a time): one SELECT finds the stored
    ones; new identities are inserted, stored ones with a new value updated, and the others only get
    ``last_seen`` (one statement for all: an upsert per row cost more than the posts' insert)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for ident in identities:
        key = (str(ident["platform"]), str(ident["account_id"]))
        rows[key] = {
            "platform": key[0],
            "account_id": key[1],
            **{name: ident.get(name) for name in IDENTITY_FIELDS},
            "first_seen": now,
            "last_seen": now,
        }
    if not rows:
        return {}
    hashes = {erasure_hash(IDENTITY, identity_key(*key)): key for key in rows}
    for erased in erased_hashes(conn, IDENTITY, hashes):  # a forgotten person's profile is never re-filled
        rows[hashes[erased]].update(dict.fromkeys(IDENTITY_FIELDS))
    ordered = sorted(rows)  # a fixed order avoids deadlocks between concurrent runs
    ids: dict[tuple[str, str], int] = {}
    new = [rows[key] for key in ordered]
    changed: list[dict[str, Any]] = []
    seen: list[int] = []
    if conn.dialect.name != "postgresql":
        stored = _stored_identities(conn, ordered)
        ids = {key: row.id for key, row in stored.items()}
        new = [rows[key] for key in ordered if key not in stored]
        for key in ordered:
            old = stored.get(key)
            if old is None:
                continue
            row = rows[key]
            if any(row[name] is not None and row[name] != getattr(old, name) for name in IDENTITY_FIELDS):
                changed.append({f"b_{name}": row[name] for name in IDENTITY_FIELDS} | {"b_id": old.id, "b_seen": now})
            else:
                seen.append(old.id)
    returned = bulk.upsert_identities(conn, new)  # an upsert: another run may insert the same account meanwhile
    ids.update(returned if returned is not None else _stored_ids(conn, [key for key in ordered if key not in ids]))
    if changed:
        conn.execute(_UPDATE_IDENTITY, changed)
    touch = update(_IDENTITY).where(one_of(_IDENTITY.c.id, "ids", conn.dialect.name)).values(last_seen=now)
    for chunk in _chunks(seen, _chunk(conn)):
        conn.execute(touch, {"ids": list(chunk)})
    return ids


_UPDATE_IDENTITY = (
    update(_IDENTITY)
    .where(_IDENTITY.c.id == bindparam("b_id"))
    .values({name: func.coalesce(bindparam(f"b_{name}"), _IDENTITY.c[name]) for name in IDENTITY_FIELDS})
    .values(last_seen=bindparam("b_seen"))
)


def _stored_identities(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The stored identities of ``keys`` (id and profile fields) by (platform, account_id)."""
    found: dict[tuple[str, str], Any] = {}
    by_platform: dict[str, list[str]] = {}
    for platform, account_id in keys:
        by_platform.setdefault(platform, []).append(account_id)
    columns = [_IDENTITY.c.id, _IDENTITY.c.account_id, *(_IDENTITY.c[name] for name in IDENTITY_FIELDS)]
    query = select(*columns).where(
        _IDENTITY.c.platform == bindparam("platform"), one_of(_IDENTITY.c.account_id, "ids", conn.dialect.name)
    )
    for platform, accounts in by_platform.items():
        for chunk in _chunks(accounts, _chunk(conn)):
            for row in conn.execute(query, {"platform": platform, "ids": list(chunk)}):
                found[(platform, row.account_id)] = row
    return found


def _stored_ids(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    return {key: row.id for key, row in _stored_identities(conn, keys).items()}


_COMPARED = ("kind", "url", "text", "title", "edited_at", "deleted_at", "metrics", "identity_id")


def _clean(record: PostRecord) -> PostRecord:
    """``record`` without NUL characters (see :func:`store.types.without_nul`: the same text on SQLite and
    PostgreSQL). ``raw`` is cleaned where it is written (:func:`store.bulk.json_text`): walking every status
    for a character that is almost never there cost more than the rest of the ingest."""
    clean = dict(record)
    for name, value in record.items():
        if isinstance(value, str):
            if "\x00" in value:
                clean[name] = value.replace("\x00", "")
        elif isinstance(value, dict | list | tuple) and name != "raw":
            clean[name] = without_nul(value)
    return cast(PostRecord, clean)


def ingest_posts(
    session: Session,
    records: Sequence[PostRecord],
    *,
    source_id: int | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """Upsert ``records`` in the session's transaction (the caller commits).

    A post named twice counts once, with its last record. All new rows are written in one statement
    per table (:mod:`store.bulk`), then the thread links of all posts are resolved."""
    now = now or utcnow()
    conn = session.connection()
    result = IngestResult()
    latest: dict[tuple[str, str], PostRecord] = {}
    for record in records:
        record = _clean(record)
        latest[(str(record["platform"]), str(record["external_id"]))] = record
    if not latest:
        return result
    authors = [ident for r in latest.values() if (ident := r.get("identity")) is not None]
    identity_ids = upsert_identities(conn, authors, now)
    result.identities = len(identity_ids)

    by_platform: dict[str, list[PostRecord]] = {}
    for (platform, _), record in latest.items():
        by_platform.setdefault(platform, []).append(record)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for platform, items in by_platform.items():
        for chunk in _chunks(items, _chunk(conn)):
            _plan_chunk(conn, platform, chunk, identity_ids, source_id, now, result, inserts, updates)
    bulk.insert_posts(conn, inserts)
    result.new += len(inserts)
    bulk.update_posts(conn, updates)
    for platform, items in by_platform.items():
        for chunk in _chunks(items, _chunk(conn)):
            named = any(r.get("parent_external_id") or r.get("root_external_id") for r in chunk)
            resolve_threads(conn, platform, [str(r["external_id"]) for r in chunk], with_parents=named)
    return result


def _plan_chunk(
    conn: Connection,
    platform: str,
    records: Sequence[PostRecord],
    identity_ids: Mapping[tuple[str, str], int],
    source_id: int | None,
    now: datetime,
    result: IngestResult,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
) -> None:
    """Compare ``records`` with the stored posts: new rows go to ``inserts``, changed ones to ``updates``."""
    columns = [_POST.c[name] for name in ("id", "external_id", "language", "parent_external_id",
                                          "root_external_id", "parent_id", "thread_root_id", *_COMPARED)]  # fmt: skip
    query = select(*columns).where(
        _POST.c.platform == bindparam("platform"), one_of(_POST.c.external_id, "ids", conn.dialect.name)
    )
    params = {"platform": platform, "ids": [str(r["external_id"]) for r in records]}
    existing = {row.external_id: row for row in conn.execute(query, params)}
    for record in records:
        ident = record.get("identity")
        identity_id = identity_ids.get((platform, str(ident["account_id"]))) if ident else None
        deleted = bool(record.get("deleted"))
        old = existing.get(record["external_id"])
        if old is None:
            if deleted:
                result.skipped += 1
                continue
            inserts.append(_new_row(platform, record, identity_id, source_id, now))
            continue
        values = _merged(old, record, identity_id, deleted, now)
        if (
            all(values[name] == getattr(old, name) for name in _COMPARED)
            and values["language"] == old.language
            and (
                values["parent_external_id"] == old.parent_external_id
                and values["root_external_id"] == old.root_external_id
            )
        ):
            result.unchanged += 1
            continue
        if deleted and old.deleted_at is None:
            result.deleted += 1
        values["id"] = old.id
        values["raw"] = None if deleted else dict(record.get("raw") or {})  # None: a deletion marker keeps raw
        updates.append(values)
        result.updated += 1


def _new_row(
    platform: str, record: PostRecord, identity_id: int | None, source_id: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "platform": platform,
        "external_id": str(record["external_id"]),
        "kind": record.get("kind") or "post",
        "url": record.get("url"),
        "text": record.get("text") or "",
        "title": record.get("title"),
        "language": record.get("language"),
        "created_at": as_utc(record.get("created_at")) or now,
        "edited_at": as_utc(record.get("edited_at")),
        "deleted_at": None,
        "metrics": dict(record.get("metrics") or {}),
        "identity_id": identity_id,
        "source_id": source_id,
        "parent_id": None,
        "thread_root_id": None,
        "parent_external_id": record.get("parent_external_id"),
        "root_external_id": record.get("root_external_id"),
        "raw": dict(record.get("raw") or {}),
        "fetched_at": now,
    }


def _merged(old: Any, record: PostRecord, identity_id: int | None, deleted: bool, now: datetime) -> dict[str, Any]:
    """The row's new values: a deletion marker keeps what it does not know; live posts overwrite."""
    if deleted:
        values = {name: getattr(old, name) for name in _COMPARED}
        values["deleted_at"] = old.deleted_at or now
        values.update(language=old.language, parent_external_id=old.parent_external_id,
                      root_external_id=old.root_external_id, parent_id=old.parent_id,
                      thread_root_id=old.thread_root_id, fetched_at=now)  # fmt: skip
        return values
    text = record.get("text") or ""
    edited_at = as_utc(record.get("edited_at"))
    if edited_at is None:
        edited_at = now if text != old.text else old.edited_at
    parent = record.get("parent_external_id") or old.parent_external_id
    root = record.get("root_external_id") or old.root_external_id
    return {
        "kind": record.get("kind") or old.kind,
        "url": record.get("url") or old.url,
        "text": text,
        "title": record.get("title"),
        "edited_at": edited_at,
        "deleted_at": None,
        "metrics": dict(record.get("metrics") or {}) or old.metrics,
        "identity_id": identity_id if identity_id is not None else old.identity_id,
        "language": old.language or record.get("language"),
        "parent_external_id": parent,
        "root_external_id": root,
        "parent_id": old.parent_id if parent == old.parent_external_id else None,
        "thread_root_id": old.thread_root_id if root == old.root_external_id else None,
        "fetched_at": now,
    }


def _link_statements(dialect: str) -> dict[tuple[str, str], Any]:
    """Prepared once: set ``target`` from ``via`` for posts in a batch, and for posts pointing into it.

    The second form filters on ``via`` alone so that the database uses that column's index
    (a filter on ``platform`` or on ``target IS NULL`` would tempt SQLite into scanning all
    of them); the platform is checked inside the sub-select, and re-linking an already
    linked reply writes the same id again."""
    other = _POST.alias("linked")
    statements: dict[tuple[str, str], Any] = {}
    for target, via in (("parent_id", "parent_external_id"), ("thread_root_id", "root_external_id")):
        found = (
            select(other.c.id)
            .where(other.c.platform == _POST.c.platform, other.c.external_id == _POST.c[via])
            .scalar_subquery()
        )
        statements[(target, "in_batch")] = (
            update(_POST)
            .where(
                _POST.c.platform == bindparam("b_platform"),
                one_of(_POST.c.external_id, "b_ids", dialect),
                _POST.c[target].is_(None),
                _POST.c[via].is_not(None),
            )
            .values({target: found})
        )
        statements[(target, "pointing")] = (
            update(_POST).where(one_of(_POST.c[via], "b_ids", dialect)).values({target: found})
        )
    return statements


_LINKS = {dialect: _link_statements(dialect) for dialect in ("sqlite", "postgresql")}


def resolve_threads(
    conn: Connection, platform: str, external_ids: Collection[str], *, with_parents: bool = True
) -> None:
    """Link ``parent_id``/``thread_root_id`` for these posts and for stored posts that point at them.

    ``with_parents=False`` skips the first part when no post of the batch names a parent or root."""
    if not external_ids:
        return
    params = {"b_platform": platform, "b_ids": list(external_ids)}
    links = _LINKS[conn.dialect.name]
    for target in ("parent_id", "thread_root_id"):
        if with_parents:
            conn.execute(links[(target, "in_batch")], params)
        conn.execute(links[(target, "pointing")], {"b_ids": params["b_ids"]})


def mark_missing_deleted(
    session: Session, platform: str, root_external_id: str, present: Collection[str], now: datetime | None = None
) -> int:
    """Replies under ``root_external_id`` that the platform no longer lists are marked deleted."""
    stmt = (
        update(_POST)
        .where(
            _POST.c.platform == platform,
            _POST.c.root_external_id == root_external_id,
            _POST.c.deleted_at.is_(None),
            _POST.c.external_id.not_in(list(present)),
        )
        .values(deleted_at=now or utcnow())
    )
    return int(session.connection().execute(stmt).rowcount or 0)
