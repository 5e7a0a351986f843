"""Upsert imported posts and their authors (identities); resolve parents and thread roots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import select

from store.db import session_scope
from store.models import Post, SocialIdentity
from store.types import utcnow

POST_FIELDS = ("kind", "url", "text", "title", "language", "created_at", "edited_at", "deleted_at", "metrics")
IDENTITY_FIELDS = ("handle", "display_name", "profile_url", "bio", "location")


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


def _identity(session: Any, platform: str, author: dict[str, Any], cache: dict[tuple[str, str], SocialIdentity]) -> int:
    key = (platform, author["account_id"])
    ident = cache.get(key)
    if ident is None:
        ident = session.exec(
            select(SocialIdentity).where(
                SocialIdentity.platform == platform, SocialIdentity.account_id == author["account_id"]
            )
        ).first()
    now = utcnow()
    if ident is None:
        ident = SocialIdentity(platform=platform, account_id=author["account_id"], first_seen=now, last_seen=now)
        for name in IDENTITY_FIELDS:
            setattr(ident, name, author.get(name))
        session.add(ident)
        session.flush()
    else:
        for name in IDENTITY_FIELDS:
            if author.get(name) is not None and getattr(ident, name) != author.get(name):
                setattr(ident, name, author.get(name))
                session.add(ident)
    cache[key] = ident
    assert ident.id is not None
    return ident.id


def upsert_posts(engine: Engine, items: Sequence[dict[str, Any]]) -> UpsertCounts:
    """Insert new posts, update changed ones, leave identical ones alone — in one transaction."""
    counts = UpsertCounts()
    identities: dict[tuple[str, str], SocialIdentity] = {}
    with session_scope(engine) as session:
        by_key: dict[tuple[str, str], Post] = {}
        for item in items:
            platform = item["platform"]
            identity_id = _identity(session, platform, item["author"], identities)
            post = session.exec(
                select(Post).where(Post.platform == platform, Post.external_id == item["external_id"])
            ).first()
            values: dict[str, Any] = {name: item.get(name) for name in POST_FIELDS}
            values["metrics"] = values["metrics"] or {}
            values["identity_id"] = identity_id
            values["parent_external_id"] = item.get("parent_external_id")
            values["root_external_id"] = item.get("root_external_id") or item.get("parent_external_id")
            if post is None:
                post = Post(platform=platform, external_id=item["external_id"], raw=item.get("raw") or {}, **values)
                session.add(post)
                counts.inserted += 1
            else:
                changed = {k: v for k, v in values.items() if getattr(post, k) != v}
                if changed:
                    for key, value in changed.items():
                        setattr(post, key, value)
                    post.fetched_at = utcnow()
                    session.add(post)
                    counts.updated += 1
                else:
                    counts.unchanged += 1
            by_key[(platform, item["external_id"])] = post
        session.flush()
        _resolve_threads(session, list(by_key.values()))
    return counts


def _resolve_threads(session: Any, posts: list[Post]) -> None:
    """Point ``parent_id``/``thread_root_id`` at stored posts, whichever order they arrived in."""
    for post in posts:
        for ext_attr, id_attr in (("parent_external_id", "parent_id"), ("root_external_id", "thread_root_id")):
            ext = getattr(post, ext_attr)
            if not ext:
                continue
            target = session.exec(
                select(Post.id).where(Post.platform == post.platform, Post.external_id == ext)
            ).first()
            if target is not None and getattr(post, id_attr) != target:
                setattr(post, id_attr, target)
                session.add(post)
