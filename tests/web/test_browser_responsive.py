"""Issue 17, part 7: the pages at a desktop width (1,280 px) and a phone width (390 px) in a real browser.

For login, queue, item, dashboard, ask, search and alerts, logged in as a community manager: no horizontal
overflow (``scrollWidth`` and every visible element's box stay inside the viewport), the page's main content
is visible and (on the phone) wide enough to read, primary controls are big enough to tap; plus the digest
e-mail HTML in a 390 px page. The data has long texts, long URLs and handles and more queue rows than one
page holds, so a layout that does not wrap or stack shows up. Full-page screenshots go to
``RESONANZ_SCREENSHOT_DIR`` (default: a temporary directory); they are never committed.

The checks use selectors, URLs and boxes only, never visible English or German text (the pages are being
translated).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session

from resonanz.core.settings import Settings, WebSettings, reset_settings_cache
from resonanz.digest import build_digest
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import Alert, SavedSearch, User
from tests.answers.factory import MONDAY, WEEK, Factory, build_scenario
from tests.web.live import chromium, live_server

pytestmark = pytest.mark.browser

PASSWORD = "responsive browser password"
WIDTHS = {1280: 800, 390: 844}  # width: height (a desktop window, an iPhone 12-15)
PHONE = 390
LONG_URL = (
    "https://www.beispiel-shop.de/kundenservice/bestellungen/2026/11/16/sendungsverfolgung"
    "?auftrag=A-2026-0011-4711-0815-DHL-EXPRESS-ZUSTELLUNG-VERSPAETET&utm_source=mastodon"
)
LONG_HANDLE = "@konstantin.maximilian.schneider-wuestenhagen@mastodon.kundenforum.example"
LONG_WORD = "Donaudampfschifffahrtsgesellschaftskundenservicehotlinewarteschleifenmusik"
LONG_TEXT = (
    "Seit drei Wochen warte ich auf meine Bestellung, die Sendungsverfolgung zeigt seit Tagen denselben Stand "
    f"und die {LONG_WORD} kenne ich inzwischen auswendig. Hier der Link zur Sendung: {LONG_URL} "
    "Wenn das bis Freitag nicht geklärt ist, kündige ich mein Abo und erzähle es allen im Verein. "
) * 2

# page name -> (path, selector of its main content)
PAGES = {
    "login": ("/login", "form[action='/login']"),
    "queue": ("/queue", "table.queue"),
    "item": ("/queue/{item}", "article.post-box.focus"),
    "dashboard": (f"/dashboard?week={WEEK}", "#chart-sentiment"),
    "ask": (f"/ask?week={WEEK}", "#summary"),
    "search": ("/search?q=Lieferung", "ol.hits li.hit"),
    "alerts": ("/alerts", "#alerts"),
}

# Every visible element whose box leaves the viewport on the right, described by a CSS-like path.
OVERFLOW_JS = """() => {
  const vw = window.innerWidth;
  const describe = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
      let s = e.tagName.toLowerCase();
      if (e.id) { parts.unshift(s + '#' + e.id); break; }
      if (e.classList.length) s += '.' + [...e.classList].join('.');
      parts.unshift(s);
    }
    return parts.join(' > ');
  };
  const offenders = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    if (r.right > vw + 0.5) offenders.push(describe(el) + ' (right edge ' + Math.round(r.right) + ' px)');
  }
  // text that runs out of its box (a long URL in a narrow paragraph) leaves the viewport without its box doing so
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width === 0 || r.right <= vw + 0.5) continue;
    const el = node.parentElement;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    let clipped = false;  // cut off by a box that is itself checked above (an ellipsis, a scroll box)
    for (let a = el; a && a !== document.body && !clipped; a = a.parentElement) {
      clipped = getComputedStyle(a).overflowX !== 'visible';
    }
    if (clipped) continue;
    offenders.push('text in ' + describe(el) + ' (right edge ' + Math.round(r.right) + ' px)');
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: vw,
    offenders: offenders,
  };
}"""

# Buttons, the menu and the menu toggle: their height on the page (a finger needs about 40 px).
TAP_JS = """() => {
  const out = [];
  const seen = document.querySelectorAll(
    'main button, main input[type=submit], header.top a, header.top button, header.top .menu-button');
  for (const el of seen) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    out.push({what: el.outerHTML.slice(0, 80), height: r.height});
  }
  return out;
}"""


Contexts = dict[tuple[int, bool], Any]
"""Browser contexts by (viewport width, logged in)."""


@dataclass
class Site:
    base: str
    item_id: int
    digest_html: str
    shots: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Every page's data, the digest of the week, and the app on a live server (built once for the module)."""
    tmp = tmp_path_factory.mktemp("responsive")
    with pytest.MonkeyPatch.context() as env:  # tests/conftest.py isolates each test; this runs before it does
        env.setenv("RESONANZ_DATA_DIR", str(tmp / "data"))
        env.setenv("RESONANZ_CONFIG", str(tmp / "no-config.toml"))
        env.delenv("RESONANZ_DATABASE_URL", raising=False)
        reset_settings_cache()
        yield from _site(tmp)
    reset_settings_cache()


