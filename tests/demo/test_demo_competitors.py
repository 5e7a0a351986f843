"""The demo's competitors (``resonanz/demo/data/competitors.json``): two tagged sources and their posts."""

from __future__ import annotations

import json

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from resonanz.demo.competitors import load_competitors
from resonanz.demo.data import COMPETITORS, DATA_DIR
from store.models import Post, Source


def test_the_competitor_sources_are_tagged_and_hold_their_posts(sqlite_engine: Engine) -> None:
    spec = json.loads(COMPETITORS.read_text(encoding="utf-8"))["sources"]
    expected = {
        s["name"]: sum(1 for line in (DATA_DIR / s["posts"]).read_text(encoding="utf-8").splitlines() if line)
        for s in spec
    }
    for _ in range(2):  # idempotent: a second load changes nothing
        reports = load_competitors(sqlite_engine, DATA_DIR)
        assert all(not r.errors for r in reports)
    with Session(sqlite_engine) as session:
        sources = {s.name: s for s in session.exec(select(Source)).scalars()}  # type: ignore[call-overload]
        assert {name: s.brand for name, s in sources.items()} == {s["name"]: s["brand"] for s in spec}
        assert not any(s.enabled for s in sources.values())  # nothing to collect from
        counts = dict(
            session.execute(
                select(col(Source.name), func.count())
                .join(Post, col(Post.source_id) == col(Source.id))
                .group_by(col(Source.name))
            ).all()
        )
        assert counts == expected
        orphans = session.execute(select(func.count()).where(col(Post.source_id).is_(None))).scalar_one()
        assert orphans == 0
