"""Realistic German social-media posts for benchmarks: mostly 10-60 tokens, a few long ones up to 256.

Posts are assembled from sentence templates and a lexicon (complaints, praise, questions, emoji,
hashtags, mentions, URLs), deterministic for a given seed.
"""

from __future__ import annotations

import random

PRODUCTS = [
    "Paket",
    "Bestellung",
    "Lieferung",
    "Rechnung",
    "App",
    "Vertrag",
    "Router",
    "Jacke",
    "Waschmaschine",
    "Kaffeemaschine",
    "Handy",
    "Abo",
    "Gutschein",
    "Retoure",
    "Kundenkonto",
    "Filiale",
    "Hotline",
]
COMPANIES = [
    "@Telekom_hilft",
    "@DB_Bahn",
    "@zalando",
    "@o2de",
    "@Vodafone_Hilfe",
    "@dm_drogerie",
    "@IKEADeutschland",
    "@hallo@mastodon.social",
    "@service@chaos.social",
]
TEMPLATES = [
    "Meine {p} ist seit {n} Tagen unterwegs und nichts passiert.",
    "Die {p} kam endlich an, aber leider beschädigt.",
    "Warum ist die {p} schon wieder {adj}?",
    "Seit {n} Minuten in der Warteschleife, keiner geht ran.",
    "Vielen Dank an das Team, die {p} war super schnell da!",
    "Ich habe {n} Euro zu viel bezahlt, bitte um Erstattung.",
    "Die {p} funktioniert nach dem Update nicht mehr richtig.",
    "Wenn das so weitergeht, kündige ich meinen Vertrag.",
    "Echt {adj}, wie hier mit Kunden umgegangen wird.",
    "Kann mir jemand sagen, wann die {p} wieder verfügbar ist?",
    "Top Beratung in der Filiale, gerne wieder!",
    "Die Preise sind in den letzten Monaten um {n} Prozent gestiegen.",
    "Hab die {p} zurückgeschickt und warte immer noch auf mein Geld.",
    "Der Mitarbeiter am Telefon war sehr freundlich und hat sofort geholfen.",
    "z.B. gestern: {n} Stunden gewartet, d.h. den ganzen Nachmittag verloren.",
    "Die Qualität der {p} hat echt nachgelassen, früher war alles besser.",
    "Nie wieder bestelle ich hier, ich wechsle zur Konkurrenz.",
    "Kurze Frage zur {p}: gilt das Angebot auch online?",
]
ADJECTIVES = ["teuer", "kaputt", "langsam", "unverschämt", "super", "katastrophal", "ärgerlich", "toll", "spät"]
EMOJI = ["😡", "👍", "🙄", "😂", "❤️", "😢", "🤬", "🎉", "👎🏻", "🙏"]
HASHTAGS = ["#fail", "#DeutscheBahnFail", "#Kundenservice", "#niewieder", "#danke", "#Lieferchaos", "#5G"]
URLS = ["https://example.de/bestellung/12345", "https://t.co/AbC123xyz", "www.shop-beispiel.de/hilfe"]


def make_post(rng: random.Random, target_words: int) -> str:
    parts: list[str] = []
    if rng.random() < 0.3:
        parts.append(rng.choice(COMPANIES))
    words = 0
    while words < target_words:
        template = rng.choice(TEMPLATES)
        sentence = template.format(p=rng.choice(PRODUCTS), n=rng.randint(2, 90), adj=rng.choice(ADJECTIVES))
        parts.append(sentence)
        words += len(sentence.split())
    if rng.random() < 0.4:
        parts.append("".join(rng.choices(EMOJI, k=rng.randint(1, 3))))
    if rng.random() < 0.3:
        parts.append(rng.choice(HASHTAGS))
    if rng.random() < 0.1:
        parts.append(rng.choice(URLS))
    return " ".join(parts)


def make_posts(n: int, seed: int = 42) -> list[str]:
    """``n`` posts: about 96 % with 5-32 words (10-60 tokens), 4 % with 70-150 words (up to 256 tokens)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        long = rng.random() < 0.04
        target = rng.randint(70, 150) if long else int(min(32, max(5, rng.lognormvariate(2.55, 0.45))))
        out.append(make_post(rng, target))
    return out
