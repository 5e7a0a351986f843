"""The brand's own voice (issue 12): kept out of customer voice and the queue; a brand reply answers an item."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from resonanz.answers.sql import AnswerFilter, post_rows
from resonanz.core.periods import iso_week
from resonanz.pipeline.brand import (
    BRAND,
    BrandMarkerError,
    BrandVoice,
    add_marker,
    apply_brand_voice,
    ensure_markers,
    identity_keys,
    normalise_account,
    remove_marker,
)
from resonanz.review.queue import QueueFilter, list_queue
from store.models import Post, ReviewEvent, ReviewItem
from tests.answers.factory import WEEK, Factory


def test_accounts_are_compared_in_one_normal_form() -> None:
    assert normalise_account("@Lindenhof@mastodon.social") == "lindenhof@mastodon.social"
    assert normalise_account("u/Lindenhof_Kaffee") == "lindenhof_kaffee"
    assert normalise_account("https://www.youtube.com/@LindenhofKaffee/") == "youtube.com/@lindenhofkaffee"
    assert "lindenhofkaffee" in identity_keys("@LindenhofKaffee", "https://www.youtube.com/@LindenhofKaffee", "UC1")


def test_voice_of_accounts_signatures_and_advocates() -> None:
    voice = BrandVoice.from_markers(
        [("account", "youtube.com/@LindenhofKaffee"), ("signature", "^Lea"), ("advocate", "@jonas@chaos.social")]
    )
    assert voice.voice_of(handle="@LindenhofKaffee", profile_url=None, account_id="UC1", text="Neues Video") == BRAND
    assert voice.voice_of(handle="kunde", profile_url=None, account_id="x", text="Das tut uns leid! ^Lea") == BRAND
    # a whole token only: ^Lena is not ^Lea, and "^Lea" inside a word does not count
    assert voice.voice_of(handle="kunde", profile_url=None, account_id="x", text="Danke ^Lena") is None
    assert voice.voice_of(handle="kunde", profile_url=None, account_id="x", text="x^Lea") is None
    assert voice.voice_of(handle="@Jonas@chaos.social", profile_url=None, account_id="y", text="Tolle Bohnen") == (
        "advocate"
    )
    assert voice.voice_of(handle="@jonas@other.social", profile_url=None, account_id="y", text="") is None


def _world(engine: Engine) -> dict[str, int]:
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        customer, brand, stranger, employee = (
            f.identity("@kunde@mastodon.social"),
            f.identity("@lindenhof@mastodon.social"),
            f.identity("@fremd@mastodon.social"),
            f.identity("@jonas@chaos.social"),
        )
        complaint = f.post(customer, "Meine Lieferung ist seit zwei Wochen weg.", sentiment="negative")
        other = f.post(customer, "Und die App stürzt auch ab.", sentiment="negative")
        reply = f.post(brand, "Das tut uns leid! Schreib uns per DM. ^Tim", sentiment="neutral", parent=complaint)
        signed = f.post(stranger, "Hallo, wir kümmern uns! ^Lea", sentiment="positive")
        fan = f.post(employee, "Die neue Röstung ist großartig!", sentiment="positive")
        items = {
            "complaint": f.review_item(complaint).id,
            "other": f.review_item(other).id,
            "signed": f.review_item(signed).id,
        }
        session.commit()
        return {"complaint": complaint.id, "reply": reply.id, "signed": signed.id, "fan": fan.id, **{
            f"item_{k}": v for k, v in items.items()
        }}  # fmt: skip


def test_brand_posts_leave_customer_voice_and_the_queue(engine: Engine) -> None:
    ids = _world(engine)
    assert ensure_markers(engine, [("account", "@lindenhof@mastodon.social"), ("signature", "^Lea")], "test") == 2
    assert ensure_markers(engine, [("account", "@lindenhof@mastodon.social")], "test") == 0  # idempotent
    add_marker(engine, "advocate", "@jonas@chaos.social", "test")
    report = apply_brand_voice(engine)
    assert (report.brand_posts, report.advocate_posts) == (2, 1)
    with Session(engine) as session:
        voices = dict(session.execute(select(Post.id, Post.voice)).all())  # type: ignore[call-overload]
        assert voices[ids["reply"]] == voices[ids["signed"]] == "brand" and voices[ids["fan"]] == "advocate"
        items = {i.id: i for i in session.exec(select(ReviewItem)).scalars()}  # type: ignore[call-overload]
        assert items[ids["item_complaint"]].status == "answered"  # the brand replied on its thread
        assert items[ids["item_other"]].status == "open"  # no reply there
        assert items[ids["item_signed"]].status == "dismissed"  # a brand post is not customer voice
        event = (
            session.exec(
                select(ReviewEvent).where(ReviewEvent.review_item_id == ids["item_complaint"])  # type: ignore[arg-type]
            )
            .scalars()
            .first()
        )
        assert event.detail["reply_post_id"] == ids["reply"] and event.actor == "brand-voice"

        queue = list_queue(session, QueueFilter(statuses=("open", "in_progress", "answered", "dismissed")))
        queued = {row.post_id for row in queue.rows}
        assert ids["signed"] not in queued and ids["complaint"] in queued

        dialect = session.get_bind().dialect.name
        customer_rows = post_rows(AnswerFilter(period=iso_week(WEEK)), dialect)
        customers = {r[0] for r in session.execute(select(customer_rows.c.post_id)).all()}
        assert ids["complaint"] in customers
        assert not customers & {ids["reply"], ids["signed"], ids["fan"]}
        advocate_rows = post_rows(AnswerFilter(period=iso_week(WEEK), voice="advocate"), dialect)
        assert {r[0] for r in session.execute(select(advocate_rows.c.post_id)).all()} == {ids["fan"]}


def test_removing_a_marker_gives_the_voice_back_and_bad_markers_are_refused(engine: Engine) -> None:
    ids = _world(engine)
    add_marker(engine, "signature", "^Lea", "test")
    with pytest.raises(BrandMarkerError, match="schon eingetragen"):
        add_marker(engine, "signature", "^Lea", "test")
    with pytest.raises(BrandMarkerError, match="Unbekannte Art"):
        add_marker(engine, "brand", "x", "test")
    with pytest.raises(BrandMarkerError, match="keinen Buchstaben"):
        add_marker(engine, "signature", "^", "test")
    with Session(engine) as session:
        from store.models import BrandMarker

        marker_id = session.exec(select(BrandMarker.id)).scalars().one()  # type: ignore[call-overload]
    report = remove_marker(engine, marker_id)
    assert report.brand_posts == 0 and report.changed == 1
    with Session(engine) as session:
        assert session.get(Post, ids["signed"]).voice is None
        assert session.get(ReviewItem, ids["item_signed"]).status == "dismissed"  # a decision stays


def test_brand_cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from resonanz.cli import app

    monkeypatch.setenv("RESONANZ_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    runner = CliRunner()
    bad = runner.invoke(app, ["brand", "add", "konto", "@x"])
    assert bad.exit_code == 1 and "Unbekannte Art" in bad.output
    ok = runner.invoke(app, ["brand", "add", "account", "@lindenhof@mastodon.social", "--note", "Hauptkonto"])
    assert ok.exit_code == 0, ok.output
    listed = runner.invoke(app, ["brand", "list"])
    assert listed.exit_code == 0 and "lindenhof@mastodon.social" in listed.output and "Hauptkonto" in listed.output
