#!/usr/bin/env python
"""Generate the Resonanz demo dataset in ``resonanz/demo/data/`` (deterministic, fixed seed).

    python scripts/make_demo_data.py [--out DIR]

Customers, two years of orders, ~300 social posts and the intended linking (``truth.json``) for
the fictional "Lindenhof Kaffee" (Köln). Texts are hand-written in ``demo_content.py`` and
``demo_story.py``; this script only arranges them. Names of ordinary customers come from Faker
(de_DE, seeded), so byte-identical output needs the Faker version recorded in the README.
Written by the Resonanz authors, MIT licence.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import re
import sys
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

import demo_replies  # noqa: E402
import demo_social  # noqa: E402
from demo_story import COMPANIES, STORY_CUSTOMERS  # noqa: E402
from faker import Faker  # noqa: E402

SEED = 4711
BERLIN = ZoneInfo("Europe/Berlin")
ORDERS_START = datetime(2024, 11, 16, tzinfo=BERLIN)
ORDERS_END = datetime(2026, 11, 15, 23, 59, tzinfo=BERLIN)
N_CUSTOMERS = 200
OUT = Path(__file__).resolve().parent.parent / "resonanz" / "demo" / "data"
_FOLD_MAP: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"}
FOLD = str.maketrans(_FOLD_MAP)
CONSENT_BASIS = "Art. 6 Abs. 1 lit. a DSGVO (Einwilligung)"
CONSENT_BASIS_B2B = "Art. 6 Abs. 1 lit. f DSGVO (berechtigtes Interesse)"

# City -> (area code, weight for generated private customers).
CITIES = {
    "Köln": ("221", 30), "Düsseldorf": ("211", 10), "Bonn": ("228", 8), "Aachen": ("241", 4), "Münster": ("251", 4),
    "Essen": ("201", 4), "Dortmund": ("231", 3), "Wuppertal": ("202", 2), "Berlin": ("30", 8), "Hamburg": ("40", 7),
    "München": ("89", 5), "Frankfurt am Main": ("69", 4), "Stuttgart": ("711", 3), "Leipzig": ("341", 2),
    "Dresden": ("351", 1), "Hannover": ("511", 2), "Nürnberg": ("911", 1), "Freiburg im Breisgau": ("761", 1),
    "Bremen": ("421", 1), "Mainz": ("6131", 1), "Möhnesee": ("2924", 0), "Koblenz": ("261", 0),
}  # fmt: skip
FREEMAIL = ["web.de", "gmx.de", "gmail.com", "t-online.de", "posteo.de", "gmx.net", "outlook.de", "mailbox.org"]
MOBILE = ["151", "152", "157", "160", "162", "170", "171", "172", "175", "176", "177", "178", "179"]
INSTANCES = ["mastodon.social", "chaos.social", "norden.social", "troet.cafe", "social.cologne", "det.social"]
# Generated private customers per segment (the rest are "regular").
SEGMENTS = {"vip": 5, "abo": 46, "occasional": 38, "lapsed": 16, "none": 6, "sample": 4}
# Generated consent decisions (story customers have their own).
CONSENT_MIX = {"withdrawn": 5, "unknown": 40}


def fold(text: str) -> str:
    """ASCII for e-mail addresses and handles: Müller -> mueller, Aydın -> aydin."""
    text = text.lower().translate(FOLD)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def local_iso(dt: datetime) -> str:
    return dt.astimezone(BERLIN).isoformat(timespec="seconds")


def rand_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))


def phone(rng: random.Random, city: str) -> str:
    if rng.random() < 0.35:
        number = f"{rng.choice(MOBILE)} {rng.randint(1000000, 99999999)}"
        return f"+49 {number}" if rng.random() < 0.6 else f"0{number}"
    code, _ = CITIES[city]
    local = str(rng.randint(10 ** (6 - len(code) // 2), 10 ** (8 - len(code) // 2) - 1))
    style = rng.random()
    if style < 0.45:
        return f"+49 {code} {local}"
    return f"0{code} {local}" if style < 0.8 else f"0{code}/{local}"


def private_emails(rng: random.Random, first: str, last: str) -> list[str]:
    f, last_ = fold(first), fold(last)
    pattern = rng.choice(["{f}.{l}", "{f}{l}", "{f0}.{l}", "{f}_{l}{n}", "{l}.{f}", "{f}.{l}{n}"])
    user = pattern.format(f=f, l=last_, f0=f[0], n=rng.randint(1, 99)).replace("-", "")
    emails = [f"{user}@{rng.choice(FREEMAIL)}"]
    if rng.random() < 0.12:
        emails.append(f"{f[0]}.{last_}@{rng.choice(FREEMAIL)}".replace("-", ""))
    return emails


def build_customers(rng: random.Random, fake: Faker) -> list[dict]:
    """Story customers, business customers from ``COMPANIES`` and Faker-named private customers."""
    reserved = {(row[1], row[2]) for row in STORY_CUSTOMERS.values()} | demo_social.RESERVED_NAMES
    used: set[tuple[str, str]] = set()

    def new_name() -> tuple[str, str]:
        while True:
            name = (fake.first_name(), fake.last_name())
            if name not in reserved and name not in used and "-" not in name[1] and "." not in name[0] \
                    and name[1] not in ("Mühle", "Kaffee", "Bohne"):  # fmt: skip
                used.add(name)
                return name

    customers: list[dict] = []
    for key, (
        _k,
        first,
        last,
        company,
        city,
        consent,
        segment,
        emails,
        phones,
        handles,
        urls,
    ) in STORY_CUSTOMERS.items():
        status, _, when = (consent or "unknown").partition(" ")
        customers.append({
            "story": key, "first_name": first, "last_name": last, "company": company, "city": city,
            "consent_status": status, "consent_at": _local(when) if when else None,
            "segment": segment, "emails": (emails or "").split("; ") if emails else [],
            "phones": phones.split("; ") if phones else [], "handles": handles.split("; ") if handles else [],
            "profile_urls": urls.split("; ") if urls else [],
        })  # fmt: skip
    for company, city, segment in COMPANIES:
        first, last = new_name()
        domain = fold(company.replace("GmbH", "").replace("mbB", "").replace("e.V.", "")).replace("--", "-") + ".de"
        mailboxes = [f"{fold(first).replace('-', '')}.{fold(last).replace('-', '')}@{domain}"]
        mailboxes.insert(
            0 if rng.random() < 0.6 else 1, rng.choice(["einkauf", "info", "buero", "rechnung"]) + "@" + domain
        )
        customers.append(
            {
                "first_name": first,
                "last_name": last,
                "company": company,
                "city": city,
                "segment": segment,
                "emails": mailboxes,
                "phones": [phone(rng, city) for _ in range(rng.choice([1, 1, 2]))],
            }
        )
    segments = [seg for seg, n in SEGMENTS.items() for _ in range(n)]
    segments += ["regular"] * (N_CUSTOMERS - len(customers) - len(segments))
    rng.shuffle(segments)
    cities = [c for c in CITIES if CITIES[c][1]]
    for segment in segments:
        first, last = new_name()
        city = rng.choices(cities, weights=[CITIES[c][1] for c in cities])[0]
        n_phones = rng.choices([0, 1, 2], weights=[2, 6, 1])[0]
        customers.append(
            {
                "first_name": first,
                "last_name": last,
                "company": None,
                "city": city,
                "segment": segment,
                "emails": private_emails(rng, first, last),
                "phones": [phone(rng, city) for _ in range(n_phones)],
            }
        )
    generated = [c for c in customers if "story" not in c]
    statuses = [s for s, n in CONSENT_MIX.items() for _ in range(n)]
    statuses += ["granted"] * (len(generated) - len(statuses))
    rng.shuffle(statuses)
    for cust, status in zip(generated, statuses, strict=True):
        cust.update(consent_status=status, handles=[], profile_urls=[])
        if status == "granted":
            cust["consent_at"] = rand_time(
                rng, datetime(2022, 3, 1, tzinfo=BERLIN), datetime(2026, 10, 31, tzinfo=BERLIN)
            )
        elif status == "withdrawn":
            cust["consent_at"] = rand_time(
                rng, datetime(2025, 6, 1, tzinfo=BERLIN), datetime(2026, 11, 10, tzinfo=BERLIN)
            )
    order = list(range(len(customers)))
    rng.shuffle(order)
    for number, index in enumerate(order):
        customers[index]["crm_id"] = f"K-{10001 + number * 7 + rng.randint(0, 6)}"
    for cust in customers:
        status = cust["consent_status"]
        cust["consent_basis"] = None if status == "unknown" else CONSENT_BASIS
        if status == "granted" and cust["company"] and rng.random() < 0.3 and "story" not in cust:
            cust["consent_basis"] = CONSENT_BASIS_B2B
    return customers


# Orders ------------------------------------------------------------------------------------------------------


def _margin(rng: random.Random, b2b: bool) -> float:
    return rng.uniform(0.30, 0.40) if b2b else rng.uniform(0.42, 0.60)


def _order_time(rng: random.Random, day: datetime, b2b: bool) -> datetime:
    if b2b:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        hour = rng.uniform(7, 17)
    else:
        hour = rng.triangular(6.5, 23.5, 20)
    return day.replace(hour=0, minute=0, second=0) + timedelta(hours=hour, seconds=rng.randint(0, 59))


def customer_orders(rng: random.Random, cust: dict) -> list[tuple[datetime, float, float]]:
    """(time, revenue, cost) for one customer, by segment; heavy-tailed through a per-customer factor."""
    seg, b2b = cust["segment"], bool(cust["company"])
    factor = rng.lognormvariate(0, 0.45)
    span = (ORDERS_END - ORDERS_START).days
    days: list[tuple[int, float]] = []  # (day offset, basket)
    if seg in ("b2b_top", "b2b_large", "b2b_small"):
        interval, basket = {"b2b_top": (7, 640.0), "b2b_large": (14, 215.0), "b2b_small": (30, 85.0)}[seg]
        if seg == "b2b_top":
            factor = 1.0
        day: float = rng.uniform(0, interval)
        while day < span:
            days.append((int(day), basket * factor * rng.lognormvariate(0, 0.25)))
            day += rng.uniform(0.7, 1.3) * interval
    elif seg in ("abo", "vip", "abo_ends"):
        price = {"vip": 104.0, "abo": rng.choice([19.9, 24.9, 29.8, 39.6, 49.5, 59.4])}.get(seg, 24.9)
        start = rng.uniform(-200, span * 0.7) if seg == "abo" else rng.uniform(-60, 20)
        end: float = span
        if seg == "abo" and rng.random() < 0.22:
            end = rng.uniform(max(start, 0) + 40, span)
        elif seg == "abo_ends":
            end = (cust["consent_at"] - ORDERS_START).days
        day = start
        while day < end:
            if day >= 0:
                days.append((int(day), price))
            day += rng.uniform(28, 33)
        extra = {"vip": 6, "abo": 1}.get(seg, 0)
        days += [(rng.randrange(span), rng.lognormvariate(math.log(45), 0.5)) for _ in range(rng.randint(0, extra * 2))]
    elif seg == "regular":
        count = max(1, int(rng.lognormvariate(math.log(9), 0.45)))
        days = [(rng.randrange(span), 50.0 * factor * rng.lognormvariate(0, 0.4)) for _ in range(count)]
    elif seg == "occasional":
        days = [(rng.randrange(span), 30.0 * factor * rng.lognormvariate(0, 0.4)) for _ in range(rng.randint(1, 4))]
    elif seg == "lapsed":
        days = [(rng.randrange(0, span // 2 - 20), 36.0 * factor * rng.lognormvariate(0, 0.4))
                for _ in range(rng.randint(2, 7))]  # fmt: skip
    elif seg == "sample":
        return [(_order_time(rng, ORDERS_START + timedelta(days=rng.randrange(span)), b2b), 0.0,
                 round(rng.uniform(3.2, 6.5), 2)) for _ in range(rng.randint(1, 2))]  # fmt: skip
    out = []
    for offset, basket in days:
        when = _order_time(rng, ORDERS_START + timedelta(days=offset), b2b)
        if when > ORDERS_END:
            continue
        revenue = round(max(basket, 4.9), 2)
        out.append((when, revenue, round(revenue * (1 - _margin(rng, b2b)), 2)))
    return out


def build_orders(rng: random.Random, customers: list[dict]) -> list[dict]:
    rows = []
    for cust in customers:
        for when, revenue, cost in customer_orders(rng, cust):
            rows.append({"crm_id": cust["crm_id"], "ordered_at": when, "revenue": revenue, "cost": cost})
            if revenue > 0 and rng.random() < 0.025:  # a refund (Retoure/Gutschrift), part or all of it
                share = rng.choice([1.0, 1.0, 0.5, round(rng.uniform(0.15, 0.6), 2)])
                back = min(when + timedelta(days=rng.randint(3, 21), hours=rng.randint(1, 8)), ORDERS_END)
                rows.append({"crm_id": cust["crm_id"], "ordered_at": back, "revenue": -round(revenue * share, 2),
                             "cost": -round(cost * share, 2), "refund": True})  # fmt: skip
    rows.sort(key=lambda r: (r["ordered_at"], r["crm_id"]))
    counters: dict[str, int] = {}
    for row in rows:
        prefix = f"{'GS' if row.get('refund') else 'LH'}-{row['ordered_at'].year}"
        counters[prefix] = counters.get(prefix, 0) + 1
        row["order_id"] = f"{prefix}-{counters[prefix]:06d}"
    return rows


# Truth -------------------------------------------------------------------------------------------------------


def build_truth(world: demo_social.World, customers: list[dict]) -> dict:
    """The intended author -> customer mapping, the story's cast, a labelled sample, flags and duplicates."""
    used: dict[str, dict] = {}
    for post in world.posts:
        used.setdefault(post["_account"]["author"]["account_id"], post["_account"])
    authors = {}
    for account_id, account in used.items():
        row = {"platform": account["platform"], "handle": account["author"]["handle"], "crm_id": account.get("crm_id"),
               "tag": account["tag"]}  # fmt: skip
        row.update(
            {k: account[k] for k in ("via", "person_crm_id", "resembles_crm_id", "variant", "note") if account.get(k)}
        )
        authors[account_id] = row
    crm = {key: cust["crm_id"] for key, cust in world.by_story.items()}

    def cast(crm_id: str) -> list[dict]:
        return [{"platform": r["platform"], "account_id": a, "tag": r["tag"], "via": r.get("via")}
                for a, r in authors.items() if crm_id in (r.get("crm_id"), r.get("person_crm_id"))]  # fmt: skip

    def ref(post: dict) -> dict:
        return {"platform": post["platform"], "external_id": post["external_id"]}

    candidates = [p for p in world.posts if p["_account"]["tag"] != "brand" and "spam" not in p["_flags"]]
    rng = random.Random(SEED + 3)
    sample = []
    for label in ("negative", "neutral", "positive"):
        group = [p for p in candidates if p["_sentiment"] == label]
        for p in rng.sample(group, 20):
            sarcasm = {"sarcasm": True} if "sarcasm" in p["_flags"] else {}
            sample.append({**ref(p), "sentiment": label, "topic": p["_topic"], "language": p["_lang"], **sarcasm})
    by_text: dict[str, list[dict]] = {}
    for post in world.posts:
        by_text.setdefault(post["text"], []).append(post)
    duplicates = []
    for group in (g for g in by_text.values() if len(g) > 1):
        kind = (
            "spam"
            if "spam" in group[0]["_flags"]
            else ("brand_template" if group[0]["_account"]["tag"] == "brand" else "cross_post")
        )
        duplicates.append({"kind": kind, "posts": [ref(p) for p in group]})
    return {
        "about": "Intended results for the Resonanz demo dataset; see README.md in this folder.",
        "reference": {
            "orders_until": "2026-11-15",
            "posts_from": "2026-09-28",
            "posts_until": "2026-11-22",
            "digest_week": "2026-W47",
            "digest_week_start": "2026-11-16",
            "digest_week_end": "2026-11-22",
        },
        "story": {
            "loud_top_customer": {
                "crm_id": crm["hotel"],
                "company": "Hotel Rheinblick GmbH",
                "accounts": cast(crm["hotel"]),
                "problems": ["Mühle defekt", "Lieferung verspätet", "Rechnung falsch"],
            },
            "fuzzy_high_value_customer": {
                "crm_id": crm["sabine"],
                "name": "Sabine Krüger",
                "city": "Köln",
                "accounts": cast(crm["sabine"]),
                "namesake_crm_id": crm["sabine_hh"],
            },
            "negative_b2b_in_digest_week": [crm["kranz"], crm["kontor"]],
            "withdrawn": [{"crm_id": crm[k], "accounts": cast(crm[k])} for k in ("jana", "fiona", "marco", "deniz")],
            "traps": [
                {"account_id": a, "resembles_crm_id": r["resembles_crm_id"]}
                for a, r in authors.items()
                if r["tag"] == "trap"
            ],
            "email_in_bio": [a for a, r in authors.items() if r.get("via") == "email"],
            "timeline": {
                "2026-10-02": "Hotel Rheinblick's rented grinder breaks",
                "2026-10-16": "app update 4.2 wipes loyalty points (#Bohnengate)",
                "2026-10-28": "app 4.2.3 fixes the points",
                "2026-11-03": "Abo price increase announced",
                "2026-11-16": "Weihnachtsröstung launches and sells out",
                "2026-11-17": "last day for the special cancellation",
            },
        },  # fmt: skip
        "authors": authors,
        "sentiment_sample": sorted(sample, key=lambda r: (r["platform"], r["external_id"])),
        "flags": [{**ref(p), "flags": list(p["_flags"])} for p in world.posts if p["_flags"]],
        "duplicates": duplicates,
    }


