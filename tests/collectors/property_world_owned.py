"""The owned channels in the multi-run property check (issue 14): worlds for ``tests/collectors/property_world.py``.

Registered at import time (``WORLDS``): ``google_business``, ``google_play``, ``trustpilot``, ``facebook`` and
``instagram``. Each serves a random, changing set of items through its fake in ``collectors.testing`` (responses
in the shape the platform sends them, its own pagination and error bodies; a page holds 2-6 items so a few dozen
items span many pages) and runs through ``run_world``/``check`` of ``property_world`` unchanged: the injected
faults (429, 500, 503, read timeouts, truncated JSON, ``kill -9`` after a few stored pages) come from its
``FaultyTransport``; the persistent 403 is answered by the fake itself with the platform's documented body
(``settings(run_no, refused)`` switches it on), so ``is_listing`` is never needed. Each world also draws
``overlap_minutes`` (the default, 0 or 10), so the incremental stop is exercised without the overlap's safety net,
and ``max_pages`` (no limit, 2 or 3 pages per listing and run), so sweeps are often resumed by the next run.

What "the store equals the platform" means per platform (``check``: every live item that was ever listed is stored
once with its latest text and not marked deleted; every deleted item that is stored is marked deleted; nothing
else, nothing twice):

* **Google Business Profile** (reviews per location, 1-3 locations, sometimes a new one opens; ``updateTime desc``,
  opaque page tokens naming the page's last review, a token whose review is gone answers 400; access tokens that
  expire after a few calls): new reviews, **edits** (new text and stars, ``updateTime`` moves the review to the
  top; the collector claims to follow them, so the store must hold the latest text; old reviews beyond the 30-day
  backfill come back when edited), reviews in Google's translation envelope, anonymous and star-only ones. The
  API gives no signal for a **removed review** and the collector keeps no list to compare with, so removals are
  *vanished* items: the property is "none lost, none duplicated, nothing live falsely marked deleted"; a stored
  removed review may stay unmarked.
* **Google Play** (``reviews.list``, only reviews changed in the last seven days, keyset page tokens, a service
  account whose JWT the fake verifies): new reviews, **edits** (latest text required), developer replies, reviews
  older than seven days that only appear once edited. Removals: as Google Business Profile (no signal).
* **Trustpilot** (``createdat.desc`` with *page numbers*, so a removal between two runs shifts the later reviews
  under a stored next-page link; every review is followed with ``/v1/reviews/{id}`` for ``reply_lookback``): new
  reviews, **edits** and company replies (followed by the refresh: latest text required), **removals** (404 there:
  must be marked deleted; the world's reviews all stay within the 48 h lookback). Reviews older than the 30-day
  backfill exist but are never listed.
* **Facebook** (Page feed with time-based paging; each post's comments with ``filter=stream``, replies under
  their top comment; rate-limit errors #4/#32 with a usage estimate and 96 % usage headers now and then, which
  the collector waits out): new posts (some without text, a story), comments and replies, **edited comments**
  (latest text required), **deleted comments** (with their replies) and **deleted posts** (with all their
  comments): all must be marked deleted. In most worlds one giveaway post gets 40-70 comments, more than the ten
  pages a refresh reads. Post edits are not followed by the collector (no post is re-read) and are not made.
* **Instagram** (own media and their comments with nested replies; media the brand is tagged in, which are not
  sorted within a page): new media, comments, replies, a giveaway as on Facebook, deleted comments (with replies)
  and media (with comments): marked deleted. Instagram comments cannot be edited. Tagged media are not followed
  (no thread), so their removal is a vanished item as above.

``World.live()`` leaves vanished items out (they are gone on the platform) and ``World.deleted`` holds only the
deletions the collector can see, so ``check`` needs no change; a run's vanished count is
``items - live - deleted`` of its outcome. What the fakes did besides the injected faults (expired access tokens,
stale page tokens, rate-limit answers) is in ``world.events()``; ``run_world`` does not report it.
"""

