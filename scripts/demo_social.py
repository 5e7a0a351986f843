"""Accounts, posts, replies and the intended linking (``truth.json``) for the Resonanz demo dataset.

Used by ``make_demo_data.py``; texts come from ``demo_content.py`` and ``demo_story.py``.
Written by the Resonanz authors, MIT licence.
"""

from __future__ import annotations

import random
import re
import string
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from demo_answers import BRAND_REPLIES, REPLIES
from demo_content import ANON_PEOPLE, POOLS, POOLS_EN, Entry
from demo_story import FUZZY_BIOS, NICKNAMES, RSS_AUTHORS, STORY_ACCOUNTS, THREADS

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 9, 28, 7, 0, tzinfo=BERLIN)
END = datetime(2026, 11, 22, 23, 30, tzinfo=BERLIN)
W47 = datetime(2026, 11, 16, tzinfo=BERLIN)
UNUSED = 30  # German pool texts left out (picked by the seed) so that the dataset stays near 300 posts
RESERVED_NAMES = {tuple(row[3].split(" ", 1)) for row in RSS_AUTHORS.values()}
CSV_COLUMNS = ["platform", "external_id", "kind", "url", "text", "title", "created_at", "author_account_id",
               "author_handle", "author_display_name", "author_profile_url", "author_bio", "author_location",
               "parent_external_id", "root_external_id", "likes", "reposts", "replies", "language"]  # fmt: skip
APP_URL = "https://apps.apple.com/de/app/lindenhof-kaffee/id1587654321"
REVIEWERS = ["Kaffeeliebhaber1984", "MissMokka", "Bohnenfan_NRW", "Pendler_Tom", "sunny_koeln", "Flo.", "Espressolover",
             "kim_2601", "coffeeaddict_de", "Rheinländerin", "Mausi1970", "TechTom", "FrühaufsteherIn", "herbstkind",
             "jojo", "Kaffeeklatsch2000", "MrBean(s)"]  # fmt: skip
INSTANCE_BY_CITY = {"Köln": "social.cologne", "Hamburg": "hamburg.social", "München": "muenchen.social",
                    "Düsseldorf": "nrw.social", "Münster": "muenster.social", "Berlin": "berlin.social"}  # fmt: skip
INSTANCES = ["mastodon.social", "chaos.social", "norden.social", "troet.cafe", "det.social", "mastodon.online"]
# Where pool texts of Reddit and YouTube authors go (only topics that fit a thread there).
REDDIT_FOR = {"app": "r3", "quality": "r2", "price": "r1", "subscription": "r1", "delivery": "r1", "service": "r1",
              "billing": "r1", "returns": "r1", "en": "r4"}  # fmt: skip
YOUTUBE_FOR = {"quality": "v1", "price": "v1", "general": "v2", "store": "v2", "availability": "v2",
               "subscription": "v2", "en": "v2"}  # fmt: skip
# Texts that only make sense in a time window (earliest, latest; local time).
WINDOWS = [("Weihnachtsröstung", "2026-11-16 10:05", None), ("Christmas roast", "2026-11-16 12:00", None),
           ("4.2.3", "2026-10-28 12:00", None), ("wieder da!", "2026-10-27 09:00", None),
           ("Nach dem Fix", "2026-10-29 08:00", None), ("Heute ist der 5.11.", "2026-11-05 08:00", "2026-11-05 22:00"),
           ("Filiale in Münster", "2026-10-10 12:00", None), ("Filiale Münster", "2026-11-16 12:00", None),
           ("bis 17.11.", "2026-11-03 12:00", "2026-11-16 20:00"), ("until Nov 17th", "2026-11-03 12:00",
           "2026-11-16 20:00"), ("4,6 auf 2,1", "2026-10-23 08:00", "2026-10-24 22:00"),
           ("Adventskalender", "2026-11-10 08:00", None), ("Black Friday", "2026-11-03 12:00", "2026-11-10 22:00"),
           ("Elternzeit", "2026-11-03 12:00", None), ("Aufregung", "2026-10-17 08:00", None),
           ("trotz allem Gemecker", "2026-10-17 08:00", None),
           ("Bestandsabos", "2026-11-03 12:00", "2026-11-15 20:00")]  # fmt: skip
_UMLAUT_MAP: dict[str, str | int | None] = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe",
                                            "Ü": "Ue", "ı": "i", "é": "e"}  # fmt: skip
