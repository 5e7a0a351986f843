"""Many runs against a changing fake platform with injected faults, then: does the store equal the platform?

A *world* is one of the local fakes of ``collectors.testing`` (Mastodon, Bluesky, Reddit) with a random set
of posts and reply trees. Between runs new posts and replies arrive and posts are deleted (replies in the
middle of a tree too, so that replies under them are hidden from the thread view but still exist). Every
request may fail (429, 500/503, a read timeout, a truncated JSON body); for a few runs in a row the listing
answers 403 (for Bluesky: the search without a login, as the public AppView does since 2025, until a
login is set); some runs are killed (``kill -9``) after a few stored pages. Runs go through the real
pipeline (``run_source``) into a real SQLite store. After the fault runs, quiet runs follow until the store
equals the live platform, or a limit is reached:

* every post that exists is stored once, not marked deleted, with its text;
* every stored post that was deleted on the platform is marked deleted;
* nothing else is stored, and nothing twice.

Used by ``tests/collectors/test_collect_property.py`` (hypothesis draws the scenarios) and
``bench/bench_collect_property.py`` (many seeds, numbers for the report).
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from collectors import Batch
from collectors import bluesky as bluesky_module
from collectors import reddit as reddit_module
from collectors.testing import FakeMastodon, make_account, make_status, snowflake
from collectors.testing.bluesky import FakeBluesky, make_author, make_post
from collectors.testing.reddit import FakeReddit, base36, make_comment, make_submission
from collectors.testing.server import Reply
from resonanz.core.settings import CollectorSettings, Settings
from resonanz.pipeline.collect import RunSummary, run_source
from resonanz.pipeline.sources import add_source
from store.db import open_engine
from store.models import CollectorRun, Post
from tests.collectors.helpers import app_handler

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RUN_EVERY = timedelta(minutes=15)
FAULT_KINDS = ("429", "500", "503", "timeout", "malformed")
SOURCE = "welt"


class Killed(BaseException):
    """``kill -9`` in the middle of a run: nothing after the last stored page happens."""


@dataclass
class Scenario:
    seed: int
    fault_runs: int = 8
    fault_rate: float = 0.1
    refuse_from: int = 2
    refuse_runs: int = 2
    kills: dict[int, int] = field(default_factory=dict)  # run -> pages stored before the kill
    roots: int = 6
    quiet_runs: int = 8


@dataclass
class Outcome:
    platform: str
    scenario: Scenario
    runs: int = 0
    quiet_runs_needed: int | None = None
    items: int = 0
    live: int = 0
    deleted: int = 0
    hidden: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    statuses: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.quiet_runs_needed is not None and not self.mismatches


class World(ABC):
    """One platform's changing world; subclasses say how posts look and where the listing lives."""

    platform: str

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.parent: dict[str, str | None] = {}  # external id -> parent external id (None: a root)
        self.text: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.reachable: set[str] = set()
        """Posts the thread views showed at the start of a run that went through (status ``ok``): a reply hidden
        under a deleted parent before any such run is invisible to every API the collector has."""
        self.counter = 0

    # -- what a world provides --------------------------------------------------------------------------

    @abstractmethod
    def app(self, request: Any) -> Reply: ...

    @abstractmethod
    def add_source(self, engine: Engine) -> None: ...

    @abstractmethod
    def new_root(self, created: datetime) -> None: ...

    @abstractmethod
    def new_reply(self, parent: str, created: datetime) -> None: ...

    @abstractmethod
    def remove(self, external_id: str) -> None: ...

    @abstractmethod
    def is_listing(self, request: httpx.Request) -> bool: ...

    def settings(self, run_no: int, refused: bool) -> Settings:
        return Settings(collectors=CollectorSettings(max_retries=4, timeout=5))

    def refusal(self, request: httpx.Request) -> httpx.Response:
        """The persistent 403 of a refused listing (a world may answer in its platform's shape)."""
        return httpx.Response(403, json={"message": "Forbidden", "error": 403})

    def malformed(self, good: httpx.Response) -> httpx.Response:
        """A page cut off in the middle (a world may keep its own content type and headers)."""
        return httpx.Response(200, content=good.content[: len(good.content) // 2],
                              headers={"Content-Type": "application/json"})  # fmt: skip

    def check(self, engine: Engine) -> list[str]:
        """Differences between the store and the platform (a world whose platform cannot report deletions
        may relax the check, see ``tests/collectors/property_world_feeds.py``)."""
        return check(engine, self)

    # -- shared -------------------------------------------------------------------------------------------

    def live(self) -> set[str]:
        return set(self.text) - self.deleted

    def visible(self) -> set[str]:
        return {e for e in self.live() if self._chain_alive(e)}

    def _chain_alive(self, external_id: str) -> bool:
        node: str | None = external_id
        while node is not None:
            if node in self.deleted:
                return False
            node = self.parent.get(node)
        return True

    def _has_live_descendants(self, external_id: str) -> bool:
        return any(p == external_id and (c not in self.deleted or self._has_live_descendants(c))
                   for c, p in self.parent.items())  # fmt: skip

    def evolve(self, start: datetime, end: datetime, *, first: bool = False) -> None:
        """New roots and replies created in ``[start, end)``, and deletions (the platform's own rules)."""
        span = (end - start).total_seconds()

        def moment() -> datetime:
            return start + timedelta(seconds=self.rng.uniform(0, span * 0.95))

        for _ in range(self.rng.randint(3, 6) if first else self.rng.randint(0, 2)):
            self.new_root(moment())
        for _ in range(self.rng.randint(4, 12) if first else self.rng.randint(0, 6)):
            candidates = sorted(e for e in self.live() if self._chain_alive(e) and self.replies_under(e) < 25)
            if candidates:
                self.new_reply(self.rng.choice(candidates), moment())
        if not first:
            for _ in range(self.rng.randint(0, 2)):
                removable = sorted(e for e in self.live() if self.parent[e] is not None
                                   or not self._has_live_descendants(e))  # fmt: skip
                if removable:
                    victim = self.rng.choice(removable)
                    self.deleted.add(victim)
                    self.remove(victim)

    def replies_under(self, external_id: str) -> int:
        root = external_id
        while self.parent.get(root) is not None:
            root = str(self.parent[root])
        return sum(1 for e in self.parent if e != root and self._root_of(e) == root)

    def _root_of(self, external_id: str) -> str:
        node = external_id
        while self.parent.get(node) is not None:
            node = str(self.parent[node])
        return node


class MastodonWorld(World):
    platform = "mastodon"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeMastodon([])
        self.accounts = [make_account(str(i), f"nutzer{i}", "social.example") for i in range(1, 6)]
        self.statuses: dict[str, dict[str, Any]] = {}  # uri -> status

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="mastodon", name=SOURCE, query="#Brühwerk",
                   options={"instance": "https://social.test", "max_threads": 500})  # fmt: skip

    def is_listing(self, request: httpx.Request) -> bool:
        return "/timelines/tag/" in request.url.path

    def _status(self, created: datetime, content: str, reply_to: dict[str, Any] | None) -> dict[str, Any]:
        self.counter += 1
        status = make_status(snowflake(created, self.counter), created, content, self.rng.choice(self.accounts),
                             in_reply_to=reply_to, tags=[] if reply_to else ["Brühwerk"])  # fmt: skip
        self.statuses[status["uri"]] = status
        self.fake.add(status)
        return status

    def new_root(self, created: datetime) -> None:
        status = self._status(created, f"<p>Beitrag {self.counter + 1} #Brühwerk</p>", None)
        self.parent[status["uri"]], self.text[status["uri"]] = None, f"Beitrag {self.counter} #Brühwerk"

    def new_reply(self, parent: str, created: datetime) -> None:
        at = max(created, datetime.fromisoformat(self.statuses[parent]["created_at"]) + timedelta(seconds=1))
        status = self._status(at, f"<p>Antwort {self.counter + 1}</p>", self.statuses[parent])
        self.parent[status["uri"]], self.text[status["uri"]] = parent, f"Antwort {self.counter}"

    def remove(self, external_id: str) -> None:
        self.fake.delete(self.statuses[external_id]["id"])


