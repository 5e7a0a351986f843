"""Web latency under load (issue 13): p50/p95 of the queue and item pages for concurrent logged-in clients.

    .venv/bin/python -m bench.bench_web [--clients 50] [--requests 10] [--workers 1 2] [--think 0 2]
                                        [--writes 0 0.1]

Builds the demo database once (``resonanz demo`` in a temporary data directory), adds a user, and for
each worker count starts ``resonanz serve --workers N`` on a free loopback port. ``--clients`` clients
log in (each its own session; all log in first, five at a time, outside the measured part) and then each
requests the queue page and an item page ``--requests`` times. ``--think`` gives the mean pause of a
client between two page views (exponentially distributed): 0 is a stress test (every client requests
again the moment it has its answer: 50 such clients keep the server saturated, and latency is then the
queue length times the service time), 2 s is 50 people working the queue at once, faster than anyone
reads a page. ``--writes`` is the share of rounds after which the
client also adds a note to the item (a write: every page in the page cache of
:mod:`resonanz.web.pagecache` is stale after it, so 0.1 with 50 clients re-renders most pages). The
clients run on the same cores as the server, so part of the CPU goes to them. Writes
``bench/results/web.json``; compare the worker counts of one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.webserver import serving

HERE = Path(__file__).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench password 123"
USER = "webbench"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def logged_in(base: str) -> tuple[httpx.AsyncClient, str]:
    """A client with its own session, and the session's CSRF token."""
    client = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)
    token = CSRF.search((await client.get("/login")).text)
    assert token
    login = await client.post("/login", data={"username": USER, "password": PASSWORD,
                                              "csrf_token": token.group(1)})  # fmt: skip
    assert login.status_code == 303, login.status_code
    found = CSRF.search((await client.get("/queue")).text)
    assert found
    return client, found.group(1)


async def client_run(
    client: httpx.AsyncClient, csrf: str, requests: int, item: str, out: dict[str, list[float]], think: float,
    rng: random.Random, write_share: float = 0.0,
) -> None:  # fmt: skip
    for _ in range(requests):
        for name, path in (("queue", "/queue"), ("item", item)):
            if think:
                await asyncio.sleep(rng.expovariate(1 / think))
            started = time.perf_counter()
            try:
                response = await client.get(path)
            except httpx.RemoteProtocolError:
                # the server closed this idle keep-alive connection (uvicorn: after 5 s) as the request left;
                # a browser sends a GET again on a new connection, and so does this client (the time counts)
                response = await client.get(path)
            out[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        if write_share and rng.random() < write_share:  # a manager acts: every cached page is stale now
            started = time.perf_counter()
            response = await client.post(f"{item}/note", data={"note": "Rückruf vereinbart", "csrf_token": csrf})
            out["action"].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 303, response.status_code


async def load(
    base: str, clients: int, requests: int, item: str, think: float = 0.0, write_share: float = 0.0
) -> tuple[dict[str, list[float]], float]:
    """Log ``clients`` clients in (five at a time: a login flood is bench_login_flood's subject), then
    measure their page views; returns the times per page and the seconds of the measured part."""
    sessions: list[tuple[httpx.AsyncClient, str]] = []
    for start in range(0, clients, 5):
        sessions += await asyncio.gather(*(logged_in(base) for _ in range(min(5, clients - start))))
    out: dict[str, list[float]] = {"queue": [], "item": [], "action": []}
    rngs = [random.Random(n) for n in range(clients)]
    started = time.perf_counter()
    try:
        await asyncio.gather(*(client_run(client, csrf, requests, item, out, think, rngs[n], write_share)
                               for n, (client, csrf) in enumerate(sessions)))  # fmt: skip
    finally:
        for client, _csrf in sessions:
            await client.aclose()
    return out, time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--think", type=float, nargs="+", default=[0.0, 2.0], help="mean pause between page views (s)")
    ap.add_argument("--writes", type=float, nargs="+", default=[0.0, 0.1],
                    help="share of queue+item rounds after which the client also adds a note to the item")  # fmt: skip
    ap.add_argument("--database", type=Path,
                    help="a copy of this SQLite file instead of the demo (e.g. bench_answers --keep DIR's bench.db "
                         "with a million posts)")  # fmt: skip
    args = ap.parse_args()
    resonanz = str(Path(sys.executable).parent / "resonanz")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RESONANZ_DATA_DIR": tmp, "RESONANZ_CONFIG": str(Path(tmp) / "none.toml"),
               "RESONANZ_NEW_USER_PASSWORD": PASSWORD, "RESONANZ_LOG_LEVEL": "WARNING"}  # fmt: skip
        database = Path(tmp) / "demo.db"
        if args.database:
            shutil.copyfile(args.database, database)  # the notes written below must not change the original
        else:
            subprocess.run([resonanz, "demo"], env=env, check=True, capture_output=True)
        env["RESONANZ_DATABASE_URL"] = f"sqlite:///{database}"
        subprocess.run([resonanz, "users", "add", USER, "--role", "admin"], env=env, check=True, capture_output=True)
        results = {}
        for workers in args.workers:
            with serving(resonanz, env, "--workers", str(workers)) as (base, _server):
                with httpx.Client(base_url=base, follow_redirects=False) as c:
                    token = CSRF.search(c.get("/login").text)
                    assert token
                    c.post("/login", data={"username": USER, "password": PASSWORD, "csrf_token": token.group(1)})
                    item = re.search(r'href="(/queue/\d+)"', c.get("/queue").text)
                    assert item, "the demo queue is empty"
                for think in args.think:
                    for write_share in args.writes:
                        times, seconds = asyncio.run(
                            load(base, args.clients, args.requests, item.group(1), think, write_share)
                        )
                        key = f"workers={workers} think={think:g}s writes={write_share:g}"
                        results[key] = {
                            page: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(quantile(v, 0.95), 1),
                                   "n": len(v)}
                            for page, v in times.items() if v
                        } | {"seconds": round(seconds, 1),
                             "requests_per_s": round(sum(len(v) for v in times.values()) / seconds, 1)}  # fmt: skip
                        print(f"{key}: " + ", ".join(
                            f"{page} p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms" for page, r in results[key].items()
                            if isinstance(r, dict)) + f" ({seconds:.1f} s)", flush=True)  # fmt: skip
    (HERE / "results").mkdir(exist_ok=True)
    summary = {"clients": args.clients, "requests": args.requests, "think_s": args.think, "writes": args.writes,
               "database": str(args.database or "demo"), "results": results}  # fmt: skip
    name = f"web-{args.database.parent.name}.json" if args.database else "web.json"
    (HERE / "results" / name).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
