"""The demo dataset in ``resonanz/demo/data/`` keeps the promises its README makes.

Everything is computed from the files; nothing about the generated values is hard-coded.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from resonanz.demo.data import DATA_DIR as DATA

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_demo_data.py"
CUSTOMER_COLUMNS = ["crm_id", "first_name", "last_name", "company", "emails", "phones", "handles", "profile_urls",
                    "city", "consent_status", "consent_basis", "consent_at"]  # fmt: skip
ORDER_COLUMNS = ["order_id", "crm_id", "ordered_at", "revenue", "cost"]
POST_KEYS = {"platform", "external_id", "kind", "url", "text", "title", "created_at", "author", "parent_external_id",
             "root_external_id", "metrics", "language"}  # fmt: skip
AUTHOR_KEYS = {"account_id", "handle", "display_name", "profile_url", "bio", "location"}
POSTS_CSV_COLUMNS = ["platform", "external_id", "kind", "url", "text", "title", "created_at", "author_account_id",
                     "author_handle", "author_display_name", "author_profile_url", "author_bio", "author_location",
                     "parent_external_id", "root_external_id", "likes", "reposts", "replies", "language"]  # fmt: skip
W47 = (datetime.fromisoformat("2026-11-16T00:00:00+01:00"), datetime.fromisoformat("2026-11-23T00:00:00+01:00"))
ORDERS_END = datetime.fromisoformat("2026-11-16T00:00:00+01:00")
_FOLD_MAP: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"}
FOLD = str.maketrans(_FOLD_MAP)


# Loading -----------------------------------------------------------------------------------------------------


@cache
def customers() -> dict[str, dict]:
    with (DATA / "customers.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CUSTOMER_COLUMNS
        rows = list(reader)
    assert len({r["crm_id"] for r in rows}) == len(rows), "crm_id must be unique"
    return {r["crm_id"]: r for r in rows}


@cache
def orders() -> list[dict]:
    with (DATA / "orders.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ORDER_COLUMNS
        return list(reader)


@cache
def posts() -> list[dict]:
    with (DATA / "posts.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@cache
def truth() -> dict:
    return json.loads((DATA / "truth.json").read_text(encoding="utf-8"))


def multi(value: str) -> list[str]:
    return value.split(";") if value else []


def when(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None, f"timestamp without offset: {text}"
    return parsed


def fold(text: str | None) -> str:
    text = (text or "").lower().translate(FOLD)
    return re.sub(r"[^a-z0-9]+", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode())


def revenue_12m() -> dict[str, float]:
    totals = dict.fromkeys(customers(), 0.0)
    for order in orders():
        if when(order["ordered_at"]) >= ORDERS_END - timedelta(days=365):
            totals[order["crm_id"]] += float(order["revenue"])
    return totals


def ranked() -> list[str]:
    totals = revenue_12m()
    return sorted(totals, key=lambda c: -totals[c])


def identity_keys(text: str) -> set[str]:
    """Platform keys for a CRM handle/URL or an author handle/profile URL (a small independent normaliser)."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        parts = urlsplit(text)
        host, path = parts.netloc.lower().removeprefix("www."), [p for p in parts.path.split("/") if p]
        if host == "bsky.app" and len(path) >= 2 and path[0] == "profile":
            return {f"bsky:{path[1].lower()}"}
        if host == "youtube.com" and path and path[0].startswith("@"):
            return {f"youtube:{path[0][1:].lower()}"}
        if host == "reddit.com" and len(path) >= 2 and path[0] in ("user", "u"):
            return {f"reddit:{path[1].lower()}"}
        if path and path[0].startswith("@"):
            return {f"fedi:{path[0][1:].lower()}@{host}"}
        if len(path) >= 2 and path[0] == "users":
            return {f"fedi:{path[1].lower()}@{host}"}
        return {f"url:{host}/{'/'.join(path)}".lower()}
    lowered = text.lower()
    if lowered.startswith("u/"):
        return {f"reddit:{lowered[2:]}"}
    name = lowered.lstrip("@")
    if "@" in name:
        return {f"fedi:{name}"}
    if name.endswith(".bsky.social"):
        return {f"bsky:{name}"}
    return {f"bare:{name}"}


