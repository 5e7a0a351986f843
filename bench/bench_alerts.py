"""Alert replay: weeks of generated posts with injected incidents, fed to the store as a collector would
(every 15 minutes what was posted since), each pass followed by the real duplicate/spam step and the real
alert evaluation (``resonanz.alerts.evaluate``, default rules). Then the alerts are matched to the incidents.

    .venv/bin/python -m bench.bench_alerts [--seed 1] [--seeds 1,2,3] [--interval 15] [--posts-per-day 500]

Reports, per seed and pooled: detection recall (incidents of a crisis type with an alert), false alerts per
week (alerts that match no incident and no background post that the customer rule is meant to catch; an
alert on a bot flood counts as false), median time from incident start to the first alert, per incident
type; the A-customer churn delay against the collection interval; the cost of one pass. Results go to
``bench/results/bench_alerts.json``.

Matching: an alert belongs to an incident if it was raised between the incident's start and a day after its
last post and at least one of the alert's posts is an incident post (and, for slice alerts, at least 20 % of
them). A customer alert on a background post whose truth is a churn threat or a strong complaint by an A/B
customer (the rule's purpose, not an injected incident) is counted apart, as "background customer alerts".
Scores are the generator's model outputs (with its error rates), not the NLP model: this measures the
alerting, given a model of that quality.

A customer alert stays open until a person resolves it (nobody does in the replay), so an A customer who
complained weeks earlier gets the churn threat as an escalation of that alert, not as a new one: a customer
incident without a new alert counts as detected at that message (an update, escalation or reopening of a
customer alert that took in the incident's post), reported as ``updates``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bench.alertgen import CLASS_WEIGHT, PROSPECT_WEIGHT, PostSpec, Stream, generate, metrics_at
from resonanz.alerts.aggregate import BaselineCache
from resonanz.alerts.evaluate import evaluate
from resonanz.core.settings import Settings
from resonanz.core.tables import IDENTITY, POST, SCORE
from resonanz.pipeline.duplicates import merge_duplicates
from store.db import open_engine
from store.models import Alert, AlertEvent, Customer, CustomerValue, IdentityLink, SocialIdentity

RESULTS = Path(__file__).parent / "results"
REFETCH_HOURS = (1.0, 6.0, 24.0)
"""A collector reads a post's metrics again at these ages (reply and metric refreshes)."""
MATCH_SHARE = 0.2
CUSTOMER_INCIDENTS = ("a_churn",)
MESSAGES = ("updated", "escalated", "reopened")
"""Events of an existing alert that send a message (resonanz.alerts.incidents)."""