from __future__ import annotations

import atexit
import json
import random
import shutil
import tempfile
from abc import abstractmethod
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from collectors.testing.google_business import FakeGoogleBusiness, make_location
from collectors.testing.google_business import make_review as make_gbp_review
from collectors.testing.google_play import FakeGooglePlay
from collectors.testing.google_play import make_review as make_play_review
from collectors.testing.mastodon import load_fixture
from collectors.testing.meta import FakeGraph, graph_time
from collectors.testing.reddit import base36
from collectors.testing.server import Reply
from collectors.testing.trustpilot import FakeTrustpilot
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.sources import add_source
from tests.collectors.property_world import RUN_EVERY, SOURCE, T0, WORLDS, World

NAMES = ("Jana Hoffmann", "Murat Yilmaz", "Sabine K.", "Thomas Brandt", "Chloé Martin", "Lea Wagner", "Kai",
         "Petra Becker", "Jonas", "M. Schulz")  # fmt: skip
PRAISE = ("sehr freundliches Team", "bester Flat White im Viertel", "schnelle Lieferung", "guter Kaffee",
          "lange Wartezeit", "die App stürzt ab", "Preise zu hoch", "sauber und ruhig")  # fmt: skip


class OwnedWorld(World):
    """What the owned-channel worlds share: the run's clock, the fake's own refusal, vanished items."""

    horizon = timedelta(days=30)

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.vanished: set[str] = set()
        """Removed on the platform in a way the collector cannot see (no signal): not in ``deleted``."""
        self.sort_time: dict[str, datetime] = {}
        """What the listing sorts by (update time, creation time); the listing reaches back to ``horizon``."""
        self.now = T0
        self.page_size = rng.randint(2, 6)
        self.overlap = rng.choice((None, 0, 10))
        self.max_pages = rng.choice((None, None, 2, 3))

    def settings(self, run_no: int, refused: bool) -> Settings:
        self.now = T0 + run_no * RUN_EVERY
        self.refuse(refused)
        return Settings(collectors=CollectorSettings(max_retries=4, timeout=5, **self.credentials()))

    def options(self, **extra: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"max_threads": 500, **extra}
        if self.overlap is not None:
            options["overlap_minutes"] = self.overlap
        if self.max_pages is not None:
            options["max_pages"] = self.max_pages
        return options

    def live(self) -> set[str]:
        return set(self.text) - self.deleted - self.vanished

    def visible(self) -> set[str]:
        return {e for e in super().visible() if self.sort_time.get(e, self.now) >= self.now - self.horizon}

    def is_listing(self, request: httpx.Request) -> bool:
        return False  # the fake answers the refusal itself, with the platform's body (see refuse)

    def events(self) -> Counter[str]:
        """What the fake did besides the injected faults (expired tokens, stale page tokens, rate limits)."""
        return Counter()

    @abstractmethod
    def refuse(self, refused: bool) -> None:
        """Make the fake refuse the listing (with the platform's 403 body) or serve it again."""

    @abstractmethod
    def credentials(self) -> dict[str, Any]:
        """The platform's credentials for ``CollectorSettings``."""


