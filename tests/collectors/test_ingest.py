"""store.ingest: upserts, edits, deletions, identities and thread links (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from store.db import session_scope
from store.ingest import ingest_posts, mark_missing_deleted
from store.models import Post, SocialIdentity, Source
from tests.collectors.helpers import NOW

T0 = NOW.astimezone(UTC)


def rec(ext: str, text: str = "Hallo", *, who: str | None = "acc1", parent: str | None = None, root: str | None = None,
        deleted: bool = False, **extra: Any) -> dict[str, Any]:  # fmt: skip
    record: dict[str, Any] = {
        "platform": "mastodon", "external_id": ext, "kind": "comment" if parent else "post",
        "url": f"https://x.example/{ext}", "text": text, "title": None, "language": "de", "created_at": T0,
        "edited_at": None, "deleted": deleted, "metrics": {"favourites": 1}, "raw": {"id": ext},
        "parent_external_id": parent, "root_external_id": root,
        "identity": None if who is None else {"platform": "mastodon", "account_id": f"https://x.example/users/{who}",
                                              "handle": f"@{who}@x.example", "display_name": who.title(),
                                              "profile_url": None, "bio": None, "location": None},
    }  # fmt: skip
    record.update(extra)
    return record


def ingest(engine: Engine, records: list[dict[str, Any]], now: datetime = T0, source_id: int | None = None) -> Any:
    with session_scope(engine) as session:
        return ingest_posts(session, records, source_id=source_id, now=now)


def post(engine: Engine, ext: str) -> Post:
    with Session(engine) as session:
        return session.execute(select(Post).where(col(Post.external_id) == ext)).scalars().one()


def test_new_then_unchanged_then_updated(engine: Engine) -> None:
    with session_scope(engine) as session:
        source = Source(name="s", platform="mastodon")
        session.add(source)
        session.flush()
        source_id = source.id
    result = ingest(engine, [rec("a"), rec("b", who="acc2"), rec("c", who=None)], source_id=source_id)
    assert (result.new, result.updated, result.unchanged, result.identities) == (3, 0, 0, 2)
    assert ingest(engine, [rec("a"), rec("b", who="acc2")]).unchanged == 2
    later = T0 + timedelta(hours=1)
    result = ingest(engine, [rec("a", "Hallo (bearbeitet)"), rec("b", who="acc2", metrics={"favourites": 9})], later)
    assert (result.new, result.updated, result.unchanged) == (0, 2, 0)
    a, b = post(engine, "a"), post(engine, "b")
    assert a.text == "Hallo (bearbeitet)" and a.edited_at == later  # no edit time given: the time it was seen
    assert b.metrics == {"favourites": 9} and b.edited_at is None
    assert a.source_id == source_id and a.created_at == T0
    with Session(engine) as session:
        assert session.execute(select(Post)).scalars().all().__len__() == 3


def test_platform_edit_time_and_language_kept(engine: Engine) -> None:
    ingest(engine, [rec("a", language=None)])
    with session_scope(engine) as session:  # e.g. language detection filled it in
        session.execute(Post.__table__.update().values(language="de"))  # type: ignore[attr-defined]
    edited = T0 + timedelta(minutes=3)
    ingest(engine, [rec("a", "neu", edited_at=edited, language="en")], T0 + timedelta(hours=1))
    a = post(engine, "a")
    assert a.edited_at == edited and a.language == "de"


def test_deletion_markers(engine: Engine) -> None:
    ingest(engine, [rec("a", "Text bleibt")])
    gone = T0 + timedelta(hours=2)
    result = ingest(
        engine, [rec("a", "", deleted=True, who=None, metrics={}), rec("never-seen", "", deleted=True)], gone
    )
    assert (result.updated, result.deleted, result.skipped, result.new) == (1, 1, 1, 0)
    a = post(engine, "a")
    assert a.deleted_at == gone and a.text == "Text bleibt" and a.identity_id is not None
    assert ingest(engine, [rec("a", "", deleted=True)], gone + timedelta(hours=1)).unchanged == 1
    assert post(engine, "a").deleted_at == gone
    ingest(engine, [rec("a", "Text bleibt")], gone + timedelta(hours=2))  # it is back (e.g. un-hidden)
    assert post(engine, "a").deleted_at is None
    with Session(engine) as session:
        assert session.execute(select(col(Post.external_id))).scalars().all() == ["a"]


def test_replies_link_to_parents_whatever_the_order(engine: Engine) -> None:
    ingest(engine, [rec("r2", parent="r1", root="root"), rec("r1", parent="root", root="root")])
    r1, r2 = post(engine, "r1"), post(engine, "r2")
    assert r2.parent_id == r1.id and r1.parent_id is None and r2.thread_root_id is None
    ingest(engine, [rec("root")])
    root = post(engine, "root")
    r1, r2 = post(engine, "r1"), post(engine, "r2")
    assert (r1.parent_id, r1.thread_root_id, r2.thread_root_id) == (root.id, root.id, root.id)
    assert root.parent_id is None and root.thread_root_id is None


def test_identities_are_upserted_and_never_erased(engine: Engine) -> None:
    first = rec("a", who="anna")
    first["identity"].update(bio="Kaffee", location="Hamburg")
    ingest(engine, [first])
    second = rec("b", who="anna")
    second["identity"].update(handle="@anna@neu.example", bio=None, location=None)
    ingest(engine, [second], T0 + timedelta(days=1))
    with Session(engine) as session:
        idents = session.execute(select(SocialIdentity)).scalars().all()
    assert len(idents) == 1
    anna = idents[0]
    assert (anna.handle, anna.bio, anna.location) == ("@anna@neu.example", "Kaffee", "Hamburg")
    assert anna.first_seen == T0 and anna.last_seen == T0 + timedelta(days=1)
    assert post(engine, "a").identity_id == post(engine, "b").identity_id == anna.id


def test_duplicates_in_one_batch_keep_the_last(engine: Engine) -> None:
    result = ingest(engine, [rec("a", "eins"), rec("a", "zwei")])
    assert result.new == 1 and post(engine, "a").text == "zwei"


def test_missing_replies_of_a_complete_thread_are_marked_deleted(engine: Engine) -> None:
    ingest(engine, [rec("root"), rec("r1", parent="root", root="root"), rec("r2", parent="root", root="root"),
                    rec("other", parent="x", root="x")])  # fmt: skip
    later = T0 + timedelta(hours=1)
    with session_scope(engine) as session:
        assert mark_missing_deleted(session, "mastodon", "root", {"r1"}, later) == 1
    assert post(engine, "r2").deleted_at == later
    assert post(engine, "r1").deleted_at is None and post(engine, "other").deleted_at is None
    assert post(engine, "root").deleted_at is None
