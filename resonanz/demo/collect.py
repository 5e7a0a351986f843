"""The demo collection: the bundled Mastodon fixture served on 127.0.0.1 and collected once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from resonanz.core.settings import Settings
from resonanz.pipeline.collect import RunSummary, find_source, run_source
from store.db import session_scope
from store.models import Post, SocialIdentity, Source


@dataclass
class DemoCollection:
    """What one demo collection run stored."""

    run: RunSummary
    posts: int
    replies: int
    identities: int
    samples: list[tuple[str, str]]


DEMO_SOURCE = "demo-mastodon"


def demo_collection(engine: Engine, settings: Settings) -> DemoCollection:
    """Serve the bundled Mastodon fixture (German posts about the coffee roaster Lindenhof, with
    replies) on 127.0.0.1, point a source at it, collect once, and report what landed.

    The collection runs on the story's clock (just after the fixture's newest post, in the story week
    2026-W47), not today's: the posts keep their dates and land in the week the demo's digest reports.
    The source stays in the database, disabled (its server is gone once this returns)."""
    from collectors.testing import FakeMastodon, LocalServer, load_fixture

    fixture = load_fixture("mastodon_demo.json")
    clock = max(datetime.fromisoformat(s["created_at"]) for s in fixture["statuses"]) + timedelta(minutes=2)
    with LocalServer(FakeMastodon(fixture["statuses"], rebase_to=clock)) as server:
        with session_scope(engine) as session:
            src = session.execute(select(Source).where(col(Source.name) == DEMO_SOURCE)).scalars().first()
            if src is None:
                src = Source(name=DEMO_SOURCE, platform="mastodon", query=f"#{fixture['tag']}")
            src.config = {"instance": server.url, "overlap_minutes": 60 * 24 * 30}
            src.enabled = False
            session.add(src)
        summary = run_source(engine, DEMO_SOURCE, settings, now=clock)
    with session_scope(engine) as session:
        src_id = find_source(session, DEMO_SOURCE).id
        by_kind = select(col(Post.kind), func.count()).where(col(Post.source_id) == src_id).group_by(col(Post.kind))
        kinds: dict[str, int] = {str(kind): int(n) for kind, n in session.execute(by_kind).all()}
        identities = session.execute(
            select(func.count(func.distinct(col(Post.identity_id)))).where(col(Post.source_id) == src_id)
        ).scalar_one()
        rows = session.execute(
            select(col(SocialIdentity.handle), col(Post.text))
            .join(SocialIdentity, col(SocialIdentity.id) == col(Post.identity_id))
            .where(col(Post.source_id) == src_id)
            .order_by(col(Post.created_at).desc())
            .limit(5)
        ).all()
    return DemoCollection(
        run=summary,
        posts=int(kinds.get("post", 0)),
        replies=int(kinds.get("comment", 0)),
        identities=int(identities),
        samples=[(str(handle), str(text)) for handle, text in rows],
    )