UMLAUTS = str.maketrans(_UMLAUT_MAP)
WEEKDAYS = {"Es ist Samstag": 5, "Sonntagmorgen": 6}  # texts that name the day they are written on


def _chars(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _fold(text: str) -> str:
    text = text.lower().translate(UMLAUTS)
    return re.sub(r"[^a-z0-9]+", "", text)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def _day_time(rng: random.Random, lo: datetime, hi: datetime) -> datetime:
    """A time between lo and hi at a plausible hour of the day (more in the evening)."""
    for _ in range(50):
        day = lo + timedelta(days=rng.randrange(max(1, (hi - lo).days + 1)))
        when = day.replace(hour=0, minute=0) + timedelta(
            hours=rng.triangular(6.5, 23.7, 20.5), seconds=rng.randrange(60)
        )
        when = when.replace(tzinfo=None).replace(tzinfo=BERLIN)  # local wall time, correct offset
        if lo <= when <= hi:
            return when
    return lo + (hi - lo) * rng.random()


def topic_time(rng: random.Random, topic: str, text: str) -> datetime:
    r = rng.random()
    if topic == "app":
        lo, hi = _at("2026-10-16 17:40"), _at("2026-10-16 17:40") + timedelta(days=min(rng.expovariate(1 / 4), 26))
        lo = hi - timedelta(hours=20) if hi - lo > timedelta(hours=20) else lo
    elif topic == "price":
        lo, hi = [(_at("2026-11-03 10:00"), _at("2026-11-08 23:00")), (_at("2026-11-09 00:00"), W47), (W47, END)][
            (r > 0.55) + (r > 0.95)
        ]
    elif topic == "availability" and r < 0.25:
        lo, hi = _at("2026-11-16 10:05"), END
    elif topic == "subscription":
        lo, hi = (_at("2026-11-03 10:00"), W47) if r < 0.85 else (W47, END)
    else:
        lo, hi = (START, W47 - timedelta(minutes=1)) if r < 0.95 else (W47, END)
    for snippet, early, late in WINDOWS:
        if snippet in text:
            lo, hi = _at(early) if early else lo, _at(late) if late else max(hi, _at(early) + timedelta(days=2))
            lo, hi = (lo, hi) if lo < hi else (_at(early), _at(early) + timedelta(days=3))
    when = _day_time(rng, lo, min(hi, END))
    for snippet, weekday in WEEKDAYS.items():
        if snippet in text:
            when += timedelta(days=(weekday - when.weekday()) % 7)
            when -= timedelta(days=7) if when > END else timedelta(0)
            when = when.replace(hour=rng.randint(8, 11)) if "morgen" in snippet else when
    return when


class World:
    """All accounts and posts, plus what truth.json should say about them."""

    def __init__(self, rng: random.Random, customers: list[dict]) -> None:
        self.rng = rng
        self.customers = customers
        self.by_story = {c["story"]: c for c in customers if "story" in c}
        self.accounts: dict[tuple[str, str], dict] = {}  # (platform, key) -> account
        self.posts: list[dict] = []
        self.threads: dict[str, dict] = {}  # thread key -> root post

    # Accounts ----------------------------------------------------------------------------------------------

    def account(self, platform: str, key: str, user: str, display: str | None = None, bio: str | None = None,
                location: str | None = None, **meta: object) -> dict:  # fmt: skip
        if (platform, key) in self.accounts:
            return self.accounts[(platform, key)]
        rng = self.rng
        if platform == "mastodon":
            name, _, instance = user.partition("@")
            author = (f"https://{instance}/users/{name}", f"@{name}@{instance}", f"https://{instance}/@{name}")
        elif platform == "bluesky":
            did = "did:plc:" + _chars(rng, "abcdefghijklmnopqrstuvwxyz234567", 24)
            author = (did, user, f"https://bsky.app/profile/{user}")
        elif platform == "reddit":
            author = ("t2_" + _chars(rng, string.ascii_lowercase + string.digits, 8), user,
                      f"https://www.reddit.com/user/{user}/")  # fmt: skip
        elif platform == "youtube":
            channel = "UC" + _chars(rng, string.ascii_letters + string.digits + "-_", 22)
            author = (channel, f"@{user}", f"https://www.youtube.com/@{user}")
        elif platform == "appstore":
            uri = f"https://itunes.apple.com/de/reviews/id{rng.randint(10**8, 10**10)}"
            author = (uri, user, uri)
        else:  # rss: user is the author page URL
            author = (user, display or user, user)
        account = {"author": {"account_id": author[0], "handle": author[1], "display_name": display,
                              "profile_url": author[2], "bio": bio, "location": location},
                   "platform": platform, "key": key, "tag": "anonymous", **meta}  # fmt: skip
        self.accounts[(platform, key)] = account
        return account

    def anon(self, platform: str, stem: str | None = None, avoid: tuple[str, ...] = ()) -> dict:
        """An anonymous account on ``platform`` (the same people show up on several platforms)."""
        people = {p[0]: p for p in ANON_PEOPLE}
        while stem is None or stem in avoid:
            stem = self.rng.choice(ANON_PEOPLE)[0]
        _, display, bio, location = people[stem]
        user = {"mastodon": f"{stem}@{INSTANCE_BY_CITY.get(location or '', INSTANCES[len(stem) % len(INSTANCES)])}",
                "bluesky": f"{stem.lower().replace('_', '-')}.bsky.social"}.get(platform, stem)  # fmt: skip
        return self.account(
            platform,
            stem,
            user,
            display if platform != "reddit" else None,
            bio if platform != "reddit" else None,
            location if platform == "mastodon" else None,
        )

    def story_accounts(self) -> None:
        for key, (_k, platform, user, display, bio, location, cust, tag, via) in STORY_ACCOUNTS.items():
            customer = self.by_story.get(cust) or {}
            meta = {"tag": tag, "via": via}
            if tag in ("exact", "fuzzy"):
                meta["crm_id"] = customer["crm_id"]
            elif tag == "withdrawn":
                meta["person_crm_id"] = customer["crm_id"]
            elif tag == "trap":
                meta["resembles_crm_id"] = customer["crm_id"]
            account = self.account(platform, key, user, display, bio, location, **meta)
            if platform == "youtube" and location:  # YouTube only knows countries
                account["author"]["location"] = None if location == "Deutschland" else location
        for key, row in RSS_AUTHORS.items():
            _k, site, base, name, path = row
            self.account("rss", key, base + path, name, site, None, tag="anonymous", note="news site / blog author")

    def customer_accounts(self) -> None:
        """Generated customers who post: 16 matched exactly (CRM knows the handle), 14 only fuzzily."""
        rng = self.rng
        pool = [c for c in self.customers if "story" not in c and c["consent_status"] == "granted"
                and c["segment"] not in ("none", "sample")]  # fmt: skip
        rng.shuffle(pool)
        exact, fuzzy, rest = pool[:16], pool[16:30], [c for c in self.customers if "story" not in c][30:]
        platforms = ["mastodon"] * 7 + ["bluesky"] * 5 + ["reddit"] * 2 + ["youtube"] * 2
        for i, (cust, platform) in enumerate(zip(exact, platforms, strict=True)):
            f, last, city = _fold(cust["first_name"]), _fold(cust["last_name"]), cust["city"]
            full = f"{cust['first_name']} {cust['last_name']}"
            by_url = i % 3 == 2
            display = rng.choice([full, full, cust["first_name"], f"{cust['first_name']} ☕"])
            if platform == "mastodon":
                name = rng.choice(
                    [f"{f}{last}", f"{f}_{last}", f"{f}{last[0]}", f"{f[0]}{last}", f"{f}{rng.randint(70, 99)}"]
                )
                user = f"{name}@{INSTANCE_BY_CITY.get(city, rng.choice(INSTANCES))}"
                account = self.account(platform, f"c{i}", user, display, rng.choice(FUZZY_BIOS).format(city=city),
                                       city if rng.random() < 0.5 else None)  # fmt: skip
                crm = account["author"]["profile_url"] if by_url else account["author"]["handle"]
                if i == 0:  # CRMs keep whatever case people typed
                    crm = crm.replace(f"@{name}@", f"@{name.capitalize()}@")
            elif platform == "bluesky":
                user = rng.choice([f"{f}{last}", f"{f}-{last}", f"{f}{last[:1]}"]) + ".bsky.social"
                account = self.account(platform, f"c{i}", user, display, rng.choice(FUZZY_BIOS).format(city=city))
                crm = account["author"]["profile_url"] if by_url else "@" + user
            elif platform == "reddit":
                account = self.account(platform, f"c{i}", f"{f}_{rng.choice(['kaffee', 'brueht', 'cgn', 'mahlt'])}")
                crm = account["author"]["profile_url"] if by_url else "u/" + account["author"]["handle"]
            else:
                handle = cust["first_name"].replace(" ", "") + cust["last_name"].replace(" ", "")
                handle = re.sub(r"[^A-Za-z0-9]", "", handle.translate(UMLAUTS))
                account = self.account(platform, f"c{i}", handle, full, "Kanal über Kaffee, Küche und Kram.")
                crm, by_url = account["author"]["profile_url"], True
            (cust["profile_urls"] if by_url else cust["handles"]).append(crm)
            account.update(tag="exact", via="profile_url" if by_url else "handle", crm_id=cust["crm_id"])
        platforms = ["mastodon"] * 6 + ["bluesky"] * 5 + ["reddit"] * 2 + ["youtube"]
        variants = ["name", "no_umlaut", "nickname", "initial", "emoji"]
        for i, (cust, platform) in enumerate(zip(fuzzy, platforms, strict=True)):
            first, last, city = cust["first_name"], cust["last_name"], cust["city"]
            variant = variants[i % len(variants)]
            if variant == "nickname" and first not in NICKNAMES:
                variant = "name"
            display = {"name": f"{first} {last}", "emoji": f"{first} {last} ☕🌿", "initial": f"{first} {last[0]}.",
                       "nickname": f"{NICKNAMES.get(first)} {last}",
                       "no_umlaut": f"{first} {last}".translate(UMLAUTS)}[variant]  # fmt: skip
            bio = rng.choice(FUZZY_BIOS).format(city=city)
            stem = f"{_fold(first)[:3]}{_fold(last)[:4]}{rng.randint(1, 99)}"
            via = "name+city"
            if platform == "mastodon":
                account = self.account(platform, f"f{i}", f"{stem}@{rng.choice(INSTANCES)}", display,
                                       rng.choice(["Kaffee und so.", None, "Privat hier."]), city)  # fmt: skip
            elif platform == "bluesky":
                account = self.account(platform, f"f{i}", f"{stem}.bsky.social", display, bio)
            elif platform == "reddit":
                account = self.account(platform, f"f{i}", f"{_fold(first)}_{_fold(last)}_{_fold(city)[:6]}")
                via = "handle-name+city"
            else:
                account = self.account(platform, f"f{i}", stem.capitalize(), f"{first} {last}", bio)
            account.update(tag="fuzzy", via=via, crm_id=cust["crm_id"], variant=variant)
        # CRM handles of customers who never post here (some on platforms Resonanz does not collect).
        for i, cust in enumerate(rest[:: max(1, len(rest) // 14)][:14]):
            f, last = _fold(cust["first_name"]), _fold(cust["last_name"])
            form = [
                f"@{f}{last}@{rng.choice(INSTANCES)}",
                f"https://www.instagram.com/{f}.{last}/",
                f"https://bsky.app/profile/{f}{last[:2]}.bsky.social",
                f"u/{f}{last[:3]}{i}",
                f"@{f}_{last}",
            ][i % 5]
            (cust["profile_urls"] if form.startswith("https") else cust["handles"]).append(form)

    # Posts -------------------------------------------------------------------------------------------------

    def add(self, account: dict, when: datetime, entry: Entry, topic: str, parent: dict | None = None,
            title: str | None = None, lang: str = "de", community: str | None = None) -> dict:  # fmt: skip
        rng, platform, author = self.rng, account["platform"], account["author"]
        root = (parent["_root"] if parent["_root"] is not None else parent) if parent else None
        if platform == "youtube" and parent is not None and parent["_depth"] >= 2:
            parent = parent["_parent"]  # YouTube has one level of replies under a top-level comment
        if parent and when <= parent["_when"]:
            when = parent["_when"] + timedelta(minutes=rng.randint(4, 90))
        utc = when.astimezone(UTC)
        if platform == "mastodon":
            ext = str((int(utc.timestamp() * 1000) << 16) + rng.randrange(1 << 16))
            url = author["profile_url"] + "/" + ext
        elif platform == "bluesky":
            micros = int(utc.timestamp() * 1_000_000)
            tid_num, alphabet = (micros << 10) | rng.randrange(1024), "234567abcdefghijklmnopqrstuvwxyz"
            tid = "".join(alphabet[(tid_num >> (5 * k)) & 31] for k in range(12, -1, -1))
            ext, url = f"at://{author['account_id']}/app.bsky.feed.post/{tid}", f"{author['profile_url']}/post/{tid}"
        elif platform == "reddit":
            code = _chars(rng, string.ascii_lowercase + string.digits, 7)
            if root is None:
                slug = "_".join(re.findall(r"[a-z0-9]+", _fold_words(title or ""))[:8])
                ext, url = f"t3_{code}", f"https://www.reddit.com/r/{community}/comments/{code}/{slug}/"
            else:
                ext, url = f"t1_{code}", root["url"].rsplit("/", 2)[0] + f"/comment/{code}/"
        elif platform == "youtube":
            if root is None:
                ext = _chars(rng, string.ascii_letters + string.digits + "-_", 11)
            elif parent is root:
                ext = "Ugx" + _chars(rng, string.ascii_letters + string.digits + "-_", 19) + "4AaABAg"
            else:
                assert parent is not None
                ext = parent["external_id"] + "." + _chars(rng, string.ascii_letters + string.digits + "-_", 22)
            url = f"https://www.youtube.com/watch?v={(root or {}).get('external_id', ext)}" + (
                f"&lc={ext}" if root else ""
            )
        elif platform == "appstore":
            ext = str(rng.randint(10**10, 10**11 - 1))
            url = f"{APP_URL}?see-all=reviews#review-{ext}"
        else:
            slug = "-".join(re.findall(r"[a-z0-9]+", _fold_words(title or ""))[:7])
            ext = url = f"https://{author['account_id'].split('/')[2]}/{when:%Y/%m}/{slug}/"
        kind = {"appstore": "review"}.get(platform, "comment" if parent else "post")
        post = {"platform": platform, "external_id": ext, "kind": kind, "url": url, "text": entry.text, "title": title,
                "created_at": None, "author": dict(author),
                "parent_external_id": parent["external_id"] if parent else None,
                "root_external_id": root["external_id"] if root else None,
                "metrics": {"likes": 0, "reposts": 0, "replies": 0}, "language": None,
                "_when": when, "_parent": parent, "_root": root, "_account": account,
                "_sentiment": entry.sentiment, "_flags": entry.flags, "_topic": topic, "_lang": lang,
                "_depth": (parent["_depth"] + 1) if parent else 0}  # fmt: skip
        self.posts.append(post)
        return post

    def brand(self, platform: str) -> dict:
        return self.accounts[(platform, {"mastodon": "brand_m", "bluesky": "brand_b", "reddit": "brand_r",
                                         "youtube": "brand_y"}[platform])]  # fmt: skip

    def story_threads(self) -> None:
        reviewers = iter(REVIEWERS)
        for key, (platform, community, nodes) in THREADS.items():
            stack: list[dict] = []
            for node in nodes:
                avoid = tuple(p["_account"]["key"] for p in stack[: node.depth])
                if node.author == "brand":
                    account = self.brand(platform)
                elif platform == "appstore":
                    nick = next(reviewers)
                    account = self.account("appstore", nick, nick, nick)
                elif node.author.startswith("anon"):
                    account = self.anon(platform, node.author.partition(":")[2] or None, avoid)
                elif node.author.startswith("rss:"):
                    account = self.accounts[("rss", node.author[4:])]
                else:
                    account = self.accounts[(platform, node.author)]
                entry = Entry(node.sentiment, node.text, node.flags)
                parent = stack[node.depth - 1] if node.depth else None
                post = self.add(account, _at(node.when), entry, node.topic, parent, node.title, _lang(node.text),
                                community)  # fmt: skip
                post["_story"] = key
                stack = stack[: node.depth] + [post]
                if node.depth == 0:
                    self.threads.setdefault(key, post)

    def pool_posts(self) -> None:
        """Spread the topic pools over customers (first) and anonymous accounts (loud about price and the app)."""
        rng = self.rng
        items = [(topic, e) for topic, entries in POOLS.items() for e in entries]
        rng.shuffle(items)
        snippets = [e.target[1:] for group in (*REPLIES.values(), *BRAND_REPLIES.values()) for e in group
                    if e.target and e.target.startswith("~")]  # fmt: skip
        spare = [i for i in items if not i[1].flags and not any(s in i[1].text for s in snippets)]
        items = [i for i in items if i not in spare[:UNUSED]]
        loud = [i for i in items if i[0] in ("price", "app")]
        other = [i for i in items if i[0] not in ("price", "app")]
        customers = [(self.accounts[(STORY_ACCOUNTS[k][1], k)], cap) for k, cap in
                     (("max", 3), ("anna", 2), ("daniel", 2), ("lea", 2), ("mehmet", 2), ("paul", 2))]  # fmt: skip
        customers += [(a, rng.randint(1, 3) if a["tag"] == "exact" else rng.randint(1, 2)) for a in
                      list(self.accounts.values()) if a["key"][0] in "cf" and a["key"][1:].isdigit()]  # fmt: skip
        cycle = ["mastodon", "bluesky", "mastodon", "bluesky", "reddit", "mastodon", "bluesky", "youtube"]
        english = ("joe_in_cgn", "ms_beanie", "mugshot_sam")
        anons = [(self.anon(cycle[i % len(cycle)], p[0]), rng.randint(4, 6) if i % 8 == 3 else rng.randint(1, 3))
                 for i, p in enumerate(ANON_PEOPLE) if p[0] not in english]  # fmt: skip
        rng.shuffle(anons)
        for group, queues in ((customers, (other, loud)), (anons, (loud, other))):
            for account, cap in group:
                for _ in range(cap):
                    queue = queues[0] if queues[0] and (rng.random() < 0.75 or not queues[1]) else queues[1]
                    fits = [i for i in queue if i[0] in {"youtube": YOUTUBE_FOR, "reddit": REDDIT_FOR}.get(
                        account["platform"], POOLS)]  # fmt: skip
                    if fits:
                        queue.remove(fits[-1])
                        self.place(account, *fits[-1])
        en_authors = [self.anon(p, s) for s, p in (("joe_in_cgn", "mastodon"), ("ms_beanie", "bluesky"),
                      ("mugshot_sam", "bluesky"), ("cortado_chris", "bluesky"), ("zuckerwuerfel", "mastodon"),
                      ("filterfreund", "youtube"), ("espressionist", "mastodon"))]  # fmt: skip
        en_items = [(topic, e) for topic, entries in POOLS_EN.items() for e in entries]
        for i, (topic, entry) in enumerate(en_items):
            self.place(en_authors[i % len(en_authors)], topic, entry, "en")

    def place(self, account: dict, topic: str, entry: Entry, lang: str = "de") -> dict:
        platform, rng = account["platform"], self.rng
        when = topic_time(rng, topic, entry.text)
        if platform in ("mastodon", "bluesky"):
            return self.add(account, when, entry, topic, lang=lang)
        key = (REDDIT_FOR if platform == "reddit" else YOUTUBE_FOR)["en" if lang == "en" else topic]
        root = self.threads[key]
        when = min(max(when, root["_when"] + timedelta(minutes=5 + rng.expovariate(1 / 900))), END)
        return self.add(account, when, entry, topic, root, lang=lang)  # pool texts are top-level comments

    def finish(self) -> list[dict]:
        """The posts as written to posts.jsonl: time order, parents first, internal fields dropped."""
        self.posts.sort(key=lambda p: (p["_when"], p["platform"], p["external_id"]))
        out = []
        for p in self.posts:
            if p["platform"] in ("bluesky", "reddit"):
                p["created_at"] = p["_when"].astimezone(UTC).isoformat(timespec="seconds")
            else:
                p["created_at"] = p["_when"].isoformat(timespec="seconds")
            out.append({k: v for k, v in p.items() if not k.startswith("_")})
        return out


def _lang(text: str) -> str:
    english = re.findall(r"\b(the|and|is|are|my|this|that|of|for|you|to|it|was|with|their|from|on)\b", text, re.I)
    german = re.findall(r"[äöüß]|\b(und|der|die|das|ist|ich|nicht|mit|ein|eine|auf|zu|von|den|es|auch|wie|aber)\b",
                        text, re.I)  # fmt: skip
    return "en" if len(english) > len(german) else "de"


def _fold_words(text: str) -> str:
    text = text.lower().translate(UMLAUTS)
    return re.sub(r"[^a-z0-9]+", " ", text)
