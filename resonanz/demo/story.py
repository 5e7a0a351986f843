"""The demo's fixed clock: the week its data tells (``reference`` in ``demo/data/truth.json``), whatever today is.

Collection, customer values and the digest of ``resonanz demo`` run as of the end of that week, so the demo
shows the same story in 2026 and in 2030; the commands it suggests name the week for the same reason.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from resonanz.core.periods import Period, iso_week
from resonanz.demo.data import TRUTH


@dataclass(frozen=True)
class Story:
    week: str
    """The digest week of the story, e.g. 2026-W47."""

    def period(self, tz: str = "Europe/Berlin") -> Period:
        return iso_week(self.week, tz)

    def end(self, tz: str = "Europe/Berlin") -> datetime:
        """The moment the demo runs at: the end of the story week (Monday 00:00 after it, as UTC)."""
        return self.period(tz).end


@cache
def story() -> Story:
    reference = json.loads(TRUTH.read_text(encoding="utf-8"))["reference"]
    return Story(week=str(reference["digest_week"]))


@dataclass(frozen=True)
class NextStep:
    """A command to try after the demo, and what it shows of the story."""

    command: str
    shows: str


def next_steps(week: str, out_dir: str, web: str = "http://127.0.0.1:8765", env_prefix: str = "") -> list[NextStep]:
    """The suggested commands, each showing the story week (``env_prefix``: e.g. ``RESONANZ_DATABASE_URL=...``
    when a configured database would otherwise win over the demo's)."""
    digest = shlex.quote(f"{out_dir}/digest-{week}.html")
    steps = [
        NextStep(f"resonanz ask --class A --week {week}", "was die A-Kunden in der Story-Woche sagen"),
        NextStep('resonanz search "Mühle" --class A', "die Beschwerden des Hotels Rheinblick über die Leihmühle"),
        NextStep(f"resonanz digest --week {week} --output {digest}", "der Wochenbericht der Story-Woche als HTML"),
        NextStep(f"resonanz competitors --week {week}", "Lindenhof gegen zwei Wettbewerber: Stimmenanteil, Stimmung"),
        NextStep("resonanz users add admin --role admin", "ein Login für die Web-App (fragt nach dem Passwort)"),
        NextStep(
            "resonanz serve",
            f"Review-Queue {web}/queue, Dashboard {web}/dashboard?week={week}, "
            f"Suche {web}/search?q=M%C3%BChle&class=A, Ask {web}/ask?class=A&week={week}",
        ),
    ]
    return [NextStep(env_prefix + s.command, s.shows) for s in steps]
