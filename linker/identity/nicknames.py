"""A small German nickname table: Hans is Johannes, Sepp is Josef, Steffi is Stefanie ...

Names are grouped into equivalence classes; every member maps to the group's first name (its
canonical key). Groups deliberately merge close forms that share a nickname (Alexander and
Alexandra share "Alex"; Christian, Christina and Christine share "Chris"): a nickname match is
weaker evidence than an exact first-name match anyway, and the linker scores it as its own level.
All names are folded (ä -> ae, ß -> ss, lowercase) before lookup.
"""

from __future__ import annotations

from functools import lru_cache

GROUPS: tuple[tuple[str, ...], ...] = (
    ("johannes", "hans", "hannes", "johann", "jo"),
    ("johanna", "hanne", "jo"),
    ("josef", "joseph", "sepp", "seppl", "jupp", "beppo"),
    ("josefine", "josephine", "fine", "josi"),
    ("stefanie", "stephanie", "steffi", "steffie", "steph"),
    ("stefan", "stephan", "steff"),
    ("alexander", "alexandra", "alex", "sascha", "xander"),
    ("katharina", "katarina", "kathi", "kati", "kathrin", "katrin", "kaethe", "katja"),
    ("elisabeth", "elisabet", "lisa", "liesl", "lisbeth", "elli", "betti", "sissi", "sisi"),
    ("margarete", "margarethe", "grete", "gretel", "gretchen", "greta", "margit", "marga"),
    ("christian", "christina", "christine", "christiane", "chris", "christoph", "christopher", "tina"),
    ("andreas", "andi", "andy", "anderl"),
    ("thomas", "tom", "tommy", "thommy"),
    ("michael", "michi", "micha", "mike"),
    ("wolfgang", "wolf", "wolfi"),
    ("friedrich", "fritz", "friedel", "fred"),
    ("wilhelm", "willi", "willy", "wim"),
    ("franz", "franzl", "franziskus"),
    ("franziska", "franzi", "fanny"),
    ("georg", "schorsch", "joerg", "jorg", "schorschi"),
    ("nikolaus", "niklas", "klaus", "claus", "niko", "nico", "nick"),
    ("matthias", "mathias", "matze", "matti", "mattes", "hias"),
    ("daniel", "daniela", "dani", "danny"),
    ("sebastian", "basti", "wastl", "sebi"),
    ("tobias", "tobi"),
    ("benjamin", "ben", "benni", "benny"),
    ("maximilian", "max", "maxi", "maxl"),
    ("florian", "flo", "florl"),
    ("barbara", "babsi", "baerbel", "barbi"),
    ("susanne", "susi", "sanne", "suse"),
    ("gabriele", "gabi", "gaby"),
    ("rosemarie", "rosi", "rosel"),
    ("theresa", "therese", "theresia", "resi", "resl"),
    ("dorothea", "doro", "thea"),
    ("magdalena", "magda", "leni", "lena"),
    ("ulrich", "uli", "ulli"),
    ("rudolf", "rudi"),
    ("gerhard", "gerd", "gert", "hardy"),
    ("bernhard", "bernd", "berni"),
    ("heinrich", "heinz", "heini", "hinrich", "hein"),
    ("konrad", "konni", "kurt"),
    ("manfred", "manni"),
    ("leopold", "poldi"),
    ("ferdinand", "ferdi", "ferdl"),
    ("joachim", "jochen", "achim"),
    ("jakob", "jakl", "kobi"),
    ("ludwig", "lutz", "luggi"),
    ("patrick", "paddy", "patte"),
    ("alfred", "fredi", "alf"),
    ("anna", "anni", "annerl", "aenne"),
    ("maria", "mia", "mitzi", "mizzi", "mariechen"),
    ("angelika", "angela", "geli", "angie"),
    ("cornelia", "conny", "nele"),
    ("veronika", "vroni", "vera"),
    ("walburga", "walli", "burgi"),
    ("wolfram", "wolle"),
    ("jennifer", "jenny", "jenni"),
    ("nadine", "nadja"),
    ("ingrid", "inge"),
    ("hildegard", "hilde", "hildi"),
    ("helmut", "helmi"),
    ("johann", "hansi"),
    ("timo", "tim", "timm", "timotheus"),
    ("lukas", "lucas", "luke"),
)


@lru_cache(maxsize=1)
def _canonical_map() -> dict[str, str]:
    """name -> canonical key, merging groups that share a member (union-find over GROUPS)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for group in GROUPS:
        root = find(group[0])
        for name in group[1:]:
            other = find(name)
            if other != root:
                parent[other] = root
    # choose each class's representative: the first name of the first group that mentions it
    rep: dict[str, str] = {}
    for group in GROUPS:
        for name in group:
            rep.setdefault(find(name), group[0])
    return {name: rep[find(name)] for name in parent}


def canonical_first_name(folded: str | None) -> str | None:
    """The nickname group key for a folded first name; unknown names are their own key."""
    if not folded:
        return None
    return _canonical_map().get(folded, folded)


def known_first_names() -> frozenset[str]:
    """Every name in the table (useful to split handles like ``hansmueller``)."""
    return frozenset(_canonical_map())
