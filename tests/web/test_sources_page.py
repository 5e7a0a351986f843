"""``/sources``: the health of each source for everyone logged in (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from store.models import CollectorRun, Source, User
from tests.web.conftest import login

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REFUSED = (
    "Bluesky-Quelle 'suche': Die Bluesky-Suche braucht seit 2025 eine Anmeldung (die öffentliche AppView antwortet "
    "ohne Login mit 403). Setze RESONANZ_COLLECTORS__BLUESKY_HANDLE und RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD."
)


def add_runs(session: Session) -> None:
    tag = Source(name="tag", platform="mastodon", query="#Brühwerk", config={"instance": "social.example"})
    search = Source(name="suche", platform="bluesky", query="Brühwerk")
    idle = Source(name="neu", platform="reddit", account="r/de", enabled=False)
    session.add_all([tag, search, idle])
    session.flush()
    report = {"items": 42, "kept": 40, "skipped": {"repost": 2}, "refused": []}
    for i, (status, fetched) in enumerate([("ok", 30), ("ok", 40)]):
        session.add(CollectorRun(source_id=tag.id or 0, started_at=T0 + timedelta(minutes=15 * i), status=status,
                                 finished_at=T0 + timedelta(minutes=15 * i, seconds=20), fetched=fetched, new=fetched,
                                 cursor_after={"report": report}))  # fmt: skip
    for i in range(2):
        session.add(CollectorRun(source_id=search.id or 0, started_at=T0 + timedelta(minutes=15 * i), status="failed",
                                 finished_at=T0 + timedelta(minutes=15 * i, seconds=2), errors=1, error=REFUSED,
                                 cursor_after={"report": {"items": 0, "kept": 0, "skipped": {},
                                                          "refused": ["search:Brühwerk"]}}))  # fmt: skip
    session.commit()


def test_every_user_sees_the_health_of_each_source_and_what_to_do(
    client: TestClient, session: Session, users: dict[str, User]
) -> None:
    add_runs(session)
    assert client.get("/sources").status_code == 303  # login first
    login(client, "anton")  # an analyst: reading is enough
    page = client.get("/sources")
    assert page.status_code == 200
    html = page.text
    assert 'href="/sources" class="active"' in html
    assert 'Quellen <span class="muted">(3, 1 mit Fehlern)</span>' in html
    tag = html[html.index('id="source-tag"') :]  # by name: neu, suche, tag
    assert '<span class="tag">ok</span>' in tag and "20.11.2026, 10:15 MEZ" in tag and "2 × Reposts" in tag
    assert ">35<" in tag and "zuletzt 40" in tag
    search = html[html.index('id="source-suche"') : html.index('id="source-tag"')]
    assert '<span class="tag">Fehler</span>' in search and '<td class="num">2</td>' in search
    assert "Zu tun:</b> Die Bluesky-Suche braucht seit 2025 eine Anmeldung" in search
    assert "nie gelaufen" in html and "ausgeschaltet" in html
