"""Import fuzz (issue 13): generated customer, order and post files with hostile rows between good ones.

    .venv/bin/python -m bench.fuzz_imports [--files 500] [--big 100000]

Per format ``--files`` files of 1-60 rows, each row good or carrying one hostile value (NaN, inf, 1e400,
ambiguous 1.234, year 1 / 9999 with an offset, a 5,000-digit number, a 200,000-character field, a NUL,
deep JSON, a number where text belongs ...), plus one orders file of ``--big`` rows with hostile rows
in the middle. Counts: tracebacks (an import that raised), good rows lost, bad values stored.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from resonanz.importing import import_customers, import_orders, import_posts
from store.db import make_engine
from store.models import Customer, Order, Post

BAD_AMOUNTS = ["NaN", "inf", "-Infinity", "1e400", "1.234", "1,234", "zwölf", "9" * 5000, "1,2,3", ""]
BAD_DATES = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-02-30", "gestern", "", "31.13.2026"]
HUGE = "x" * 200_000


def engine_() -> Engine:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    return engine


def customers_file(path: Path, rng: random.Random, n: int) -> tuple[set[str], set[str]]:
    good, bad, lines = set(), set(), ["crm_id,first_name,last_name,emails,consent_status,consent_basis,consent_at"]
    for i in range(n):
        cells = [f"K-{i}", "Anna", "Amsel", f"a{i}@x.de", "granted", "Art. 6", "2026-01-01"]
        if rng.random() < 0.4:
            where, value = rng.choice([(3, "kein-mail"), (4, "vielleicht"), (6, rng.choice(BAD_DATES[:4])),
                                       (1, HUGE), (5, "")])  # fmt: skip
            cells[where] = value
            bad.add(cells[0])
        else:
            good.add(cells[0])
        lines.append(",".join(json.dumps(c) for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good, bad


def orders_file(path: Path, rng: random.Random, n: int, bad_share: float = 0.4) -> tuple[dict[str, float], set[str]]:
    good, bad, lines = {}, set(), ["order_id,crm_id,ordered_at,revenue,cost"]
    for i in range(n):
        amount = round(rng.uniform(1, 500), 2)
        cells = [f"O-{i}", "K-1", "2026-01-05T10:00:00+01:00", f"{amount:.2f}", "1.00"]
        if rng.random() < bad_share:
            where = rng.choice([2, 3, 3, 4])
            cells[where] = rng.choice(BAD_DATES if where == 2 else BAD_AMOUNTS[:-1] if where == 4 else BAD_AMOUNTS)
            bad.add(cells[0])
        else:
            good[cells[0]] = amount
        lines.append(",".join(json.dumps(c) for c in cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good, bad


def posts_file(path: Path, rng: random.Random, n: int) -> tuple[set[str], set[str]]:
    good, bad, lines = set(), set(), []
    for i in range(n):
        row: dict[str, Any] = {
            "platform": "mastodon",
            "external_id": str(i),
            "text": f"Beitrag {i}",
            "created_at": "2026-01-05",
            "author": {"account_id": f"a{i % 7}"},
        }
        if rng.random() < 0.4:
            kind = rng.randrange(6)
            bad.add(str(i))
            if kind == 0:
                lines.append("[" * 50_000 + "]" * 50_000)
                continue
            if kind == 1:
                lines.append(json.dumps(row)[:-1] + ', "n": ' + "1" * 5000 + "}")
                continue
            if kind == 2:
                row["text"] = 12345
            elif kind == 3:
                row["created_at"] = rng.choice(BAD_DATES)
            elif kind == 4:
                row["text"] = HUGE
            else:
                row["author"] = {}
        else:
            good.add(str(i))
        lines.append(json.dumps(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return good, bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    rng = random.Random(args.seed)
    totals = {k: {"files": 0, "tracebacks": 0, "good": 0, "good_lost": 0, "bad": 0, "bad_stored": 0}
              for k in ("customers", "orders", "posts")}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        for kind in totals:
            for _ in range(args.files):
                engine, t = engine_(), totals[kind]
                t["files"] += 1
                try:
                    if kind == "customers":
                        good, bad = customers_file(base / "c.csv", rng, rng.randint(1, 60))
                        import_customers(engine, base / "c.csv")
                        with Session(engine) as s:
                            stored = {c.crm_id for c in s.exec(select(Customer))}
                    elif kind == "orders":
                        (base / "k.csv").write_text("crm_id,consent_status\nK-1,unknown\n", encoding="utf-8")
                        import_customers(engine, base / "k.csv")
                        good_amounts, bad = orders_file(base / "o.csv", rng, rng.randint(1, 60))
                        good = set(good_amounts)
                        import_orders(engine, base / "o.csv")
                        with Session(engine) as s:
                            stored = {o.order_id for o in s.exec(select(Order))}
                    else:
                        good, bad = posts_file(base / "p.jsonl", rng, rng.randint(1, 60))
                        import_posts(engine, base / "p.jsonl")
                        with Session(engine) as s:
                            stored = {p.external_id for p in s.exec(select(Post))}
                except Exception:  # noqa: BLE001 - counting is the point
                    t["tracebacks"] += 1
                    continue
                t["good"] += len(good)
                t["bad"] += len(bad)
                t["good_lost"] += len(good - stored)
                t["bad_stored"] += len(bad & stored)
        engine = engine_()
        (base / "k.csv").write_text("crm_id,consent_status\nK-1,unknown\n", encoding="utf-8")
        import_customers(engine, base / "k.csv")
        good_amounts, bad = orders_file(base / "big.csv", rng, args.big, bad_share=0.0)
        lines = (base / "big.csv").read_text(encoding="utf-8").splitlines()
        middle = len(lines) // 2
        hostile = [f'"O-bad{i}","K-1","2026-01-05",{json.dumps(v)},"1"' for i, v in enumerate(BAD_AMOUNTS[:-1])]
        (base / "big.csv").write_text("\n".join(lines[:middle] + hostile + lines[middle:]) + "\n", encoding="utf-8")
        started = time.perf_counter()
        report = import_orders(engine, base / "big.csv")
        seconds = time.perf_counter() - started
        with Session(engine) as s:
            stored = {o.order_id for o in s.exec(select(Order))}
    for kind, t in totals.items():
        good_text = f"good rows {t['good']} (lost {t['good_lost']})"
        bad_text = f"bad rows {t['bad']} (stored {t['bad_stored']})"
        print(f"{kind:9} files {t['files']}  tracebacks {t['tracebacks']}  {good_text}  {bad_text}")
    print(f"big orders file: {args.big} good + {len(hostile)} hostile rows in the middle: {len(stored)} stored, "
          f"{len(set(good_amounts) - stored)} good lost, {len(report.errors)} rejected, {seconds:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
