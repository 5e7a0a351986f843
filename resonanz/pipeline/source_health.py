"""Is collection working, source by source, and if not: what must the user do?

Everything here is read from the ``collector_run`` rows: the last success, how many runs in a row failed,
how much a run brings in, what the last run skipped and why (the collector's ``report`` in the run's
final cursor), the problems of the latest runs, and advice derived from their messages (``ADVICE``). Used
by ``resonanz sources`` and the web page ``/sources``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors import FAULT_SKIPS, SKIP_REASONS
from store.db import session_scope
from store.models import CollectorRun, Source

RECENT_RUNS = 20
"""How many of a source's latest runs the health looks at."""
SUCCESS = frozenset({"ok", "partial"})
NOT_COUNTED = frozenset({"running", "skipped", "interrupted"})
"""Runs that say nothing about the source: still going, skipped for an overlapping run, stopped on request."""

OK, WARNING, FAILING, NEVER = "ok", "Warnung", "Fehler", "nie gelaufen"
SKIP_SHORT = {"malformed": "unlesbar", "repost": "Reposts", "blocked": "blockiert", "not_a_post": "keine Beiträge",
              "deferred": "auf später"}  # fmt: skip

ADVICE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), text)
    for pattern, text in (
        (
            r"Bluesky-Suche braucht seit 2025|refuses post search",
            "Die Bluesky-Suche braucht seit 2025 eine Anmeldung: RESONANZ_COLLECTORS__BLUESKY_HANDLE und "
            "RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD setzen (App-Passwort aus Bluesky: Einstellungen > "
            "Datenschutz und Sicherheit > App-Passwörter) oder die Quelle mit --account auf ein Konto umstellen.",
        ),
        (
            r"Bluesky login as .* failed",
            "Die Bluesky-Anmeldung schlägt fehl: Handle in RESONANZ_COLLECTORS__BLUESKY_HANDLE und das App-Passwort "
            "in RESONANZ_COLLECTORS__BLUESKY_APP_PASSWORD prüfen (kein Konto-Passwort, sondern ein App-Passwort).",
        ),
        (
            r"MASTODON_TOKEN",
            "Für die Mastodon-Volltextsuche ein Zugangstoken setzen: RESONANZ_COLLECTORS__MASTODON_TOKEN (auf der "
            "Instanz unter Einstellungen > Entwicklung > Neue Anwendung, Recht read:statuses), oder einem Hashtag "
            "mit --query '#tag' folgen.",
        ),
        (
            r"REDDIT_CLIENT",
            "Den Reddit-Zugang prüfen: RESONANZ_COLLECTORS__REDDIT_CLIENT_ID und RESONANZ_COLLECTORS__REDDIT_CLIENT_"
            "SECRET einer 'script'-App von reddit.com/prefs/apps.",
        ),
        (
            r"quota",
            "Das Tageskontingent der API ist aufgebraucht; die Sammlung läuft nach dem Zurücksetzen (Mitternacht "
            "pazifischer Zeit) von selbst weiter. Dauerhaft zu knapp: RESONANZ_COLLECTORS__YOUTUBE_DAILY_QUOTA "
            "anpassen oder das Intervall verlängern.",
        ),
        (
            r"\(401\)|refused \(401\)|needs a login",
            "Die Plattform lehnt die Zugangsdaten ab (401): die RESONANZ_COLLECTORS__…-Einstellungen dieser "
            "Plattform prüfen.",
        ),
        (
            r"\(403\)",
            "Die Plattform verweigert den Zugriff (403): Ist das Konto oder die Community privat geworden, oder "
            "braucht die Abfrage eine Anmeldung? Abfrage, Konto und Zugangsdaten prüfen.",
        ),
        (
            r"\((404|410)\)|does not exist",
            "Die Quelle gibt es auf der Plattform nicht (mehr): Abfrage bzw. Konto prüfen und die Quelle mit "
            "`resonanz sources remove` und `resonanz sources add` neu anlegen.",
        ),
        (
            r"rate limited|allows no more requests|\(429\)",
            "Die Plattform drosselt die Anfragen: ein längeres Intervall wählen (-i beim Anlegen); der nächste Lauf "
            "macht dort weiter, wo dieser aufgehört hat.",
        ),
        (
            r"alle \d+ Einträge dieses Laufs wurden übersprungen",
            "Die Plattform liefert Einträge in einer Form, die Resonanz nicht lesen kann: die Meldungen aus "
            "`resonanz runs -s QUELLE` bitte an die Entwickler:innen weitergeben.",
        ),
        (
            r"failed \d+ runs in a row|page has failed",
            "Eine Seite lädt seit mehreren Läufen nicht; sie wird mit wachsendem Abstand erneut versucht, ältere "
            "Beiträge dieser Liste fehlen bis dahin. Hält das über einen Tag an, die Meldungen weitergeben.",
        ),
        (
            r"failed \d+ times|answered 5\d\d|ConnectError|ConnectTimeout|ReadTimeout|is not reachable",
            "Die Plattform war nicht erreichbar: Netzwerk und Adresse (z. B. -o instance=…) prüfen; der nächste "
            "Lauf setzt an derselben Stelle fort.",
        ),
        (
            r"invalid or truncated JSON|malformed|unlesbar|nicht lesbar",
            "Die Plattform lieferte unlesbare Antworten; Resonanz versucht es von selbst erneut. Nur wenn das "
            "anhält, ist etwas zu tun: die Meldungen weitergeben.",
        ),
    )
)
SPECIFIC = 5
"""The first ``SPECIFIC`` rules name a platform's own fix; the ones after them go by status codes and messages."""
FALLBACK_ADVICE = "Die vollständigen Meldungen zeigt `resonanz runs -s {name}`."


