"""The story of the Resonanz demo dataset: hand-picked customers, their accounts and their threads.

Written by the Resonanz authors (MIT). Read by ``make_demo_data.py``; the README in
``resonanz/demo/data/`` tells the story in prose. All tables are plain text (no formatter rewraps
them); indented lines continue the line above.
"""

from __future__ import annotations

from typing import Any, NamedTuple


def _records(block: str, sep: str = " | ") -> list[list[Any]]:
    """Rows of a ``|``-separated table; indented lines continue the row above; ``-`` is empty."""
    rows: list[str] = []
    for line in block.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            rows[-1] = f"{rows[-1]} {line.strip()}"
        else:
            rows.append(line.strip())
    return [[None if cell.strip() in ("-", "") else cell.strip() for cell in row.split(sep.strip())] for row in rows]


# Hand-picked customers. consent is "status [ISO date of the last decision]"; segment drives the orders.
# key | first | last | company | city | consent | segment | emails | phones | handles | profile_urls
STORY_CUSTOMERS = {
    row[0]: row
    for row in _records("""
hotel | Thomas | Brandt | Hotel Rheinblick GmbH | Köln | granted 2023-04-18T11:20 | b2b_top
    | t.brandt@hotel-rheinblick.de; einkauf@hotel-rheinblick.de | +49 221 98765-40; +49 171 4410923
    | @hotel_rheinblick@mastodon.social | https://mastodon.social/@hotel_rheinblick
sabine | Sabine | Krüger | - | Köln | granted 2024-02-03T19:45 | vip | sabine.krueger@posteo.de | 0221 7312845 | - | -
sabine_hh | Sabine | Krüger | - | Hamburg | unknown | occasional | s.krueger@gmx.de | 040 6547123 | - | -
kranz | Miriam | Kranz | Café Kranz | Bonn | granted 2023-09-12T08:30 | b2b_large
    | info@cafe-kranz-bonn.de; miriam@cafe-kranz-bonn.de | 0228 654321 | -
    | https://bsky.app/profile/cafekranz-bonn.bsky.social
kontor | Jan-Philipp | Vogel | Kontor 21 Coworking GmbH | Düsseldorf | granted 2024-06-01T10:00 | b2b_large
    | office@kontor21.de; buchhaltung@kontor21.de | +49 211 1718190 | @kontor21@nrw.social | -
max | Max | Müller | - | München | granted 2025-01-09T21:13 | regular | max.mueller87@gmx.de | +49 89 2103456
    | @max_mueller87@mastodon.social | -
anna | Anna | Schmidt | - | Köln | granted 2024-11-30T16:02 | abo | anna.schmidt@web.de | +49 176 22334455
    | https://bsky.app/profile/anna-schmidt.bsky.social | -
daniel | Daniel | Hoffmann | - | Köln | granted 2025-03-14T07:55 | regular | daniel.hoffmann@t-online.de
    | 0221 5540987 | u/kaffeejunkie_koeln | -
jens | Jens | Bauer | - | Leipzig | granted 2024-08-21T14:40 | regular | jens@jensbrewing.de; jens.bauer@gmail.com
    | +49 341 9127730 | @JensBrewing | https://www.youtube.com/@JensBrewing
katrin | Katrin | Wolf | - | Köln | granted 2025-05-05T12:12 | occasional | katrin.wolf@web.de | - | - | -
jana | Jana | Albers | - | Hamburg | withdrawn 2026-11-06T20:41 | abo_ends | jana.albers@posteo.de | 040 2981734
    | @jana_roest@norden.social | -
fiona | Fiona | Schröder | - | Berlin | withdrawn 2026-03-02T09:18 | occasional | fiona.schroeder@gmx.net | -
    | u/filterfee | -
marco | Marco | Lehmann | - | Dortmund | withdrawn 2025-12-11T17:30 | regular | marco.lehmann@web.de
    | +49 231 5578112 | - | https://bsky.app/profile/marco-lehmann.bsky.social
deniz | Deniz | Aydın | - | Essen | withdrawn 2026-07-20T11:05 | regular | deniz.aydin@gmail.com | 0201 8812345 | -
    | https://www.youtube.com/@DenizBrueht
lea | Lea | Hartmann | - | Münster | granted 2025-09-27T18:20 | abo | lea.hartmann@posteo.de | 0251 4412378 | - | -
mehmet | Mehmet | Yılmaz | - | Köln | granted 2024-05-16T13:37 | regular | m.yilmaz@gmx.de; mehmet.yilmaz@koch-bau.de
    | +49 157 33445566 | - | -
lena | Lena | Roth | Lenas Eck Café & Bar | Freiburg im Breisgau | granted 2025-02-20T10:10 | b2b_small
    | kontakt@lenas-eck.de | 0761 2938475 | - | -
paul | Paul | Neumann | - | Berlin | granted 2024-12-24T09:00 | abo | paul.neumann@mailbox.org | 030 61234567 | - | -
""")
}

