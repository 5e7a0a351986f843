"""``resonanz import``: good rows kept, bad rows reported with file/line/reason, re-import is a no-op."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from resonanz.core import i18n
from resonanz.importing import ImportFileError, import_customers, import_orders, import_posts
from store.models import Customer, Order, Post, SocialIdentity


@pytest.fixture(autouse=True)
def _english() -> None:
    """The reasons below are asserted in English; German ones: tests/store/test_import_messages_i18n.py."""
    i18n.set_language("en")  # tests/conftest.py sets German again after each test


HEADER = (
    "crm_id,first_name,last_name,company,emails,phones,handles,profile_urls,city,"
    "consent_status,consent_basis,consent_at\n"
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def customers_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "customers.csv",
        HEADER + "K-1,Jürgen,Weiß,,juergen@example.de;jw@example.de,+49 221 123,@jweiss@mastodon.social,,Köln,"
        "granted,Art. 6 Abs. 1 lit. a DSGVO,2025-03-01T10:00:00+01:00\n"
        + "K-2,Anna,Schmidt,Hotel Rhein GmbH,anna@example.de,,,https://bsky.app/profile/anna.bsky.social,Bonn,"
        "unknown,,\n",
    )


def test_customers_import_and_reimport_is_a_no_op(engine: Engine, tmp_path: Path) -> None:
    path = customers_file(tmp_path)
    first = import_customers(engine, path)
    assert (first.inserted, first.updated, first.unchanged, first.errors) == (2, 0, 0, [])
    again = import_customers(engine, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert count(engine, Customer) == 2
    with Session(engine) as session:
        k1 = session.exec(select(Customer).where(Customer.crm_id == "K-1")).one()
    assert k1.emails == ["juergen@example.de", "jw@example.de"]
    assert k1.first_name == "Jürgen" and k1.city == "Köln"
    assert k1.consent_at is not None and k1.consent_at.hour == 9


def test_changed_row_updates_instead_of_duplicating(engine: Engine, tmp_path: Path) -> None:
    import_customers(engine, customers_file(tmp_path))
    changed = write(tmp_path / "c2.csv", HEADER + "K-2,Anna,Schmidt-Berg,,anna@example.de,,,,Bonn,withdrawn,,\n")
    report = import_customers(engine, changed)
    assert (report.inserted, report.updated) == (0, 1)
    with Session(engine) as session:
        k2 = session.exec(select(Customer).where(Customer.crm_id == "K-2")).one()
    assert k2.last_name == "Schmidt-Berg" and k2.consent_status == "withdrawn"


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "mixed.csv",
        HEADER
        + "K-1,Max,Müller,,max@example.de,,,,Köln,granted,Einwilligung,2025-01-01\n"
        + "K-2,Eva,Lang,,not-an-email,,,,Ulm,unknown,,\n"
        + "K-3,Tom,Kurz,,,,,,Ulm,maybe,,\n"
        + "K-1,Max,Doppelt,,,,,,Köln,unknown,,\n"
        + ",Leer,Id,,,,,,,unknown,,\n"
        + "K-4,Ida,Ost,,,,,,Jena,granted,,\n"
        + "K-5,Ole,Nord,,,,,,Kiel,unknown,,2025-13-45\n",
    )
    report = import_customers(engine, path)
    assert report.inserted == 1
    reasons = {e.line: e.reason for e in report.errors}
    assert set(reasons) == {3, 4, 5, 6, 7, 8}
    assert "not an e-mail address" in reasons[3]
    assert "consent_status" in reasons[4]
    assert "duplicate crm_id 'K-1' (first at line 2)" in reasons[5]
    assert "crm_id" in reasons[6]
    assert "consent_basis" in reasons[7]
    assert "not a date" in reasons[8]
    assert all(e.file == str(path) for e in report.errors)
    assert count(engine, Customer) == 1


def test_missing_columns_reject_the_file(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "orders.csv", "order_id,ordered_at\nO-1,2026-01-01\n")
    with pytest.raises(ImportFileError, match=r"missing required column\(s\) crm_id, revenue"):
        import_orders(engine, path)


def test_empty_file_is_rejected_with_a_clear_message(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="empty"):
        import_customers(engine, write(tmp_path / "empty.csv", ""))


def test_bad_encoding_names_the_line_and_the_fix(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "latin1.csv", HEADER + "K-1,Jürgen,Weiß,,,,,,Köln,unknown,,\n", encoding="cp1252")
    with pytest.raises(ImportFileError, match=r"latin1.csv:2: not valid utf-8.*--encoding cp1252"):
        import_customers(engine, path)
    assert count(engine, Customer) == 0
    report = import_customers(engine, path, encoding="cp1252")
    assert report.inserted == 1


def test_orders_wrong_types_unknown_customer_and_german_numbers(engine: Engine, tmp_path: Path) -> None:
    import_customers(engine, customers_file(tmp_path))
    path = write(
        tmp_path / "orders.csv",
        "order_id;crm_id;ordered_at;revenue;cost\n"
        "O-1;K-1;2026-01-15T10:00:00+01:00;1.234,50;800,00\n"
        "O-2;K-1;16.01.2026;-49,90;-20\n"
        "O-3;K-1;2026-01-17;zwölf;1\n"
        "O-4;K-9;2026-01-18;10;1\n"
        "O-5;K-2;gestern;10;1\n",
    )
    report = import_orders(engine, path)
    assert report.inserted == 2
    reasons = {e.line: e.reason for e in report.errors}
    assert "revenue" in reasons[4] and "zwölf" in reasons[4]
    assert "unknown customer crm_id 'K-9'" in reasons[5]
    assert "not a date" in reasons[6]
    with Session(engine) as session:
        orders = {o.order_id: o for o in session.exec(select(Order))}
    assert orders["O-1"].revenue == pytest.approx(1234.5)
    assert orders["O-2"].revenue == pytest.approx(-49.9)  # refunds are negative
    again = import_orders(engine, path)
    assert again.inserted == 0 and again.unchanged == 2


def test_malformed_csv_quoting_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "broken.csv", HEADER + 'K-1,"Max,Müller\n')
    with pytest.raises(ImportFileError):
        import_customers(engine, path)
    assert count(engine, Customer) == 0


def post(ext: str, text: str, parent: str | None = None, **extra: object) -> dict[str, object]:
    return {
        "platform": "mastodon",
        "external_id": ext,
        "kind": "comment" if parent else "post",
        "text": text,
        "created_at": "2026-11-16T09:00:00+01:00",
        "author": {"account_id": f"https://social.example/users/u{ext}", "handle": f"u{ext}"},
        "parent_external_id": parent,
        "root_external_id": parent,
        **extra,
    }


def test_posts_jsonl_threads_errors_and_idempotence(engine: Engine, tmp_path: Path) -> None:
    lines = [
        json.dumps(post("2", "Antwort: bei mir auch 😡", parent="1")),  # reply before its parent
        json.dumps(post("1", "Lieferung seit 3 Wochen unterwegs #Lindenhof")),
        "{not json",
        json.dumps(post("3", "ohne Datum", created_at="")),
        "[1, 2]",
        json.dumps(post("1", "doppelt")),
    ]
    path = write(tmp_path / "posts.jsonl", "\n".join(lines) + "\n")
    report = import_posts(engine, path)
    assert report.inserted == 2
    reasons = {e.line: e.reason for e in report.errors}
    assert "invalid JSON" in reasons[3]
    assert "created_at" in reasons[4]
    assert "expected a JSON object" in reasons[5]
    assert "duplicate post mastodon:1" in reasons[6]
    with Session(engine) as session:
        posts = {p.external_id: p for p in session.exec(select(Post))}
    assert posts["2"].parent_id == posts["1"].id
    assert posts["2"].thread_root_id == posts["1"].id
    assert count(engine, SocialIdentity) == 2
    again = import_posts(engine, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)


def test_posts_csv_with_metrics(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path / "posts.csv",
        "platform,external_id,kind,url,text,title,created_at,author_account_id,author_handle,"
        "author_display_name,likes,reposts,replies\n"
        'bluesky,at://did:plc:abc/app.bsky.feed.post/1,post,,"Preis, Qualität: top!",,2026-11-17T12:00:00Z,'
        "did:plc:abc,anna.bsky.social,Anna S.,5,1,0\n"
        "bluesky,at://did:plc:abc/app.bsky.feed.post/2,post,,text,,2026-11-17T12:00:00Z,did:plc:abc,,,viele,,\n",
    )
    report = import_posts(engine, path)
    assert report.inserted == 1
    assert "likes" in report.errors[0].reason and report.errors[0].line == 3
    with Session(engine) as session:
        stored = session.exec(select(Post)).one()
        ident = session.get(SocialIdentity, stored.identity_id)
    assert stored.metrics == {"likes": 5, "reposts": 1, "replies": 0}
    assert stored.text == "Preis, Qualität: top!"
    assert ident is not None and ident.display_name == "Anna S."


def test_a_crash_halfway_leaves_no_half_transaction(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import store.ingest

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store.ingest, "resolve_threads", crash)  # after identities and posts were written
    lines = [json.dumps(post(str(i), f"Beitrag {i}")) for i in range(5)]
    path = write(tmp_path / "posts.jsonl", "\n".join(lines))
    with pytest.raises(RuntimeError, match="disk full"):
        import_posts(engine, path)
    assert count(engine, Post) == 0 and count(engine, SocialIdentity) == 0
    monkeypatch.undo()
    assert import_posts(engine, path).inserted == 5


def test_batches_keep_first_wins_updates_and_one_transaction(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Files are streamed in batches (2 rows here): duplicates, lookups and the rollback work across them."""
    from resonanz.importing import common

    monkeypatch.setattr(common, "BATCH_ROWS", 2)
    monkeypatch.setattr(common, "PROGRESS_ROWS", 4)
    import_customers(engine, customers_file(tmp_path))
    lines = ["order_id,crm_id,ordered_at,revenue,cost"]
    lines += [f"O-{i},K-{1 + i % 2},2026-01-{1 + i:02d},{10 * (i + 1)}.00,1" for i in range(5)]
    lines += ["O-0,K-2,2026-02-01,99.00,1", "O-9,K-7,2026-02-01,5.00,1"]  # line 7 repeats line 2; K-7 unknown
    path = write(tmp_path / "orders.csv", "\n".join(lines) + "\n")
    with caplog.at_level("INFO", logger="resonanz.importing.common"):
        report = import_orders(engine, path)
    assert (report.rows, report.inserted) == (7, 5)
    assert {e.line: e.reason for e in report.errors} == {
        7: "duplicate order_id 'O-0' (first at line 2)",
        8: "unknown customer crm_id 'K-7'; import customers first",
    }
    assert any("orders: 4 written (4 new" in r.getMessage() for r in caplog.records)  # progress every 4 rows
    assert any("orders.csv: 4 rows read" in r.getMessage() for r in caplog.records)
    with Session(engine) as session:
        stored = {o.order_id: o.revenue for o in session.exec(select(Order))}
    assert stored == {f"O-{i}": 10.0 * (i + 1) for i in range(5)}

    # a re-import with one change in the second batch: 1 updated, the rest unchanged
    lines[3] = "O-2,K-1,2026-01-03,35.00,1"  # was 30.00
    report = import_orders(engine, write(tmp_path / "orders2.csv", "\n".join(lines[:6]) + "\n"))
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 4)

    # a malformed line after two written batches: nothing of this file stays
    broken = [*lines[:1], *(f"N-{i},K-1,2026-03-01,1.00,0" for i in range(5)), 'N-9,K-1,"2026-03-01,1']
    with pytest.raises(ImportFileError, match=r"orders3.csv:\d+: malformed CSV"):
        import_orders(engine, write(tmp_path / "orders3.csv", "\n".join(broken) + "\n"))
    assert count(engine, Order) == 5


