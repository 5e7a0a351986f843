"""How the demo's conversations grow: brand answers, replies, abuse, spam, cross-posts and metrics.

Used by ``make_demo_data.py`` on a :class:`demo_social.World`. Written by the Resonanz authors, MIT licence.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from demo_answers import BRAND_REPLIES, REPLIES, SPAM
from demo_content import ANON_PEOPLE, SPAM_BOTS, Entry
from demo_social import END, STORY_ACCOUNTS, World, _at, _fold, _lang


def targets(world: World, target: str) -> list[dict]:
    ok = [p for p in world.posts if p["platform"] not in ("appstore", "rss") and p["_depth"] < 3
          and "spam" not in p["_flags"]]  # fmt: skip
    if target.startswith("~"):  # a snippet may also name a brand reply
        return [p for p in ok if target[1:] in p["text"]]
    ok = [p for p in ok if p["_account"]["tag"] != "brand" and p.get("_story") is None]
    if target == "brand":
        return [p for p in world.posts if p["_account"]["tag"] == "brand" and 0 < p["_depth"] < 3
                and p["platform"] == "mastodon" and p["_when"] > _at("2026-11-09 00:00")]  # fmt: skip
    where, _, what = target.partition(":")
    if where in ("youtube", "reddit"):
        return [world.threads[what]]
    if where == "en":
        return [p for p in ok if p["_lang"] == "en" and p["_sentiment"] == what and p["_depth"] == 0]
    return [p for p in ok if p["_topic"] == where and p["_lang"] == "de" and what in ("", p["_sentiment"])]


def reply(world: World, post: dict, account: dict, entry: Entry, hours: float = 3.0, not_before: datetime | None = None,
          topic: str | None = None) -> dict | None:  # fmt: skip
    """Answer ``post``; brands answer 8-20 Uhr, people rarely between 1 and 7. None if it would be too late."""
    when = post["_when"] + timedelta(minutes=6, hours=world.rng.expovariate(1 / hours))
    when = max(when, not_before or when)
    opening = (8, 20) if account["tag"] == "brand" else (7, 25)
    if when.hour < opening[0] and (account["tag"] == "brand" or when.hour >= 1):
        when = when.replace(hour=opening[0], minute=world.rng.randrange(50))
    elif when.hour >= opening[1]:
        when = (when + timedelta(days=1)).replace(hour=8, minute=world.rng.randrange(50))
    if when > END and account["tag"] != "brand" and END - post["_when"] > timedelta(minutes=10):
        when = post["_when"] + timedelta(minutes=5) + (END - post["_when"] - timedelta(minutes=5)) * world.rng.random()
    if when > END:
        return None
    return world.add(account, when, entry, topic or post["_topic"], post, lang=_lang(entry.text))


def has_brand_reply(world: World, post: dict) -> bool:
    return any(p["_parent"] is post and p["_account"]["tag"] == "brand" for p in world.posts)


def add_replies(world: World) -> None:
    rng = world.rng

    def brand_answers(topics: list[str]) -> None:
        for topic in topics:
            for entry in BRAND_REPLIES[topic]:
                times = int(next((f[1:] for f in entry.flags if f.startswith("x")), "1"))
                options = [p for p in targets(world, entry.target or topic) if not has_brand_reply(world, p)
                           and p["_account"]["key"] not in STORY_ACCOUNTS]  # fmt: skip
                rng.shuffle(options)
                later = _at("2026-10-28 12:30") if "4.2.3" in entry.text else None
                done = 0
                for post in options:
                    done += (
                        reply(world, post, world.brand(post["platform"]), entry._replace(flags=()), 4, later)
                        is not None
                    )
                    if done == times:
                        break

    brand_answers([t for t in BRAND_REPLIES if t != "abusive"])
    for entry in REPLIES["followups"]:
        snippet = (entry.target or "~")[1:]
        options = [p for p in world.posts if p["_account"]["tag"] == "brand" and snippet in p["text"]
                   and p.get("_story") is None and p["_depth"] < 3]  # fmt: skip
        if options:
            wait = 49.0 if "48 Stunden" in entry.text else 0.0
            post = options[0]
            reply(world, post, post["_parent"]["_account"], entry, 5.0, post["_when"] + timedelta(hours=wait))
    for entry in REPLIES["community"] + REPLIES["abusive"]:
        target = entry.target or "general"
        options = targets(world, target)
        assert options, f"no post for reply target {target!r}"
        post = options[0] if target.startswith(("~", "youtube:", "reddit:")) else rng.choice(options)
        account = world.anon(post["platform"], avoid=(post["_account"]["key"],))
        reply(world, post, account, entry, 2.5)
    brand_answers(["abusive"])


def add_spam(world: World) -> None:
    plan = [("mastodon", 0, "2026-11-12 03:12", ""), ("mastodon", 0, "2026-11-19 04:40", ""),
            ("mastodon", 4, "2026-11-13 02:55", ""), ("bluesky", 1, "2026-11-18 05:20", ""),
            ("youtube", 2, "2026-11-09 06:02", "v1"), ("youtube", 2, "2026-11-16 06:03", "v2"),
            ("reddit", 3, "2026-11-09 04:11", "r1")]  # fmt: skip
    for platform, bot, when, thread in plan:
        name = SPAM_BOTS[bot]
        user = {"mastodon": f"{name}@mastodon.social", "bluesky": f"{name.replace('_', '-')}.bsky.social"}
        account = world.account(platform, "bot:" + name, user.get(platform, name), "Lindenhof Gutscheine 🎁",
                               "Die besten Deals, täglich neu! 💸", note="spam bot")  # fmt: skip
        world.add(account, _at(when), Entry("neutral", SPAM, ("spam",)), "spam", world.threads.get(thread))


def add_crossposts(world: World) -> None:
    """Four anonymous people and one customer cross-post Mastodon -> Bluesky (identical text)."""
    rng = world.rng
    people = {p[0] for p in ANON_PEOPLE}
    roots = [p for p in world.posts if p["platform"] == "mastodon" and p["_depth"] == 0 and p["_account"]["key"]
             in people and not p["_flags"]]  # fmt: skip
    picks = [(p, world.anon("bluesky", p["_account"]["key"])) for p in rng.sample(roots, 4)]
    exact = [a for a in world.accounts.values() if a["platform"] == "mastodon" and a["key"][0] == "c"]
    cust_posts = [p for p in world.posts if p["_account"] in exact and p["_depth"] == 0]
    if cust_posts:
        post = cust_posts[0]
        source = post["_account"]
        cust = next(c for c in world.customers if c["crm_id"] == source["crm_id"])
        twin = world.account("bluesky", "x" + source["key"], f"{_fold(cust['first_name'])}{rng.randint(10, 99)}"
                            ".bsky.social", f"{cust['first_name']} {cust['last_name']}",
                            f"{cust['city']}. Crossposts von Mastodon.", tag="fuzzy", via="name+city",
                            crm_id=cust["crm_id"], note="cross-posts from the customer's exactly matched "
                            "Mastodon account")  # fmt: skip
        picks.append((post, twin))
    for post, twin in picks:
        copy = Entry(post["_sentiment"], post["text"], post["_flags"])
        world.add(twin, post["_when"] + timedelta(minutes=rng.randint(1, 4)), copy, post["_topic"],
                 lang=post["_lang"])["_crosspost_of"] = post  # fmt: skip


def set_metrics(world: World) -> None:
    rng = world.rng
    direct: dict[int, int] = {}
    total: dict[int, int] = {}
    for p in world.posts:
        if p["_parent"] is not None:
            direct[id(p["_parent"])] = direct.get(id(p["_parent"]), 0) + 1
            total[id(p["_root"])] = total.get(id(p["_root"]), 0) + 1
    for p in world.posts:
        m, platform, depth = p["metrics"], p["platform"], p["_depth"]
        if platform == "rss":
            continue
        if platform == "appstore":
            m["likes"] = int(rng.expovariate(1 / 4))
            continue
        base = (2.3 if p["_topic"] in ("app", "price") else 1.4) - (1.1 if depth else 0.0)
        if depth == 0 and platform in ("reddit", "youtube"):
            base = 5.2
        elif p.get("_story", "").startswith("hotel") and depth == 0:
            base = 3.3
        elif "spam" in p["_flags"] or p["_account"]["tag"] == "brand":
            base = 0.3 if "spam" in p["_flags"] else 1.0
        m["likes"] = int(rng.lognormvariate(base, 0.9))
        if platform in ("mastodon", "bluesky"):
            m["reposts"] = int(m["likes"] * rng.uniform(0.05, 0.35))
        m["replies"] = total.get(id(p), 0) if depth == 0 and platform in ("reddit", "youtube") else direct.get(id(p), 0)
        if depth == 0:
            m["replies"] += min(int(rng.expovariate(1)), m["likes"] // 3)