class BlueskyWorld(World):
    platform = "bluesky"
    HANDLE, PASSWORD = "brand.bsky.social", "app-pass-1234"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeBluesky(handle=self.HANDLE, password=self.PASSWORD)
        self.authors = [make_author(f"did:plc:nutzer{i}", f"nutzer{i}.bsky.social") for i in range(1, 6)]
        self.views: dict[str, dict[str, Any]] = {}
        bluesky_module._SESSIONS.clear()

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="bluesky", name=SOURCE, query="Brühwerk",
                   options={"appview": "https://bsky.test", "service": "https://bsky.test", "max_threads": 500,
                            "thread_depth": 3})  # fmt: skip

    def settings(self, run_no: int, refused: bool) -> Settings:
        if refused:  # no login yet: the AppView refuses the search with 403, run after run
            return super().settings(run_no, refused)
        return Settings(collectors=CollectorSettings(max_retries=4, timeout=5, bluesky_handle=self.HANDLE,
                                                     bluesky_app_password=SecretStr(self.PASSWORD)))  # fmt: skip

    def is_listing(self, request: httpx.Request) -> bool:
        return False  # the 403 comes from the AppView itself (no login), see settings()

    def _post(self, created: datetime, text: str, parent: dict[str, Any] | None) -> dict[str, Any]:
        self.counter += 1
        root = None
        if parent is not None:
            root_uri = (parent["record"].get("reply") or {}).get("root", {}).get("uri") or parent["uri"]
            root = self.views[root_uri]
        view = make_post(self.rng.choice(self.authors), base36(10_000 + self.counter), created, text, parent=parent,
                         root=root)  # fmt: skip
        self.views[view["uri"]] = view
        self.fake.add(view)
        return view

    def new_root(self, created: datetime) -> None:
        view = self._post(created, f"Brühwerk Beitrag {self.counter + 1}", None)
        self.parent[view["uri"]], self.text[view["uri"]] = None, view["record"]["text"]

    def new_reply(self, parent: str, created: datetime) -> None:
        at = max(created, datetime.fromisoformat(self.views[parent]["indexedAt"]) + timedelta(seconds=1))
        mention = " zu Brühwerk" if self.rng.random() < 0.3 else ""  # some replies are search hits themselves
        view = self._post(at, f"Antwort {self.counter + 1}{mention}", self.views[parent])
        self.parent[view["uri"]], self.text[view["uri"]] = parent, view["record"]["text"]

    def remove(self, external_id: str) -> None:
        self.fake.delete(external_id)


