"""Run every benchmark in ``bench/`` one after another; results land in ``bench/results/``.

``python -m bench`` runs all, ``python -m bench scoring link`` runs the named ones,
extra flags after ``--`` are passed to each (e.g. ``-- --quick``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        idx = argv.index("--")
        argv, extra = argv[:idx], argv[idx + 1 :]
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = argv or names
    unknown = set(chosen) - set(names)
    if unknown:
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"=== bench {name} ===", flush=True)
        rc = subprocess.call([sys.executable, "-m", f"bench.bench_{name}", *extra])
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
