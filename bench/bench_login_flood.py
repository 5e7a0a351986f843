"""Login flood (issue 13): peak memory of the web server while 40 clients log in at once.

    .venv/bin/python -m bench.bench_login_flood [--clients 40]

Starts ``resonanz serve`` (one worker) on a fresh database with one user, fires ``--clients`` parallel
logins (half right, half wrong passwords, each from its own client) twice, and reads the server's peak
resident memory (``VmHWM`` in /proc) before and after. Writes ``bench/results/login_flood.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.webserver import serving

HERE = Path(__file__).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "flood password 123"


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def one_login(base: str, i: int) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=False) as client:
        token = CSRF.search((await client.get("/login")).text)
        assert token
        password = PASSWORD if i % 2 == 0 else f"wrong {i}"
        response = await client.post("/login", data={"username": f"user{i % 2}", "password": password,
                                                     "csrf_token": token.group(1)})  # fmt: skip
        return response.status_code


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=40)
    args = ap.parse_args()
    resonanz = str(Path(sys.executable).parent / "resonanz")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RESONANZ_DATA_DIR": tmp, "RESONANZ_CONFIG": str(Path(tmp) / "none.toml"),
               "RESONANZ_DATABASE_URL": f"sqlite:///{Path(tmp) / 'flood.db'}", "RESONANZ_NEW_USER_PASSWORD": PASSWORD,
               "RESONANZ_LOG_LEVEL": "WARNING"}  # fmt: skip
        for name in ("user0", "user1"):
            subprocess.run(
                [resonanz, "users", "add", name, "--role", "admin"], env=env, check=True, capture_output=True
            )
        with serving(resonanz, env) as (base, server):
            idle = peak_mb(server.pid)
            started = time.perf_counter()

            async def flood() -> list[int]:
                return list(await asyncio.gather(*(one_login(base, i) for i in range(args.clients))))

            codes = asyncio.run(flood()) + asyncio.run(flood())
            seconds = time.perf_counter() - started
            peak = peak_mb(server.pid)
    counts = {str(c): codes.count(c) for c in sorted(set(codes))}
    print(f"{args.clients} parallel logins x 2: peak RSS {idle:.0f} MB idle -> {peak:.0f} MB; statuses {counts}; "
          f"{seconds:.1f} s")  # fmt: skip
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "login_flood.json").write_text(json.dumps(
        {"clients": args.clients, "idle_peak_mb": round(idle, 1), "flood_peak_mb": round(peak, 1),
         "statuses": counts, "seconds": round(seconds, 1)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
