"""The demo's competitors: two sources tagged with a competitor's brand, and their posts (``data/competitors.json``).

The sources are stored disabled (there is nothing to collect from); their posts come from the bundled JSONL files
and are attached to them, so ``resonanz competitors``, the web page /competitors, the dashboard and the digest
compare Lindenhof with Röstlicht and Brix Kaffeehafen over the story's last four weeks.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.importing import ImportReport, import_posts
from store.db import session_scope
from store.models import Post, Source


def load_competitors(engine: Engine, data_dir: Path) -> list[ImportReport]:
    """Create (or re-tag) the competitor sources and import their posts (idempotent)."""
    spec = json.loads((data_dir / "competitors.json").read_text(encoding="utf-8"))
    reports = []
    for entry in spec["sources"]:
        path = data_dir / entry["posts"]
        report = import_posts(engine, path)
        reports.append(report)
        keys = [json.loads(line)["external_id"] for line in path.read_text(encoding="utf-8").splitlines() if line]
        with session_scope(engine) as session:
            source = session.execute(select(Source).where(col(Source.name) == entry["name"])).scalars().first()
            if source is None:
                source = Source(name=entry["name"], platform=entry["platform"], query=entry["query"], enabled=False)
            source.brand = entry["brand"]
            session.add(source)
            session.flush()
            session.execute(
                update(Post)
                .where(col(Post.platform) == entry["platform"], col(Post.external_id).in_(keys))
                .where(col(Post.source_id).is_(None))  # a post keeps the first source that stored it
                .values(source_id=source.id)
            )
    return reports