class Replay:
    def __init__(self, engine: Engine, stream: Stream) -> None:
        self.engine = engine
        self.stream = stream
        self.identity: dict[str, int] = {}
        self.post_id: dict[str, int] = {}
        self.spec: dict[str, PostSpec] = {}
        self.refetch: list[tuple[datetime, str]] = []
        self._customers()

    def _customers(self) -> None:
        with Session(self.engine) as session:
            for key, cls in self.stream.customers.items():
                customer = Customer(crm_id=f"K-{key}", first_name="Kund:in", last_name=key.upper(),
                                    company=f"Firma {key.upper()}" if cls == "A" else None,
                                    consent_status="granted", consent_basis="Art. 6 Abs. 1 lit. a DSGVO")  # fmt: skip
                session.add(customer)
                session.flush()
                assert customer.id is not None
                revenue = {"A": 20000.0, "B": 4000.0, "C": 600.0}[cls]
                session.add(CustomerValue(customer_id=customer.id, abc_class=cls, revenue=revenue,
                                          weight=CLASS_WEIGHT[cls], is_current=True))  # fmt: skip
                ident = SocialIdentity(platform="mastodon", account_id=f"acct-{key}", handle=f"@{key}@example.social")
                session.add(ident)
                session.flush()
                assert ident.id is not None
                session.add(IdentityLink(identity_id=ident.id, customer_id=customer.id, method="handle",
                                         status="confirmed"))  # fmt: skip
                self.identity[key] = ident.id
            session.commit()

    def _identities(self, conn: Any, keys: Iterable[str], at: datetime) -> None:
        new = sorted({k for k in keys if k not in self.identity})
        if not new:
            return
        conn.execute(insert(IDENTITY), [{"platform": "bluesky", "account_id": f"acct-{k}", "handle": f"{k}.bsky.social",
                                         "first_seen": at, "last_seen": at} for k in new])  # fmt: skip
        rows = conn.execute(select(IDENTITY.c.account_id, IDENTITY.c.id).where(
            IDENTITY.c.account_id.in_([f"acct-{k}" for k in new]))).all()  # fmt: skip
        for account, iid in rows:
            self.identity[account.removeprefix("acct-")] = iid

    def collect(self, posts: list[PostSpec], at: datetime) -> None:
        """Store ``posts`` as seen at ``at`` (metrics so far) with the model's scores and weights."""
        if not posts:
            return
        with self.engine.begin() as conn:
            self._identities(conn, (p.author for p in posts), at)
            conn.execute(insert(POST), [{
                "platform": p.platform, "external_id": p.external_id, "kind": "post", "url": f"https://example.social/{p.external_id}",
                "text": p.text, "created_at": p.created_at, "metrics": metrics_at(p, at), "raw": {}, "fetched_at": at,
                "identity_id": self.identity[p.author], "language": "de"} for p in posts])  # fmt: skip
            ids = dict(conn.execute(select(POST.c.external_id, POST.c.id).where(
                POST.c.external_id.in_([p.external_id for p in posts]))).all())  # fmt: skip
            rows = []
            for p in posts:
                self.post_id[p.external_id] = ids[p.external_id]
                self.spec[p.external_id] = p
                weight = CLASS_WEIGHT[self.stream.customers[p.author]] if p.author.startswith("c") else PROSPECT_WEIGHT
                pn = p.p_negative
                rows.append({"post_id": ids[p.external_id], "model_name": "bench", "model_version": "1",
                             "sentiment": p.sentiment, "p_negative": pn, "p_neutral": (1 - pn) / 2,
                             "p_positive": (1 - pn) / 2, "topics": [{"topic": t} for t in p.topics], "flags": p.flags,
                             "weight": weight, "scored_at": at})  # fmt: skip
                for h in REFETCH_HOURS:
                    self.refetch.append((p.created_at + timedelta(hours=h), p.external_id))
                if p.engagement > 1000:  # a collector follows a hot thread closely
                    self.refetch += [(p.created_at + timedelta(minutes=15 * k), p.external_id) for k in range(1, 97)]
            conn.execute(insert(SCORE), rows)
        self.refetch.sort()

    def refresh_metrics(self, at: datetime) -> None:
        due = []
        while self.refetch and self.refetch[0][0] <= at:
            due.append(self.refetch.pop(0)[1])
        if not due:
            return
        with self.engine.begin() as conn:
            for ext in set(due):
                conn.execute(update(POST).where(POST.c.id == self.post_id[ext]).values(
                    metrics=metrics_at(self.spec[ext], at), fetched_at=at))  # fmt: skip