# Accounts of the story. user: Mastodon "name@instance", Bluesky handle, Reddit name, YouTube handle (no @).
# tag: exact/fuzzy/withdrawn/trap/brand; customer: the STORY_CUSTOMERS key the account belongs to
# (exact/fuzzy/withdrawn) or resembles (trap); via: the evidence a linker should find.
# key | platform | user | display name | bio | location | customer | tag | via
STORY_ACCOUNTS = {
    row[0]: row
    for row in _records("""
brand_m | mastodon | lindenhof@mastodon.social | Lindenhof Kaffee | Offizieller Account von Lindenhof Kaffee,
    Köln-Ehrenfeld. Wir lesen mit: Mo-Fr 8-20 Uhr. Impressum: lindenhof-kaffee.de/impressum | Köln | - | brand | -
brand_b | bluesky | lindenhof-kaffee.bsky.social | Lindenhof Kaffee | Kaffee aus Köln-Ehrenfeld seit 1994. Hier
    antwortet das Social-Media-Team. | - | - | brand | -
brand_r | reddit | Lindenhof_Kaffee | - | - | - | - | brand | -
brand_y | youtube | LindenhofKaffee | Lindenhof Kaffee | Kaffee aus Köln-Ehrenfeld seit 1994. Rösterei, Shop und zwölf
    Filialen. | Deutschland | - | brand | -
hotel | mastodon | hotel_rheinblick@mastodon.social | Hotel Rheinblick Köln | Familiengeführtes Hotel am Rhein seit
    1962. 68 Zimmer, Frühstück mit Domblick. | Köln | hotel | exact | handle
gm | bluesky | thomasbrandt.bsky.social | Thomas Brandt | Gastgeber im Hotel Rheinblick, Köln. Kaffee ist
    Gastfreundschaft. | - | hotel | fuzzy | name+company
sabine | bluesky | sabinek.bsky.social | Sabine K. | Köln-Nippes · Architektin · Filterkaffee-Nerd | - | sabine
    | fuzzy | name+city
sabine_r | reddit | sabine_krueger_koeln | - | - | - | sabine | fuzzy | handle-name+city
kranz | bluesky | cafekranz-bonn.bsky.social | Café Kranz Bonn | Kaffee, Kuchen, Kranz. Seit 1987 in der Bonner
    Altstadt. | - | kranz | exact | profile_url
kontor | mastodon | kontor21@nrw.social | Kontor 21 Coworking | Coworking in Düsseldorf-Flingern. 60 Plätze,
    eine Kaffeemaschine, null Langeweile. | Düsseldorf | kontor | exact | handle
max | mastodon | max_mueller87@mastodon.social | Max | München. Radl, Berge, Espresso. | München | max | exact | handle
anna | bluesky | anna-schmidt.bsky.social | Anna Schmidt | Köln · Lehrerin · Kaffee & Krimis | - | anna | exact
    | profile_url
daniel | reddit | kaffeejunkie_koeln | - | - | - | daniel | exact | handle
jens | youtube | JensBrewing | Jens Brewing | Kaffee-Reviews ohne Bullshit. Leipzig. Geschäftliches:
    jens@jensbrewing.de | Deutschland | jens | exact | profile_url
lea | mastodon | lea_barista@muenster.social | Lea ☕ | Barista in Münster. Kontakt: lea.hartmann@posteo.de
    | Münster | lea | exact | email
mehmet | bluesky | mehmetcgn.bsky.social | Mehmet | Köln-Kalk · Papa von zwei · 📧 m.yilmaz@gmx.de | - | mehmet
    | exact | email
lena | youtube | LenasEck | Lenas Eck | Café & Bar in Freiburg. Barista-Tipps jeden Freitag. Anfragen:
    kontakt@lenas-eck.de | Deutschland | lena | exact | email
paul | mastodon | pneumann@chaos.social | Paul | Physiker, Berlin. Post: Paul.Neumann@Mailbox.org | Berlin | paul
    | exact | email
jana | mastodon | jana_roest@norden.social | Jana | Hamburg. Tee-Konvertitin. | Hamburg | jana | withdrawn | handle
fiona | reddit | filterfee | - | - | - | fiona | withdrawn | handle
marco | bluesky | marco-lehmann.bsky.social | Marco Lehmann | Dortmund. BVB. Kaffee. | - | marco | withdrawn
    | profile_url
deniz | youtube | DenizBrueht | Deniz brüht | Filterkaffee-Experimente aus Essen | Deutschland | deniz | withdrawn
    | profile_url
t_brandt | mastodon | tbrandt@hamburg.social | Thomas Brandt | Fotograf in Hamburg. Kaffee, Kameras, Hafen.
    | Hamburg | hotel | trap | name
t_kroeger | mastodon | sabine_kroeger@norden.social | Sabine Kröger | Bremen. Garten, Hund, Kaffee. | Bremen
    | sabine | trap | name
t_max | bluesky | maxmueller.bsky.social | Max Müller | Berlin. Backend-Entwickler. Meinungen sind meine eigenen.
    | - | max | trap | name
t_katrin | bluesky | katrinwolf.bsky.social | Katrin Wolf | Wien 🇦🇹 · Lehrerin · Bücherwurm | - | katrin | trap
    | name
t_rheinblick | mastodon | rheinblick_koblenz@mastodon.social | Hotel Rheinblick Koblenz | Ihr Hotel am Deutschen
    Eck. 32 Zimmer, Weinstube, Rheinterrasse. | Koblenz | hotel | trap | company
t_anna | reddit | anna_schmidt_92 | - | - | - | anna | trap | handle-name
""")
}


