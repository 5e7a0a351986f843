"""The digest e-mail is German by default and English when ``language = "en"`` (issue 17): texts, numbers,
the week's dates and the generation time in Europe/Berlin with its zone."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.engine import Engine

from resonanz.core import i18n
from resonanz.core.settings import DigestSettings, Settings, SmtpSettings
from resonanz.digest import build_digest, send_digest
from tests.answers.factory import WEEK
from tests.digest.conftest import SmtpServer


def _settings(port: int, language: str) -> Settings:
    return Settings(
        language=language,  # type: ignore[arg-type]
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="resonanz@example.de"),
        digest=DigestSettings(recipients=["team@example.de"]),
    )


def test_the_digest_mail_is_german_by_default(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer]) -> None:
    server = smtp_server()
    settings = Settings(
        smtp=SmtpSettings(host="127.0.0.1", port=server.port, sender="resonanz@example.de"),
        digest=DigestSettings(recipients=["team@example.de"]),
    )
    assert settings.language == "de"
    digest = build_digest(scenario_engine, settings, WEEK)
    send_digest(scenario_engine, settings, digest)
    (msg,) = server.inbox.messages
    assert msg["Subject"] == f"Resonanz-Wochenbericht {WEEK}: 9 Beiträge, Stimmung -0,15"
    plain = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Markierte Einträge noch offen: 3" in plain and "Netto-Stimmung: -0,15 wertgewichtet" in plain
    html = digest.content_html
    assert '<html lang="de">' in html and "Die wichtigsten Zahlen" in html and "Was A-Kunden sagten" in html
    assert "Mo. 16.11.2026 – So. 22.11.2026 (Europe/Berlin)" in html
    assert re.search(r"erstellt \d\d\.\d\d\.\d{4}, \d\d:\d\d MES?Z", html)  # Berlin time, zone shown
    assert "<b>-0,15</b>" in html and "Headline numbers" not in html and "value-weighted" not in html


def test_the_digest_mail_is_english_when_set(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer]) -> None:
    server = smtp_server()
    settings = _settings(server.port, "en")
    digest = build_digest(scenario_engine, settings, WEEK)
    send_digest(scenario_engine, settings, digest)
    (msg,) = server.inbox.messages
    assert msg["Subject"] == f"Resonanz digest {WEEK}: 9 posts, sentiment -0.15"
    plain = msg.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Flagged items still open: 3" in plain
    html = digest.content_html
    assert '<html lang="en">' in html and "Headline numbers" in html and "Mon 16/11/2026 – Sun 22/11/2026" in html
    assert re.search(r"generated \d\d/\d\d/\d{4}, \d\d:\d\d CES?T", html)
    assert i18n.current_language() == "de"  # building in English left the process language as it was
