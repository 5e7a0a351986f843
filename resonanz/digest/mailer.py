"""Send an archived digest as an HTML e-mail with its charts as inline (CID) images, over SMTP."""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy.engine import Engine
from sqlmodel import select

from resonanz.answers.format import net
from resonanz.core import i18n
from resonanz.core.errors import MailError, NotFoundError
from resonanz.core.hosts import is_loopback
from resonanz.core.i18n import _
from resonanz.core.settings import Settings, SmtpSettings
from resonanz.digest.render import render_template
from store.db import session_scope
from store.models import Digest
from store.types import utcnow

log = logging.getLogger(__name__)

_DATA_URI_RE = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def subject(digest: Digest) -> str:
    """In the current language, e.g. 'Resonanz-Wochenbericht 2026-W47: 42 Beiträge, Stimmung -0,12'."""
    s = digest.summary or {}
    # short enough not to be folded (a folded Subject reads back with a leading space in some clients)
    posts = int(s.get("posts") or 0)
    return i18n.ngettext(
        "Resonanz digest {week}: {posts} post, sentiment {net}",
        "Resonanz digest {week}: {posts} posts, sentiment {net}",
        posts,
    ).format(week=digest.period_label, posts=i18n.number(posts), net=net(s.get("net_weighted")))


def plain_text(digest: Digest) -> str:
    return render_template("digest.txt", s=_Summary(digest.summary or {}))


class _Summary(dict):  # type: ignore[type-arg]
    """Attribute access with defaults for the text template (older archived summaries may lack keys)."""

    def __getattr__(self, key: str) -> object:
        value = self.get(key)
        return [] if value is None and key in ("a_quotes", "negative_topics", "emerging") else value


def build_message(digest: Digest, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """multipart/alternative (text, multipart/related (HTML, PNG charts by Content-ID))."""
    images: list[tuple[str, bytes]] = []

    def to_cid(match: re.Match[str]) -> str:
        cid = make_msgid(idstring=f"chart{len(images) + 1}", domain="resonanz.local")
        images.append((cid, base64.b64decode(match.group(1))))
        return f'src="cid:{cid[1:-1]}"'

    html = _DATA_URI_RE.sub(to_cid, digest.content_html)
    msg = EmailMessage()
    msg["Subject"] = subject(digest)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="resonanz.local")
    msg.set_content(plain_text(digest))
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html_part, EmailMessage)
    for i, (cid, data) in enumerate(images, 1):
        html_part.add_related(
            data, maintype="image", subtype="png", cid=cid, filename=f"chart{i}.png", disposition="inline"
        )
    return msg


def deliver(
    msg: EmailMessage, smtp: SmtpSettings, recipients: Sequence[str], ssl_context: ssl.SSLContext | None = None
) -> None:
    """Hand ``msg`` to the configured SMTP server (implicit TLS, STARTTLS or plain; login if configured)."""
    context = ssl_context or ssl.create_default_context()
    where = f"{smtp.host}:{smtp.port}"
    try:
        server: smtplib.SMTP
        if smtp.ssl:
            server = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            server = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with server:
            server.ehlo()
            if smtp.starttls and not smtp.ssl:
                server.starttls(context=context)
                server.ehlo()
            if smtp.username:
                if not (smtp.ssl or smtp.starttls) and not is_loopback(smtp.host):
                    log.warning("sending SMTP credentials to %s without TLS; set RESONANZ_SMTP__STARTTLS=true", where)
                password = smtp.password.get_secret_value() if smtp.password else ""
                server.login(smtp.username, password)
            refused = server.send_message(msg, from_addr=smtp.sender, to_addrs=list(recipients))
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(
            _(
                "the SMTP server {where} refused the login for {user!r}; "
                "check RESONANZ_SMTP__USERNAME and RESONANZ_SMTP__PASSWORD"
            ).format(where=where, user=smtp.username)
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(
            _(
                "the SMTP server {where} does not support what was asked ({error}); "
                "check RESONANZ_SMTP__STARTTLS / RESONANZ_SMTP__SSL and whether it offers AUTH"
            ).format(where=where, error=exc)
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(
            _(
                "the SMTP server {where} refused all recipients ({recipients}); check RESONANZ_DIGEST__RECIPIENTS"
            ).format(where=where, recipients=", ".join(exc.recipients))
        ) from exc
    except ssl.SSLError as exc:
        raise MailError(
            _("TLS with {where} failed: {error}; check the server certificate and the port").format(
                where=where, error=exc
            )
        ) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            _(
                "could not send the digest through {where}: {error}; check RESONANZ_SMTP__HOST/PORT and that it runs"
            ).format(where=where, error=exc)
        ) from exc
    if refused:
        log.warning("some recipients were refused: %s", ", ".join(refused))


def send_digest(
    engine: Engine,
    settings: Settings,
    digest: Digest | str,
    *,
    recipients: Sequence[str] | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Digest:
    """Mail an archived digest (a Digest or its week label) and record when and to whom it went."""
    to = [r for r in (recipients if recipients is not None else settings.digest.recipients) if r]
    with i18n.language(settings.language):
        if not to:
            raise MailError(_("the digest has no recipients; set RESONANZ_DIGEST__RECIPIENTS='[\"team@example.de\"]'"))
    with session_scope(engine) as session, i18n.language(settings.language):
        label = digest if isinstance(digest, str) else digest.period_label
        row = session.exec(select(Digest).where(Digest.period_label == label)).first()
        if row is None:
            raise NotFoundError(
                _("no digest for {week} is archived; build it first with `resonanz digest --week {week}`").format(
                    week=label
                )
            )
        msg = build_message(row, settings.smtp.sender, to)
        deliver(msg, settings.smtp, to, ssl_context)
        row.sent_at = utcnow()
        row.recipients = list(to)
        session.add(row)
        session.flush()
        session.refresh(row)
    log.info("digest %s sent to %d recipient(s)", label, len(to))
    return row