def run(seed: int, interval: int, posts_per_day: float, weeks: int, db: Path) -> dict[str, Any]:
    stream = generate(seed=seed, posts_per_day=posts_per_day, eval_weeks=weeks)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = open_engine(f"sqlite:///{db}")
    settings = Settings()
    replay = Replay(engine, stream)
    cache = BaselineCache()  # as `resonanz run` keeps one between passes
    posts = stream.posts
    i = 0
    step = timedelta(minutes=interval)
    t = stream.eval_start
    while i < len(posts) and posts[i].created_at <= t:  # the backfill of the first collection
        i += 1
    replay.collect(posts[:i], t)
    merge_duplicates(engine)
    started = time.perf_counter()
    evaluate(engine, settings, now=t, notify=False, cache=cache)
    first_pass = time.perf_counter() - started
    pass_seconds: list[float] = []
    dup_seconds: list[float] = []
    while t < stream.end:
        t += step
        j = i
        while j < len(posts) and posts[j].created_at <= t:
            j += 1
        replay.collect(posts[i:j], t)
        i = j
        replay.refresh_metrics(t)
        started = time.perf_counter()
        merge_duplicates(engine)
        dup_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        evaluate(engine, settings, now=t, notify=False, cache=cache)
        pass_seconds.append(time.perf_counter() - started)
    result = score(engine, stream, replay, interval, weeks)
    result["cost"] = {
        "posts_stored": len(posts),
        "first_pass_s": round(first_pass, 3),
        "passes": len(pass_seconds),
        "pass_median_ms": round(1000 * statistics.median(pass_seconds), 1),
        "pass_p95_ms": round(1000 * sorted(pass_seconds)[int(0.95 * len(pass_seconds))], 1),
        "duplicates_median_ms": round(1000 * statistics.median(dup_seconds), 1),
    }
    engine.dispose()
    return result


def score(engine: Engine, stream: Stream, replay: Replay, interval: int, weeks: int) -> dict[str, Any]:
    with Session(engine) as session:
        alerts = list(session.execute(select(Alert).order_by(Alert.id)).scalars())  # type: ignore[arg-type]
    by_post = {replay.post_id[p.external_id]: p for p in replay.spec.values()}
    incident_posts = {inc.id: {replay.post_id[p.external_id] for p in inc.posts if p.external_id in replay.post_id}
                      for inc in stream.incidents}  # fmt: skip
    matched: dict[str, list[Alert]] = {inc.id: [] for inc in stream.incidents}
    background, false, on_bots = [], [], []
    for alert in alerts:
        ids = set(alert.post_ids or [])
        hit = None
        for inc in stream.incidents:
            mine = ids & incident_posts[inc.id]
            if not mine or not (inc.start <= alert.first_seen_at <= inc.end + timedelta(days=1)):
                continue
            if alert.kind != "customer" and len(mine) < MATCH_SHARE * len(ids):
                continue
            hit = inc
            break
        if hit is not None:
            matched[hit.id].append(alert)
            if not hit.crisis:
                on_bots.append(alert)
            continue
        if alert.kind == "customer" and any(
            by_post[i].truth_churn or by_post[i].truth_strong for i in ids if i in by_post
        ):
            background.append(alert)
        else:
            false.append(alert)
    notified = _customer_updates(engine, stream, incident_posts, matched, alerts)
    per_type: dict[str, dict[str, Any]] = {}
    delays: list[float] = []
    crises = [inc for inc in stream.incidents if inc.crisis]
    for inc in stream.incidents:
        entry = per_type.setdefault(inc.kind, {"incidents": 0, "detected": 0, "minutes_to_alert": [], "alerts": 0,
                                               "customer_alerts": 0, "updates": 0})  # fmt: skip
        entry["incidents"] += 1
        entry["alerts"] += len(matched[inc.id])
        entry["customer_alerts"] += sum(1 for a in matched[inc.id] if a.kind == "customer" and inc.kind != "a_churn")
        first = [a.first_seen_at for a in matched[inc.id]]
        if inc.id in notified:
            entry["updates"] += 1
            first.append(notified[inc.id])
        if first:
            entry["detected"] += 1
            minutes = (min(first) - inc.start).total_seconds() / 60
            entry["minutes_to_alert"].append(round(minutes, 1))
            if inc.crisis:
                delays.append(minutes)
    for entry in per_type.values():
        mins = entry["minutes_to_alert"]
        entry["median_minutes"] = round(statistics.median(mins), 1) if mins else None
    detected = sum(1 for inc in crises if matched[inc.id] or inc.id in notified)
    churn = per_type.get("a_churn", {}).get("minutes_to_alert", [])
    return {
        "recall": round(detected / len(crises), 3) if crises else None,
        "incidents": len(crises),
        "detected": detected,
        "false_alerts": len(false) + len(on_bots),
        "false_alerts_per_week": round((len(false) + len(on_bots)) / weeks, 2),
        "bot_flood_alerts": len(on_bots),
        "background_customer_alerts": len(background),
        "median_minutes_to_alert": round(statistics.median(delays), 1) if delays else None,
        "a_churn_max_minutes": max(churn) if churn else None,
        "a_churn_detected_within_interval": bool(churn) and max(churn) <= interval,
        "a_churn_missed": per_type.get("a_churn", {}).get("incidents", 0) - len(churn),
        "alerts_total": len(alerts),
        "per_type": per_type,
        "false": [{"rule": a.rule, "title": a.title, "at": a.first_seen_at.isoformat()} for a in false + on_bots],
        "missed": [
            {"incident": inc.id, "start": inc.start.isoformat(), "posts": len(inc.posts)}
            for inc in crises
            if not matched[inc.id] and inc.id not in notified
        ],
        "split": [
            {"incident": inc.id, "alerts": [f"{a.id} {a.key}" for a in matched[inc.id] if a.kind != "customer"]}
            for inc in crises
            if sum(1 for a in matched[inc.id] if a.kind != "customer") > 1
        ],
    }