def author_keys(post: dict) -> set[str]:
    author, platform = post["author"], post["platform"]
    keys = identity_keys(author["profile_url"]) if author["profile_url"] else set()
    handle = author["handle"].lower().lstrip("@")
    prefix = {"bluesky": "bsky", "reddit": "reddit", "youtube": "youtube"}.get(platform)
    if platform == "mastodon":
        keys.add(f"fedi:{handle}")
    elif prefix:
        keys.add(f"{prefix}:{handle}")
    return keys


def crm_keys(customer: dict) -> set[str]:
    return {k for value in multi(customer["handles"]) + multi(customer["profile_urls"]) for k in identity_keys(value)}


def authors_by_account() -> dict[str, dict]:
    first: dict[str, dict] = {}
    for post in posts():
        first.setdefault(post["author"]["account_id"], post)
    return first


def bio_emails(post: dict) -> set[str]:
    return {e.lower() for e in re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", post["author"]["bio"] or "")}


# Customers and orders ----------------------------------------------------------------------------------------


def test_customers_counts_consent_and_formats() -> None:
    rows = list(customers().values())
    assert 180 <= len(rows) <= 220
    status = Counter(r["consent_status"] for r in rows)
    assert set(status) == {"granted", "withdrawn", "unknown"}
    assert 0.70 <= status["granted"] / len(rows) <= 0.80
    assert status["withdrawn"] >= 4 and status["unknown"] >= 10
    for row in rows:
        if row["consent_status"] == "unknown":
            assert not row["consent_basis"] and not row["consent_at"]
        else:
            assert row["consent_basis"].startswith("Art. 6 Abs. 1 lit.")
            assert when(row["consent_at"]).utcoffset() in (timedelta(hours=1), timedelta(hours=2))
        for column in ("emails", "phones", "handles", "profile_urls"):
            assert all(part and part == part.strip() for part in multi(row[column])), (row["crm_id"], column)
        assert multi(row["emails"]) and all("@" in e for e in multi(row["emails"]))
        assert all(re.fullmatch(r"(\+49 |0)[1-9][0-9]{1,4}[ /][0-9 \-]{5,12}", p) for p in multi(row["phones"])), row
        assert all(p.startswith("https://") for p in multi(row["profile_urls"]))
        assert row["first_name"] and row["last_name"] and row["city"]
    with_handles = sum(1 for r in rows if r["handles"] or r["profile_urls"])
    assert 0.15 <= with_handles / len(rows) <= 0.40
    assert sum(1 for r in rows if r["company"]) >= 20
    assert any("," in r["company"] for r in rows), "one company name needs CSV quoting"
    assert any(re.search("[äöüß]", r["last_name"] + r["first_name"] + r["city"]) for r in rows)


def test_orders_integrity_and_shape() -> None:
    rows, known = orders(), customers()
    assert len({o["order_id"] for o in rows}) == len(rows), "order_id must be unique"
    assert all(o["crm_id"] in known for o in rows), "every order's customer exists"
    times = [when(o["ordered_at"]) for o in rows]
    assert {t.utcoffset() for t in times} == {timedelta(hours=1), timedelta(hours=2)}
    assert min(times) >= datetime.fromisoformat("2024-11-16T00:00:00+01:00")
    assert max(times) < ORDERS_END and max(times) > ORDERS_END - timedelta(days=3)
    assert all(re.fullmatch(r"-?\d+\.\d{2}", o["revenue"]) and re.fullmatch(r"-?\d+\.\d{2}", o["cost"]) for o in rows)
    refunds = [o for o in rows if float(o["revenue"]) < 0]
    assert len(refunds) >= 10 and all(float(o["cost"]) <= 0 for o in refunds)
    sales = [o for o in rows if float(o["revenue"]) > 0]
    margins = [1 - float(o["cost"]) / float(o["revenue"]) for o in sales]
    assert sum(0.3 - 1e-3 <= m <= 0.6 + 1e-3 for m in margins) / len(sales) >= 0.95
    totals = revenue_12m()
    lifetime: dict[str, float] = defaultdict(float)
    for o in rows:
        lifetime[o["crm_id"]] += float(o["revenue"])
    assert sum(1 for c in known if lifetime.get(c, 0.0) == 0.0) >= 3, "a few zero-revenue customers"
    assert sum(1 for c in known if lifetime.get(c, 0.0) > 0 and totals[c] <= 0) >= 10, "lapsed customers"


def test_pareto_shape_of_12_month_revenue() -> None:
    totals = sorted(revenue_12m().values(), reverse=True)
    top = totals[: len(totals) // 5]
    share = sum(top) / sum(totals)
    assert 0.70 <= share <= 0.85, share
    orders_per_customer = Counter(o["crm_id"] for o in orders())
    best = ranked()[: len(totals) // 10]
    rest = ranked()[len(totals) // 2 :]
    frequency = {
        name: sum(orders_per_customer[c] for c in group) / len(group)
        for name, group in (("best", best), ("rest", rest))
    }
    assert frequency["best"] > 3 * frequency["rest"], frequency
    assert sum(1 for c in best if customers()[c]["company"]) >= len(best) // 2, "B2B customers dominate the top"


# Posts -------------------------------------------------------------------------------------------------------


def test_posts_schema_and_unique_keys() -> None:
    seen = set()
    for post in posts():
        assert set(post) == POST_KEYS and set(post["author"]) == AUTHOR_KEYS
        assert post["platform"] in {"mastodon", "bluesky", "reddit", "youtube", "rss", "appstore"}
        assert post["kind"] in {"post", "comment", "review"}
        assert (post["kind"] == "review") == (post["platform"] == "appstore")
        assert post["text"].strip() and post["url"].startswith("https://") and post["language"] is None
        assert set(post["metrics"]) == {"likes", "reposts", "replies"}
        assert all(isinstance(v, int) and v >= 0 for v in post["metrics"].values())
        assert when(post["created_at"])
        assert post["author"]["account_id"] and post["author"]["handle"]
        key = (post["platform"], post["external_id"])
        assert key not in seen, key
        seen.add(key)
        if post["platform"] == "bluesky":
            assert len(post["text"]) <= 300
        if post["kind"] == "comment":
            assert post["parent_external_id"] and post["title"] is None
        titled = post["platform"] in ("rss", "appstore") or post["platform"] in ("reddit", "youtube")
        if titled and post["kind"] != "comment":
            assert post["title"], post["external_id"]


def test_urls_belong_to_their_ids() -> None:
    for post in posts():
        ext, url, root = post["external_id"], post["url"], post["root_external_id"]
        if post["platform"] == "mastodon":
            assert url.endswith("/" + ext) and url.startswith(post["author"]["profile_url"])
        elif post["platform"] == "bluesky":
            assert ext.startswith(f"at://{post['author']['account_id']}/app.bsky.feed.post/")
            assert url == f"{post['author']['profile_url']}/post/{ext.rsplit('/', 1)[1]}"
        elif post["platform"] == "reddit":
            assert re.fullmatch(r"t[13]_[a-z0-9]{7}", ext)
            post_id = (root or ext)[3:]
            assert f"/comments/{post_id}/" in url and (root is None or url.endswith(f"/comment/{ext[3:]}/"))
        elif post["platform"] == "youtube":
            assert url.startswith(f"https://www.youtube.com/watch?v={root or ext}")
            assert root is None or url.endswith(f"&lc={ext}")
        elif post["platform"] == "rss":
            assert ext == url


def test_account_ids_are_stable_and_platform_shaped() -> None:
    shapes = {"mastodon": r"https://[a-z.]+/users/\w+", "bluesky": r"did:plc:[a-z2-7]{24}", "reddit": r"t2_[a-z0-9]{8}",
              "youtube": r"UC[\w-]{22}", "appstore": r"https://itunes\.apple\.com/de/reviews/id\d+",
              "rss": r"https://[\w.-]+/.+"}  # fmt: skip
    handles: dict[tuple[str, str], set[str]] = defaultdict(set)
    for post in posts():
        account = post["author"]["account_id"]
        assert re.fullmatch(shapes[post["platform"]], account), account
        handles[(post["platform"], account)].add(post["author"]["handle"])
    assert all(len(h) == 1 for h in handles.values()), "one handle per account"
    assert 120 <= len(handles) <= 220


def test_threads_parents_roots_and_depth() -> None:
    index = {(p["platform"], p["external_id"]): p for p in posts()}
    depths = []
    for post in posts():
        if post["parent_external_id"] is None:
            assert post["root_external_id"] is None and post["kind"] != "comment"
            continue
        parent = index.get((post["platform"], post["parent_external_id"]))
        assert parent is not None, f"reply without its parent: {post['external_id']}"
        assert when(parent["created_at"]) < when(post["created_at"])
        node, depth = post, 0
        while node["parent_external_id"]:
            node, depth = index[(node["platform"], node["parent_external_id"])], depth + 1
        assert post["root_external_id"] == node["external_id"]
        depths.append(depth)
    assert max(depths) == 3
    assert sum(1 for p in posts() if p["parent_external_id"]) >= 100


def test_volume_timeline_and_languages() -> None:
    rows = posts()
    assert 280 <= len(rows) <= 360
    times = [when(p["created_at"]) for p in rows]
    assert min(times) >= datetime.fromisoformat("2026-09-28T00:00:00+02:00") and max(times) < W47[1]
    week = [p for p, t in zip(rows, times, strict=True) if W47[0] <= t < W47[1]]
    assert 40 <= len(week) <= 70
    assert len({p["platform"] for p in rows}) == 6
    en_words = re.compile(r"\b(the|and|is|are|my|this|you|to|it|was|with|on)\b", re.I)
    de_words = re.compile(r"[äöüß]|\b(und|der|die|das|ist|ich|nicht|mit|zu|es|auf)\b", re.I)
    english = [p for p in rows if len(en_words.findall(p["text"])) > len(de_words.findall(p["text"]))]
    assert 0.05 <= len(english) / len(rows) <= 0.15
    assert sum(1 for p in rows if re.search("[äöüß]", p["text"])) >= len(rows) // 3
    assert any("#Lindenhof" in p["text"] for p in rows) and any("#KaffeeFail" in p["text"] for p in rows)


def test_duplicates_cross_posts_and_spam() -> None:
    by_text: dict[str, list[dict]] = defaultdict(list)
    for post in posts():
        by_text[post["text"]].append(post)
    spam = max(by_text.values(), key=len)
    assert len(spam) >= 5 and len({p["author"]["account_id"] for p in spam}) >= 3
    cross = [g for g in by_text.values() if {p["platform"] for p in g} == {"mastodon", "bluesky"} and len(g) == 2]
    assert len(cross) >= 3
    for group in truth()["duplicates"]:
        assert len({by_text_key(ref) for ref in group["posts"]}) == 1


def by_text_key(ref: dict) -> str:
    index = {(p["platform"], p["external_id"]): p for p in posts()}
    return index[(ref["platform"], ref["external_id"])]["text"]


def test_brand_answers_in_threads() -> None:
    brand = {a for a, r in truth()["authors"].items() if r["tag"] == "brand"}
    answers = [p for p in posts() if p["author"]["account_id"] in brand]
    assert len({p["platform"] for p in answers}) == 4
    assert sum(1 for p in answers if p["parent_external_id"]) >= 20


# Truth -------------------------------------------------------------------------------------------------------


def test_truth_covers_every_author_and_points_at_real_customers() -> None:
    authors, known = truth()["authors"], customers()
    assert set(authors) == {p["author"]["account_id"] for p in posts()}
    assert {r["tag"] for r in authors.values()} == {"exact", "fuzzy", "trap", "withdrawn", "brand", "anonymous"}
    for account, row in authors.items():
        for key in ("crm_id", "person_crm_id", "resembles_crm_id"):
            assert row.get(key) is None or row[key] in known, (account, key)
        assert (row["crm_id"] is not None) == (row["tag"] in ("exact", "fuzzy"))
        if row["crm_id"]:
            assert known[row["crm_id"]]["consent_status"] == "granted"
    matched = {r["crm_id"] for r in authors.values() if r["crm_id"]}
    assert 40 <= len(matched) <= 60
    assert sum(1 for r in authors.values() if r["tag"] == "anonymous") > len(authors) / 2


def test_exact_links_are_findable_and_nothing_else_is() -> None:
    known, first = customers(), authors_by_account()
    crm_index: dict[str, set[str]] = defaultdict(set)
    email_index: dict[str, set[str]] = defaultdict(set)
    for crm_id, customer in known.items():
        for key in crm_keys(customer):
            crm_index[key].add(crm_id)
        for email in multi(customer["emails"]):
            email_index[email.lower()].add(crm_id)
    for account, row in truth()["authors"].items():
        post = first[account]
        hits = {c for k in author_keys(post) for c in crm_index.get(k, ())}
        mails = {c for e in bio_emails(post) for c in email_index.get(e, ())}
        if row["tag"] == "exact" and row["via"] in ("handle", "profile_url"):
            assert hits == {row["crm_id"]}, (account, hits)
        elif row["tag"] == "exact" and row["via"] == "email":
            assert mails == {row["crm_id"]} and not hits, account
        elif row["tag"] == "withdrawn":
            assert hits == {row["person_crm_id"]}, "a careless linker would link these"
            assert known[row["person_crm_id"]]["consent_status"] == "withdrawn"
        else:
            assert not hits and not mails, (account, hits, mails)


def test_fuzzy_links_have_name_and_place_evidence() -> None:
    known, first = customers(), authors_by_account()
    fuzzy = {a: r for a, r in truth()["authors"].items() if r["tag"] == "fuzzy"}
    assert len(fuzzy) >= 12
    for account, row in fuzzy.items():
        customer, author = known[row["crm_id"]], first[account]["author"]
        said = fold(" ".join(filter(None, [author["display_name"], author["handle"], author["bio"]])))
        place = fold(" ".join(filter(None, [author["location"], author["bio"], author["handle"]])))
        assert fold(customer["last_name"]) in said or f"{customer['last_name'][0]}." in (author["display_name"] or "")
        assert row.get("variant") == "nickname" or fold(customer["first_name"]) in said
        assert fold(customer["city"])[:6] in place or fold(customer["company"]) and "rheinblick" in place, account


def test_traps_resemble_customers_without_matching() -> None:
    known, first = customers(), authors_by_account()
    traps = {a: r for a, r in truth()["authors"].items() if r["tag"] == "trap"}
    assert len(traps) >= 5
    for account, row in traps.items():
        customer, author = known[row["resembles_crm_id"]], first[account]["author"]
        name = fold(customer["first_name"] + customer["last_name"])
        local = author["handle"].lstrip("@").split("@")[0]
        said = [fold(author["display_name"]), fold(local)]
        close = max(SequenceMatcher(None, name, s[: len(name)]).ratio() for s in said)
        assert close >= 0.8 or "rheinblick" in said[0], (account, said)
        assert fold(customer["city"]) not in fold(" ".join(filter(None, [author["location"], author["bio"]])))


def test_story_loud_top_customer() -> None:
    story, known = truth()["story"], customers()
    hotel = story["loud_top_customer"]["crm_id"]
    assert ranked()[0] == hotel and known[hotel]["company"]
    exact = [a["account_id"] for a in story["loud_top_customer"]["accounts"] if a["tag"] == "exact"]
    own = [p for p in posts() if p["author"]["account_id"] in exact]
    assert own and own[0]["author"]["handle"] in multi(known[hotel]["handles"]), "the handle matches byte for byte"
    roots = [p for p in own if not p["parent_external_id"]]
    assert len(roots) >= 5 and sum(1 for p in roots if W47[0] <= when(p["created_at"]) < W47[1]) >= 3
    text = " ".join(p["text"] for p in own).lower()
    assert all(word in text for word in ("mühle", "lieferung", "rechnung"))


def test_story_fuzzy_high_value_customer_and_namesake() -> None:
    story, known = truth()["story"], customers()
    sabine = story["fuzzy_high_value_customer"]
    customer, namesake = known[sabine["crm_id"]], known[sabine["namesake_crm_id"]]
    assert ranked().index(sabine["crm_id"]) < len(known) // 5, "an A customer"
    assert not customer["handles"] and not customer["profile_urls"], "matchable only fuzzily"
    assert (customer["first_name"], customer["last_name"]) == (namesake["first_name"], namesake["last_name"])
    assert customer["city"] != namesake["city"]
    assert all(a["tag"] == "fuzzy" for a in sabine["accounts"]) and len(sabine["accounts"]) >= 2
    top = set(ranked()[: len(known) // 5])
    assert set(story["negative_b2b_in_digest_week"]) <= top


def test_flags_and_sentiment_sample_point_at_posts() -> None:
    index = {(p["platform"], p["external_id"]) for p in posts()}
    flags = Counter(f for row in truth()["flags"] for f in row["flags"])
    assert flags["abusive"] >= 5 and flags["churn"] >= 5 and flags["spam"] >= 5 and flags["sarcasm"] >= 5
    sample = truth()["sentiment_sample"]
    assert Counter(r["sentiment"] for r in sample) == {"negative": 20, "neutral": 20, "positive": 20}
    for row in truth()["flags"] + sample:
        assert (row["platform"], row["external_id"]) in index


def test_posts_sample_csv_matches_jsonl() -> None:
    index = {(p["platform"], p["external_id"]): p for p in posts()}
    with (DATA / "posts_sample.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == POSTS_CSV_COLUMNS
        rows = list(reader)
    assert 8 <= len(rows) <= 12
    assert {r["platform"] for r in rows} == {p["platform"] for p in posts()}
    for row in rows:
        post = index[(row["platform"], row["external_id"])]
        assert row["text"] == post["text"] and row["author_account_id"] == post["author"]["account_id"]
        assert int(row["likes"]) == post["metrics"]["likes"] and row["created_at"] == post["created_at"]


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    faker = pytest.importorskip("faker")
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    pinned = re.search(r"Faker (\d+\.\d+\.\d+)", readme)
    if not pinned or pinned.group(1) != faker.VERSION:
        pytest.skip("byte-identical output needs the Faker version named in the README")
    spec = importlib.util.spec_from_file_location("make_demo_data", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    saved = list(sys.path)
    try:
        spec.loader.exec_module(module)
        assert module.main(["--out", str(tmp_path)]) == 0
    finally:
        sys.path[:] = saved
        for name in ("demo_content", "demo_answers", "demo_story", "demo_social", "demo_replies"):
            sys.modules.pop(name, None)
    for name in ("customers.csv", "orders.csv", "posts.jsonl", "posts_sample.csv", "truth.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name
