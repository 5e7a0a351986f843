"""What runs inside each Ray actor: settings, engine and analyzer loaded once, then one id range per call.

The class is a plain callable without a Ray import: Ray Data's ``map_batches`` turns it into a pool of actors
(:mod:`.driver`), and it can be called in-process as well. Each call scores its ranges with
:func:`resonanz.pipeline.scoring.score_posts` (``ids=``), the write path of ``resonanz score`` and of the workers'
``score_range`` jobs, and returns one row of counts per range. An actor whose models carry another version than
the one the driver planned for scores nothing and returns the reason in the ``mismatch`` column instead (an
exception would lose its class and message on the way through Ray); the driver raises it.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from typing import Any

from resonanz.core.db import engine_from_settings
from resonanz.core.settings import get_settings
from resonanz.pipeline.scoring import score_posts, shared_analyzer

log = logging.getLogger(__name__)

COLUMNS = ("first_id", "last_id", "posts", "scored", "flagged", "review_created", "review_updated", "seconds",
           "mismatch")  # fmt: skip
"""What the actors return per range (``posts``: unscored when it was planned)."""
COMMIT_CHUNK = 1024
"""Posts analysed and committed together inside a range (``score_posts``' ``chunk_size``) at most."""


def mismatch_message(name: str, loaded: str, planned: str) -> str:
    return (
        f"Ein Ray-Actor auf {socket.gethostname()} bewertet mit {name} {loaded}, der Backfill ist für {planned} "
        "geplant. Alle Rechner des Clusters brauchen dieselben [nlp]-Einstellungen und Modelldateien (auch "
        "nlp.precision: fp32 oder bf16 fest setzen, wenn die Rechner verschiedene CPUs haben); nichts wurde "
        "bewertet, was schon fertig ist, bleibt gespeichert."
    )


class RangeScorer:
    """Scores id ranges; built once per actor from the ``RESONANZ_*`` environment the driver hands the actors."""

    def __init__(self, model_version: str, chunk: int) -> None:
        self.settings = get_settings()
        self.engine = engine_from_settings(self.settings, migrate=False)  # the driver has migrated it
        self.analyzer = shared_analyzer(self.settings)
        self.chunk = max(1, min(chunk, COMMIT_CHUNK))
        loaded = self.analyzer.version
        self.mismatch = "" if loaded == model_version else mismatch_message(self.analyzer.name, loaded, model_version)
        log.info("backfill actor on %s ready: %s %s", socket.gethostname(), self.analyzer.name, loaded)

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Score each range of ``batch`` (columns ``first_id``, ``last_id``, ``posts``); one row per range."""
        out: dict[str, list[Any]] = {column: [] for column in COLUMNS}
        for first, last, posts in zip(batch["first_id"], batch["last_id"], batch["posts"], strict=True):
            row = self.score(int(first), int(last))
            row.update(first_id=int(first), last_id=int(last), posts=int(posts))
            for column in COLUMNS:
                out[column].append(row[column])
        return out

    def score(self, first_id: int, last_id: int) -> dict[str, Any]:
        """The counts of scoring the unscored posts ``first_id`` to ``last_id`` (nothing on a model mismatch)."""
        if self.mismatch:
            return {"scored": 0, "flagged": 0, "review_created": 0, "review_updated": 0, "seconds": 0.0,
                    "mismatch": self.mismatch}  # fmt: skip
        report = score_posts(self.engine, self.settings, self.analyzer, ids=(first_id, last_id),
                             chunk_size=self.chunk, progress=False)  # fmt: skip
        return {"scored": report.scored, "flagged": report.flagged, "review_created": report.review_created,
                "review_updated": report.review_updated, "seconds": report.seconds, "mismatch": ""}  # fmt: skip