def _customer_updates(engine: Engine, stream: Stream, incident_posts: dict[str, set[int]],
                      matched: dict[str, list[Alert]], alerts: list[Alert]) -> dict[str, datetime]:  # fmt: skip
    """Customer incidents without a new alert of their own: when an existing customer alert that took in the
    incident's post sent its first message about it (see the module docstring)."""
    out: dict[str, datetime] = {}
    for inc in stream.incidents:
        if inc.kind not in CUSTOMER_INCIDENTS or matched[inc.id]:
            continue
        carriers = [a.id for a in alerts if a.kind == "customer" and set(a.post_ids or []) & incident_posts[inc.id]]
        if not carriers:
            continue
        with Session(engine) as session:
            at = col(AlertEvent.at)
            times = session.execute(select(at).where(
                col(AlertEvent.alert_id).in_(carriers), col(AlertEvent.action).in_(MESSAGES),
                at >= inc.start, at <= inc.end + timedelta(days=1))).scalars().all()  # fmt: skip
        if times:
            out[inc.id] = min(times)
    return out


def scale(posts: int, days: int, db: Path, passes: int = 20) -> dict[str, Any]:
    """The cost of a pass on a large store: ``posts`` over ``days`` (the daily rhythm, no incidents), then
    ``passes`` passes 15 minutes apart, each after that quarter hour's posts arrived."""
    import random

    from bench.alertgen import DOW, HOD, PLATFORMS, TOPICS

    rng = random.Random(3)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    engine = open_engine(f"sqlite:///{db}")
    end = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
    start = end - timedelta(days=days)
    weights = [HOD[(h % 24)] * DOW[(h // 24) % 7] for h in range(days * 24)]
    total = sum(weights)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(IDENTITY), [{"platform": "bluesky", "account_id": f"a{i}", "handle": f"u{i}.bsky.social",
                                         "first_seen": start, "last_seen": end} for i in range(50_000)])  # fmt: skip
        first_identity = conn.execute(select(IDENTITY.c.id).order_by(IDENTITY.c.id).limit(1)).scalar_one()
    topics, platforms = list(TOPICS), list(PLATFORMS)

    def rows(at: datetime, n: int, seq: int) -> tuple[list[dict[str, Any]], list[tuple[str, Any]]]:
        out, meta = [], []
        for k in range(n):
            t = at + timedelta(seconds=rng.uniform(0, 3600))
            ext = f"s{seq + k}"
            out.append({"platform": rng.choice(platforms), "external_id": ext, "kind": "post", "text":
                        f"Beitrag {seq + k} über Kaffee", "created_at": t, "metrics": {"likes": rng.randint(0, 9)},
                        "raw": {}, "fetched_at": t, "identity_id": first_identity + rng.randrange(50_000)})  # fmt: skip
            meta.append((ext, rng.choice(topics)))
        return out, meta

    seq = 0
    pending: list[dict[str, Any]] = []
    pending_meta: list[tuple[str, Any]] = []

    def flush() -> None:
        with engine.begin() as conn:
            conn.execute(insert(POST), pending)
            ids = dict(conn.execute(select(POST.c.external_id, POST.c.id).where(
                POST.c.external_id.in_([m[0] for m in pending_meta]))).all())  # fmt: skip
            conn.execute(insert(SCORE), [{"post_id": ids[ext], "model_name": "bench", "model_version": "1",
                                          "sentiment": rng.choice(("negative", "neutral", "positive")),
                                          "p_negative": 0.3, "p_neutral": 0.4, "p_positive": 0.3,
                                          "topics": [{"topic": topic}], "flags": [], "weight": 0.5,
                                          "scored_at": end} for ext, topic in pending_meta])  # fmt: skip
        pending.clear()
        pending_meta.clear()

    for h, w in enumerate(weights):
        n = round(posts * w / total)
        batch, meta = rows(start + timedelta(hours=h), n, seq)
        seq += n
        pending.extend(batch)
        pending_meta.extend(meta)
        if len(pending) >= 5000:
            flush()
    if pending:
        flush()
    built = time.perf_counter() - started
    settings = Settings()
    cache = BaselineCache()
    started = time.perf_counter()
    evaluate(engine, settings, now=end, notify=False, cache=cache)
    first = time.perf_counter() - started
    per_quarter = round(posts / days / 96)
    times = []
    t = end
    for _ in range(passes):
        t += timedelta(minutes=15)
        batch, meta = rows(t - timedelta(minutes=15), per_quarter, seq)
        seq += per_quarter
        pending.extend(batch)
        pending_meta.extend(meta)
        flush()
        started = time.perf_counter()
        report = evaluate(engine, settings, now=t, notify=False, cache=cache)
        times.append(time.perf_counter() - started)
    engine.dispose()
    return {"posts": seq, "days": days, "build_s": round(built, 1), "first_pass_s": round(first, 2),
            "pass_median_ms": round(1000 * statistics.median(times), 1), "pass_max_ms": round(1000 * max(times), 1),
            "posts_read_per_pass": report.posts_read, "db_mb": round(db.stat().st_size / 2**20)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds (each a separate stream)")
    parser.add_argument("--interval", type=int, default=15, help="collection interval in minutes")
    parser.add_argument("--posts-per-day", type=float, default=500.0)
    parser.add_argument("--weeks", type=int, default=8, help="evaluated weeks (after 4 weeks of history)")
    parser.add_argument("--quick", action="store_true", help="one seed, 4 weeks, 30-minute interval")
    parser.add_argument("--jobs", type=int, default=2, help="seeds replayed in parallel processes")
    parser.add_argument("--keep", type=Path, default=None, help="keep the databases in this directory")
    parser.add_argument(
        "--scale", type=int, default=0, help="instead: the cost of a pass on a store of this many posts"
    )
    args = parser.parse_args()
    if args.scale:
        with tempfile.TemporaryDirectory() as scratch:
            result = scale(args.scale, 365, (args.keep or Path(scratch)) / "alerts-scale.db")
        print(json.dumps(result, indent=1))
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "bench_alerts_scale.json").write_text(json.dumps(result, indent=1))
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        seeds, args.weeks, args.interval = seeds[:1], 4, 30
    runs = {}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=max(1, min(args.jobs, len(seeds)))) as pool:
            futures = {seed: pool.submit(run, seed, args.interval, args.posts_per_day, args.weeks,
                                         Path(tmp) / f"alerts-{seed}.db") for seed in seeds}  # fmt: skip
            for seed, future in futures.items():
                runs[seed] = r = future.result()
                print(f"seed {seed}: recall {r['recall']} ({r['detected']}/{r['incidents']}), "
                      f"{r['false_alerts_per_week']} false alerts/week ({r['bot_flood_alerts']} on bot floods), "
                      f"median {r['median_minutes_to_alert']} min to alert, A-churn max {r['a_churn_max_minutes']} "
                      f"min; pass median {r['cost']['pass_median_ms']} ms; {time.perf_counter() - started:.0f} s",
                      flush=True)  # fmt: skip
                for kind, entry in r["per_type"].items():
                    print(f"   {kind:10s} {entry['detected']}/{entry['incidents']} detected, {entry['alerts']} alerts "
                          f"({entry['customer_alerts']} of A/B customers in it), {entry['updates']} by an update of "
                          f"an open customer alert, minutes {entry['minutes_to_alert']}")  # fmt: skip
                for f in r["false"]:
                    print(f"   false: {f['at']} {f['rule']}: {f['title']}")
                for m in r["missed"]:
                    print(f"   missed: {m['incident']} (start {m['start']}, {m['posts']} posts)")
                for m in r["split"]:
                    print(f"   one incident, several alerts: {m['incident']}: {', '.join(m['alerts'])}")
    pooled = _pool(runs, args.weeks)
    out = {"settings": {"seeds": seeds, "interval_minutes": args.interval, "posts_per_day": args.posts_per_day,
                        "evaluated_weeks": args.weeks, "history_weeks": 4},
           "pooled": pooled, "runs": {str(k): v for k, v in runs.items()}}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_alerts.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))
    print(json.dumps(pooled, indent=1, ensure_ascii=False))


