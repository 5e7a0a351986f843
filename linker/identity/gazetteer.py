"""Where does an author live? Cities from the location field, the bio, or the handle.

Many authors leave the location field empty but write "Aus Köln.", "Lebt und arbeitet in
Essen", "Köln-Nippes · Architektin" in their bio, or put the city into the handle
("sabine_krueger_koeln"). :func:`city_in_text` and :func:`city_in_handle` find such places with a
small gazetteer: the German, Austrian and Swiss cities above ~90,000 inhabitants plus every city
the CRM knows. City names that are also ordinary words (Essen = food, Halle = hall, Hof = yard,
Weil = because ...) only count where the context says "place": at the very start of the bio
followed by a separator ("Essen. Kaffee ..."), or after "in", "aus", "nach", "bei", "von".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from linker.identity.normalise import fold, normalise_city

CITIES = frozenset(
    fold(c)
    for c in (
        "Berlin", "Hamburg", "München", "Köln", "Frankfurt", "Stuttgart", "Düsseldorf", "Leipzig", "Dortmund",
        "Essen", "Bremen", "Dresden", "Hannover", "Nürnberg", "Duisburg", "Bochum", "Wuppertal", "Bielefeld",
        "Bonn", "Münster", "Mannheim", "Karlsruhe", "Augsburg", "Wiesbaden", "Mönchengladbach", "Gelsenkirchen",
        "Aachen", "Braunschweig", "Kiel", "Chemnitz", "Halle", "Magdeburg", "Freiburg", "Krefeld", "Mainz",
        "Lübeck", "Erfurt", "Oberhausen", "Rostock", "Kassel", "Hagen", "Potsdam", "Saarbrücken", "Hamm",
        "Ludwigshafen", "Oldenburg", "Mülheim", "Osnabrück", "Leverkusen", "Darmstadt", "Heidelberg", "Solingen",
        "Herne", "Neuss", "Regensburg", "Paderborn", "Ingolstadt", "Offenbach", "Fürth", "Würzburg", "Ulm",
        "Heilbronn", "Pforzheim", "Wolfsburg", "Göttingen", "Bottrop", "Reutlingen", "Koblenz", "Bremerhaven",
        "Recklinghausen", "Bergisch Gladbach", "Erlangen", "Jena", "Remscheid", "Trier", "Salzgitter", "Moers",
        "Siegen", "Hildesheim", "Cottbus", "Gütersloh", "Kaiserslautern", "Witten", "Hanau", "Schwerin", "Gera",
        "Esslingen", "Ludwigsburg", "Iserlohn", "Düren", "Tübingen", "Flensburg", "Zwickau", "Gießen", "Ratingen",
        "Lünen", "Villingen-Schwenningen", "Konstanz", "Marl", "Worms", "Velbert", "Minden", "Dessau", "Neumünster",
        "Norderstedt", "Delmenhorst", "Viersen", "Bamberg", "Marburg", "Rheine", "Wilhelmshaven", "Lüneburg",
        "Gladbeck", "Troisdorf", "Dorsten", "Detmold", "Arnsberg", "Castrop-Rauxel", "Landshut", "Bayreuth",
        "Brandenburg", "Bocholt", "Aschaffenburg", "Celle", "Kempten", "Fulda", "Aalen", "Lippstadt", "Dinslaken",
        "Kerpen", "Rosenheim", "Weimar", "Plauen", "Stralsund", "Greifswald", "Passau", "Hof", "Weil am Rhein",
        "Wien", "Graz", "Linz", "Salzburg", "Innsbruck", "Klagenfurt", "Zürich", "Genf", "Basel", "Bern",
        "Lausanne", "Winterthur", "Luzern", "St. Gallen", "Lugano",
    )
)  # fmt: skip
AMBIGUOUS = frozenset({"essen", "halle", "hof", "marl", "worms", "weimar", "celle", "hamm", "bern", "siegen", "rheine"})
ABBREVIATIONS = {"cgn": "koeln", "ffm": "frankfurt", "hh": "hamburg", "muc": "muenchen", "dd": "dresden"}
_PLACE_WORDS = frozenset({"in", "aus", "nach", "bei", "von", "from", "near", "wohnhaft", "zuhause"})


def gazetteer(extra: Iterable[str | None] = ()) -> frozenset[str]:
    """The built-in cities plus ``extra`` (e.g. every city in the CRM), as normalised city keys."""
    keys = {normalise_city(c) for c in extra}
    return CITIES | {k for k in keys if k}


@lru_cache(maxsize=65536)
def _city_in_text(text: str, places: frozenset[str]) -> str | None:
    # Separators stay visible so that "Essen." at the start can be told from "gutes Essen".
    tokens = re.findall(r"[^\W\d_]+(?:[-'][^\W\d_]+)*|[.,;:·|/!?]", text)
    words = [fold(t) if t[0].isalpha() else t for t in tokens]
    for i, word in enumerate(words):
        if not word or not word[0].isalpha():
            continue
        for n in (3, 2, 1):
            if i + n > len(words) or any(not w[0].isalpha() for w in words[i : i + n]):
                continue
            candidate = normalise_city(" ".join(words[i : i + n]))
            if not candidate or candidate not in places:
                candidate = normalise_city(word.split(" ")[0]) if n == 1 and " " in word else candidate
                if not candidate or candidate not in places:
                    continue
            if candidate in AMBIGUOUS or candidate.split(" ")[0] in AMBIGUOUS:
                before = words[i - 1] if i > 0 else ""
                after = words[i + n] if i + n < len(words) else ""
                at_start = i == 0 and after in {".", ",", "·", "|", "/", ":", ";", "!"}
                if not (at_start or before in _PLACE_WORDS):
                    continue
            return candidate
    return None


def city_in_text(text: str | None, places: frozenset[str]) -> str | None:
    """The first city of ``places`` named in a bio ("Lebt und arbeitet in Köln." -> "koeln")."""
    return _city_in_text(text, places) if text else None


def city_in_handle(tokens: list[str], places: frozenset[str]) -> str | None:
    """A city at the end of a handle's words (``sabine_krueger_koeln`` -> "koeln")."""
    if len(tokens) < 2:
        return None
    last = ABBREVIATIONS.get(tokens[-1], tokens[-1])
    return last if last in places else None
