"""Alert fixtures: a store with a steady background of posts, a real webhook receiver on 127.0.0.1, and the
digest tests' real SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tests.answers.factory import Factory
from tests.digest.conftest import smtp_server  # noqa: F401  (the real SMTP server fixture)

START = datetime(2026, 10, 12, 0, 0, tzinfo=UTC)
"""Background posts start here (a Monday); the tests' incidents happen after ``BURST``."""
BURST = START + timedelta(days=15, hours=9)
TOPICS = ("Lieferung", "Preis", "App", "Kaffee")


@dataclass
class Store:
    engine: Engine
    people: list[Any]
    customers: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """'A', 'B', 'C' -> (customer, identity)."""


def background(f: Factory, people: list[Any], start: datetime, days: int, seed: int = 5) -> None:
    """Two posts an hour by day, fewer at night, spread over four topics, a quarter negative."""
    rng = random.Random(seed)
    words = [
        "Kaffee",
        "Bohnen",
        "Tasse",
        "Morgen",
        "Büro",
        "Paket",
        "heute",
        "wieder",
        "endlich",
        "danke",
        "leider",
        "gut",
        "spät",
        "Milch",
        "Abo",
    ]
    for hour in range(days * 24):
        t = start + timedelta(hours=hour)
        n = rng.choice((1, 2, 3)) if 6 <= (t.hour + 1) % 24 <= 22 else rng.choice((0, 0, 1))
        for _ in range(n):
            text = " ".join(rng.sample(words, 6)) + f" {rng.randrange(10**6)}"
            f.post(rng.choice(people), text, t + timedelta(minutes=rng.randrange(60)),
                   sentiment=rng.choice(("negative", "neutral", "neutral", "positive")),
                   topics=[rng.choice(TOPICS)])  # fmt: skip


def build_store(engine: Engine) -> Store:
    """15 days of background before ``BURST``, 40 public authors, one customer of each class."""
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        people = [f.identity(f"@leute{i}@social.example") for i in range(40)]
        out = Store(engine, people)
        for cls, weight, revenue in (("A", 5.0, 34000.0), ("B", 2.0, 4000.0), ("C", 1.0, 300.0)):
            customer = f.customer(f"Kundin {cls}", cls, revenue=revenue, weight=weight)
            ident = f.identity(f"@kundin_{cls.lower()}@social.example")
            f.link(ident, customer)
            out.customers[cls] = (customer, ident)
        background(f, people, START, 15)
        session.commit()
    return out


@pytest.fixture
def store(sqlite_engine: Engine) -> Store:
    return build_store(sqlite_engine)


@dataclass
class Receiver:
    """A webhook endpoint: answers ``fail_first`` requests with ``fail_status``, then 200; records them all."""

    url: str
    fail_first: int = 0
    fail_status: int = 500
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def start(fail_first: int = 0, fail_status: int = 500) -> Receiver:
        receiver = Receiver(url="", fail_first=fail_first, fail_status=fail_status)
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                record = {"path": self.path, "headers": dict(self.headers), "json": json.loads(body)}
                with lock:
                    receiver.requests.append(record)
                    failing = len(receiver.requests) <= receiver.fail_first
                    if not failing:
                        receiver.accepted.append(record)
                self.send_response(receiver.fail_status if failing else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/resonanz"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