def sample_rows(posts: list[dict]) -> list[list[object]]:
    """About ten posts in the posts CSV format: one root per platform and one reply on four."""
    picks = [
        next(p for p in posts if p["platform"] == pl and not p["parent_external_id"])
        for pl in ("mastodon", "bluesky", "reddit", "youtube", "rss", "appstore")
    ]
    picks += [next(p for p in posts if p["platform"] == pl and p["parent_external_id"])
              for pl in ("mastodon", "bluesky", "reddit", "youtube")]  # fmt: skip
    rows = []
    for p in picks:
        a, m = p["author"], p["metrics"]
        rows.append([p["platform"], p["external_id"], p["kind"], p["url"], p["text"], p["title"], p["created_at"],
                     a["account_id"], a["handle"], a["display_name"], a["profile_url"], a["bio"], a["location"],
                     p["parent_external_id"], p["root_external_id"], m["likes"], m["reposts"], m["replies"],
                     p["language"]])  # fmt: skip
    return rows


# Writing -----------------------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_all(out: Path, customers: list[dict], orders: list[dict], posts: list[dict], truth: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "customers.csv", ["crm_id", "first_name", "last_name", "company", "emails", "phones", "handles",
              "profile_urls", "city", "consent_status", "consent_basis", "consent_at"], [
        [c["crm_id"], c["first_name"], c["last_name"], c["company"], ";".join(c["emails"]), ";".join(c["phones"]),
         ";".join(c["handles"]), ";".join(c["profile_urls"]), c["city"], c["consent_status"], c["consent_basis"],
         local_iso(c["consent_at"]) if c.get("consent_at") else None]
        for c in sorted(customers, key=lambda c: c["crm_id"])
    ])  # fmt: skip
    write_csv(out / "orders.csv", ["order_id", "crm_id", "ordered_at", "revenue", "cost"], [
        [o["order_id"], o["crm_id"], local_iso(o["ordered_at"]), f"{o['revenue']:.2f}", f"{o['cost']:.2f}"]
        for o in orders
    ])  # fmt: skip
    with (out / "posts.jsonl").open("w", encoding="utf-8") as handle:
        for post in posts:
            handle.write(json.dumps(post, ensure_ascii=False) + "\n")
    write_csv(out / "posts_sample.csv", demo_social.CSV_COLUMNS, sample_rows(posts))
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    fake = Faker("de_DE")
    fake.seed_instance(SEED)
    customers = build_customers(rng, fake)
    orders = build_orders(random.Random(SEED + 1), customers)
    world = demo_social.World(random.Random(SEED + 2), customers)
    world.story_accounts()
    world.customer_accounts()
    world.story_threads()
    world.pool_posts()
    demo_replies.add_replies(world)
    demo_replies.add_spam(world)
    demo_replies.add_crossposts(world)
    demo_replies.set_metrics(world)
    posts = world.finish()
    truth = build_truth(world, customers)
    write_all(args.out, customers, orders, posts, truth)
    print(f"{len(customers)} customers, {len(orders)} orders, {len(posts)} posts -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
