"""Speed of `resonanz ask`, the dashboard and the review queue page on synthetic posts (SQLite).

    .venv/bin/python -m bench.bench_answers [--posts 100000] [--repeat 5] [--answers-only]
    .venv/bin/python -m bench.bench_answers --posts 1000000 --answers-only
    .venv/bin/python -m bench.bench_answers --posts 1000000 --answers-only --rollups-only --keep /tmp/bench-1m
    .venv/bin/python -m bench.bench_answers --posts 1000000 --answers-only --rollups-only --reuse /tmp/bench-1m

Reports milliseconds per call (median) and the ratio to a plain ``SELECT COUNT(*)`` over the same
posts, measured in the same run. ``ask`` and the dashboard are timed twice: from the daily rollups
(:mod:`resonanz.answers.rollup`, built after generating, the build time is reported) and from the raw posts.
Posts are generated and inserted in chunks of 50,000 (``executemany``), so a million fits in memory.
Results also go to ``bench/results/answers.json`` (``answers-<posts>.json`` with ``--answers-only``).
``--keep DIR`` generates into ``DIR/bench.db`` and keeps it; ``--reuse DIR`` times that database again without
generating (the rollups are rebuilt only when they are not built, or with ``--rebuild``), so the 1M posts are
generated once. ``--rollups-only`` skips the timings from the raw posts (minutes at 1M).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.answers import rollup as rollup_module
from resonanz.answers.ask import AnswerFilter, ask
from resonanz.answers.dashboard import dashboard
from resonanz.answers.posts import PAGE_SIZE, posts_behind
from resonanz.answers.rollup import rebuild
from resonanz.core.periods import iso_week, resolve_period
from resonanz.core.settings import Settings, WebSettings
from resonanz.core.tables import CUSTOMER, IDENTITY, ITEM, LINK, POST, SCORE, VALUE, mark_current_values
from resonanz.web import create_app
from resonanz.web.accounts import hash_password
from store.db import open_engine
from store.models import User

RESULTS = Path(__file__).parent / "results"
END_WEEK = "2026-W47"
WEEKS = 12
TOPICS = ["Lieferung", "Preis", "Service", "App", "Qualität", "Filiale", "Kaffee", "Nachhaltigkeit"]
PLATFORMS = ["mastodon", "bluesky", "reddit", "youtube", "rss"]
CHUNK = 50_000
PRIOR = [0.25, 0.55, 0.20]
"""A sentiment model's training prior: ``resonanz ask`` and the web page pass the configured model's, so their
default answer also carries the EM-estimated shares (read from every post of the period, or the cache)."""


def _chunks(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), CHUNK):
        yield rows[i : i + CHUNK]


def generate(engine: Engine, posts: int, seed: int = 7) -> dict[str, int]:
    """Customers (20 % A), identities (60 % linked), posts over 12 weeks, one or two scores each, review items."""
    rnd = random.Random(seed)
    now = datetime(2026, 11, 20, tzinfo=UTC)
    start = iso_week(END_WEEK).end - timedelta(weeks=WEEKS)
    n_customers, n_identities = max(50, posts // 20), max(100, posts // 5)
    with engine.begin() as conn:
        customers: list[dict[str, Any]] = [
            {"id": i, "crm_id": f"K{i:07d}", "first_name": f"Vorname{i}", "last_name": f"Nachname{i}", "emails": [],
             "phones": [], "handles": [], "profile_urls": [], "consent_status": "granted",
             "consent_basis": "Art. 6 Abs. 1 lit. a DSGVO", "created_at": now,
             "updated_at": now}
            for i in range(1, n_customers + 1)
        ]  # fmt: skip
        for chunk in _chunks(customers):
            conn.execute(insert(CUSTOMER), chunk)
        values = []
        for c in customers:
            abc = "A" if c["id"] % 5 == 0 else ("B" if c["id"] % 5 == 1 else "C")
            revenue = {"A": 4000.0, "B": 600.0, "C": 150.0}[abc] * rnd.uniform(0.5, 1.5)
            values.append(
                {"customer_id": c["id"], "computed_at": now, "revenue": revenue, "margin": revenue * 0.3,
                 "abc_class": abc, "abc_method": "cumulative", "rfm_r": 3, "rfm_f": 3, "rfm_m": 3, "rfm_score": 9,
                 "rfm_segment": rnd.choice(["Champions", "Loyal", "At Risk", "Hibernating"]), "clv": revenue * 2,
                 "loyalty_points": 0.0, "is_loyal": rnd.random() < 0.3, "weight": {"A": 5.0, "B": 2.0, "C": 1.0}[abc],
                 "details": {}}
            )  # fmt: skip
        for chunk in _chunks(values):
            conn.execute(insert(VALUE), chunk)
        mark_current_values(conn)
        identities = [
            {"id": i, "platform": PLATFORMS[i % len(PLATFORMS)], "account_id": f"acct-{i}", "handle": f"@user{i}",
             "display_name": f"User {i}", "first_seen": now, "last_seen": now}
            for i in range(1, n_identities + 1)
        ]  # fmt: skip
        for chunk in _chunks(identities):
            conn.execute(insert(IDENTITY), chunk)
        links = [
            {"identity_id": i, "customer_id": rnd.randint(1, n_customers), "method": "email", "probability": 1.0,
             "status": rnd.choice(["auto", "confirmed", "pending"]) if i % 10 else "pending", "evidence": [],
             "created_at": now}
            for i in range(1, n_identities + 1)
            if i % 5 < 3
        ]  # fmt: skip
        for chunk in _chunks(links):
            conn.execute(insert(LINK), chunk)
        span = (iso_week(END_WEEK).end - start).total_seconds()
        post_rows: list[dict[str, Any]] = []
        score_rows: list[dict[str, Any]] = []
        items: list[dict[str, Any]] = []
        counts = {"scores": 0, "items": 0}

        def flush() -> None:
            for table, chunk in ((POST, post_rows), (SCORE, score_rows), (ITEM, items)):
                if chunk:
                    conn.execute(insert(table), chunk)
            counts["scores"] += len(score_rows)
            counts["items"] += len(items)
            post_rows.clear()
            score_rows.clear()
            items.clear()

        for pid in range(1, posts + 1):
            ident = rnd.randint(1, n_identities)
            created = start + timedelta(seconds=rnd.random() * span)
            post_rows.append(
                {"id": pid, "platform": PLATFORMS[ident % len(PLATFORMS)], "external_id": f"p{pid}", "kind": "post",
                 "url": f"https://social.example/p/{pid}", "text": f"Beitrag {pid} über {rnd.choice(TOPICS)}",
                 "language": "de" if rnd.random() < 0.85 else "en", "created_at": created, "metrics": {},
                 "identity_id": ident, "raw": {}, "fetched_at": created}
            )  # fmt: skip
            for version in range(2 if pid % 10 == 0 else 1):  # every tenth post was rescored
                sentiment = rnd.choices(["negative", "neutral", "positive"], [0.3, 0.3, 0.4])[0]
                p = {"negative": (0.8, 0.1, 0.1), "neutral": (0.1, 0.8, 0.1), "positive": (0.1, 0.1, 0.8)}[sentiment]
                topics = [
                    {"topic": t, "score": 0.7, "evidence": t.lower()} for t in rnd.sample(TOPICS, rnd.randint(1, 2))
                ]
                score_rows.append(
                    {"post_id": pid, "model_name": "default", "model_version": f"v{version}", "sentiment": sentiment,
                     "p_negative": p[0], "p_neutral": p[1], "p_positive": p[2], "topics": topics,
                     "flags": [], "weight": None, "scored_at": created + timedelta(hours=1 + version)}
                )  # fmt: skip
            if pid % 20 == 0:
                items.append(
                    {"post_id": pid, "reasons": [{"flag": "complaint", "severity": 3, "reason": "Beschwerde"}],
                     "severity": rnd.randint(1, 5), "status": rnd.choice(["open", "open", "in_progress", "resolved"]),
                     "priority": 0.0, "created_at": created, "updated_at": created}
                )  # fmt: skip
            if len(post_rows) >= CHUNK:
                flush()
        flush()
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    return {"customers": n_customers, "identities": n_identities, "links": len(links), "posts": posts,
            "scores": counts["scores"], "review_items": counts["items"]}  # fmt: skip


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU milliseconds per call (one warm-up call first).

    CPU time (this process, all threads) is what to compare on a busy machine: wall time also
    counts the time other processes held the cores.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def login(client: Any, base: str = "") -> None:
    import re

    page = client.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post(f"{base}/login", data={"username": "bench", "password": "bench password", "csrf_token": token})
    assert r.status_code == 303, r.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--answers-only", action="store_true", help="skip the queue page (ask and dashboard only)")
    parser.add_argument("--rollups-only", action="store_true", help="skip the timings from the raw posts")
    keep = parser.add_mutually_exclusive_group()
    keep.add_argument("--keep", type=Path, metavar="DIR", help="generate into DIR/bench.db and keep it")
    keep.add_argument("--reuse", type=Path, metavar="DIR", help="time DIR/bench.db (made with --keep) again")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild the rollups")
    args = parser.parse_args()
    where = args.reuse or args.keep or Path(tempfile.mkdtemp(prefix="resonanz-bench-"))
    where.mkdir(parents=True, exist_ok=True)
    if args.keep and (where / "bench.db").exists():
        parser.error(f"{where / 'bench.db'} exists: time it with --reuse {where} or delete it")
    if args.reuse and not (where / "bench.db").exists():
        parser.error(f"{where / 'bench.db'} does not exist: generate it with --keep {where}")
    engine = open_engine(f"sqlite:///{where / 'bench.db'}")
    if args.reuse:
        sizes = json.loads((where / "sizes.json").read_text())
        gen_s = 0.0
        print(f"reusing {where / 'bench.db'}: {sizes}")
    else:
        t0 = time.perf_counter()
        sizes = generate(engine, args.posts)
        gen_s = time.perf_counter() - t0
        (where / "sizes.json").write_text(json.dumps(sizes))
        print(f"generated {sizes} in {gen_s:.1f} s")
        with Session(engine) as session:
            session.add(User(username="bench", password_hash=hash_password("bench password"), role="community_manager"))
            session.commit()

    four_weeks = iso_week(END_WEEK)
    four_weeks = type(four_weeks)(four_weeks.end - timedelta(weeks=4), four_weeks.end, "4 weeks")
    results: dict[str, Any] = {"sizes": sizes, "generate_s": round(gen_s, 1), "repeat": args.repeat}

    def count_all() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(POST)).scalar_one())

    def count_period(start: datetime, end: datetime) -> Callable[[], int]:
        def run() -> int:
            with engine.connect() as conn:
                q = select(func.count()).select_from(POST).where(POST.c.created_at >= start, POST.c.created_at < end)
                return int(conn.execute(q).scalar_one())

        return run

    def ask_call(flt: AnswerFilter, prior: list[float] | None = None) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as session:
                return ask(session, flt, train_prior=prior)

        return run

    baselines = {
        "all posts": timed(count_all, args.repeat),
        # ask reads the period and the previous one of equal length
        "8 weeks": timed(count_period(four_weeks.start - timedelta(weeks=4), four_weeks.end), args.repeat),
        "12 weeks": timed(count_period(four_weeks.end - timedelta(weeks=12), four_weeks.end), args.repeat),
    }
    six_weeks = type(four_weeks)(four_weeks.end - timedelta(weeks=6), four_weeks.end, "6 weeks")
    cases = {
        "ask: all authors, 4 weeks (+4 before)": (AnswerFilter(period=four_weeks), "8 weeks"),
        "ask: A-customers, 4 weeks (+4 before)": (AnswerFilter(period=four_weeks, classes=["A"]), "8 weeks"),
        "ask: topic Lieferung, 4 weeks (+4 before)": (
            AnswerFilter(period=four_weeks, topics=["Lieferung"]),
            "8 weeks",
        ),
        "ask: all authors, 6 weeks (+6 before)": (AnswerFilter(period=six_weeks), "12 weeks"),
    }
    rows: list[tuple[str, tuple[float, float], str]] = [
        (f"SELECT COUNT(*) post, {name}", timing, name) for name, timing in baselines.items()
    ]
    for name, (flt, baseline) in cases.items():
        if not args.rollups_only:
            rows.append((name, timed(ask_call(flt), args.repeat), baseline))

    with Session(engine) as session:
        built_already = rollup_module.is_built(session)
    if args.reuse and built_already and not args.rebuild:
        print("rollups already built (--rebuild to build them again)")
    else:
        t0 = time.perf_counter()
        with Session(engine) as session:
            built = rebuild(session)
            session.commit()
        results["rollup_build_s"] = round(time.perf_counter() - t0, 1)
        results["rollup_rows"] = built.cells
        print(f"rollups built in {results['rollup_build_s']} s ({built.cells} rows, {built.days} days)")
    two_weeks = type(four_weeks)(four_weeks.end - timedelta(weeks=2), four_weeks.end, "2 weeks")
    default_period = resolve_period(days=28, now=four_weeks.end - timedelta(hours=1))
    baselines["4 weeks"] = timed(count_period(two_weeks.start - timedelta(weeks=2), two_weeks.end), args.repeat)
    rollup_cases = {
        # periods that start and end at midnight Europe/Berlin (the 4 weeks before W44-W47 cross the
        # change to winter time, so that ask stays on the raw posts)
        "all authors, 2 weeks (+2 before)": (AnswerFilter(period=two_weeks), "4 weeks"),
        "A-customers, 2 weeks (+2 before)": (AnswerFilter(period=two_weeks, classes=["A"]), "4 weeks"),
        "bluesky, 2 weeks (+2 before)": (AnswerFilter(period=two_weeks, platforms=["bluesky"]), "4 weeks"),
        # W44-W47: the 4 weeks before them cross the end of summer time (whole local days since issue 18)
        "A-customers, 4 weeks (+4 before)": (AnswerFilter(period=four_weeks, classes=["A"]), "8 weeks"),
        # what `resonanz ask` without a period asks on the last day of END_WEEK: today and the 27 days before
        "all authors, default period (28 days +28 before)": (AnswerFilter(period=default_period), "8 weeks"),
        "A-customers, default period (28 days +28 before)": (
            AnswerFilter(period=default_period, classes=["A"]),
            "8 weeks",
        ),
    }
    now = iso_week(END_WEEK).start + timedelta(days=3)

    def board_call() -> Any:
        with Session(engine) as session:
            return dashboard(session, now=now, weeks=WEEKS)

    with Session(engine) as session:  # cold: no cached answers (a kept database may hold some)
        session.execute(delete(rollup_module.CACHE))
        session.commit()
    for raw in (False,) if args.rollups_only else (False, True):
        how = "raw posts" if raw else "rollups"
        original = rollup_module.prepare
        if raw:
            rollup_module.prepare = lambda *_args, **_kwargs: False
        try:
            for name, (flt, baseline) in rollup_cases.items():
                if not raw:
                    with Session(engine) as session:
                        assert rollup_module.prepare(session, flt, [flt.period.previous(rollup_module.TZ), flt.period])
                rows.append((f"ask from {how}: {name}", timed(ask_call(flt), args.repeat), baseline))
            rows.append((f"dashboard from {how}: 12 weeks", timed(board_call, args.repeat), "12 weeks"))
            default_flt = rollup_cases["all authors, default period (28 days +28 before)"][0]
            rows.append((f"ask from {how}: default period + EM shares (as resonanz ask)",
                         timed(ask_call(default_flt, PRIOR), args.repeat), "8 weeks"))  # fmt: skip
        finally:
            rollup_module.prepare = original

    # the posts behind an answer, a page of the ask page (not cached): picked from the rollups' post packs
    def list_call(flt: AnswerFilter, offset: int) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as session:
                return posts_behind(session, flt, limit=PAGE_SIZE, offset=offset)

        return run

    deep = min(100_000, int(sizes["posts"]) // 10)
    for name, flt, offset in (
        ("all authors, 4 weeks, page 1", AnswerFilter(period=four_weeks), 0),
        ("A-customers, 2 weeks, page 3", AnswerFilter(period=two_weeks, classes=["A"]), 2 * PAGE_SIZE),
        (f"all authors, 4 weeks, {deep:,} posts deep", AnswerFilter(period=four_weeks), deep),
    ):
        with Session(engine) as session:
            assert rollup_module.prepare(session, flt, [flt.period])
        rows.append((f"posts behind the answer: {name}", timed(list_call(flt, offset), args.repeat), "4 weeks"))
    # warm: the two answers rollup.warm caches (the pipeline does it at the end of refresh_rollups)
    t0 = time.perf_counter()
    with Session(engine) as session:
        results["cache_entries"] = rollup_module.warm(
            session, now=default_period.end - timedelta(hours=1), train_prior=PRIOR, key_classes=["A"]
        )
        session.commit()
    results["cache_warm_s"] = round(time.perf_counter() - t0, 2)
    print(f"default answers cached in {results['cache_warm_s']} s ({results['cache_entries']} entries)")
    assert WEEKS == rollup_module.DASHBOARD_WEEKS
    default_ask = rollup_cases["all authors, default period (28 days +28 before)"][0]
    rows.append(
        ("ask from the cache: all authors, default period", timed(ask_call(default_ask), args.repeat), "8 weeks")
    )
    rows.append(("dashboard from the cache: 12 weeks", timed(board_call, args.repeat), "12 weeks"))
    rows.append(("ask from the cache: default period + EM shares (as resonanz ask)",
                 timed(ask_call(default_ask, PRIOR), args.repeat), "8 weeks"))  # fmt: skip
    key_ask = rollup_cases["A-customers, default period (28 days +28 before)"][0]
    rows.append(("ask from the cache: A-customers, default period + EM shares (as resonanz ask --class A)",
                 timed(ask_call(key_ask, PRIOR), args.repeat), "8 weeks"))  # fmt: skip
    # what users ask besides the cached answers, once the pipeline has warmed the cache (its revenue per class
    # is cached with it: the same for every filter)
    for name, (flt, baseline) in rollup_cases.items():
        if "default period" not in name:
            rows.append((f"ask, not cached, after warming: {name}", timed(ask_call(flt, PRIOR), args.repeat),
                         baseline))  # fmt: skip
    bluesky_board = AnswerFilter(period=default_period, platforms=["bluesky"])

    def board_bluesky() -> Any:
        with Session(engine) as session:
            return dashboard(session, now=now, weeks=WEEKS, base=bluesky_board)

    rows.append(("dashboard, not cached, after warming: bluesky, 12 weeks", timed(board_bluesky, args.repeat),
                 "12 weeks"))  # fmt: skip
    if args.answers_only:
        _report(rows, baselines, results, f"answers-{args.posts}.json")
        engine.dispose()
        return

    settings = Settings(web=WebSettings(secret_key=SecretStr("bench-secret-key-0123456789abcdef")))
    app = create_app(settings, engine=engine)
    with TestClient(app, follow_redirects=False) as client:
        login(client)
        assert client.get("/queue").status_code == 200
        rows.append(("GET /queue (TestClient)", timed(lambda: client.get("/queue"), args.repeat), "all posts"))
        rows.append(
            (
                "GET /queue?class=A&page=3 (TestClient)",
                timed(lambda: client.get("/queue?class=A&page=3"), args.repeat),
                "all posts",
            )
        )

    from tests.web.live import live_server

    with live_server(app) as base, httpx.Client(follow_redirects=False, timeout=60) as http:
        login(http, base)
        assert http.get(f"{base}/queue").status_code == 200
        served = timed(lambda: http.get(f"{base}/queue"), args.repeat)
        rows.append(("GET /queue (uvicorn + httpx)", served, "all posts"))

    _report(rows, baselines, results, "answers.json")
    engine.dispose()


def _report(
    rows: list[tuple[str, tuple[float, float], str]],
    baselines: dict[str, tuple[float, float]],
    results: dict[str, Any],
    filename: str,
) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{'what':<{width}}  {'wall ms':>8}  {'cpu ms':>8}  {'vs COUNT(*) of':>14}  {'ratio (wall)':>12}")
    table = []
    for name, (wall, cpu), baseline in rows:
        ratio = wall / baselines[baseline][0]
        print(f"{name:<{width}}  {wall:8.1f}  {cpu:8.1f}  {baseline:>14}  {ratio:11.0f}x")
        table.append({"what": name, "wall_ms": round(wall, 2), "cpu_ms": round(cpu, 2), "baseline": baseline,
                      "baseline_wall_ms": round(baselines[baseline][0], 3), "ratio": round(ratio, 1)})  # fmt: skip
    results["timings"] = table
    results["load_average"] = os.getloadavg()
    print(f"load average during the run: {results['load_average']}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / filename).write_text(json.dumps(results, indent=2))
    print(f"\nresults in {RESULTS / filename}")


if __name__ == "__main__":
    main()