class Node(NamedTuple):
    depth: int
    author: str  # STORY_ACCOUNTS key, "brand", "anon" or "anon:<stem>"
    when: str  # local time in Köln, "YYYY-MM-DD HH:MM"
    sentiment: str
    flags: tuple[str, ...]
    topic: str
    title: str | None
    text: str


def parse_threads(block: str) -> dict[str, tuple[str, str | None, list[Node]]]:
    """``### key platform [community]`` starts a thread; entries are
    ``depth author date time sentiment topic [flag ...] | [title ||] text`` (indented lines continue)."""
    threads: dict[str, tuple[str, str | None, list[Node]]] = {}
    nodes: list[Node] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        if line.startswith("### "):
            key, platform, *community = line[4:].split()
            nodes = []
            threads[key] = (platform, community[0] if community else None, nodes)
        elif line[0].isspace():
            nodes[-1] = nodes[-1]._replace(text=f"{nodes[-1].text} {line.strip()}")
        else:
            head, _, text = line.partition(" | ")
            depth, author, day, clock, sentiment, topic, *flags = head.split()
            full = {"neg": "negative", "neu": "neutral", "pos": "positive"}[sentiment]
            nodes.append(Node(int(depth), author, f"{day} {clock}", full, tuple(flags), topic, None, text.strip()))
    for _platform, _community, entries in threads.values():
        for i, node in enumerate(entries):
            title, _, body = node.text.rpartition(" || ")
            entries[i] = node._replace(title=title or None, text=body)
    return threads