class ReviewWorld(OwnedWorld):
    """Reviews: no replies; new ones, edits and removals between runs, a few old ones at the start."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.version: Counter[str] = Counter()

    def new_reply(self, parent: str, created: datetime) -> None:
        raise NotImplementedError("reviews have no replies")

    def backdated(self) -> None:
        """Reviews older than the listing reaches, made before the first run."""

    def edit(self, review_id: str, at: datetime) -> None:
        raise NotImplementedError

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        span = (end - start).total_seconds()

        def moment() -> datetime:
            return start + timedelta(seconds=self.rng.uniform(0, span * 0.95))

        if first:
            self.backdated()
        for _ in range(self.rng.randint(6, 14) if first else self.rng.randint(0, 3)):
            self.new_root(moment())
        if first:
            return
        for _ in range(self.rng.randint(0, 2)):
            candidates = sorted(self.live())
            if candidates:
                review = self.rng.choice(candidates)
                self.version[review] += 1
                self.edit(review, max(moment(), self.sort_time[review] + timedelta(seconds=1)))
        if self.rng.random() < 0.6:
            candidates = sorted(self.live())
            if candidates:
                self.remove(self.rng.choice(candidates))

    def review_text(self, review_id: str, number: int) -> str:
        words = self.rng.choice(PRAISE)
        edit = self.version[review_id]
        return f"Bewertung {number}: {words}." if not edit else f"Bewertung {number}, Nachtrag {edit}: {words}."


# -- Google Business Profile ----------------------------------------------------------------------------


class GoogleBusinessWorld(ReviewWorld):
    platform = "google_business"
    ACCOUNT = "114829048283456789012"
    CLIENT = ("563018924417-abc.apps.googleusercontent.com", "GOCSPX-test-secret", "1//09-test-refresh-token")
    CITIES = (("Köln", "50823", "Venloer Straße"), ("Köln", "50677", "Severinstraße"), ("Bonn", "53111", "Markt"),
              ("Düsseldorf", "40213", "Königsallee"), ("Aachen", "52062", "Pontstraße"))  # fmt: skip

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        client_id, secret, refresh = self.CLIENT
        self.fake = FakeGoogleBusiness(self.ACCOUNT, client_id=client_id, client_secret=secret, refresh_token=refresh,
                                       max_page=self.page_size, location_page=rng.choice((1, 2, 100)),
                                       token_calls=rng.choice((None, 3, 8, 20)))  # fmt: skip
        self.location_of: dict[str, str] = {}
        self.number: dict[str, int] = {}
        for _ in range(rng.randint(1, 3)):
            self._open_location()

    def _open_location(self) -> None:
        number = len(self.fake.locations)
        city, postcode, street = self.CITIES[number % len(self.CITIES)]
        location_id = str(12829448582318421457 + 7919 * number)
        location = make_location(location_id, f"Lindenhof Kaffee {city} {number + 1}",
                                 store_code=f"LK-{number + 1:02d}", street=f"{street} {10 + number}",
                                 postcode=postcode, city=city, maps_cid=str(1283746501928374651 + number))  # fmt: skip
        self.fake.add_location(location)

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="google_business", name=SOURCE, account=f"accounts/{self.ACCOUNT}",
                   options=self.options())  # fmt: skip

    def credentials(self) -> dict[str, Any]:
        client_id, secret, refresh = self.CLIENT
        return {"google_business_client_id": client_id, "google_business_client_secret": SecretStr(secret),
                "google_business_refresh_token": SecretStr(refresh)}  # fmt: skip

    def refuse(self, refused: bool) -> None:
        self.fake.refused = refused

    def events(self) -> Counter[str]:
        return Counter({"expired access tokens (401)": self.fake.tokens.expired,
                        "stale page tokens (400)": self.fake.stale_tokens})  # fmt: skip

    def backdated(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            self.new_root(self.now - timedelta(days=self.rng.uniform(35, 90)))

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        if not first and self.rng.random() < 0.08 and len(self.fake.locations) < len(self.CITIES):
            self._open_location()
        super().evolve(start, end, first=first)

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        review_id = f"AbFvOq{base36(36**6 + self.counter * 7919)}Lm"
        location = self.rng.choice(sorted(self.fake.locations))
        kind = self.rng.random()
        name = self.rng.choice(NAMES)
        photo = f"https://lh3.googleusercontent.com/a-/ALV-Uj{base36(5000 + NAMES.index(name))}"
        text = self.review_text(review_id, self.counter)
        if kind < 0.1:  # stars only: no comment
            text = ""
        translated = "Good coffee, friendly staff." if 0.1 <= kind < 0.2 else None
        review = make_gbp_review(self.ACCOUNT, location, review_id, created, text or None,
                                 stars=self.rng.randint(1, 5), reviewer=None if kind > 0.9 else name,
                                 photo=photo if kind < 0.8 else None, translated=translated)  # fmt: skip
        self.fake.add_review(location, review)
        self.parent[review_id], self.text[review_id] = None, text
        self.location_of[review_id], self.number[review_id] = location, self.counter
        self.sort_time[review_id] = created

    def edit(self, review_id: str, at: datetime) -> None:
        text = self.review_text(review_id, self.number[review_id])
        stars = self.rng.randint(1, 5)

        def change(review: dict[str, Any]) -> None:
            review["comment"] = text
            review["starRating"] = ("ONE", "TWO", "THREE", "FOUR", "FIVE")[stars - 1]

        self.fake.edit(self.location_of[review_id], review_id, at, change)
        self.text[review_id] = text
        self.sort_time[review_id] = at

    def remove(self, external_id: str) -> None:
        self.fake.delete(self.location_of[external_id], external_id)
        self.vanished.add(external_id)


# -- Google Play ----------------------------------------------------------------------------------------

_KEY_DIR: list[Path] = []


def service_account_file() -> str:
    """The test service account of ``collectors/fixtures/google_play.json`` as a key file (once per process)."""
    if not _KEY_DIR:
        folder = Path(tempfile.mkdtemp(prefix="resonanz-play-key-"))
        atexit.register(shutil.rmtree, folder, True)
        (folder / "service-account.json").write_text(json.dumps(load_fixture("google_play.json")["service_account"]),
                                                     encoding="utf-8")  # fmt: skip
        _KEY_DIR.append(folder)
    return str(_KEY_DIR[0] / "service-account.json")


class GooglePlayWorld(ReviewWorld):
    platform = "google_play"
    PACKAGE = "de.lindenhof.app"
    horizon = timedelta(days=7)  # reviews.list only returns reviews changed in the last seven days

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeGooglePlay(self.PACKAGE, load_fixture("google_play.json")["service_account"],
                                   max_page=self.page_size, token_calls=rng.choice((None, 3, 8, 20)),
                                   now=lambda: self.now)  # fmt: skip
        self.number: dict[str, int] = {}
        self.title: dict[str, str] = {}

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="google_play", name=SOURCE, query=self.PACKAGE, options=self.options())

    def credentials(self) -> dict[str, Any]:
        return {"google_play_service_account_file": service_account_file()}

    def refuse(self, refused: bool) -> None:
        self.fake.refused = refused

    def events(self) -> Counter[str]:
        return Counter({"expired access tokens (401)": self.fake.tokens.expired})

    def backdated(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            self.new_root(self.now - timedelta(days=self.rng.uniform(8, 20)))

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        super().evolve(start, end, first=first)
        if not first and self.rng.random() < 0.3 and self.live():
            review = self.rng.choice(sorted(self.live()))
            self.fake.reply(review, start + (end - start) / 2, "Danke für dein Feedback! Dein Lindenhof-Team")

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        review_id = f"gp:AOqpTO{base36(36**8 + self.counter * 104729)}"
        text = self.review_text(review_id, self.counter)
        title = "Kurz gesagt" if self.rng.random() < 0.3 else ""
        author = None if self.rng.random() < 0.1 else self.rng.choice(NAMES)
        self.fake.add(make_play_review(review_id, author, created, text, stars=self.rng.randint(1, 5), title=title))
        self.parent[review_id], self.text[review_id] = None, text
        self.number[review_id], self.title[review_id] = self.counter, title
        self.sort_time[review_id] = created

    def edit(self, review_id: str, at: datetime) -> None:
        text = self.review_text(review_id, self.number[review_id])
        self.fake.edit(review_id, at, text, stars=self.rng.randint(1, 5), title=self.title[review_id])
        self.text[review_id] = text
        self.sort_time[review_id] = at

    def remove(self, external_id: str) -> None:
        self.fake.delete(external_id)
        self.vanished.add(external_id)


# -- Trustpilot -----------------------------------------------------------------------------------------


class TrustpilotWorld(ReviewWorld):
    platform = "trustpilot"
    UNIT, DOMAIN, KEY = "5f2a8c1e9b3d4e0001a7c9d2", "lindenhof-kaffee.de", "tp-test-api-key"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeTrustpilot(self.UNIT, self.DOMAIN, "Lindenhof Kaffee", api_key=self.KEY,
                                   max_page=self.page_size)  # fmt: skip
        self.number: dict[str, int] = {}
        self.query = rng.choice((self.DOMAIN, self.UNIT))

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="trustpilot", name=SOURCE, query=self.query, options=self.options())

    def credentials(self) -> dict[str, Any]:
        return {"trustpilot_api_key": SecretStr(self.KEY)}

    def refuse(self, refused: bool) -> None:
        self.fake.refused = refused

    def backdated(self) -> None:
        for _ in range(self.rng.randint(0, 3)):
            self.new_root(self.now - timedelta(days=self.rng.uniform(35, 90)))

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        super().evolve(start, end, first=first)
        if not first and self.rng.random() < 0.3 and self.live():
            review = self.rng.choice(sorted(self.live()))
            self.fake.reply(review, start + (end - start) / 2, "Danke für Ihre Bewertung! Ihr Lindenhof-Team")

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        review_id = f"673c{self.counter:012x}{self.rng.getrandbits(32):08x}"
        consumer = self.rng.randrange(len(NAMES))
        text = self.review_text(review_id, self.counter)
        review = self.fake.make_review(review_id, created, f"Titel {self.counter}", text, stars=self.rng.randint(1, 5),
                                       consumer_id=f"5d343e748c9ca1120{consumer:07x}", consumer_name=NAMES[consumer],
                                       location=self.rng.choice((None, "Lindenhof Kaffee Ehrenfeld")))  # fmt: skip
        self.fake.add(review)
        self.parent[review_id], self.text[review_id] = None, text
        self.number[review_id] = self.counter
        self.sort_time[review_id] = created

    def edit(self, review_id: str, at: datetime) -> None:
        text = self.review_text(review_id, self.number[review_id])
        self.fake.edit(review_id, at, text, stars=self.rng.randint(1, 5))
        self.text[review_id] = text

    def remove(self, external_id: str) -> None:
        self.fake.delete(external_id)
        self.deleted.add(external_id)  # /v1/reviews/{id} answers 404: the refresh marks it


# -- Meta (Facebook Page, Instagram) --------------------------------------------------------------------


class GraphWorld(OwnedWorld):
    """Posts (media) with comments and replies; deleting anything deletes what is under it."""

    TOKEN = "EAAGm0PX4ZCpsBAtest-page-token"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeGraph(token=self.TOKEN, max_page=self.page_size, rng=random.Random(rng.random()),
                              throttle=0.03, busy=0.03)  # fmt: skip
        self.created: dict[str, datetime] = {}
        self.top: dict[str, str] = {}  # comment -> its post/media

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def credentials(self) -> dict[str, Any]:
        return {"meta_access_token": SecretStr(self.TOKEN)}

    def events(self) -> Counter[str]:
        return Counter(self.fake.events)

    def followed(self, external_id: str) -> bool:
        """Whether replies can be added under it (the collector follows its thread)."""
        return True

    def extra(self, moment: Callable[[], datetime], first: bool) -> None:
        """Items besides posts and comments (tagged media)."""

    def edits(self, moment: Callable[[], datetime]) -> None:
        """Edits between runs (Facebook comments)."""

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        span = (end - start).total_seconds()

        def moment() -> datetime:
            return start + timedelta(seconds=self.rng.uniform(0, span * 0.95))

        for _ in range(self.rng.randint(3, 6) if first else self.rng.randint(0, 2)):
            self.new_root(moment())
        self.extra(moment, first)
        for _ in range(self.rng.randint(4, 12) if first else self.rng.randint(0, 6)):
            candidates = sorted(e for e in self.live() if self.followed(e) and self.replies_under(e) < 25)
            if candidates:
                parent = self.rng.choice(candidates)
                self.new_reply(parent, max(moment(), self.created[parent] + timedelta(seconds=1)))
        if first and self.rng.random() < 0.6:  # a giveaway: one post with more comments than ten pages hold
            before = set(self.parent)
            self.new_root(moment())
            (giveaway,) = set(self.parent) - before
            for _ in range(self.rng.randint(40, 70)):
                thread = [e for e in self.live() if self.top.get(e, e) == giveaway]
                parent = giveaway if self.rng.random() < 0.7 else self.rng.choice(sorted(thread))
                self.new_reply(parent, max(moment(), self.created[parent] + timedelta(seconds=1)))
        if first:
            return
        self.edits(moment)
        for _ in range(self.rng.randint(0, 2)):
            candidates = sorted(self.live())
            if candidates:
                self.remove(self.rng.choice(candidates))

    def remove(self, external_id: str) -> None:
        self.deleted |= self.fake.delete(external_id)  # with everything under it


class FacebookWorld(GraphWorld):
    platform = "facebook"
    PAGE, USERNAME = "104857392019283", "lindenhofkaffee"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake.add_page(self.PAGE, "Lindenhof Kaffee", self.USERNAME)
        self.account = rng.choice((self.PAGE, self.USERNAME))

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="facebook", name=SOURCE, account=self.account, options=self.options())

    def refuse(self, refused: bool) -> None:
        self.fake.refused = {"feed"} if refused else set()

    def _person(self) -> dict[str, str]:
        number = self.rng.randrange(len(NAMES))
        return {"name": NAMES[number], "id": str(5820193847561234 + number)}

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        number = 122118830412345678 + self.counter * 7919
        post_id = f"{self.PAGE}_{number}"
        brand = self.rng.random() < 0.7
        data: dict[str, Any] = {
            "id": post_id,
            "created_time": graph_time(created),
            "updated_time": graph_time(created),
            "permalink_url": f"https://www.facebook.com/{self.PAGE}/posts/{number}/",
            "from": {"name": "Lindenhof Kaffee", "id": self.PAGE} if brand else self._person(),
            "reaction_count": self.rng.randint(0, 50),
            "shares": {"count": self.rng.randint(0, 9)},
        }
        text = ""
        if self.rng.random() < 0.1:
            data["story"] = "Lindenhof Kaffee hat das Titelbild aktualisiert."
        else:
            text = f"Beitrag {self.counter}: {self.rng.choice(PRAISE)}"
            data["message"] = text
        self.fake.add("fb_post", data, self.PAGE)
        self.parent[post_id], self.text[post_id], self.created[post_id] = None, text, created

    def new_reply(self, parent: str, created: datetime) -> None:
        self.counter += 1
        # Facebook answers a reply to a reply under the same top comment
        above = self.parent[parent]
        top = parent if above is None or self.parent[above] is None else above
        post = self.top.get(top, top)
        comment_id = f"{post.split('_')[1]}_{3394857392021 + self.counter * 104729}"
        text = f"Kommentar {self.counter}: {self.rng.choice(PRAISE)}"
        data = {"id": comment_id, "message": text, "created_time": graph_time(created), "from": self._person(),
                "like_count": self.rng.randint(0, 7),
                "permalink_url": f"https://www.facebook.com/{self.PAGE}/posts/{post.split('_')[1]}/?comment_id="
                                 f"{comment_id.split('_')[1]}"}  # fmt: skip
        self.fake.add("fb_comment", data, post, parent=top)
        self.parent[comment_id], self.text[comment_id], self.created[comment_id] = top, text, created
        self.top[comment_id] = post

    def edits(self, moment: Callable[[], datetime]) -> None:
        comments = sorted(e for e in self.live() if self.parent[e] is not None)
        for _ in range(self.rng.randint(0, 2) if comments else 0):
            comment = self.rng.choice(comments)
            text = f"{self.text[comment]} (bearbeitet)"
            self.fake.edit(comment, message=text)
            self.text[comment] = text


class InstagramWorld(GraphWorld):
    platform = "instagram"
    USER = "17841405822304914"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake.add_ig_user(self.USER)
        self.tagged: set[str] = set()

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="instagram", name=SOURCE, account=self.USER, options=self.options())

    def refuse(self, refused: bool) -> None:
        self.fake.refused = {"media"} if refused else set()

    def followed(self, external_id: str) -> bool:
        return self.top.get(external_id, external_id) not in self.tagged

    def _media(self, created: datetime, kind: str, username: str, caption: str | None) -> str:
        self.counter += 1
        media_id = str(17895731045244887 + self.counter * 7919)
        data: dict[str, Any] = {"id": media_id, "comments_count": 0, "like_count": self.rng.randint(0, 300),
                                "media_type": self.rng.choice(("IMAGE", "VIDEO", "CAROUSEL_ALBUM")),
                                "permalink": f"https://www.instagram.com/p/D{base36(10**9 + self.counter)}/",
                                "timestamp": graph_time(created), "username": username}  # fmt: skip
        if kind == "ig_media":
            data["media_product_type"] = "FEED"
        if caption is not None:
            data["caption"] = caption
        self.fake.add(kind, data, self.USER)
        self.parent[media_id], self.text[media_id], self.created[media_id] = None, caption or "", created
        return media_id

    def new_root(self, created: datetime) -> None:
        caption = None if self.rng.random() < 0.1 else f"Neu bei uns {self.counter + 1}: {self.rng.choice(PRAISE)}"
        self._media(created, "ig_media", "lindenhof.kaffee", caption)

    def extra(self, moment: Callable[[], datetime], first: bool) -> None:
        for _ in range(self.rng.randint(1, 3) if first else int(self.rng.random() < 0.4)):
            user = self.rng.choice(("t_brandt", "koeln.isst", "anna_k", "murat.y"))
            self.tagged.add(self._media(moment(), "ig_tagged", user, f"Danke @lindenhof.kaffee {self.counter + 1}"))

    def new_reply(self, parent: str, created: datetime) -> None:
        self.counter += 1
        # Instagram answers a reply to a reply under the same top comment
        above = self.parent[parent]
        top = parent if above is None or self.parent[above] is None else above
        media = self.top.get(top, top)
        comment_id = str(17858154961981086 + self.counter * 104729)
        user = self.rng.choice(("anna_k", "murat.y", "lea.w", "kai_koeln"))
        text = f"Kommentar {self.counter} von {user}"
        data: dict[str, Any] = {"id": comment_id, "text": text, "timestamp": graph_time(created), "username": user,
                                "like_count": self.rng.randint(0, 5),
                                "from": {"id": str(17841400000000001 + len(user)), "username": user}}  # fmt: skip
        if top != media:
            data["parent_id"] = top
        self.fake.add("ig_comment", data, media, parent=top)
        self.parent[comment_id], self.text[comment_id], self.created[comment_id] = top, text, created
        self.top[comment_id] = media
        self.fake.edit(media, comments_count=len([c for c, m in self.top.items() if m == media and c in self.live()]))

    def remove(self, external_id: str) -> None:
        if external_id in self.tagged:  # removed by its owner: the collector does not follow tagged media
            self.fake.delete(external_id)
            self.vanished.add(external_id)
            return
        super().remove(external_id)
        media = self.top.get(external_id)
        if media is not None and media not in self.deleted:
            count = len([c for c, m in self.top.items() if m == media and c in self.live()])
            self.fake.edit(media, comments_count=count)


WORLDS.update({
    "google_business": GoogleBusinessWorld,
    "google_play": GooglePlayWorld,
    "trustpilot": TrustpilotWorld,
    "facebook": FacebookWorld,
    "instagram": InstagramWorld,
})  # fmt: skip