class RedditWorld(World):
    platform = "reddit"

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.fake = FakeReddit(tree_limit=12, depth=3, more_depth=1)
        self.link_of: dict[str, str] = {}
        reddit_module._TOKENS.clear()

    def app(self, request: Any) -> Reply:
        return self.fake(request)

    def add_source(self, engine: Engine) -> None:
        add_source(engine, platform="reddit", name=SOURCE, account="r/de",
                   options={"base_url": "https://reddit.test", "max_threads": 500, "max_more": 2})  # fmt: skip

    def is_listing(self, request: httpx.Request) -> bool:
        return request.url.path.startswith("/r/de/new")

    def new_root(self, created: datetime) -> None:
        self.counter += 1
        sid = base36(50_000 + self.counter)
        self.fake.add_submission(make_submission(sid, created, f"Frage {self.counter}", f"Wie ist **Brühwerk** "
                                                 f"{self.counter}?"))  # fmt: skip
        self.parent[f"t3_{sid}"], self.text[f"t3_{sid}"] = None, f"Wie ist Brühwerk {self.counter}?"
        self.link_of[f"t3_{sid}"] = f"t3_{sid}"

    def new_reply(self, parent: str, created: datetime) -> None:
        self.counter += 1
        cid = base36(900_000 + self.counter)
        link = self.link_of[parent]
        self.fake.add_comment(make_comment(cid, link, parent, created, f"Kommentar _{self.counter}_"))
        name = f"t1_{cid}"
        self.parent[name], self.text[name], self.link_of[name] = parent, f"Kommentar {self.counter}", link

    def remove(self, external_id: str) -> None:
        self.fake.delete(external_id)


WORLDS: dict[str, Callable[[random.Random], World]] = {
    "mastodon": MastodonWorld,
    "bluesky": BlueskyWorld,
    "reddit": RedditWorld,
}


class FaultyTransport:
    """Serves the world through ``httpx.MockTransport`` and breaks requests on purpose."""

    def __init__(self, world: World, rng: random.Random, outcome: Outcome) -> None:
        self.world = world
        self.rng = rng
        self.outcome = outcome
        self.rate = 0.0
        self.refuse = False
        self.serve = app_handler(world.app)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.refuse and self.world.is_listing(request):
            return self.world.refusal(request)
        if self.rate and self.rng.random() < self.rate:
            kind = self.rng.choice(FAULT_KINDS)
            self.outcome.faults[kind] += 1
            if kind == "timeout":
                raise httpx.ReadTimeout("timed out (injected)", request=request)
            if kind == "malformed":
                return self.world.malformed(self.serve(request))
            headers = {"Retry-After": "0"} if kind == "429" else {}
            return httpx.Response(int(kind), json={"error": "injected"}, headers=headers)
        return self.serve(request)


