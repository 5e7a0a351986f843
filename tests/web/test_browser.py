"""A real browser (Debian's chromium) against a real uvicorn server and a migrated SQLite file.

Screenshots of the queue, the dashboard and the digest go to ``RESONANZ_SCREENSHOT_DIR`` (default: a
temporary directory); they are never committed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from resonanz.core.settings import Settings, WebSettings
from resonanz.digest import build_digest
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import IdentityLink, ReviewEvent, ReviewItem, User
from tests.answers.factory import MONDAY, WEEK, Factory, build_scenario
from tests.web.live import chromium, live_server

pytestmark = pytest.mark.browser
PASSWORD = "browser test password"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("RESONANZ_SCREENSHOT_DIR") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
        page = context.new_page()
        page.set_default_timeout(15000)
        dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.dialogs = dialogs  # type: ignore[attr-defined]
        yield page


def test_work_the_queue_in_a_browser(tmp_path: Path, shots: Path, page: Any) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    settings = Settings(web=WebSettings(secret_key=SecretStr("browser-test-secret-key-0123456789")))
    with Session(engine, expire_on_commit=False) as session:
        session.add(User(username="carla", password_hash=hash_password(PASSWORD), role="community_manager"))
        sc = build_scenario(session)
        f = Factory(session)
        emil_item = f.review_item(f.post(sc.identities["emil"], "Wo bleibt meine Bestellung?", MONDAY), severity=3)
        session.commit()
    build_digest(engine, settings, WEEK)
    anna_item, link = sc.items["anna1"].id, sc.pending_link
    assert link is not None

    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(f"{base}/queue")
        assert "/login" in page.url
        page.fill("input[name=username]", "carla")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/queue")
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 4
        assert "Die Lieferung kam schon wieder zu spät!" in rows.nth(0).inner_text()  # A-customer complaint first
        assert "App stürzt ab <script>alert(1)</script>" in page.content().replace("&lt;", "<").replace("&gt;", ">")
        page.screenshot(path=str(shots / "queue.png"), full_page=True)

        # work Anna's complaint: assign, note, resolve
        page.click(f"a[href='/queue/{anna_item}']")
        page.select_option("#assignee", "carla")
        page.click("form[action$='/assign'] button")
        page.wait_for_selector("text=carla zugewiesen.")
        page.fill("#note", "Frau Amsel angerufen, Gutschein angeboten.")
        page.click("form[action$='/note'] button")
        page.wait_for_selector("text=Notiz gespeichert.")
        assert "Gutschein angeboten" in page.inner_text("#notes")
        page.select_option("#status", "resolved")
        page.click("form[action$='/status'] button")
        page.wait_for_selector("text=Status auf erledigt gesetzt.")
        assert page.inner_text("#item-status") == "erledigt"
        assert [e.split("\n")[0] for e in page.locator("#events li").all_inner_texts()][0].endswith(
            "carla hat zugewiesen → carla"
        )
        page.screenshot(path=str(shots / "item.png"), full_page=True)

        # confirm the pending link of Emil's identity from his item
        page.goto(f"{base}/queue/{emil_item.id}")
        assert "Mit keiner Kund:in verknüpft" in page.inner_text("#customer")
        page.click("button:has-text('Verknüpfung bestätigen')")
        page.wait_for_selector("text=Verknüpfung bestätigt.")
        assert "Verknüpfte Kund:in: Emil Eck" in page.inner_text("#customer")

        page.goto(f"{base}/dashboard?week={WEEK}")
        for chart in ("#chart-sentiment", "#chart-topics", "#chart-pareto"):
            assert page.eval_on_selector(chart, "img => img.complete && img.naturalWidth > 300")
        verdict = "A-Kunden sind 40 % aller 5 Kund:innen (40 % der 5 mit Umsatz) und bringen 75 % des Umsatzes"
        assert verdict in page.inner_text("main")
        page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

        page.goto(f"{base}/digests")
        page.click(f"text={WEEK}")
        frame = page.frame_locator("iframe.digest-frame")
        frame.locator("text=Was A-Kunden sagten").wait_for()
        assert "Die Lieferung kam schon wieder zu spät!" in frame.locator("body").inner_text()
        page.set_viewport_size({"width": 1400, "height": 1500})
        page.screenshot(path=str(shots / "digest.png"), full_page=True)
        page.goto(f"{base}/digests/1/html")
        page.screenshot(path=str(shots / "digest-standalone.png"), full_page=True)

        assert page.dialogs == [], "a script from post content ran"  # type: ignore[attr-defined]

    with Session(engine) as session:
        events = session.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))).all()
        assert [(e.actor, e.action) for e in events] == [
            ("carla", "assign"),
            ("carla", "note"),
            ("carla", "status"),
            ("carla", "link_confirmed"),
        ]
        item = session.get(ReviewItem, anna_item)
        assert item is not None and item.status == "resolved" and item.assignee == "carla"
        stored = session.get(IdentityLink, link.id)
        assert stored is not None and stored.status == "confirmed"
    for name in ("queue", "dashboard", "digest"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
    engine.dispose()


def test_a_correction_shows_in_item_queue_ask_and_dashboard_at_once(tmp_path: Path, shots: Path, page: Any) -> None:
    """Issue 12: correct a label on an item and see it in the item, the queue, ``ask`` and the dashboard."""
    engine = open_engine(f"sqlite:///{tmp_path / 'browser.db'}")
    settings = Settings(web=WebSettings(secret_key=SecretStr("browser-test-secret-key-0123456789")))
    with Session(engine, expire_on_commit=False) as session:
        session.add(User(username="carla", password_hash=hash_password(PASSWORD), role="community_manager"))
        sc = build_scenario(session)
        session.commit()
    anna_item = sc.items["anna1"].id
    views = {
        "item": f"/queue/{anna_item}",
        "queue": "/queue",
        "ask": f"/ask?week={WEEK}&class=A",
        "dashboard": f"/dashboard?week={WEEK}",
    }
    with live_server(create_app(settings, engine=engine)) as base:
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "carla")
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(f"{base}/queue")
        for name, path in views.items():
            page.goto(base + path)
            assert "Reklamation" not in page.inner_text("main"), name  # the model never said so

        page.goto(f"{base}/queue/{anna_item}")
        page.fill("#add-topic input[name=topic]", "Reklamation")
        page.click("#add-topic button")
        page.wait_for_selector("text=Thema Reklamation ergänzt")
        page.select_option("#add-flag select[name=flag]", "churn")
        page.click("#add-flag button")
        page.wait_for_selector("text=Flag churn ergänzt")
        for name, path in views.items():
            page.goto(base + path)
            assert "Reklamation" in page.inner_text("main"), name
        page.goto(f"{base}/queue")
        assert "Abwanderung" in page.inner_text("table.queue")
        page.screenshot(path=str(shots / "queue-corrected.png"), full_page=True)
        assert page.dialogs == []  # type: ignore[attr-defined]
    with Session(engine) as session:
        actions = [e.action for e in session.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))).all()]
        assert actions == ["correct_topic", "correct_flag"]
    engine.dispose()
