"""Start a throw-away PostgreSQL server for tests and benchmarks (Debian's postgresql package).

``start_postgres(workdir)`` runs initdb + pg_ctl on a free 127.0.0.1 port with trust auth
and returns ``(url, stop)``. As root, the server runs as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_pg_bin() -> Path | None:
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], as_postgres: bool) -> subprocess.CompletedProcess[str]:
    if as_postgres:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def start_postgres(workdir: Path) -> tuple[str, Callable[[], None]]:
    """Start a server under ``workdir``; return its SQLAlchemy URL and a stop function."""
    bindir = find_pg_bin()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL is not installed (apt-get install postgresql)")
    as_postgres = os.geteuid() == 0
    if as_postgres:  # the postgres user must reach the directory: pytest's tmp dirs are private
        import tempfile

        workdir = Path(tempfile.mkdtemp(prefix="resonanz-pg-"))
    workdir.mkdir(parents=True, exist_ok=True)
    datadir = workdir / "pgdata"
    if as_postgres:
        shutil.chown(workdir, "postgres")
        os.chmod(workdir, 0o755)
    res = _run([str(bindir / "initdb"), "-D", str(datadir), "-A", "trust", "-U", "postgres", "-E", "UTF8"], as_postgres)
    if res.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {res.stderr.strip()}")
    port = _free_port()
    opts = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    res = _run(
        [str(bindir / "pg_ctl"), "-D", str(datadir), "-o", opts, "-l", str(workdir / "pg.log"), "-w", "start"],
        as_postgres,
    )
    if res.returncode != 0:
        log = (workdir / "pg.log").read_text(errors="replace") if (workdir / "pg.log").exists() else ""
        raise PostgresUnavailable(f"pg_ctl start failed: {res.stderr.strip()} {log[-500:]}")

    def stop() -> None:
        _run([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"], as_postgres)
        if as_postgres:
            shutil.rmtree(workdir, ignore_errors=True)

    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    deadline = time.time() + 20
    import psycopg

    while True:
        try:
            with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres"):
                break
        except psycopg.OperationalError:
            if time.time() > deadline:
                stop()
                raise
            time.sleep(0.2)
    return url, stop


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` on the server of ``admin_url`` and return its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(admin_url)
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, dbname=u.database or "postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False)