@dataclass
class SourceHealth:
    """One source's collection health (times are aware UTC)."""

    name: str
    platform: str
    enabled: bool
    what: str
    state: str = NEVER
    last_run_at: datetime | None = None
    last_status: str | None = None
    last_success_at: datetime | None = None
    consecutive_failures: int = 0
    runs: int = 0
    items_last_run: int | None = None
    items_per_run: float | None = None
    new_last_run: int | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    @property
    def skipped_short(self) -> str:
        """``2 Reposts, 1 unlesbar`` for tables."""
        return ", ".join(f"{n} {SKIP_SHORT.get(reason, reason)}" for reason, n in sorted(self.skipped.items()) if n)

    @property
    def skipped_lines(self) -> list[str]:
        """``3 × unlesbare Einträge …`` per reason, in words."""
        return [f"{n} × {SKIP_REASONS.get(reason, reason)}" for reason, n in sorted(self.skipped.items()) if n]


def advice_for(messages: Sequence[str], name: str) -> list[str]:
    """What the user should do about ``messages`` (each piece of advice once, most specific first)."""
    text = "\n".join(messages)
    found: list[str] = []
    for index, (pattern, advice) in enumerate(ADVICE):
        if index == SPECIFIC and found:  # a platform's own advice says it better than the status code
            break
        if pattern.search(text) and advice not in found:
            found.append(advice)
            if len(found) == 2:
                break
    if not found and text.strip():
        found.append(FALLBACK_ADVICE.format(name=name))
    return found


def _report(run: CollectorRun) -> dict[str, Any]:
    report = (run.cursor_after or {}).get("report")
    return report if isinstance(report, dict) else {}


def _lines(error: str | None) -> list[str]:
    return [line.strip() for line in (error or "").splitlines() if line.strip()]


def health_of(source: Source, runs: Sequence[CollectorRun]) -> SourceHealth:
    """The health of ``source`` from its runs, newest first."""
    what = " / ".join(x for x in (source.query, source.account) if x) or "-"
    health = SourceHealth(name=source.name, platform=source.platform, enabled=source.enabled, what=what)
    finished = [r for r in runs if r.status not in NOT_COUNTED]
    health.runs = len(finished)
    if runs:
        health.last_run_at, health.last_status = runs[0].started_at, runs[0].status
    if not finished:
        return health
    last = finished[0]
    health.items_last_run, health.new_last_run = last.fetched, last.new
    health.items_per_run = sum(r.fetched for r in finished) / len(finished)
    success = next((r for r in finished if r.status in SUCCESS), None)
    health.last_success_at = (success.finished_at or success.started_at) if success else None
    for run in finished:
        if run.status in SUCCESS:
            break
        health.consecutive_failures += 1
    skipped = _report(last).get("skipped") or {}
    health.skipped = {str(k): int(v) for k, v in skipped.items() if int(v)}
    troubled = [r for r in finished[: max(1, health.consecutive_failures)] if r.error]
    health.problems = [line for r in troubled[:1] for line in _lines(r.error)][:6]
    refused = bool(_report(last).get("refused"))
    faults = any(reason in FAULT_SKIPS for reason in health.skipped)
    if last.status not in SUCCESS:
        health.state = FAILING
    elif last.status == "partial" or refused or faults:
        health.state = WARNING
    else:
        health.state = OK
    if health.state != OK:
        health.advice = advice_for([line for r in troubled for line in _lines(r.error)], source.name)
    return health


def source_health(session: Session, name: str | None = None) -> list[SourceHealth]:
    """The health of every source (or of the one named), by name."""
    query = select(Source).order_by(col(Source.name))
    if name is not None:
        query = query.where(col(Source.name) == name)
    sources = list(session.execute(query).scalars())
    out: list[SourceHealth] = []
    for source in sources:
        runs = session.execute(
            select(CollectorRun)
            .where(col(CollectorRun.source_id) == source.id)
            .order_by(col(CollectorRun.id).desc())
            .limit(RECENT_RUNS)
        ).scalars()
        out.append(health_of(source, list(runs)))
    return out


def source_health_report(engine: Engine, name: str | None = None) -> list[SourceHealth]:
    """:func:`source_health` in its own session."""
    with session_scope(engine) as session:
        return source_health(session, name)
