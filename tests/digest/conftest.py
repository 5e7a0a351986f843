"""A real SMTP server for the digest tests (aiosmtpd on 127.0.0.1), optionally with AUTH and TLS."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.answers.factory import Scenario, build_scenario
from tests.web.live import free_port

SMTP_USER, SMTP_PASSWORD = "digest", "s3cret-pass"


@dataclass
class Inbox:
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        self.envelopes.append(envelope)
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    client_context: ssl.SSLContext | None = None


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., SmtpServer]]:
    """Start servers: ``smtp_server(auth=False, starttls=None, implicit_tls=None)`` (TLS args: cert dir)."""
    controllers: list[Controller] = []

    def start(auth: bool = False, tls_dir: Path | None = None, implicit: bool = False) -> SmtpServer:
        inbox = Inbox()
        kwargs: dict[str, Any] = {"hostname": "127.0.0.1", "port": free_port()}
        client_context = None
        if tls_dir is not None:
            server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_ctx.load_cert_chain(tls_dir / "cert.pem", tls_dir / "key.pem")
            client_context = ssl.create_default_context(cafile=str(tls_dir / "cert.pem"))
            if implicit:
                kwargs["ssl_context"] = server_ctx
                kwargs["server_hostname"] = "127.0.0.1"
            else:
                kwargs |= {"tls_context": server_ctx, "require_starttls": True}
        if auth:
            kwargs |= {"authenticator": check_login, "auth_required": True, "auth_require_tls": tls_dir is not None}
        controller = Controller(inbox, **kwargs)
        controller.start()
        controllers.append(controller)
        return SmtpServer(kwargs["port"], inbox, client_context)

    yield start
    for c in controllers:
        c.stop()


@pytest.fixture
def tls_dir(tmp_path: Path) -> Path:
    """A self-signed certificate for 127.0.0.1, made here with openssl."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return tmp_path


@pytest.fixture
def scenario_engine(sqlite_engine: Engine) -> Engine:
    with Session(sqlite_engine) as session:
        build_scenario(session)
    return sqlite_engine


@pytest.fixture
def scenario_db(engine: Engine) -> tuple[Engine, Scenario]:
    """The scenario on SQLite and PostgreSQL (root ``engine`` fixture)."""
    with Session(engine, expire_on_commit=False) as session:
        return engine, build_scenario(session)
