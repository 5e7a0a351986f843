"""A small, hand-computable world for the competitor tests (answers, CLI, web, digest): the own brand and two
tagged competitors over 2026-W46 and W47 (see :func:`build_world`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from store.models import Post, Source
from tests.answers.factory import MONDAY, PREV_MONDAY, Factory

RL, BRIX = "Röstlicht", "Brix Kaffeehafen"


@dataclass
class World:
    posts: dict[str, Post] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)


def source(session: Session, name: str, brand: str | None, platform: str = "mastodon") -> Source:
    src = Source(name=name, platform=platform, query=f"#{name}", brand=brand)
    session.add(src)
    session.flush()
    return src


def build_world(session: Session) -> World:
    """2026-W47 (MONDAY) and the week before (PREV_MONDAY).

    ===========  ==========================================  ======================
    brand        W47                                         W46
    ===========  ==========================================  ======================
    own          anna (A, w 5) negative; p1 (w 0.5) positive  p1 (w 0.5) positive
                 (the latter without a source: an import)
    Röstlicht    ben (A, w 5) positive; p2 (w 0.5) negative;  –
                 p2 (w 0.5) neutral
    Brix         p1 (w 0.5) negative                          p2 (w 0.5) positive
    ===========  ==========================================  ======================

    Not counted: a post of the own brand's account (voice 'brand') and a deleted Röstlicht post.
    """
    f = Factory(session)
    w = World()
    w.sources["own"] = source(session, "eigen", None)
    w.sources["rl"] = source(session, "roestlicht-tag", RL)
    w.sources["brix"] = source(session, "brix-suche", BRIX, platform="bluesky")
    anna, ben = f.customer("Anna Amsel", "A", weight=5.0), f.customer("Ben Berg", "A", weight=5.0)
    ids = {name: f.identity(f"@{name}@social.example") for name in ("anna", "ben", "p1", "p2", "brand")}
    f.link(ids["anna"], anna)
    f.link(ids["ben"], ben)
    d = timedelta

    def post(key: str, who: str, src: str | None, sentiment: str, when: datetime = MONDAY, **kw: object) -> Post:
        p = f.post(ids[who], f"{key} text", when, sentiment=sentiment, topics=["Service"], **kw)  # type: ignore[arg-type]
        p.source_id = w.sources[src].id if src else None
        session.add(p)
        w.posts[key] = p
        return p

    post("own_anna", "anna", "own", "negative", weight=5.0)
    post("own_p1", "p1", None, "positive", MONDAY + d(days=1))
    post("rl_ben", "ben", "rl", "positive", MONDAY + d(days=2), weight=5.0)
    post("rl_p2_neg", "p2", "rl", "negative", MONDAY + d(days=2))
    post("rl_p2_neu", "p2", "rl", "neutral", MONDAY + d(days=3))
    post("brix_p1", "p1", "brix", "negative", MONDAY + d(days=3), platform="bluesky")
    post("own_prev", "p1", "own", "positive", PREV_MONDAY)
    post("brix_prev", "p2", "brix", "positive", PREV_MONDAY + d(days=1), platform="bluesky")
    brand_post = post("own_brand_voice", "brand", "own", "positive", MONDAY + d(days=1))
    brand_post.voice = "brand"
    deleted = post("rl_deleted", "p2", "rl", "negative", MONDAY + d(days=1))
    deleted.deleted_at = MONDAY + d(days=2)
    session.add_all([brand_post, deleted])
    session.commit()
    return w