def test_customers_in_batches_update_only_what_changed(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resonanz.importing import common

    monkeypatch.setattr(common, "BATCH_ROWS", 1)
    import_customers(engine, customers_file(tmp_path))
    with Session(engine) as session:
        before = {c.crm_id: c.updated_at for c in session.exec(select(Customer))}
    changed = write(
        tmp_path / "c2.csv",
        HEADER + "K-2,Anna,Schmidt,Hotel Rhein GmbH,anna@example.de,,,https://bsky.app/profile/anna.bsky.social,Bonn,"
        "unknown,,\nK-3,Neu,Kundin,,neu@example.de,,,,Ulm,unknown,,\nK-2,Anna,Doppelt,,,,,,,unknown,,\n",
    )
    report = import_customers(engine, changed)
    assert (report.inserted, report.updated, report.unchanged) == (1, 0, 1)
    assert [e.line for e in report.errors] == [4]
    with Session(engine) as session:
        after = {c.crm_id: c for c in session.exec(select(Customer))}
    assert after["K-2"].updated_at == before["K-2"] and after["K-3"].emails == ["neu@example.de"]
    assert after["K-3"].created_at is not None and after["K-3"].consent_status == "unknown"


def test_unknown_encoding_and_a_file_of_blanks(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "c.csv", HEADER)
    with pytest.raises(ImportFileError, match="unknown encoding 'klingonisch'"):
        import_customers(engine, path, encoding="klingonisch")
    with pytest.raises(ImportFileError, match="empty"):
        import_customers(engine, write(tmp_path / "blank.csv", " \n\n  \n"))
