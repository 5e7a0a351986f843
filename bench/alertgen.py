"""A synthetic post stream for the alert replay (bench/bench_alerts.py): weeks of German posts about a coffee
roaster with a daily and weekly rhythm and noise, customers of classes A/B/C, a model's errors, and injected
incidents with a known start.

Rhythm: posts per hour = level x hour-of-day profile (night 0.1, morning and evening peaks) x weekday profile
(weekend lower) x a day factor (lognormal, sigma 0.15) x an hour factor (gamma, shape 6: overdispersion), drawn
Poisson. Authors: 8 % of posts by customers (10 % A, 25 % B, 65 % C), the rest by a long tail of the public.
Texts are composed from openers, topic phrases (subject/complaint/praise slots), a random tail from a common
vocabulary and emoji/hashtags, so that people do not repeat each other's word triples, as in real posts.

What a model makes of each post (the scores written to the store) carries errors: sentiment wrong for 12 %,
the topic missed for 15 % and a random extra topic for 4 %, the churn flag missed for 10 % of churn posts
and set on 0.3 % of other negative posts, the complaint flag missed for 15 % of complaints and set on 5 % of
other negative posts.

Incidents (type, when, what they inject):

* ``recall`` -- a product recall: topic Qualität, new words (Rückruf, Glassplitter, Espresso Napoli), a peak
  of ~40 posts/hour decaying over a day, 85 % negative;
* ``outage`` -- the app and shop are down: topic App, ~70/hour for two hours, then decaying; one at night;
* ``price`` -- a price backlash: topic Preis, ramping up over 8 hours to ~12/hour for three days;
* ``a_churn`` -- one post by an A customer threatening to leave ("prüfen gerade andere Röstereien");
* ``viral`` -- one post whose engagement grows to thousands within hours;
* ``bot_flood`` -- not a crisis: 250-300 posts in two hours from dozens of fresh accounts, one text copied
  (caught as a spam cluster by resonanz.pipeline.duplicates) or a template with swapped words and numbers.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
PLATFORMS = {"bluesky": 0.3, "mastodon": 0.2, "reddit": 0.15, "youtube": 0.15, "appstore": 0.1, "rss": 0.1}
TOPICS = {"Lieferung": 0.17, "Preis": 0.09, "App": 0.11, "Qualität": 0.11, "Service": 0.12, "Abo": 0.08,
          "Filiale": 0.08, "Kaffee": 0.14, "Nachhaltigkeit": 0.05}  # fmt: skip
NO_TOPIC = 0.15
NEGATIVE_SHARE = {"Lieferung": 0.42, "Preis": 0.38, "App": 0.35, "Qualität": 0.22, "Service": 0.33, "Abo": 0.3,
                  "Filiale": 0.15, "Kaffee": 0.1, "Nachhaltigkeit": 0.12, None: 0.2}  # fmt: skip
POSITIVE_SHARE = 0.35
HOD = [0.12, 0.08, 0.06, 0.05, 0.06, 0.15, 0.45, 1.0, 1.5, 1.55, 1.35, 1.25, 1.4, 1.3, 1.15, 1.1, 1.15, 1.25,
       1.45, 1.75, 1.85, 1.6, 1.0, 0.45]  # fmt: skip
DOW = [1.1, 1.05, 1.0, 1.0, 0.95, 0.8, 0.75]
CUSTOMER_SHARE = 0.08
CLASS_SHARE = {"A": 0.10, "B": 0.25, "C": 0.65}
CLASS_WEIGHT = {"A": 5.0, "B": 2.0, "C": 1.0}
PROSPECT_WEIGHT = 0.5

OPENERS = ["Ehrlich gesagt", "Kurze Frage", "Also", "Mal ehrlich", "Hallo Lindenhof", "Leute", "Update", "Puh",
           "Naja", "Hm", "Heute", "Gestern", "Wieder mal", "Kleiner Erfahrungsbericht", "Tja", "Moin",
           "Servus", "Na super", "Okay", "Achtung", "Info", "Ganz ehrlich", "Liebe Leute", "Zur Info"]  # fmt: skip
SUBJECTS = {
    "Lieferung": ["mein Paket", "die Lieferung", "die Bestellung", "der DHL-Bote", "die Sendung", "das Päckchen"],
    "Preis": ["der Preis", "das Abo", "die neue Preisliste", "der Espresso", "die Bohnen", "der Versand"],
    "App": ["die App", "der Login", "das Update", "die Punkteanzeige", "der Warenkorb", "die Bezahlung"],
    "Qualität": ["der Kaffee", "die Röstung", "die Bohnen", "der Espresso", "die Verpackung", "das Aroma"],
    "Service": ["die Hotline", "der Kundenservice", "das Chatfenster", "die Antwort", "das Team", "die Mail"],
    "Abo": ["mein Abo", "die Abo-Pause", "die Kündigung", "das Probeabo", "die Lieferpause", "der Abo-Rabatt"],
    "Filiale": ["die Filiale", "der Laden", "das Café", "die Barista", "die Theke", "der Laden am Markt"],
    "Kaffee": ["der Filterkaffee", "die neue Sorte", "der Cold Brew", "die Hausmischung", "der Flat White"],
    "Nachhaltigkeit": ["die Verpackung", "das Mehrwegglas", "die Lieferkette", "der Bio-Kaffee", "das Siegel"],
    None: ["das Wetter", "mein Morgen", "die Woche", "das Wochenende", "der Montag"],
}
NEGATIVE = ["ist eine Katastrophe", "kommt schon wieder zu spät", "nervt gewaltig", "ist total enttäuschend",
            "funktioniert einfach nicht", "ist viel zu teuer geworden", "war heute richtig schlecht",
            "lässt mich seit Tagen warten", "ist eine Zumutung", "geht gar nicht", "ist kaputt",
            "macht mich wütend", "war ein Reinfall", "hat mich echt geärgert"]  # fmt: skip
NEUTRAL = ["ist angekommen", "ist heute dran", "wurde geändert", "kommt morgen", "gibt es jetzt auch",
           "steht auf meiner Liste", "war heute Thema", "ist unterwegs", "hat sich verschoben"]  # fmt: skip
POSITIVE = ["ist richtig gut", "war super schnell da", "schmeckt fantastisch", "hat mich begeistert",
            "ist mein Favorit", "war top", "ist jeden Cent wert", "hat den Tag gerettet", "ist großartig"]  # fmt: skip
VOCAB = (  # noqa: SIM905 (a word list reads best as text)
    "und aber dann noch schon heute morgen abends wirklich eigentlich vielleicht bestimmt leider zum "
    "Glück Kollegin Nachbar Familie Büro Küche Frühstück Tasse Mühle Milch Zucker Hafermilch Wochenende "
    "Urlaub Termin Woche Monat Jahr seit lange kurz gerade wieder endlich bitte danke gern echt total "
    "ziemlich ganz etwas viel wenig mehr weniger besser schlechter gleich anders neu alt warm kalt stark "
    "mild fruchtig nussig schokoladig sauer bitter rund fein kräftig Kanne Siebträger Vollautomat French "
    "Press Bahn Fahrrad Regen Sonne Köln Bonn Düsseldorf Münster Aachen Essen Hamburg Berlin zuhause "
    "unterwegs irgendwie trotzdem deshalb übrigens sowieso jedenfalls ehrlich klar okay prima schade "
    "komisch"
).split()
EMOJI = ["☕", "🙄", "😡", "👍", "😍", "🤷", "😤", "🔥", "💸", "📦", "🙏", "😂", "", "", "", ""]
HASHTAGS = ["#Lindenhof", "#Kaffee", "#KaffeeFail", "#Köln", "#Kaffeeliebe", "", "", "", ""]

INCIDENT_TEXT: dict[str, dict[str, list[str]]] = {
    "recall": {
        "subject": [
            "der Rückruf",
            "Espresso Napoli",
            "die Charge",
            "der Rückruf vom Espresso Napoli",
            "die Glassplitter-Meldung",
            "das Rückrufformular",
        ],
        "pred": [
            "macht mir Angst",
            "ist ein Skandal",
            "kam viel zu spät",
            "betrifft auch meine Packung",
            "ist unfassbar",
            "wird nicht erklärt",
            "sorgt für Chaos",
            "ist gefährlich",
        ],
        "words": ["Rückruf", "Glassplitter", "Napoli", "Charge", "Rückgabe", "Erstattung", "Gesundheit"],
    },
    "outage": {
        "subject": ["die App", "der Shop", "der Login", "die Bestellung", "die Bezahlung", "das Kundenkonto"],
        "pred": [
            "geht nicht",
            "zeigt nur Fehler 503",
            "ist komplett down",
            "lädt ewig",
            "stürzt ab",
            "ist seit einer Stunde tot",
            "meldet Störung",
            "wirft mich raus",
        ],
        "words": ["Störung", "down", "Fehler", "503", "Ausfall", "Server", "offline"],
    },
    "price": {
        "subject": [
            "die Preiserhöhung",
            "das Abo",
            "der neue Preis",
            "die fünfzehn Prozent",
            "die Preisanpassung",
            "der Abo-Preis",
        ],
        "pred": [
            "ist eine Frechheit",
            "ist Abzocke",
            "ist nicht akzeptabel",
            "treibt mich zur Konkurrenz",
            "ist völlig übertrieben",
            "ärgert mich",
            "ist zu viel",
            "lässt mich kündigen",
        ],
        "words": ["Preiserhöhung", "Prozent", "teurer", "Abzocke", "Preisanpassung", "Sonderkündigung"],
    },
}
CHURN_TEXTS = [
    "Wir prüfen gerade andere Röstereien. Nach sechs Jahren ist das bitter, aber so geht es nicht weiter.",
    "Das war die letzte Lieferung, ich kündige unseren Gastro-Vertrag zum Monatsende.",
    "Haben nächste Woche Termine mit zwei anderen Röstereien. Sie wissen, warum.",
    "Nie wieder. Wir wechseln zur Konkurrenz, die Mühle steht seit Wochen still.",
]  # fmt: skip
BOT_COPY = "Lindenhof Kaffee macht krank!!! Finger weg von dieser Rösterei, alle Infos hier: http://spam.example/x"
BOT_TEMPLATE = "Lindenhof {adj}!!! {n} Leute {what} nach dem Kaffee. Finger weg {emoji} #LindenhofSkandal"
BOT_ADJ = ["Skandal", "Betrug", "Gift", "Abzocke"]
BOT_WHAT = ["krank", "im Krankenhaus", "mit Bauchweh"]


@dataclass
class PostSpec:
    """One generated post: its truth, what the model says, and when its metrics are read."""

    created_at: datetime
    platform: str
    author: str
    """An identity key: 'c<n>' (customer), 'p<n>' (public), 'b<n>' (bot)."""
    text: str
    true_sentiment: str
    topics: list[str]
    sentiment: str
    p_negative: float
    flags: list[dict[str, Any]]
    engagement: float
    """Final engagement (likes + 2 reposts + replies); it grows with age, see :func:`metrics_at`."""
    growth_hours: float = 4.0
    incident: str | None = None
    truth_churn: bool = False
    truth_strong: bool = False
    external_id: str = ""


@dataclass
class Incident:
    id: str
    kind: str
    start: datetime
    end: datetime
    crisis: bool = True
    posts: list[PostSpec] = field(default_factory=list)


@dataclass
class Stream:
    start: datetime
    eval_start: datetime
    end: datetime
    customers: dict[str, str]
    """'c<n>' -> class."""
    posts: list[PostSpec]
    incidents: list[Incident]


def metrics_at(spec: PostSpec, at: datetime) -> dict[str, int]:
    """Likes, reposts and replies as read at ``at``: engagement x (1 - exp(-age / growth))."""
    age = max((at - spec.created_at).total_seconds() / 3600.0, 0.0)
    eng = spec.engagement * (1.0 - math.exp(-age / spec.growth_hours))
    reposts = int(eng * 0.1)
    replies = int(eng * 0.1)
    likes = max(0, int(eng) - 2 * reposts - replies)
    return {"likes": likes, "reposts": reposts, "replies": replies}


def _pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class Generator:
    def __init__(self, seed: int, posts_per_day: float, n_public: int = 20000, n_customers: int = 400) -> None:
        self.rng = random.Random(seed)
        self.level = posts_per_day / (sum(HOD) * sum(DOW) / 7)
        self.n_public = n_public
        classes = ["A"] * int(n_customers * CLASS_SHARE["A"]) + ["B"] * int(n_customers * CLASS_SHARE["B"])
        classes += ["C"] * (n_customers - len(classes))
        self.customers = {f"c{i}": cls for i, cls in enumerate(classes)}
        self.by_class = {cls: [k for k, v in self.customers.items() if v == cls] for cls in CLASS_SHARE}
        self.bots = 0
        self.seq = 0

    # --- pieces ---------------------------------------------------------------------------------------------

    def author(self) -> str:
        """A customer (8 %), a regular of the public (a Pareto tail: a few post often) or anyone."""
        rng = self.rng
        if rng.random() < CUSTOMER_SHARE:
            return rng.choice(self.by_class[_pick(rng, CLASS_SHARE)])
        if rng.random() < 0.3:
            return f"p{min(int(10 * rng.paretovariate(1.5)) - 10, self.n_public - 1)}"
        return f"p{rng.randrange(self.n_public)}"

    def tail(self) -> str:
        words = self.rng.sample(VOCAB, self.rng.randint(3, 9))
        return " ".join(words)

    def text(self, topic: str | None, sentiment: str) -> str:
        pred = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}[sentiment]
        parts = [self.rng.choice(OPENERS) + ",", self.rng.choice(SUBJECTS[topic]), self.rng.choice(pred) + ".",
                 self.tail().capitalize() + ".", self.rng.choice(EMOJI), self.rng.choice(HASHTAGS)]  # fmt: skip
        if self.rng.random() < 0.4:
            other = self.rng.choice(SUBJECTS[self.rng.choice(list(TOPICS))]).capitalize()
            parts.insert(4, f"{other} {self.rng.choice(pred)}.")
        return " ".join(p for p in parts if p)

    def incident_text(self, kind: str) -> str:
        lex = INCIDENT_TEXT[kind]
        words = self.rng.sample(lex["words"], 2)
        parts = [self.rng.choice(OPENERS) + ",", self.rng.choice(lex["subject"]), self.rng.choice(lex["pred"]) + ".",
                 f"{words[0]} und {words[1]}?", self.tail().capitalize() + ".", self.rng.choice(EMOJI)]  # fmt: skip
        return " ".join(p for p in parts if p)

    def model(self, spec: PostSpec, true_topics: list[str], churn: bool, complaint: bool, strong: bool) -> None:
        """What a realistic model outputs for a post whose truth is given (see the module docstring)."""
        rng = self.rng
        s = spec.true_sentiment
        if rng.random() < 0.12:
            s = rng.choice([x for x in ("negative", "neutral", "positive") if x != s])
        spec.sentiment = s
        if s == "negative":
            if spec.true_sentiment == "negative":
                spec.p_negative = rng.uniform(0.9, 0.99) if strong else rng.uniform(0.55, 0.92)
            else:
                spec.p_negative = rng.uniform(0.5, 0.88)
        else:
            spec.p_negative = rng.uniform(0.01, 0.3)
        topics = [t for t in true_topics if rng.random() > 0.15]
        if rng.random() < 0.04:
            topics.append(rng.choice(list(TOPICS)))
        spec.topics = list(dict.fromkeys(topics))
        flags = []
        if (churn and rng.random() < 0.9) or (not churn and s == "negative" and rng.random() < 0.003):
            flags.append({"flag": "churn", "severity": 4})
        if (complaint and rng.random() < 0.85) or (not complaint and s == "negative" and rng.random() < 0.05):
            flags.append({"flag": "complaint", "severity": 2})
        spec.flags = flags

    def post(self, at: datetime, *, topic: str | None = None, author: str | None = None, incident: str | None = None,
             sentiment: str | None = None, text: str | None = None, platform: str | None = None,
             engagement: float | None = None, churn: bool = False) -> PostSpec:  # fmt: skip
        rng = self.rng
        if topic is None and incident is None and rng.random() > NO_TOPIC:
            topic = _pick(rng, TOPICS)
        true_topics = [topic] if topic else []
        if incident is None and topic and rng.random() < 0.1:
            true_topics.append(_pick(rng, TOPICS))
        if sentiment is None:
            neg = NEGATIVE_SHARE[topic]
            u = rng.random()
            sentiment = "negative" if u < neg else ("positive" if u < neg + POSITIVE_SHARE * (1 - neg) else "neutral")
        who = author or self.author()
        complaint = sentiment == "negative" and rng.random() < 0.4
        strong = complaint and rng.random() < 0.35
        churn = churn or (sentiment == "negative" and rng.random() < 0.01)
        spec = PostSpec(
            created_at=at,
            platform=platform or _pick(rng, PLATFORMS),
            author=who,
            text=text or self.text(topic, sentiment),
            true_sentiment=sentiment,
            topics=[],
            sentiment=sentiment,
            p_negative=0.0,
            flags=[],
            engagement=engagement if engagement is not None else rng.lognormvariate(1.0, 0.95),
            incident=incident,
            truth_churn=churn and who.startswith("c") and self.customers[who] in ("A", "B"),
            truth_strong=strong and who.startswith("c") and self.customers[who] in ("A", "B"),
        )
        self.model(spec, true_topics, churn, complaint, strong)
        self.seq += 1
        spec.external_id = f"x{self.seq}"
        return spec

    # --- the stream -------------------------------------------------------------------------------------------

    def background(self, start: datetime, end: datetime) -> list[PostSpec]:
        out = []
        day_factor = 1.0
        t = start
        while t < end:
            local = t.astimezone(BERLIN)
            if local.hour == 0 or t == start:
                day_factor = self.rng.lognormvariate(0.0, 0.15)
            lam = self.level * HOD[local.hour] * DOW[local.weekday()] * day_factor * self.rng.gammavariate(6, 1 / 6)
            for _ in range(_poisson(self.rng, lam)):
                out.append(self.post(t + timedelta(seconds=self.rng.uniform(0, 3600))))
            t += timedelta(hours=1)
        return out

    def rate_posts(self, inc: Incident, rate: Any, hours: float, kind: str, neg: float, topic: str,
                   platforms: dict[str, float] | None = None) -> None:  # fmt: skip
        """Posts of an incident with ``rate(t_hours)`` per hour, in 5-minute steps."""
        step = 1 / 12
        t = 0.0
        while t < hours:
            for _ in range(_poisson(self.rng, rate(t) * step)):
                at = inc.start + timedelta(hours=t + self.rng.uniform(0, step))
                sentiment = "negative" if self.rng.random() < neg else "neutral"
                p = self.post(at, topic=topic, incident=inc.id, sentiment=sentiment, text=self.incident_text(kind),
                              platform=_pick(self.rng, platforms) if platforms else None)  # fmt: skip
                inc.posts.append(p)
            t += step

    def incident(self, kind: str, n: int, start: datetime) -> Incident:
        inc = Incident(id=f"{kind}-{n}", kind=kind, start=start, end=start, crisis=kind != "bot_flood")
        rng = self.rng
        if kind == "recall":
            self.rate_posts(inc, lambda t: 40 * min(1.0, t / 1.0) * math.exp(-max(t - 1, 0) / 12), 48, kind, 0.85,
                            "Qualität")  # fmt: skip
        elif kind == "outage":
            self.rate_posts(inc, lambda t: 70.0 if t < 2 else 70 * math.exp(-(t - 2) / 2), 10, kind, 0.9, "App",
                            {"appstore": 0.35, "bluesky": 0.35, "mastodon": 0.15, "reddit": 0.15})  # fmt: skip
        elif kind == "price":
            self.rate_posts(inc, lambda t: 12 * min(1.0, t / 8) * (1.0 if t < 72 else math.exp(-(t - 72) / 12)), 96,
                            kind, 0.8, "Preis")  # fmt: skip
        elif kind == "a_churn":
            who = rng.choice(self.by_class["A"])
            inc.posts.append(self.post(start, topic="Service", author=who, incident=inc.id, sentiment="negative",
                                       text=rng.choice(CHURN_TEXTS), churn=True, platform="mastodon"))  # fmt: skip
        elif kind == "viral":
            inc.posts.append(self.post(start, topic="Qualität", incident=inc.id, sentiment="negative",
                                       text="Thread: Was ich heute bei Lindenhof in der Tüte gefunden habe. "
                                            "Ein Stück Plastik im Kaffee. Bilder unten. Ich bin sprachlos.",
                                       engagement=4000.0, platform="bluesky"))  # fmt: skip
            inc.posts[-1].growth_hours = 3.0
        elif kind == "bot_flood":
            copy = n % 2 == 1
            accounts = [f"b{self.bots + i}" for i in range(40 if copy else 80)]
            self.bots += len(accounts)
            for _ in range(250 if copy else 300):
                at = start + timedelta(minutes=rng.uniform(0, 120))
                text = (
                    BOT_COPY
                    if copy
                    else BOT_TEMPLATE.format(
                        adj=rng.choice(BOT_ADJ),
                        n=rng.randint(3, 99),
                        what=rng.choice(BOT_WHAT),
                        emoji=rng.choice(EMOJI),
                    )
                )
                p = self.post(at, topic="Qualität", author=rng.choice(accounts), incident=inc.id, sentiment="negative",
                              text=text, platform="bluesky", engagement=rng.uniform(0, 3))  # fmt: skip
                inc.posts.append(p)
        inc.end = max((p.created_at for p in inc.posts), default=start)
        return inc


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


SCHEDULE = [
    # (kind, evaluated week, weekday, local hour, minute)
    ("a_churn", 0, 4, 11, 13),
    ("recall", 1, 1, 9, 40),
    ("bot_flood", 1, 5, 3, 0),
    ("outage", 2, 0, 2, 20),
    ("a_churn", 2, 6, 21, 47),
    ("price", 3, 1, 8, 0),
    ("viral", 3, 4, 19, 5),
    ("a_churn", 4, 1, 7, 2),
    ("bot_flood", 4, 5, 20, 0),
    ("outage", 5, 2, 17, 50),
    ("viral", 5, 6, 12, 30),
    ("recall", 6, 3, 14, 10),
    ("bot_flood", 6, 0, 12, 0),
    ("price", 7, 0, 10, 0),
    ("a_churn", 7, 3, 16, 30),
]


def generate(seed: int = 1, posts_per_day: float = 500.0, warmup_weeks: int = 4, eval_weeks: int = 8) -> Stream:
    """The whole stream, posts sorted by time; incidents per :data:`SCHEDULE` with a few minutes' jitter."""
    gen = Generator(seed, posts_per_day)
    start = datetime(2026, 8, 31, tzinfo=BERLIN).astimezone(UTC)
    eval_start = start + timedelta(weeks=warmup_weeks)
    end = eval_start + timedelta(weeks=eval_weeks)
    posts = gen.background(start, end)
    incidents = []
    counts: dict[str, int] = {}
    for kind, week, weekday, hour, minute in SCHEDULE:
        if week >= eval_weeks:
            continue
        counts[kind] = counts.get(kind, 0) + 1
        day = (eval_start.astimezone(BERLIN) + timedelta(weeks=week, days=weekday)).date()
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)
        at = local.astimezone(UTC) + timedelta(minutes=gen.rng.uniform(-20, 20))
        inc = gen.incident(kind, counts[kind], at)
        incidents.append(inc)
        posts += [p for p in inc.posts if p.created_at < end]
    posts.sort(key=lambda p: p.created_at)
    return Stream(start, eval_start, end, gen.customers, posts, incidents)
