"""Web latency under load (issue 13): p50/p95 of the queue and item pages for concurrent logged-in clients.

    .venv/bin/python -m bench.bench_web [--clients 50] [--requests 10] [--workers 1 2] [--think 0 2]

Builds the demo database once (``resonanz demo`` in a temporary data directory), adds a user, and for
each worker count starts ``resonanz serve --workers N`` on a free loopback port. ``--clients`` clients
log in (each its own session) and then each requests the queue page and an item page ``--requests``
times. ``--think`` gives the mean pause of a client between two page views (exponentially distributed):
0 is a stress test (every client requests again the moment it has its answer: 50 such clients keep the
server saturated, and latency is then the queue length times the service time, whatever the code does),
2 s is 50 people working the queue at once, faster than anyone reads a page. Both are reported. Writes
``bench/results/web.json``; compare the worker counts of one run only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
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


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def client_run(
    base: str, requests: int, item: str, out: dict[str, list[float]], think: float, rng: random.Random
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False) as client:
        token = CSRF.search((await client.get("/login")).text)
        assert token
        login = await client.post("/login", data={"username": "bench", "password": PASSWORD,
                                                  "csrf_token": token.group(1)})  # fmt: skip
        assert login.status_code == 303, login.status_code
        for _ in range(requests):
            for name, path in (("queue", "/queue"), ("item", item)):
                if think:
                    await asyncio.sleep(rng.expovariate(1 / think))
                started = time.perf_counter()
                response = await client.get(path)
                out[name].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)


async def load(base: str, clients: int, requests: int, item: str, think: float = 0.0) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"queue": [], "item": []}
    rngs = [random.Random(n) for n in range(clients)]
    await asyncio.gather(*(client_run(base, requests, item, out, think, rngs[n]) for n in range(clients)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=10)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--think", type=float, nargs="+", default=[0.0, 2.0], help="mean pause between page views (s)")
    args = ap.parse_args()
    resonanz = str(Path(sys.executable).parent / "resonanz")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RESONANZ_DATA_DIR": tmp, "RESONANZ_CONFIG": str(Path(tmp) / "none.toml"),
               "RESONANZ_NEW_USER_PASSWORD": PASSWORD, "RESONANZ_LOG_LEVEL": "WARNING"}  # fmt: skip
        subprocess.run([resonanz, "demo"], env=env, check=True, capture_output=True)
        env["RESONANZ_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'demo.db'}"
        subprocess.run([resonanz, "users", "add", "bench", "--role", "admin"], env=env, check=True, capture_output=True)
        results = {}
        for workers in args.workers:
            with serving(resonanz, env, "--workers", str(workers)) as (base, _server):
                with httpx.Client(base_url=base, follow_redirects=False) as c:
                    token = CSRF.search(c.get("/login").text)
                    assert token
                    c.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)})
                    item = re.search(r'href="(/queue/\d+)"', c.get("/queue").text)
                    assert item, "the demo queue is empty"
                for think in args.think:
                    started = time.perf_counter()
                    times = asyncio.run(load(base, args.clients, args.requests, item.group(1), think))
                    seconds = time.perf_counter() - started
                    key = f"workers={workers} think={think:g}s"
                    results[key] = {
                        page: {"p50_ms": round(statistics.median(v), 1), "p95_ms": round(quantile(v, 0.95), 1),
                               "n": len(v)}
                        for page, v in times.items()
                    } | {"seconds": round(seconds, 1)}  # fmt: skip
                    print(f"{key}: " + ", ".join(
                        f"{page} p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms" for page, r in results[key].items()
                        if isinstance(r, dict)) + f" ({seconds:.1f} s)", flush=True)  # fmt: skip
    (HERE / "results").mkdir(exist_ok=True)
    summary = {"clients": args.clients, "requests": args.requests, "think_s": args.think, "results": results}
    (HERE / "results" / "web.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