def _pool(runs: dict[int, dict[str, Any]], weeks: int) -> dict[str, Any]:
    incidents = sum(r["incidents"] for r in runs.values())
    detected = sum(r["detected"] for r in runs.values())
    false = sum(r["false_alerts"] for r in runs.values())
    per_type: dict[str, dict[str, Any]] = {}
    delays: list[float] = []
    for r in runs.values():
        for kind, entry in r["per_type"].items():
            p = per_type.setdefault(kind, {"incidents": 0, "detected": 0, "alerts": 0, "customer_alerts": 0,
                                           "updates": 0, "minutes_to_alert": []})  # fmt: skip
            p["incidents"] += entry["incidents"]
            p["updates"] += entry.get("updates", 0)
            p["detected"] += entry["detected"]
            p["alerts"] += entry["alerts"]
            p["customer_alerts"] += entry["customer_alerts"]
            p["minutes_to_alert"] += entry["minutes_to_alert"]
            if kind != "bot_flood":
                delays += entry["minutes_to_alert"]
    for p in per_type.values():
        p["recall"] = round(p["detected"] / p["incidents"], 3)
        p["median_minutes"] = round(statistics.median(p["minutes_to_alert"]), 1) if p["minutes_to_alert"] else None
        p["alerts_per_incident"] = round(p["alerts"] / p["incidents"], 2)
        p["incident_alerts_per_incident"] = round((p["alerts"] - p["customer_alerts"]) / p["incidents"], 2)
        # without the separate alerts of A/B customers who wrote during the incident
        del p["minutes_to_alert"]
    return {
        "recall": round(detected / incidents, 3) if incidents else None,
        "false_alerts_per_week": round(false / (weeks * len(runs)), 2),
        "bot_flood_alerts": sum(r["bot_flood_alerts"] for r in runs.values()),
        "background_customer_alerts_per_week": round(
            sum(r["background_customer_alerts"] for r in runs.values()) / (weeks * len(runs)), 2),
        "median_minutes_to_alert": round(statistics.median(delays), 1) if delays else None,
        "a_churn_max_minutes": max((r["a_churn_max_minutes"] or 0) for r in runs.values()),
        "a_churn_detected_within_interval": all(r["a_churn_detected_within_interval"] for r in runs.values()),
        "a_churn_missed": sum(r["a_churn_missed"] for r in runs.values()),
        "pass_median_ms": round(statistics.median(r["cost"]["pass_median_ms"] for r in runs.values()), 1),
        "per_type": per_type,
    }  # fmt: skip


if __name__ == "__main__":
    main()