THREADS = parse_threads("""
### hotel1 mastodon
0 hotel 2026-10-06 07:42 neg quality | Seit Freitag ist die Kaffeemühle defekt, die wir mit dem Lindenhof-Gastropaket
    gemietet haben. Frühstück für 140 Gäste mit Filterkaffee aus der Kanne. Ticket ist raus.
    @lindenhof@mastodon.social
1 brand 2026-10-06 09:15 neu quality | Guten Morgen, das tut uns leid! Wir haben Ihr Ticket priorisiert, unser
    Technik-Partner meldet sich bis morgen bei Ihnen. ^Markus
### hotel2 mastodon
0 hotel 2026-10-14 18:03 neg quality | Update Mühle: Techniker war da. Ersatzteil kommt „in 10 bis 14 Werktagen“. Zehn
    bis vierzehn. Werktage. Wir sind ein Hotel, kein Museum. #Lindenhof
### hotel3 mastodon
0 hotel 2026-10-29 10:20 neg delivery | Jetzt kommt auch noch die Bohnenlieferung für November nicht. DHL-Tracking
    steht seit Montag auf „in Zustellung“. Wir kaufen seit sechs Jahren bei euch, @lindenhof@mastodon.social – was
    ist da los?
1 brand 2026-10-29 11:02 neu delivery | Das ist ärgerlich, Entschuldigung! Wir klären das mit DHL und melden uns
    telefonisch bei Ihnen. ^Markus
2 hotel 2026-10-29 16:40 neg service | Telefonisch? Ich hänge seit heute früh zweimal 40 Minuten in Ihrer
    Warteschleife. Rufen Sie gern zurück, die Nummer haben Sie.
3 brand 2026-10-29 17:05 neu service | Unsere Gastro-Leitung ruft Sie morgen bis 10 Uhr an. Versprochen. ^Markus
### gm1 bluesky
0 gm 2026-11-04 22:10 neg quality | Hotelalltag: Seit über vier Wochen keine funktionierende Kaffeemühle, weil der
    Lieferant kein Ersatzteil findet. Die Gäste sind geduldiger als ich.
### hotel4 mastodon
0 hotel 2026-11-10 08:55 neg billing | Und die Krönung: Die Oktoberrechnung enthält 30 kg Espresso, die nie
    angekommen sind, plus die volle Miete für die defekte Mühle. Bitte korrigieren, @lindenhof@mastodon.social. Ich
    schreibe das hier, weil niemand zurückruft.
1 anon 2026-11-10 10:31 neg billing | Oha. Sechs Jahre Kunde und dann sowas. Hoffe, das klärt sich schnell.
### hotel5 mastodon
0 hotel 2026-11-16 07:30 neg quality churn | Woche sechs ohne funktionierende Mühle. Die Gutschrift für die falsche
    Rechnung? Fehlanzeige. Ehrlich gesagt prüfen wir gerade andere Röstereien. #Lindenhof #KaffeeFail
1 brand 2026-11-16 09:48 neu quality | Herr Brandt, das ist so nicht in Ordnung und es tut uns wirklich leid. Die
    Gutschrift ist heute angewiesen, die Mühle tauschen wir diese Woche komplett aus. Unsere Gastro-Leitung meldet
    sich heute persönlich. ^Markus
2 hotel 2026-11-16 12:10 neg service | Das hatten wir am 29.10. auch schon gehört. Ich glaube es, wenn die Mühle
    läuft.
1 anon 2026-11-16 10:05 neg quality | Ganz ehrlich: ein Hotel, das sechs Wochen auf eine Mühle wartet? Da würde ich
    auch wechseln.
1 anon 2026-11-16 13:22 pos general | Ihr habt übrigens den besten Frühstückskaffee in Köln. Hoffentlich bleibt das
    so!
### gm2 bluesky
0 gm 2026-11-16 07:31 neg quality churn | Woche sechs ohne funktionierende Mühle. Die Gutschrift für die falsche
    Rechnung? Fehlanzeige. Ehrlich gesagt prüfen wir gerade andere Röstereien. #Lindenhof #KaffeeFail
### hotel6 mastodon
0 hotel 2026-11-18 21:14 neg service | Für alle, die fragen: Nein, das ist kein Einzelfall-Gemecker. Drei Tickets,
    zwei Mails, ein Einschreiben, eine Gutschrift „angewiesen“, die nicht da ist. Antwort bisher: Textbausteine.
    @lindenhof@mastodon.social
### hotel7 mastodon
0 hotel 2026-11-20 17:45 neg general churn | Danke für die vielen Nachrichten und Tipps. Nächste Woche haben wir
    Termine mit zwei anderen Röstereien. Sechs Jahre Lindenhof, aber so geht es nicht weiter.
### rheinblick mastodon
0 t_rheinblick 2026-11-17 11:00 pos general | Liebe Gäste, wir sind NICHT das Hotel Rheinblick in Köln 😅 Bei uns
    läuft die Kaffeemaschine. Kommt gern auf einen Kaffee an die Rheinterrasse!
### sabine1 bluesky
0 sabine 2026-10-30 19:20 neg delivery | Mein Lindenhof-Abo kam diesmal neun Tage zu spät. Per Hermes, obwohl DHL
    eingestellt ist. Bei drei Kilo im Monat merk ich sowas 😑
1 brand 2026-10-31 10:12 neu delivery | Das tut uns leid, Sabine! Schick uns gern deine Kundennummer per DM, dann
    schauen wir, was da schiefgelaufen ist. ^Lea
2 sabine 2026-10-31 11:40 neu delivery | DM ist raus.
### sabine3 bluesky
0 sabine 2026-11-17 08:05 neg subscription churn | So, Abo pausiert. Wenn die Dezember-Lieferung auch wieder
    hängt, kündige ich. Schade, die Bohnen sind eigentlich top. #Lindenhof
1 brand 2026-11-17 10:30 neu subscription | Liebe Sabine, danke für deine Geduld mit uns. Eine Gutschrift über 5 €
    ist unterwegs, die Dezember-Lieferung schicken wir per DHL Express. ^Lea
2 sabine 2026-11-17 12:02 neg subscription | Danke für die schnelle Antwort, aber ein 5-€-Gutschein macht neun
    Tage Warten nicht wett. Mal sehen.
### kranz1 bluesky
0 kranz 2026-09-30 15:04 pos quality | Die neue Herbströstung von @lindenhof-kaffee.bsky.social läuft bei unseren
    Gästen super. Heute schon die dritte Kanne Filter verkauft, bevor der Kuchen raus war ☕🍂
### kranz2 bluesky
0 kranz 2026-11-05 09:40 neg delivery | Hermes hat unsere Wochenlieferung verschlampt. 12 kg. Zum Glück hatten wir
    noch Reserve im Keller.
### kranz3 bluesky
0 kranz 2026-11-19 08:15 neg delivery | Zweite Lieferung in Folge mit Hermes verschollen. Wir sind ein Café. Ohne
    Bohnen kein Café. @lindenhof-kaffee.bsky.social, bitte wieder DHL!
1 brand 2026-11-19 09:02 neu delivery | Das tut uns sehr leid! Wir schicken heute Ersatz per Kurier, er ist morgen
    früh bei euch. ^Tim
2 kranz 2026-11-20 08:01 pos delivery | Kurier war um 7:30 da. Danke, das rettet unser Wochenende 🙏
### kontor1 mastodon
0 kontor 2026-10-08 12:30 pos general | Das neue Büro-Abo von Lindenhof ist da: 8 kg für 60 Coworker. Mal sehen,
    wie lange das reicht 😄
### kontor2 mastodon
0 kontor 2026-11-19 14:20 neg billing | Zum dritten Mal eine falsche Rechnung von @lindenhof@mastodon.social:
    Büro-Abo doppelt berechnet, Rabatt vergessen. Unsere Buchhaltung würde gern wieder Kaffee trinken statt
    Rechnungen prüfen.
1 brand 2026-11-19 15:45 neu billing | Das tut uns leid! Die Korrektur ist in Arbeit, Sie bekommen bis Freitag eine
    neue Rechnung. ^Jana
### jana1 mastodon
0 jana 2026-11-06 20:45 neg subscription churn | Hab mein Lindenhof-Abo gekündigt und gleich meine Einwilligung
    für Werbung und Datenauswertung widerrufen. Nie wieder.
### jana2 mastodon
0 jana 2026-11-18 18:30 neg price | Seit der Preiserhöhung gibt's bei mir nur noch Kaffee vom Wochenmarkt.
    Schmeckt, ist billiger, und keiner will meine Daten.
### marco1 bluesky
0 marco 2026-10-19 07:55 neg app | Update installiert, 3.100 Bohnen weg. Danke, Lindenhof. #Bohnengate
### marco2 bluesky
0 marco 2026-11-17 21:10 neu general | Gibt's bei Lindenhof eigentlich irgendwo eine Übersicht, welche Daten die
    über mich gespeichert haben? Frage für die DSGVO-Auskunft.
### brandt1 mastodon
0 t_brandt 2026-10-24 16:12 pos store | Neue Lindenhof-Filiale in Ottensen ausprobiert. Cortado gut, Licht zum
    Fotografieren noch besser 📷
### brandt2 mastodon
0 t_brandt 2026-11-21 10:40 neu quality | Kann mir jemand eine gute Handmühle empfehlen? Die von Lindenhof soll ja
    nicht so toll sein.
### kroeger1 mastodon
0 t_kroeger 2026-11-12 19:03 neg price | Jetzt ziehen auch bei Lindenhof die Kaffeepreise an. Bremen hat zum Glück
    genug andere Röstereien.
### tmax1 bluesky
0 t_max 2026-10-17 09:14 neg app | Lindenhof-App nach dem Update: 0 Bohnen, 3 Abstürze, 1 Deinstallation. Effizient.
### tkatrin1 bluesky
0 t_katrin 2026-11-20 20:02 neu delivery | Kann man bei Lindenhof eigentlich auch nach Österreich bestellen? Hab im
    Köln-Urlaub den Espresso probiert und vermisse ihn.
### r1 reddit koeln
0 anon:veedelskind 2026-11-05 09:12 neg price | Lindenhof Kaffee: Preiserhöhung UND Lieferchaos – geht's nur mir so?
    || Ich bin seit drei Jahren im Abo. Letzte Lieferung zehn Tage zu spät, jetzt die Mail mit +15 % ab Dezember.
    Die Filiale in Ehrenfeld mag ich echt gern, aber langsam frag ich mich, ob sich das noch lohnt. Wie seht ihr
    das? Gibt's in Köln gute Alternativen mit Abo?
1 sabine_r 2026-11-07 21:48 neg subscription churn | Ich bin seit 2019 im Abo (drei Kilo im Monat, Homeoffice
    und die Nachbarn trinken mit 😅) und hab da echt viel Geld gelassen. Aber Preiserhöhung plus die ständigen
    Lieferprobleme... ich überlege ernsthaft zu kündigen.
1 brand 2026-11-05 14:30 neu delivery | Hallo zusammen, hier schreibt das Social-Media-Team von Lindenhof. Die
    Verzögerungen kommen vom Umzug unseres Versandlagers, ab Mitte November sollte es besser laufen. Zur
    Preiserhöhung haben wir alle Infos unter lindenhof-kaffee.de/preise gesammelt. ^Tim
2 anon 2026-11-05 15:02 neg delivery | „Sollte besser laufen“ – das habt ihr im Sommer auch schon geschrieben.
3 anon 2026-11-05 16:47 neg delivery | Stimmt, hab den Post damals auch gelesen. Passiert ist nix.
1 anon 2026-11-05 10:03 neu price | Hol mir die Bohnen inzwischen bei der kleinen Rösterei im Belgischen Viertel.
    Kein Abo, aber man kann vorher probieren.
### r2 reddit Kaffee
0 anon:brueh_gut 2026-10-02 18:40 neu quality | Lindenhof Herbströstung 2026 – Meinungen? || Hab sie seit einer
    Woche und bin hin- und hergerissen. In der V60 super fruchtig, im Siebträger eher sauer. Wie bereitet ihr sie
    zu?
1 anon 2026-10-02 19:15 pos quality | Feiner mahlen und 94 °C, dann ist sie im Siebträger richtig gut. Hat bei mir
    ein paar Versuche gebraucht.
2 anon:brueh_gut 2026-10-02 20:01 pos quality | Danke, probier ich morgen früh aus!
1 anon 2026-10-03 08:22 neu quality | Beim ersten Mal fand ich sie auch zu sauer. Nach zwei Wochen Ruhezeit ab
    Röstdatum war sie deutlich runder.
1 fiona 2026-10-04 11:30 neg quality | Die Herbströstung war mir zu sauer, hab die Packung an meine Schwester
    verschenkt.
### r3 reddit de
0 anon:grossstadtpflanze 2026-10-18 11:05 neg app | #Bohnengate: Lindenhof-App löscht Treuepunkte – Sammelthread
    || Seit dem Update 4.2 am Freitag melden hier und auf Mastodon Hunderte, dass ihre Bohnen-Punkte weg sind oder
    negativ angezeigt werden. Lindenhof hat bisher nur „Wir arbeiten dran“ gepostet. Postet eure besten Screenshots
    😂
1 anon 2026-10-18 11:40 neg app | Ich hab jetzt -4.000 Bohnen. Heißt das, ich schulde denen Kaffee?
2 anon 2026-10-18 12:02 pos app | Ab in die Schuldnerberatung mit dir 😂
1 anon 2026-10-18 13:15 neu app | „Wo sind meine Bohnen?“ – „In der Cloud.“ ☁️☕ Bestes Meme der Woche.
1 t_anna 2026-10-18 17:50 neg app | Bei mir sind's 900 Bohnen weniger. Hab den Support angeschrieben, bisher nix.
1 brand 2026-10-18 15:20 neu app | Hallo zusammen, wir lesen hier mit. Die Punkte sind nicht verloren, das ist ein
    Anzeigefehler nach dem Update. Der Fix ist in Arbeit und kommt nächste Woche. Sorry für den Ärger! ^Tim
2 anon 2026-10-18 15:41 neg app | „Nächste Woche“. Und bis dahin kann ich in der Filiale nicht mit Punkten zahlen.
### r4 reddit cologne
0 anon:joe_in_cgn 2026-10-26 13:30 neu store | Is Lindenhof worth it? Looking for good coffee near the Dom ||
    Moving to Cologne in January. Colleagues keep recommending Lindenhof, but I also read about their app drama. Any
    favourite cafés near the cathedral or in Ehrenfeld?
1 anon:mugshot_sam 2026-10-26 14:02 pos store | The Ehrenfeld one is lovely, go on a weekday morning. Get the
    cinnamon roll.
1 anon 2026-10-26 15:45 neu app | Their beans are good, the app is a mess. Just pay by card and ignore the points.
2 anon:joe_in_cgn 2026-10-26 16:10 pos store | Thanks, that's helpful!
1 anon 2026-10-27 09:12 neu store | There are better independent roasters in the Belgisches Viertel, but Lindenhof
    is solid and consistent.
### r5 reddit duesseldorf
0 anon 2026-11-18 12:15 neu billing | Lindenhof Büro-Abo – Erfahrungen? || Wir sind eine kleine Agentur (9 Leute) in
    Pempelfort und überlegen, auf das Büro-Abo von Lindenhof umzusteigen. Lohnt sich das? Wie ist der Support bei
    Firmenkunden?
1 anon 2026-11-18 13:40 neg billing | Haben wir seit einem Jahr. Kaffee top, Rechnungen leider oft falsch. Man muss
    jeden Monat nachprüfen.
1 anon 2026-11-18 16:05 pos billing | Bei uns läuft's problemlos. Sammelrechnung kommt pünktlich, Lieferung immer
    dienstags.
1 brand 2026-11-19 09:30 neu billing | Hallo! Schreibt uns gern an buero@lindenhof-kaffee.de, dann macht euch
    unser Büro-Team ein Angebot und ihr könnt vier Wochen testen. ^Jana
### v1 youtube
0 jens 2026-11-06 17:00 neu quality | Lindenhof Espresso Nr. 7 im Test – lohnt sich das nach der Preiserhöhung? |
    Ehrlicher Review || Heute teste ich den Espresso Nr. 7 von Lindenhof aus Köln im Siebträger, in der Mokkakanne
    und im Vollautomaten. Spoiler: geschmacklich stark, aber die neuen Preise muss man sich schönrechnen. Selbst
    gekauft, keine Kooperation. 00:00 Intro 01:12 Verpackung & Röstdatum 03:40 Siebträger 07:55 Mokkakanne 10:20
    Fazit
1 anon 2026-11-06 17:48 pos quality | Danke für den ehrlichen Test! Endlich mal jemand, der nicht gesponsert ist.
1 anon 2026-11-06 19:02 neu quality | Bei 7:55 – welche Mokkakanne ist das?
2 jens 2026-11-06 19:30 neu quality | Eine ganz normale Bialetti Moka Express, 3 Tassen. Nix Besonderes 🙂
1 deniz 2026-11-07 09:10 pos quality | Trinke den Nr. 7 seit Jahren, kann deinen Eindruck bestätigen. Nur die Preise
    tun langsam weh.
1 lena 2026-11-08 08:45 pos quality | Wir haben den Nr. 7 bei uns im Café als Hausespresso. Gäste lieben ihn, und
    deine Siebträger-Einstellungen passen ziemlich genau zu unseren.
1 anon 2026-11-10 21:30 neg price | Deine Reviews sind immer top, aber Lindenhof ist mir inzwischen einfach zu teuer.
### v2 youtube
0 brand 2026-11-12 11:00 pos availability | So entsteht unsere Weihnachtsröstung 2026 🎄 | Hinter den Kulissen in
    Köln-Ehrenfeld || Von der Bohne bis zur Packung: Unser Röstmeister Kemal zeigt, wie die Weihnachtsröstung
    entsteht. Ab 16. November im Shop und in allen Filialen, solange der Vorrat reicht.
1 anon 2026-11-12 13:20 pos general | Kemal ist der Beste! 👏 Tolles Video.
1 anon 2026-11-16 14:05 neg availability | Und wann gibt's sie wieder, nachdem sie nach zwei Stunden ausverkauft
    war?
2 brand 2026-11-16 15:30 neu availability | Wir rösten nach! Ab 30.11. gibt es wieder Weihnachtsröstung, maximal
    zwei Packungen pro Bestellung. ^Tim
1 anon 2026-11-17 19:45 neg price | Schönes Video, aber nach der Preiserhöhung kauf ich bei euch nix mehr.
### appstore appstore
0 anon 2026-10-17 08:12 neg app | Alle Punkte weg || Nach dem Update 4.2 sind meine gesammelten Bohnen auf 0. Über
    zwei Jahre gesammelt. Ein Stern, bis das behoben ist.
0 anon 2026-10-17 12:40 neg app | Stürzt ständig ab || Öffnet sich, zeigt kurz das Logo, stürzt ab. iPhone 12, iOS
    aktuell.
0 anon 2026-10-18 09:55 neg app | Negative Punkte?? || Ich habe jetzt -230 Bohnen. Wie kann man negative
    Treuepunkte haben? Bitte fixen.
0 anon 2026-10-18 22:10 neg app | Points gone || Updated the app and lost 1,200 points. Please fix this ASAP.
0 anon 2026-10-19 07:31 neg app | Früher super, jetzt unbrauchbar || Die alte Version war schnell und einfach. Die
    neue lädt ewig und der Warenkorb leert sich von allein.
0 anon 2026-10-20 18:02 neg app | Login-Schleife || Ich werde nach jedem Öffnen ausgeloggt. Passwort zurücksetzen
    hilft nur für eine Stunde.
0 anon 2026-10-21 12:20 neg app | Datenschutz? || Warum will die App jetzt dauerhaft meinen Standort? Das hat eine
    Kaffee-App nicht zu interessieren.
0 anon 2026-10-22 08:47 neg app | Bezahlen in der Filiale geht nicht || Der QR-Code wird an der Kasse seit dem
    Update nicht erkannt. Die Leute an der Kasse sind genauso genervt wie ich.
0 anon 2026-10-24 15:15 neg app | Bitte alten Stand zurück || Design schön und gut, aber ich will einfach nur
    bestellen und Punkte sammeln. Geht beides nicht.
0 anon 2026-10-29 09:05 pos app | Jetzt wieder ok || Mit Version 4.2.3 sind meine Punkte wieder da und die App läuft
    flüssig. Daher wieder vier Sterne.
0 anon 2026-10-30 20:40 pos app | Endlich gefixt || Danke fürs schnelle Update. Dass es überhaupt passiert ist, ist
    ärgerlich, aber jetzt passt es.
0 anon 2026-11-02 07:58 pos subscription | Praktisch für das Abo || Abo pausieren, Sorte wechseln, Lieferdatum
    verschieben – alles in der App. Genau so soll das sein.
0 anon 2026-11-06 19:25 neg price | Preise in der App höher? || Seit heute zeigt die App die neuen Abo-Preise an.
    15 % mehr. Dafür gibt's einen Stern Abzug.
0 anon 2026-11-09 13:10 neu app | Gut, aber Push-Nachrichten nerven || Funktioniert inzwischen gut. Aber drei
    Werbe-Pushs am Tag sind zu viel, und abschalten geht nur komplett.
0 anon 2026-11-16 11:32 neg availability | Weihnachtsröstung nicht bestellbar || Um 10 Uhr war Verkaufsstart, um
    10:02 hing die App, um 11:30 war alles ausverkauft. Toll.
0 anon 2026-11-19 07:44 pos app | Solide || Nutze die App fast täglich in der Filiale. Bezahlen und Punkte sammeln
    in einem Schritt, läuft stabil.
0 anon 2026-11-21 16:50 neg billing | Rechnungen nicht abrufbar || Unter „Meine Bestellungen“ kommt beim Öffnen der
    Rechnung nur ein weißer Bildschirm. Brauche die für die Steuer.
### rss rss
0 rss:roestzeit 2026-10-01 07:00 pos quality | Im Test: Die Herbströstung 2026 von Lindenhof || Fruchtig, mit
    deutlicher Säure und langem Nachhall nach Kakao: Die Herbströstung ist die mutigste Röstung, die die Kölner
    bisher im Programm hatten. Im Filter überzeugt sie uns voll, im Siebträger braucht sie etwas Geduld.
0 rss:westfalen 2026-10-10 14:30 neu store | Lindenhof eröffnet Filiale am Prinzipalmarkt || Die Kölner
    Kaffeekette Lindenhof hat am Samstag ihre zwölfte Filiale in Münster eröffnet. Zum Start gab es Kaffee zum
    halben Preis, vor dem Laden bildete sich eine lange Schlange.
0 rss:techblatt 2026-10-20 10:15 neg app | „Bohnengate“: Fehlerhaftes App-Update löscht Treuepunkte bei
    Kaffeekette || Nach einem Update der Lindenhof-App sahen Tausende Nutzer null oder sogar negative Punktestände.
    Das Unternehmen spricht von einem Anzeigefehler und verspricht, dass keine Punkte verloren gehen. Ein Fix soll
    Ende Oktober folgen.
0 rss:stadtbote 2026-11-04 06:00 neu price | Lindenhof Kaffee erhöht Abo-Preise um bis zu 15 Prozent || Der Kölner
    Röster begründet den Schritt mit gestiegenen Rohkaffeepreisen und höheren Löhnen in den Filialen. Abonnentinnen
    und Abonnenten können bis zum 17. November außerordentlich kündigen. In sozialen Netzwerken sorgt die
    Ankündigung für viel Kritik.
0 rss:gastro 2026-11-19 09:00 neg delivery | Lieferprobleme bei Röstereien: Gastronomen im Rheinland klagen ||
    Verspätete Lieferungen, defekte Leihmühlen, fehlerhafte Rechnungen: Mehrere Hotels und Cafés aus dem Rheinland
    berichten von Problemen mit ihren Kaffeelieferanten. Auch Lindenhof räumt auf Nachfrage Engpässe nach dem
    Umzug des Versandlagers ein.
0 rss:roestzeit 2026-11-21 08:00 pos quality | Fünf Weihnachtsröstungen im Vergleich || Fünf Röstereien, ein
    Fazit: Lindenhof liefert die ausgewogenste Weihnachtsröstung des Jahres, ist aber kaum noch zu bekommen. Wer
    eine Packung ergattert hat: French Press, grob gemahlen, vier Minuten.
""")

