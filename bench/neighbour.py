"""A CPU-bound neighbour process: one thread spinning on one core until it is killed (or --seconds pass).

Used by ``bench/bench_scoring.py`` to measure how scoring throughput holds up when another
program takes a core, which is the normal situation on a shared server.
"""

from __future__ import annotations

import argparse
import os
import time


def spin(seconds: float | None) -> int:
    end = time.monotonic() + seconds if seconds else float("inf")
    x = 0
    while time.monotonic() < end:
        for _ in range(200_000):
            x += 1
    return x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long (default: run until killed)")
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core (default: let the OS place it)")
    args = parser.parse_args()
    if args.cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    spin(args.seconds)


if __name__ == "__main__":
    main()