def dead_owner() -> str:
    """``host:pid`` of a process that has ended (what a killed run leaves behind)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"{socket.gethostname()}:{child.pid}"


def check(engine: Engine, world: World) -> list[str]:
    """Differences between the store and the platform (empty: equal)."""
    with Session(engine) as session:
        rows = session.execute(select(col(Post.external_id), col(Post.text), col(Post.deleted_at))).all()
        distinct = session.execute(select(func.count(func.distinct(col(Post.external_id))))).scalar_one()
    problems: list[str] = []
    if distinct != len(rows):
        problems.append(f"{len(rows) - distinct} duplicate rows")
    stored = {r.external_id: r for r in rows}
    for external_id in sorted(world.live()):
        row = stored.get(external_id)
        if row is None:
            if external_id in world.reachable:
                problems.append(f"missing {external_id}")
        elif row.deleted_at is not None:
            problems.append(f"live but marked deleted: {external_id}")
        elif row.text != world.text[external_id]:
            problems.append(f"text of {external_id}: {row.text!r} != {world.text[external_id]!r}")
    for external_id in sorted(world.deleted & set(stored)):
        if stored[external_id].deleted_at is None:
            problems.append(f"deleted on the platform but not marked: {external_id}")
    for external_id in sorted(set(stored) - set(world.text)):
        problems.append(f"stored but never existed: {external_id}")
    return problems


def run_world(platform: str, scenario: Scenario, tmp: Path) -> Outcome:
    """Play ``scenario`` on ``platform``; the outcome says how many runs it took and what (if anything) differs."""
    rng = random.Random(scenario.seed)
    world = WORLDS[platform](rng)
    outcome = Outcome(platform, scenario)
    engine = open_engine(f"sqlite:///{tmp / f'{platform}-{scenario.seed}.db'}")
    try:
        world.add_source(engine)
        faulty = FaultyTransport(world, random.Random(scenario.seed + 1), outcome)
        when = T0
        world.evolve(when - timedelta(hours=2), when, first=True)
        total = scenario.fault_runs + scenario.quiet_runs
        for run_no in range(total):
            quiet = run_no >= scenario.fault_runs
            refused = not quiet and scenario.refuse_from <= run_no < scenario.refuse_from + scenario.refuse_runs
            faulty.rate = 0.0 if quiet else scenario.fault_rate
            faulty.refuse = refused
            if refused:
                outcome.faults["403 (persistent), runs"] += 1
            kill_after = None if quiet else scenario.kills.get(run_no)
            visible = world.visible()
            summary = _one_run(engine, world, faulty, world.settings(run_no, refused), when, kill_after)
            if summary is not None and summary.status == "ok":
                world.reachable |= visible
            outcome.runs += 1
            outcome.statuses.append(summary.status if summary else "killed")
            if summary is None:
                outcome.faults["kill -9"] += 1
            if quiet:
                problems = world.check(engine)
                if not problems:
                    outcome.quiet_runs_needed = run_no - scenario.fault_runs + 1
                    break
                outcome.mismatches = problems
            when += RUN_EVERY
            if not quiet:
                world.evolve(when - RUN_EVERY, when)
        if outcome.quiet_runs_needed is not None:
            outcome.mismatches = []
        outcome.items, outcome.live, outcome.deleted = len(world.text), len(world.live()), len(world.deleted)
        outcome.hidden = len(world.live() - world.reachable)
        return outcome
    finally:
        engine.dispose()


def _one_run(engine: Engine, world: World, faulty: FaultyTransport, settings: Settings, when: datetime,
             kill_after: int | None) -> RunSummary | None:  # fmt: skip
    stored = {"pages": 0}

    def progress(name: str, batch: Batch, summary: RunSummary) -> None:
        stored["pages"] += 1
        if kill_after is not None and stored["pages"] >= kill_after:
            raise Killed

    try:
        return run_source(engine, SOURCE, settings, transport=httpx.MockTransport(faulty), now=when,
                          sleep=lambda s: None, progress=progress)  # fmt: skip
    except Killed:
        with Session(engine) as session:  # the killed process is gone: its run stays "running" under a dead pid
            session.execute(update(CollectorRun).where(col(CollectorRun.status) == "running")
                            .values(owner=dead_owner()))  # fmt: skip
            session.commit()
        return None