# RSS feeds: key | site name | site URL | author name | author URL path
RSS_AUTHORS = {
    row[0]: row
    for row in _records("""
roestzeit | Röstzeit – Der Kaffeeblog | https://roestzeit-blog.de | Lena Hoffmann | /autorin/lena-hoffmann/
westfalen | Westfalen Echo | https://www.westfalen-echo.de | Redaktion Münster | /redaktion/muenster/
techblatt | Techblatt | https://www.techblatt.de | Jonas Reiter | /autor/jonas-reiter/
stadtbote | Kölner Stadtbote | https://www.koelner-stadtbote.de | Miriam Adler | /autoren/miriam-adler/
gastro | Gastro Kompakt | https://www.gastro-kompakt.de | Redaktion | /redaktion/
""")
}

# Business customers beyond the story: company | city | segment (b2b_large or b2b_small).
COMPANIES = [
    (row[0], row[1], row[2])
    for row in _records("""
Hotel am Stadtgarten | Essen | b2b_large
Hotel Hafenblick GmbH | Hamburg | b2b_large
Tagungshotel Bergischer Hof | Wuppertal | b2b_large
Softwarehaus Nordlicht GmbH | Hamburg | b2b_large
Agentur Blaupause GmbH | Köln | b2b_large
Kanzlei Hagedorn, Vogel & Partner mbB | Düsseldorf | b2b_small
Zahnarztpraxis Dr. Lorenz | Münster | b2b_small
Bäckerei Höfer | Aachen | b2b_small
Werkhalle Coworking | Köln | b2b_small
Gästehaus Sonnenhang | Freiburg im Breisgau | b2b_small
Architekturbüro Kessler + Ruf | Stuttgart | b2b_small
Physiotherapie am Markt | Bonn | b2b_small
Autohaus Brinkmann GmbH | Dortmund | b2b_small
Steuerberatung Yıldırım & Koch | Köln | b2b_small
Eiscafé Venezia | Köln | b2b_small
Buchhandlung Seitenweise | Münster | b2b_small
Fahrradladen Speiche & Kette | Leipzig | b2b_small
Feinkost Albrecht | Frankfurt am Main | b2b_small
Pension Haus Elbe | Dresden | b2b_small
Friseursalon Schnittpunkt | Berlin | b2b_small
Kita Sonnenblume e.V. | Köln | b2b_small
Yogastudio Atemraum | München | b2b_small
Gemeinschaftspraxis Dres. Wagner | Bonn | b2b_small
""")
]

