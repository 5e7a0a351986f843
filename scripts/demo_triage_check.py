"""What the triage did on the demo (issue 12), measured against the demo's own truth file.

    .venv/bin/resonanz demo && .venv/bin/python scripts/demo_triage_check.py

Reads the database ``resonanz demo`` just built and ``resonanz/demo/data/truth.json``: per truth flag
(churn, spam, abusive) how many of those posts carry the flag and how many posts carry it in all; the
2026-W47 posts of A-customers that scored negative and whether each is in the queue; the queue's top
items; brand posts in the queue; cross-post groups with more than one open item; the spam cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session

from resonanz.answers.sql import AnswerFilter, post_rows
from resonanz.core.periods import iso_week
from resonanz.core.settings import data_dir
from resonanz.core.tables import ITEM, POST, SCORE
from resonanz.review.queue import QueueFilter, list_queue
from resonanz.review.statuses import ACTIVE_STATUSES
from store.db import open_engine

ROOT = Path(__file__).resolve().parent.parent
TRUTH = json.loads((ROOT / "resonanz" / "demo" / "data" / "truth.json").read_text(encoding="utf-8"))
FLAG_NAMES = {"churn": {"churn"}, "spam": {"spam", "spam_cluster"}, "abusive": {"offensive", "abusive_words"}}


def main() -> None:
    engine = open_engine(f"sqlite:///{data_dir() / 'demo.db'}")
    with Session(engine) as session:
        post_ids = {(p, e): i for i, p, e in session.execute(select(POST.c.id, POST.c.platform, POST.c.external_id))}
        items = {r.post_id: r for r in session.execute(select(ITEM.c.post_id, ITEM.c.status, ITEM.c.reasons))}
        latest: dict[int, tuple[str, list[str]]] = {}
        for post_id, sentiment, flags in session.execute(
            select(SCORE.c.post_id, SCORE.c.sentiment, SCORE.c.flags).order_by(SCORE.c.scored_at, SCORE.c.id)
        ):
            latest[post_id] = (sentiment, [f["flag"] for f in flags or []])
        for truth_flag, names in FLAG_NAMES.items():
            gold = {post_ids[(e["platform"], e["external_id"])] for e in TRUTH["flags"] if truth_flag in e["flags"]}
            flagged = {pid for pid, (_, fl) in latest.items() if names & set(fl)}
            flagged |= {pid for pid, it in items.items() if names & {r["flag"] for r in it.reasons or []}}
            print(f"{truth_flag:8} truth {len(gold):3}  found {len(gold & flagged):3}  flagged in all {len(flagged):3}")
        week = iso_week("2026-W47")
        page = list_queue(session, QueueFilter(statuses=ACTIVE_STATUSES), per_page=500)
        queued = {r.post_id for r in page.rows}
        print(f"queue: {page.total} active items; top 5:")
        for row in page.rows[:5]:
            flags = ",".join(r["flag"] for r in row.reasons)[:40]
            print(f"  {row.priority:6.2f} {row.segment:9} {flags:40} {row.text[:70]}")
        rows = post_rows(AnswerFilter(period=week, classes=["A"]), "sqlite")
        a_posts = session.execute(select(rows.c.post_id, rows.c.sentiment)).all()
        negative = [pid for pid, sentiment in a_posts if sentiment == "negative"]
        merged = {pid for pid, it in items.items() if it.status == "merged"}  # in the queue as its cross-post's item
        print(f"W47 A-customer posts: {len(a_posts)}, negative: {len(negative)}, of those queued: "
              f"{sum(1 for pid in negative if pid in queued or pid in merged)}")  # fmt: skip
        for pid, sentiment in a_posts:
            where = "queued" if pid in queued else "merged" if pid in merged else "NOT QUEUED"
            reasons = ",".join(r["flag"] for r in items[pid].reasons or []) if pid in items else ""
            text = session.execute(select(POST.c.text).where(POST.c.id == pid)).scalar() or ""
            print(f"  {where:10} {sentiment:8} {reasons[:40]:40} {text[:70]}")
        brand_in_queue = session.execute(
            select(POST.c.id).where(POST.c.voice == "brand", POST.c.id.in_(sorted(queued) or [-1]))
        ).all()
        print(f"brand posts in the queue: {len(brand_in_queue)}")
        for group in TRUTH["duplicates"]:
            ids = [post_ids[(p["platform"], p["external_id"])] for p in group["posts"]]
            open_items = [i for i in ids if i in items and items[i].status in ACTIVE_STATUSES]
            if group["kind"] != "brand_template":
                print(f"{group['kind']:10} {len(ids)} posts, {len(open_items)} active item(s)")


if __name__ == "__main__":
    main()
