"""store.ingest through store.bulk: large mixed batches, identical rows on SQLite and PostgreSQL (COPY),
values stored exactly as the ORM stores them, NUL in raw JSON, two calls in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import Session, col

import store.ingest
from store.db import session_scope
from store.ingest import CHUNK, IngestResult, ingest_posts
from store.models import Post, SocialIdentity
from tests.collectors.test_ingest import T0, rec

POST_COLUMNS = ("id", "platform", "external_id", "kind", "url", "text", "title", "language", "created_at",
                "edited_at", "deleted_at", "metrics", "identity_id", "source_id", "parent_id", "thread_root_id",
                "parent_external_id", "root_external_id", "raw", "fetched_at")  # fmt: skip
IDENTITY_COLUMNS = ("id", "platform", "account_id", "handle", "display_name", "profile_url", "bio", "location",
                    "first_seen", "last_seen")  # fmt: skip


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL takes bigger chunks than SQLite: here both cut the batches below into several."""
    monkeypatch.setattr(store.ingest, "PG_CHUNK", CHUNK)


def ingest(engine: Engine, records: list[dict[str, Any]], now: datetime) -> IngestResult:
    with session_scope(engine) as session:
        return ingest_posts(session, records, now=now)  # type: ignore[arg-type]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every post and identity as the ORM reads them back, by natural key: the references as the external
    and account ids they point to (PostgreSQL's sequences skip the ids an upsert did not use, SQLite's not)."""
    with Session(engine) as session:
        posts = session.execute(select(Post).order_by(col(Post.platform), col(Post.external_id))).scalars().all()
        idents = session.execute(select(SocialIdentity).order_by(col(SocialIdentity.account_id))).scalars().all()
    account = {i.id: i.account_id for i in idents}
    external = {p.id: p.external_id for p in posts}
    refs = {"identity_id": account, "parent_id": external, "thread_root_id": external}
    return {
        "post": [tuple(refs[c].get(getattr(p, c)) if c in refs else getattr(p, c) for c in POST_COLUMNS[1:])
                 for p in posts],
        "identity": [tuple(getattr(i, c) for c in IDENTITY_COLUMNS[1:]) for i in idents],
    }  # fmt: skip


def history(engine: Engine) -> tuple[list[IngestResult], dict[str, list[tuple[Any, ...]]]]:
    """Three ingests bigger than a chunk: new posts, replies whose parents are in another chunk or come
    later, edits, a deletion marker, duplicates within one call, a second platform, changed and unchanged
    authors. Returns the counts of each call and the stored rows."""
    n = CHUNK + 150
    first = [rec(f"p{i}", f"Beitrag {i}", who=f"acc{i % 40}", raw={"id": i, "text": f"Beitrag {i} ✓"})
             for i in range(n)]  # fmt: skip
    first += [rec(f"r{i}", f"Antwort {i}", who=f"acc{i % 7}", parent=f"p{n - 1 - i}", root=f"p{n - 1 - i}")
              for i in range(30)]  # fmt: skip
    first[12] = rec("p12", "Beitrag 12", who="solo", raw={"id": 12})
    first[12]["identity"]["bio"] = "Barista"
    first += [rec("orphan", "wartet", who="einmalig", parent="late-parent", root="late-parent")]
    first += [rec(f"b{i}", f"Bluesky {i}", platform="bluesky", who=None) for i in range(5)]
    first += [rec("p3", "Beitrag 3, zuletzt so")]  # a duplicate in the same call: the last one counts
    results = [ingest(engine, first, T0)]

    later = T0 + timedelta(hours=2)
    refetched = range(0, n, 3)  # mostly unchanged
    second = [rec(f"p{i}", f"Beitrag {i}", who=f"acc{i % 40}", raw={"id": i, "text": f"Beitrag {i} ✓"})
              for i in refetched]  # fmt: skip
    second[1] = rec("p3", "Beitrag 3, bearbeitet", who="acc3", raw={"v": 2})  # an edit, no edit time given
    second[2] = rec("p6", "Beitrag 6", who="acc6", edited_at=T0 + timedelta(minutes=5), raw={"v": 2})
    second.append(rec("p9", "", deleted=True, who=None, metrics={}, raw={"tombstone": True}))
    second.append(rec("late-parent", "endlich da", who="acc99"))
    moved = rec("p12", "Beitrag 12", who="solo", raw={"id": 12})
    moved["identity"].update(display_name="Neuer Name", bio=None)  # a changed author; None erases nothing
    second.append(moved)
    results.append(ingest(engine, second, later))
    results.append(ingest(engine, second, later + timedelta(hours=1)))  # the same again: nothing changes
    return results, dump(engine)


def test_a_mixed_batch_bigger_than_a_chunk(engine: Engine) -> None:
    results, rows = history(engine)
    first, second, third = results
    n = CHUNK + 150
    assert (first.new, first.updated, first.unchanged, first.skipped) == (n + 30 + 1 + 5, 0, 0, 0)
    assert (second.new, second.updated, second.deleted) == (1, 3, 1)  # late-parent; p3, p6 and p9
    assert second.unchanged == len(range(0, n, 3)) - 3  # p12 too: a new author name does not change the post
    assert (third.new, third.updated, third.unchanged) == (0, 0, len(range(0, n, 3)) + 1)
    by_ext = {row[1]: dict(zip(POST_COLUMNS[1:], row, strict=True)) for row in rows["post"]}
    assert by_ext["p3"]["text"] == "Beitrag 3, bearbeitet" and by_ext["p3"]["edited_at"] == T0 + timedelta(hours=2)
    assert by_ext["p3"]["raw"] == {"v": 2}
    assert by_ext["p6"]["edited_at"] == T0 + timedelta(minutes=5) and by_ext["p6"]["raw"] == {"v": 2}
    p9 = by_ext["p9"]  # a deletion marker keeps the last known text, author and raw
    assert p9["deleted_at"] == T0 + timedelta(hours=2) and p9["text"] == "Beitrag 9"
    assert p9["raw"] == {"id": 9, "text": "Beitrag 9 ✓"} and p9["identity_id"] is not None
    assert by_ext["p1"]["raw"] == {"id": 1, "text": "Beitrag 1 ✓"} and by_ext["p1"]["metrics"] == {"favourites": 1}
    for i in range(30):
        parent = f"p{n - 1 - i}"
        assert by_ext[f"r{i}"]["parent_id"] == parent and by_ext[f"r{i}"]["thread_root_id"] == parent
    assert by_ext["orphan"]["parent_id"] == "late-parent"
    assert {by_ext[f"b{i}"]["platform"] for i in range(5)} == {"bluesky"}
    idents = {row[1]: dict(zip(IDENTITY_COLUMNS[1:], row, strict=True)) for row in rows["identity"]}
    solo = idents["https://x.example/users/solo"]
    assert (solo["display_name"], solo["handle"], solo["bio"]) == ("Neuer Name", "@solo@x.example", "Barista")
    assert solo["first_seen"] == T0 and solo["last_seen"] == T0 + timedelta(hours=3)
    assert idents["https://x.example/users/acc1"]["last_seen"] == T0 + timedelta(hours=3)  # seen, unchanged
    assert idents["https://x.example/users/einmalig"]["last_seen"] == T0  # not seen again
    assert by_ext["p12"]["identity_id"] == "https://x.example/users/solo"


@pytest.mark.postgres
def test_sqlite_and_postgresql_store_the_same_rows(sqlite_engine: Engine, pg_engine: Engine) -> None:
    on_sqlite, on_postgres = history(sqlite_engine), history(pg_engine)
    assert [vars(r) for r in on_sqlite[0]] == [vars(r) for r in on_postgres[0]]
    assert on_sqlite[1] == on_postgres[1]
    assert len(on_sqlite[1]["post"]) == CHUNK + 150 + 30 + 1 + 5 + 1


@pytest.mark.parametrize(
    "raw", [{"ä": "Grüße ✓", "n": [1, 2.5, None, True]}, {"tief": {"x": "\\u0000 ist kein NUL, ✓"}}]
)
def test_values_are_stored_as_the_orm_stores_them(engine: Engine, raw: dict[str, Any]) -> None:
    """The bulk path converts values itself (timestamps, JSON): the stored text must be the ORM's, byte for
    byte, or equality filters and exports would see two spellings of one value."""
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with session_scope(engine) as session:
        session.add(Post(platform="orm", external_id="1", text="t", created_at=when, edited_at=when,
                         metrics={"likes": 3}, raw=raw, fetched_at=when))  # fmt: skip
    ingest(engine, [rec("1", "t", platform="bulk", who=None, created_at=when, edited_at=when,
                        metrics={"likes": 3}, raw=raw)], when)  # fmt: skip
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT platform, CAST(created_at AS TEXT), CAST(edited_at AS TEXT), "
                                   "CAST(fetched_at AS TEXT), CAST(metrics AS TEXT), CAST(raw AS TEXT) FROM post "
                                   "ORDER BY platform")).all()  # fmt: skip
    assert [row[0] for row in stored] == ["bulk", "orm"]
    assert stored[0][1:] == stored[1][1:]
    assert post_raw(engine, "1", "bulk") == raw


def post_raw(engine: Engine, ext: str, platform: str = "mastodon") -> Any:
    with Session(engine) as session:
        query = select(col(Post.raw)).where(col(Post.platform) == platform, col(Post.external_id) == ext)
        return session.execute(query).scalar_one()


def test_nul_in_raw_json_is_removed_on_both_databases(engine: Engine) -> None:
    raw = {"content": "Kaffee\x00 kalt", "list": ["a\x00b", {"k\x00ey": 1}], "ok": "\\u0000 bleibt"}
    result = ingest(engine, [rec("a", "Kaffee\x00 kalt", raw=raw)], T0)
    assert result.new == 1
    assert post_raw(engine, "a") == {"content": "Kaffee kalt", "list": ["ab", {"key": 1}], "ok": "\\u0000 bleibt"}
    with Session(engine) as session:
        assert session.execute(select(col(Post.text))).scalar_one() == "Kaffee kalt"


def test_two_ingests_in_one_transaction(engine: Engine) -> None:
    """The importer and the pipeline may call ingest more than once per transaction (PostgreSQL: the
    temporary tables are emptied between calls, not refilled on top)."""
    ingest(engine, [rec("a", "null")], T0)
    with session_scope(engine) as session:
        one = ingest_posts(session, [rec("a", "eins"), rec("b", who="acc2")], now=T0)  # type: ignore[list-item]
        two = ingest_posts(session, [rec("c", who="acc3"), rec("a", "zwei")], now=T0)  # type: ignore[list-item]
    assert (one.new, one.updated, two.new, two.updated) == (1, 1, 1, 1)
    rows = dump(engine)
    assert [(r[1], r[4]) for r in rows["post"]] == [("a", "zwei"), ("b", "Hallo"), ("c", "Hallo")]
    assert len(rows["identity"]) == 3


def test_a_refused_value_fails_the_whole_call_and_writes_nothing(engine: Engine) -> None:
    """The caller (the pipeline's per-post fallback) relies on it: a call stores all or nothing, and a value
    the database refuses is a ``DataError`` (a lost connection, ``OperationalError``, would fail the run)."""
    ingest(engine, [rec("a", "vorher")], T0)
    bad_time = rec("c", who="acc3", created_at="gestern")
    with pytest.raises(AttributeError, match="tzinfo"):
        ingest(engine, [rec("a", "nachher"), bad_time], T0 + timedelta(hours=1))
    if engine.dialect.name == "postgresql":  # SQLite does not enforce a column's length
        too_long = rec("b", who="acc2", kind="x" * 500)
        with pytest.raises(DataError, match="too long") as refused:
            ingest(engine, [rec("a", "nachher"), too_long], T0 + timedelta(hours=1))
        assert not isinstance(refused.value, OperationalError)
    rows = dump(engine)
    assert [(r[1], r[4]) for r in rows["post"]] == [("a", "vorher")] and len(rows["identity"]) == 1