def _site(tmp: Path) -> Iterator[Site]:
    shots = Path(os.environ.get("RESONANZ_SCREENSHOT_DIR") or tmp / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    engine = open_engine(f"sqlite:///{tmp / 'responsive.db'}")
    settings = Settings(web=WebSettings(secret_key=SecretStr("responsive-test-secret-key-0123456789")))
    with Session(engine, expire_on_commit=False) as session:
        session.add(User(username="carla", password_hash=hash_password(PASSWORD), role="community_manager"))
        session.add(User(username="konstantin.schneider-wuestenhagen", password_hash="x", role="community_manager"))
        sc = build_scenario(session)
        f = Factory(session)
        hotel = f.customer("Konstantin Schneider-Wüstenhagen", "A", revenue=32000, weight=5.0)
        hotel.company = "Hotel Seeblick am Ammersee Betriebsgesellschaft mbH & Co. KG"
        long_id = f.identity(LONG_HANDLE)
        f.link(long_id, hotel, status="pending", probability=0.81)
        parent = f.post(sc.identities["ben"], f"Kennt jemand {LONG_URL} schon?", MONDAY, sentiment="neutral")
        focus = f.post(
            long_id,
            LONG_TEXT,
            MONDAY + timedelta(hours=1),
            topics=["Lieferung", "Kundenservice-Erreichbarkeit"],
            weight=5.0,
            parent=parent,
            flags=[{"flag": "churn", "severity": 5, "reason": f"Kündigung angedroht: {LONG_WORD}"}],
        )
        focus.url = LONG_URL
        f.post(None, f"Das tut uns leid! Bitte schreib uns unter {LONG_URL}", MONDAY + timedelta(hours=2), parent=focus)
        item = f.review_item(focus, severity=5, reason="churn", assignee="konstantin.schneider-wuestenhagen")
        for n in range(30):  # more rows than one queue page (25) holds
            who = long_id if n % 3 == 0 else sc.identities[("anna", "p1", "p2")[n % 3]]
            post = f.post(
                who,
                f"Beschwerde {n}: {LONG_WORD} – Lieferung {LONG_URL}",
                MONDAY + timedelta(hours=3 + n),
                topics=["Lieferung"],
            )
            f.review_item(post, severity=1 + n % 5, reason=("complaint", "churn", "question")[n % 3])
        for n, status in enumerate(("open", "acknowledged", "open")):
            session.add(
                Alert(
                    key=f"volume:Lieferung:{n}",
                    rule="volume_spike_lieferung_a_kunden_mastodon_bluesky",
                    kind="volume",
                    severity=1 + n,
                    status=status,
                    title=f"{LONG_WORD}: {7 + n}× mehr negative Beiträge als üblich",
                    summary=f"{LONG_TEXT[:200]} {LONG_URL}",
                    subject="Lieferung",
                    started_at=MONDAY,
                    first_seen_at=MONDAY + timedelta(hours=n),
                    last_seen_at=MONDAY + timedelta(hours=5 + n),
                    updates=3 + n,
                )
            )
        session.add(SavedSearch(name=f"Lieferärger {LONG_WORD}", owner="carla", query=f'Lieferung "{LONG_WORD}"'))
        session.commit()
        assert item.id is not None
        item_id = item.id
    digest = build_digest(engine, settings, WEEK)
    with live_server(create_app(settings, engine=engine)) as base:
        yield Site(base=base, item_id=item_id, digest_html=digest.content_html, shots=shots)
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def contexts(browser: Any, site: Site) -> Iterator[Contexts]:
    """One browser context per (width, logged in), created on first use."""
    made: Contexts = {}
    yield made
    for context in made.values():
        context.close()


def _page(browser: Any, site: Site, contexts: Contexts, width: int, logged_in: bool) -> Any:
    key = (width, logged_in)
    if key not in contexts:
        context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, locale="de-DE")
        context.set_default_timeout(15000)
        if logged_in:
            page = context.new_page()
            page.goto(f"{site.base}/login")
            page.fill("input[name=username]", "carla")
            page.fill("input[name=password]", PASSWORD)
            page.click("form[action='/login'] button[type=submit]")
            page.wait_for_url(f"{site.base}/queue")
            page.close()
        contexts[key] = context
    page = contexts[key].new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    return page