# Bios for generated accounts that match customers fuzzily; {city} is filled in.
FUZZY_BIOS = [
    "{city}. Kaffee, Kinder, Karriere – in wechselnder Reihenfolge.",
    "Lebt und arbeitet in {city}. Liest viel, schläft wenig.",
    "Aus {city}. Filterkaffee > alles.",
    "{city} · Radfahren · Sauerteig · Espresso",
    "Pendelt zwischen Schreibtisch und Siebträger. {city}.",
    "Lehrerin in {city}. Hier privat.",
    "Ingenieur, {city}. Manchmal Fotos, meistens Kaffee.",
    "Wohnt in {city}, Herz im Veedel.",
]

# Nicknames for fuzzy display names (first name as in the CRM -> as used online).
NICKNAMES = {
    "Katharina": "Kathi", "Alexander": "Alex", "Alexandra": "Alex", "Christian": "Chris", "Stefanie": "Steffi",
    "Michael": "Micha", "Johannes": "Hannes", "Wolfgang": "Wolfi", "Andreas": "Andi", "Tobias": "Tobi",
    "Sebastian": "Basti", "Matthias": "Matze", "Benjamin": "Benni", "Franziska": "Franzi", "Elisabeth": "Lisa",
    "Thomas": "Tom", "Daniela": "Dani", "Nikolaus": "Niko", "Josef": "Sepp", "Margarete": "Grete",
}  # fmt: skip
