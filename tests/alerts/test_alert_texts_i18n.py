"""Alert titles and summaries in the reader's language (issue 17): stored with a code and parameters, rendered
German or English when shown (notifications, CLI, web pages); rows stored before codes were kept show their text."""

from __future__ import annotations

import re
from datetime import timedelta

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from resonanz.alerts.evaluate import evaluate
from resonanz.alerts.findings import ALERT_TEXTS, money, number, render, share, shown, text, window
from resonanz.alerts.shapes import alert_summary, alert_title, subject_line, text_body, view
from resonanz.core import i18n
from resonanz.core.settings import Settings
from store.models import Alert, User
from tests.alerts.conftest import BURST, Store
from tests.alerts.test_evaluate import SETTINGS, burst
from tests.alerts.test_web_alerts import churn_alert
from tests.web.conftest import (  # noqa: F401  (the web app fixtures)
    app_fixture,
    client_fixture,
    login,
    mem_engine_fixture,
    session_fixture,
    users_fixture,
    web_settings_fixture,
)
from tests.web.test_i18n import english_fixture, visible  # noqa: F401  (the English app fixture)

GERMAN_TITLE = "Hotel Rheinblick GmbH (A-Kunde) droht abzuwandern"
ENGLISH_TITLE = "Hotel Rheinblick GmbH (A customer) threatens to leave"


def test_a_customer_alert_stored_under_german_reads_english_when_shown_in_english(
    session: Session, mem_engine: Engine, web_settings: Settings
) -> None:
    alert, _item = churn_alert(session, mem_engine, web_settings)
    assert alert.title == GERMAN_TITLE and "34.400 €" in alert.summary and "droht abzuwandern" in alert.summary
    assert alert.explanation["texts"]["summary"]["code"] == "customer_summary"  # the code travels with the row
    assert alert_summary(alert) == alert.summary and alert_title(alert) == alert.title  # German: as stored
    with i18n.language("en"):
        summary, title = alert_summary(alert), alert_title(alert)
        shown_view = view(alert, "https://resonanz.example")
        message, subject = text_body(shown_view, "new"), subject_line(shown_view, "new")
    assert title == ENGLISH_TITLE
    assert summary.startswith(
        "Hotel Rheinblick GmbH (A customer, revenue €34,400, weight 5.0) threatens to leave: 1 post"
    )
    assert "most recently on mastodon" in summary and "(signal: churn)" in summary
    assert not re.search(r"Kunde|Beitrag|zuletzt|droht|Umsatz", summary)
    assert summary in message and subject == f"[Resonanz critical] {ENGLISH_TITLE}"  # what the e-mail/webhook says


def test_an_alert_raised_under_english_reads_german_later(
    session: Session, mem_engine: Engine, web_settings: Settings
) -> None:
    with i18n.language("en"):
        alert, _item = churn_alert(session, mem_engine, web_settings)
    assert alert.title == ENGLISH_TITLE  # stored in the language of the evaluation
    assert alert_title(alert) == GERMAN_TITLE and "34.400 €" in alert_summary(alert)


def test_the_alert_pages_follow_the_language(
    client: TestClient,
    english: TestClient,
    session: Session,
    mem_engine: Engine,
    web_settings: Settings,
    users: dict[str, User],
) -> None:
    alert, _item = churn_alert(session, mem_engine, web_settings)
    login(client, "anton")
    login(english, "anton")
    german_list, german_page = visible(client.get("/alerts").text), visible(client.get(f"/alerts/{alert.id}").text)
    english_list = visible(english.get("/alerts").text)
    english_page = visible(english.get(f"/alerts/{alert.id}").text)
    assert GERMAN_TITLE in german_list and GERMAN_TITLE in german_page and "droht abzuwandern: 1 Beitrag" in german_page
    assert ENGLISH_TITLE in english_list and ENGLISH_TITLE in english_page
    assert "threatens to leave: 1 post" in english_page and "droht" not in english_page


def test_a_spike_summary_renders_in_both_languages(store: Store) -> None:
    evaluate(store.engine, SETTINGS, now=BURST - timedelta(hours=1), notify=False)
    burst(store, n=30, topic="Preis", minutes=120)
    evaluate(store.engine, SETTINGS, now=BURST, notify=False)
    with Session(store.engine) as session:
        alert = session.exec(select(Alert).where(col(Alert.kind) == "spike").order_by(col(Alert.id))).first()
    assert alert is not None
    german = alert_summary(alert)
    assert german == alert.summary and german.startswith("Thema „Preis“: ") and "Beiträge in den letzten" in german
    with i18n.language("en"):
        english, title = alert_summary(alert), alert_title(alert)
    assert english.startswith("Topic “Preis”: ") and " posts in the last 3 h, expected " in english
    assert "robust z-score" in english and "times as many posts as usual" in title
    numbers = re.findall(r"erwartet (\S+) \(Basislinie", german) + re.findall(r"expected (\S+) \(baseline", english)
    assert len(numbers) == 2 and "," in numbers[0] and "." in numbers[1]  # 2,4 in German, 2.4 in English


def test_old_rows_without_a_code_and_codes_that_do_not_fit_show_the_stored_text() -> None:
    old = Alert(key="x:y", rule="x", kind="spike", title="Alter Titel", summary="Alte Zusammenfassung",
                started_at=BURST, first_seen_at=BURST, last_seen_at=BURST)  # fmt: skip
    with i18n.language("en"):
        assert alert_summary(old) == "Alte Zusammenfassung" and alert_title(old) == "Alter Titel"
        broken = {"code": "customer_title", "params": {"name": "X"}}  # a parameter missing
        assert shown("stored", broken) == "stored"
        assert shown("stored", {"code": "no_such_code", "params": {}}) == "stored"
        assert shown("stored", {"code": "subject_topic", "params": {"key": "Preis"}}) == "Topic “Preis”"


def test_every_alert_text_is_translated_and_renders_in_both_languages() -> None:
    with i18n.catalogue_path("de").open("rb") as fh:
        catalogue = read_po(fh, locale="de")
    placeholders = re.compile(r"\{(\w+)\}")
    for code, msgid in ALERT_TEXTS.items():
        entry = catalogue.get(msgid)
        assert entry is not None and entry.string and not entry.fuzzy, code
        assert set(placeholders.findall(msgid)) == set(placeholders.findall(str(entry.string))), code
        spec = text(code, **{name: f"<{name}>" for name in placeholders.findall(msgid)})
        with i18n.language("en"):
            english = render(spec)
        german = render(spec)
        if code.endswith(("_summary", "_title")):
            assert german != english, code


def test_numbers_in_a_summary_take_the_language_s_format() -> None:
    spec = text("weighted_summary", share=share(0.425), window=window(1.5), threshold=share(0.3), usual=share(0.12),
                customers=1234, weight=number(1234.5), total=number(float("inf")))  # fmt: skip
    german = render(spec)
    with i18n.language("en"):
        english = render(spec)
    assert german.startswith(
        "Wertgewichtet sind 42 % der Stimmen der letzten 1,5 h negativ (Schwelle 30 %; üblich 12 %)"
    )
    assert "1.234 Kund:innen negativ, Gewicht 1.234,5 von ∞." in german
    assert english.startswith("Value-weighted, 42% of the voices of the last 1.5 h are negative (threshold 30%;")
    assert "1,234 customers negative, weight 1,234.5 of ∞." in english
    assert render(text("customer_revenue", revenue=money(34400))) == ", Umsatz 34.400 €"