def _assert_fits(page: Any, where: str) -> None:
    measured = page.evaluate(OVERFLOW_JS)
    width, scroll = measured["innerWidth"], measured["scrollWidth"]
    offenders = measured["offenders"]
    shown = "\n  ".join(offenders[:12]) + (f"\n  … and {len(offenders) - 12} more" if len(offenders) > 12 else "")
    assert scroll <= width, f"{where}: page is {scroll} px wide in a {width} px viewport; beyond the edge:\n  {shown}"
    assert not offenders, f"{where}: {len(offenders)} elements leave the {width} px viewport:\n  {shown}"


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_the_viewport(browser: Any, site: Site, contexts: Contexts, name: str, width: int) -> None:
    path, main_selector = PAGES[name]
    page = _page(browser, site, contexts, width, logged_in=name != "login")
    try:
        response = page.goto(site.base + path.format(item=site.item_id))
        assert response is not None and response.status == 200, f"{name}: HTTP {response and response.status}"
        assert page.url.startswith(site.base + path.split("?")[0].format(item=site.item_id)), page.url
        page.wait_for_load_state("load")
        page.screenshot(path=str(site.shots / f"{name}-{width}.png"), full_page=True)
        main = page.locator(main_selector).first
        assert main.is_visible(), f"{name} at {width} px: {main_selector} is not visible"
        _assert_fits(page, f"{name} at {width} px")
        if width == PHONE:
            box = main.bounding_box()
            assert box is not None and box["width"] >= 0.75 * width, (
                f"{name} at {width} px: {main_selector} is only {box and round(box['width'])} px wide (unreadable)"
            )
            small = [t for t in page.evaluate(TAP_JS) if t["height"] < 40]
            assert not small, f"{name} at {width} px: controls under 40 px high: {small[:5]}"
    finally:
        page.close()


def test_item_shows_the_post_first_on_a_phone(browser: Any, site: Site, contexts: Contexts) -> None:
    """One column on the phone: the post that was flagged comes before the customer card and the actions."""
    page = _page(browser, site, contexts, PHONE, logged_in=True)
    try:
        page.goto(f"{site.base}/queue/{site.item_id}")
        post = page.locator("article.post-box.focus").bounding_box()
        customer = page.locator("#customer").bounding_box()
        actions = page.locator("#actions").bounding_box()
        assert post and customer and actions
        assert post["y"] + post["height"] <= customer["y"] <= actions["y"], (post, customer, actions)
        text = page.locator("article.post-box.focus .text").bounding_box()
        assert text is not None and text["width"] >= 0.75 * PHONE, f"post text only {text and text['width']} px wide"
    finally:
        page.close()


def test_menu_fits_and_reaches_every_page_on_a_phone(browser: Any, site: Site, contexts: Contexts) -> None:
    """The menu stays inside 390 px, and every page in it can be reached (opened first if it is folded)."""
    page = _page(browser, site, contexts, PHONE, logged_in=True)
    try:
        page.goto(f"{site.base}/queue")
        toggle = page.locator("header.top .menu-button")
        if toggle.count() and toggle.first.is_visible():
            toggle.first.click()
        _assert_fits(page, "open menu at 390 px")
        page.screenshot(path=str(site.shots / "menu-open-390.png"), full_page=True)
        for href in ("/queue", "/dashboard", "/ask", "/search", "/alerts"):
            link = page.locator(f"header.top nav a[href='{href}']")
            assert link.is_visible(), f"menu link {href} is not visible at 390 px"
            box = link.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (href, box)
        page.click("header.top nav a[href='/search']")
        page.wait_for_url(f"{site.base}/search")
    finally:
        page.close()


@pytest.mark.parametrize("width", sorted(WIDTHS, reverse=True))
def test_digest_email_fits(browser: Any, site: Site, width: int) -> None:
    """The e-mail HTML as a mail client on a phone shows it: no CSS file, its own inline styles only."""
    context = browser.new_context(viewport={"width": width, "height": WIDTHS[width]}, locale="de-DE")
    try:
        page = context.new_page()
        page.set_content(site.digest_html, wait_until="load")
        assert page.locator("#headline").is_visible()
        page.screenshot(path=str(site.shots / f"digest-email-{width}.png"), full_page=True)
        _assert_fits(page, f"digest e-mail at {width} px")
    finally:
        context.close()
