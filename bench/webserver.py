"""A ``resonanz serve`` process on a free loopback port, for the web benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(resonanz: str, env: Mapping[str, str], *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start ``resonanz serve *args`` and yield its base URL and process once the login page answers."""
    port = free_port()
    log_path = os.environ.get("BENCH_SERVER_LOG")  # the server's output, for a failing benchmark
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen([resonanz, "serve", "--port", str(port), *args], env=dict(env),
                              stdout=log, stderr=log)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
        if log_path:
            log.close()  # type: ignore[union-attr]
