"""The whole domain schema on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from store.db import alembic_config, current_revision, make_engine, table_names, upgrade
from store.models import Customer, IdentityLink, Post, Score, SocialIdentity
from store.models.search import not_search_index

DOMAIN_TABLES = {
    "source",
    "collector_run",
    "social_identity",
    "post",
    "score",
    "customer",
    "customer_order",
    "customer_value",
    "identity_link",
    "loyalty_event",
    "review_item",
    "review_event",
    "label_feedback",
    "app_user",
    "digest",
}


def test_migrated_schema_has_every_domain_table(engine: Engine) -> None:
    assert set(table_names(engine)) >= DOMAIN_TABLES
    assert current_revision(engine) is not None


def test_migrations_match_the_models(engine: Engine) -> None:
    """Autogenerate finds nothing to do: the migrations create exactly what the models declare (the search
    index beside ``post`` is the database's own, see store/models/search.py)."""
    opts = {"compare_type": True, "include_object": not_search_index}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=opts), SQLModel.metadata)
    assert diff == []


def test_downgrade_to_empty_and_upgrade_again(engine: Engine) -> None:
    cfg = alembic_config(engine)
    command.downgrade(cfg, "base")
    assert not DOMAIN_TABLES & set(table_names(engine))
    upgrade(engine)
    assert set(table_names(engine)) >= DOMAIN_TABLES


def test_timestamps_come_back_timezone_aware_utc(engine: Engine) -> None:
    berlin_winter = timezone(timedelta(hours=1))
    written = datetime(2026, 11, 16, 9, 30, tzinfo=berlin_winter)
    with Session(engine) as session:
        ident = SocialIdentity(platform="mastodon", account_id="https://social.example/users/anna")
        session.add(ident)
        session.commit()
        post = Post(
            platform="mastodon", external_id="1", text="Grüße aus Köln 👋", created_at=written, identity_id=ident.id
        )
        session.add(post)
        session.commit()
        post_id = post.id
    with Session(engine) as session:
        loaded = session.get(Post, post_id)
        assert loaded is not None
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert loaded.created_at == written
        assert loaded.created_at.hour == 8  # 09:30 in Berlin winter time is 08:30 UTC
        assert loaded.text == "Grüße aus Köln 👋"


def test_post_natural_key_is_unique(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Post(platform="reddit", external_id="t3_abc", text="a"))
        session.commit()
        session.add(Post(platform="reddit", external_id="t3_abc", text="b"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_scores_keep_history_per_model_version(engine: Engine) -> None:
    with Session(engine) as session:
        post = Post(platform="rss", external_id="x", text="Lieferung kam nie an")
        session.add(post)
        session.commit()
        assert post.id is not None
        for version, label in (("1", "neutral"), ("2", "negative")):
            session.add(
                Score(
                    post_id=post.id,
                    model_name="m",
                    model_version=version,
                    sentiment=label,
                    topics=[{"topic": "Lieferung", "score": 0.9}],
                )
            )
        session.commit()
        rows = session.exec(select(Score).where(Score.post_id == post.id).order_by(Score.model_version)).all()
        assert [r.sentiment for r in rows] == ["neutral", "negative"]
        assert rows[0].topics == [{"topic": "Lieferung", "score": 0.9}]
        session.add(Score(post_id=post.id, model_name="m", model_version="2", sentiment="positive"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(IdentityLink(identity_id=999, customer_id=999, method="email"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_json_lists_round_trip(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            Customer(
                crm_id="K-1",
                emails=["a@b.de", "c@d.de"],
                handles=["@anna@social.example"],
                consent_status="granted",
                consent_basis="Art. 6 Abs. 1 lit. a DSGVO",
                consent_at=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
        session.commit()
    with Session(engine) as session:
        customer = session.exec(select(Customer).where(Customer.crm_id == "K-1")).one()
        assert customer.emails == ["a@b.de", "c@d.de"]
        assert customer.handles == ["@anna@social.example"]


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"


def test_unreachable_database_says_what_to_do() -> None:
    from store.errors import DatabaseUnavailableError, StoreError

    engine = make_engine("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError) as info:
        upgrade(engine)
    assert isinstance(info.value, DatabaseUnavailableError)
    assert "RESONANZ_DATABASE_URL" in str(info.value)
