"""Sending the digest to a real local SMTP server: plain, AUTH, STARTTLS+AUTH and implicit TLS."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core.errors import MailError, NotFoundError
from resonanz.core.settings import DigestSettings, Settings, SmtpSettings
from resonanz.digest import build_digest, send_digest
from store.models import Digest
from tests.answers.factory import WEEK
from tests.digest.conftest import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.web.live import free_port

TO = ["team@example.de", "chefin@example.de"]


def settings_for(port: int, **smtp: Any) -> Settings:
    return Settings(
        smtp=SmtpSettings(host="127.0.0.1", port=port, sender="resonanz@example.de", **smtp),
        digest=DigestSettings(recipients=TO),
    )


def check_message(msg: EmailMessage) -> None:
    assert msg["Subject"] == f"Resonanz-Wochenbericht {WEEK}: 9 Beiträge, Stimmung -0,15"
    assert msg["From"] == "resonanz@example.de" and msg["To"] == ", ".join(TO)
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert "Markierte Einträge noch offen: 3" in plain.get_content()
    html_text = html.get_content()
    assert "Was A-Kunden sagten" in html_text and "data:image" not in html_text
    cids = re.findall(r'src="cid:([^"]+)"', html_text)
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(cids) == len(images) == 3
    assert {p["Content-ID"].strip("<>") for p in images} == set(cids)
    assert all(p.get_content()[:8] == b"\x89PNG\r\n\x1a\n" for p in images)
    assert all(p.get_content_disposition() == "inline" for p in images)


def test_plain_smtp(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer]) -> None:
    server = smtp_server()
    settings = settings_for(server.port)
    digest = build_digest(scenario_engine, settings, WEEK)
    sent = send_digest(scenario_engine, settings, digest)
    assert sent.sent_at is not None and sent.recipients == TO
    (envelope,) = server.inbox.envelopes
    assert envelope.mail_from == "resonanz@example.de" and envelope.rcpt_tos == TO
    check_message(server.inbox.messages[0])
    with Session(scenario_engine) as session:
        stored = session.get(Digest, digest.id)
        assert stored is not None and stored.sent_at is not None


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_auth_login(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer]) -> None:
    server = smtp_server(auth=True)
    settings = settings_for(server.port, username=SMTP_USER, password=SMTP_PASSWORD)
    build_digest(scenario_engine, settings, WEEK)
    send_digest(scenario_engine, settings, WEEK, recipients=["one@example.de"])
    assert server.inbox.envelopes[0].rcpt_tos == ["one@example.de"]
    wrong = settings_for(server.port, username=SMTP_USER, password="wrong")
    with pytest.raises(MailError, match="Anmeldung.*abgelehnt.*RESONANZ_SMTP__PASSWORD"):
        send_digest(scenario_engine, wrong, WEEK)
    anonymous = settings_for(server.port)
    with pytest.raises(MailError):
        send_digest(scenario_engine, anonymous, WEEK)
    assert len(server.inbox.envelopes) == 1


def test_starttls_with_auth(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer], tls_dir: Path) -> None:
    server = smtp_server(auth=True, tls_dir=tls_dir)
    settings = settings_for(server.port, username=SMTP_USER, password=SMTP_PASSWORD, starttls=True)
    build_digest(scenario_engine, settings, WEEK)
    send_digest(scenario_engine, settings, WEEK, ssl_context=server.client_context)
    check_message(server.inbox.messages[0])
    # without STARTTLS the server refuses to talk; the certificate is checked (default context rejects it)
    with pytest.raises(MailError):
        send_digest(scenario_engine, settings_for(server.port, username=SMTP_USER, password=SMTP_PASSWORD), WEEK)
    with pytest.raises(MailError, match="TLS"):
        send_digest(scenario_engine, settings, WEEK)


def test_implicit_tls(scenario_engine: Engine, smtp_server: Callable[..., SmtpServer], tls_dir: Path) -> None:
    server = smtp_server(tls_dir=tls_dir, implicit=True)
    settings = settings_for(server.port, ssl=True)
    build_digest(scenario_engine, settings, WEEK)
    send_digest(scenario_engine, settings, WEEK, ssl_context=server.client_context)
    check_message(server.inbox.messages[0])


def test_failures_explain_what_to_do(scenario_engine: Engine) -> None:
    settings = settings_for(free_port(), timeout=3)
    with pytest.raises(NotFoundError, match="zuerst mit `resonanz digest"):
        send_digest(scenario_engine, settings, WEEK)
    build_digest(scenario_engine, settings, WEEK)
    with pytest.raises(MailError, match="RESONANZ_SMTP__HOST/PORT"):
        send_digest(scenario_engine, settings, WEEK)
    with pytest.raises(MailError, match="RESONANZ_DIGEST__RECIPIENTS"):
        send_digest(scenario_engine, settings, WEEK, recipients=[])
