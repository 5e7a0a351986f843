"""Hand-written replies for the Resonanz demo dataset: other users, the original authors, abuse, spam, the brand.

Same text-table format as ``demo_content.py``. Written by the Resonanz authors, MIT licence.
"""

from __future__ import annotations

from demo_content import parse_entries

# Replies by other users (the target says under which post), the original author answering the brand
# (followups), and abusive comments for the flag: insults, no slurs.
REPLIES = parse_entries(
    """
## community
neg -> ~Tag 8. | Same hier. Seit Dienstag nix.
neg -> app:negative | Bei mir auch! Dachte schon, ich bin die Einzige.
neu -> ~ohne funktionierenden Warenkorb | Hast du's mal über die Website probiert statt über die App? Bei mir ging's da.
pos -> ~Eiskaffee | lol, der Eiskaffee-Bot ist legendär 😂
neg -> price:negative | Kann ich so unterschreiben. Leider.
neg churn -> ~Ich kündige mein Abo | Ich hab meins auch gekündigt. Gibt genug andere Röstereien.
pos -> delivery:negative | Ehrlich gesagt hatte ich nie Probleme. Vielleicht liegt's am Paketdienst bei dir in der
    Gegend?
neu -> ~Nach vier Jahren Abo | Welche Rösterei nimmst du jetzt stattdessen? Suche auch nach Alternativen.
neu -> ~Kündigungsbutton | Der Kündigungsbutton ist übrigens gesetzlich vorgeschrieben. Die
    Verbraucherzentrale hilft da.
pos -> ~Segelschiff | Hahaha „Segelschiff“ 😂 genau so fühlt sich's an
pos -> ~Tipp: In der Filiale Münster | Gut zu wissen, danke für den Tipp!
neu -> ~DHL-Sendungsverfolgung | Ist bei DHL gerade überall so, nicht nur bei Lindenhof. Hier im Veedel
    kommt gar nix an.
neg -> ~Firmenrechnung | Wir haben im Büro gerade dasselbe Problem mit der Rechnung. Seid ihr auch
    Firmenkunden?
neu -> ~doppelt abgebucht | Die Lastschrift kannst du acht Wochen lang über deine Bank zurückholen, nur so
    als Info.
neu -> ~Karton aufgerissen | Mach Screenshots von allem. Hat bei mir geholfen, als ich mich beschwert hab.
neg -> ~Nach dem App-Update sind alle | Kein Einzelfall. Im Reddit-Thread dazu sind schon über 200
    Kommentare.
pos -> ~ist der Wahnsinn | +1, die Herbströstung ist echt gut
neg -> ~ist der Wahnsinn | Nee, die ist mir viel zu sauer. Geschmäcker sind verschieden 🤷‍♀️
neu -> app:negative | Die Bohnen-Punkte sind doch eh nix wert. 500 Punkte für einen Espresso, lol.
neu -> ~Gutschrift für die Retoure | Schick denen ne Mail mit Frist. Hat bei mir Wunder gewirkt.
neg -> price:negative | Genau deswegen bin ich letztes Jahr weg. Hat sich nix geändert, wie man sieht.
pos -> ~Sonntagmorgen | Die Filiale in Ehrenfeld ist wirklich toll, da geh ich auch gern hin ☺️
neu -> ~-12 Bohnen | Steht bei mir auch so in der App. Vielleicht einfach ein Anzeigefehler?
neg -> ~DHL says delivered | Oh no, that's annoying. Same thing happened to me last month.
neu -> ~laut App „nicht vorhanden“ | Hast du die Bestellnummer noch? Ohne die können die meistens gar nix
    machen.
pos -> ~Kartoffel | Haha, Kartoffelherz ist auch Latte Art! 🥔❤️

## followups
neg -> ~Sendungsnummer per DM | Hab ich schon vor einer Woche gemacht. Antwort: keine.
neu -> ~Bestellnummer per DM | DM ist raus. Bin gespannt.
pos -> ~DHL Express | Danke, ging dann doch schnell. Paket ist heute gekommen 👍
neg -> ~Bitte entschuldige die lange Wartezeit | Textbaustein Nummer drei. Ich hätte gern einfach meine Antwort.
neg -> ~48 Stunden | 48 Stunden sind jetzt rum. Punkte immer noch weg.
pos -> ~ab 30.11. | Ok, danke für die ehrliche Antwort. Dann warte ich halt bis Ende des Monats.
neg -> ~pausieren oder kündigen | Pausieren ist keine Lösung, wenn der Preis trotzdem steigt.
neu -> ~Benachrichtigung | Alles klar, hab mich eingetragen. Danke!

## abusive
neg abusive -> youtube:v2 | Lindenhof, ihr seid echt die letzten Vollidioten. Wer bei euch arbeitet, hat im Leben
    aufgegeben.
neg abusive -> ~Filiale Köln-Südstadt | Der Typ hinterm Tresen in der Südstadt ist so ein dummer Penner, unfassbar.
neg abusive -> brand | Halt doch einfach die Fresse mit deinen Textbausteinen, keiner will das lesen.
neg abusive -> reddit:r1 | Wer diesen Laden noch verteidigt, ist genauso hirnlos wie das Management.
neg abusive -> ~lindenhof-kaffee.de/preise. Abos | Verpisst euch mit eurer Preiserhöhung, ihr gierigen Drecksäcke.
neg abusive -> app:negative | Whoever built this app should be fired into the sun. Absolute clowns.
"""
)

# The brand's answers ("^Name" signs the social media team member, as real brand accounts do). "xN" reuses the
# same Textbaustein verbatim under N posts, as brands do. Targets may be "topic:sentiment" or "en:negative".
BRAND_REPLIES = parse_entries(
    """
## app
neu -> app:negative | Hallo! Wir kennen das Problem mit den Bohnen-Punkten seit Update 4.2 und arbeiten mit
    Hochdruck an einem Fix. Es gehen keine Punkte verloren. ^Tim
neu x2 -> app:negative | Update: Version 4.2.3 ist jetzt im App Store und bei Google Play. Die Punkte werden
    innerhalb von 48 Stunden wieder angezeigt. Danke für eure Geduld! ☕
neu -> ~Pixel 7 | Das tut uns leid! Kannst du uns Gerät und Android-Version per DM schicken? Dann geben wir das
    direkt ans App-Team. ^Lea

## price
neu x2 -> price:negative | Wir verstehen den Ärger über die neuen Preise. Die Hintergründe haben wir hier
    zusammengefasst: lindenhof-kaffee.de/preise. Abos lassen sich jederzeit pausieren oder kündigen. ^Tim
neu -> ~Preise in den Filialen | Gute Frage! Die Preise in den Filialen bleiben bis Ende Januar unverändert. ^Lea
neu -> ~Bestandsabos | Bestandsabos sind leider auch betroffen. Bis zum 17.11. könnt ihr aber ohne Frist kündigen
    oder pausieren. ^Jana

## delivery
neu x2 -> delivery:negative | Das klingt nicht gut. Kannst du uns die Sendungsnummer per DM schicken? Dann
    fragen wir direkt bei DHL nach. ^Jana
neu -> delivery:negative | Das tut uns sehr leid! Bitte schick uns deine Bestellnummer per DM, wir kümmern uns
    sofort darum. ^Lea
neu -> ~Hermes hat meine Bohnen | Hallo, wir schicken dir heute ein neues Paket per DHL Express. Das
    verschwundene klären wir mit Hermes. ^Tim

## quality
neu -> quality:negative | Oh nein, das sollte nicht passieren. Schick uns bitte ein Foto und die
    Chargennummer an qualitaet@lindenhof-kaffee.de, wir schauen uns das an. ^Jana
pos -> quality:positive | Danke für das tolle Feedback! Wir geben das Lob direkt an unser Röstteam weiter 💚

## service
neu -> service:negative | Bitte entschuldige die lange Wartezeit. Wir haben dein Ticket gefunden und melden
    uns heute noch. ^Lea
pos -> service:positive | Danke, das geben wir gern an das Team weiter! 💚

## billing
neu -> ~doppelt abgebucht | Wir haben dein Ticket an die Buchhaltung gegeben. Die doppelte Abbuchung wird in
    3-5 Werktagen erstattet. ^Jana
neu -> ~Sammelrechnungen | Ja, für Teams ab fünf Personen gibt es unser Büro-Abo mit Sammelrechnung. Schreib uns
    gern an buero@lindenhof-kaffee.de. ^Tim

## returns
neu -> ~Rücksendeetikett kommt nicht | Das Rücksendeetikett ist eben per Mail raus. Sorry für die Verzögerung!
    ^Lea

## availability
neu -> ~Kenia AA | Der Kenia AA kommt voraussichtlich Mitte Dezember wieder. Im Shop kannst du dich für eine
    Benachrichtigung eintragen. ^Jana
neu -> ~Weihnachtsröstung nach zwei Stunden | Die Weihnachtsröstung war schneller weg als gedacht. Wir rösten
    nach, ab 30.11. gibt's sie wieder, max. zwei Packungen pro Bestellung. ^Tim

## subscription
neu -> subscription:negative | Schade, dass du gehst. Wenn du magst, erzähl uns per DM, was wir besser machen
    können. ^Lea
neu -> ~Kündigungsbutton | Die Kündigung geht übrigens auch online: Mein Konto → Abo → Kündigen. Die
    Bestätigung kommt per Mail. ^Jana

## store
pos -> store:positive | Danke für das tolle Feedback! Wir geben das Lob direkt an das Team vor Ort weiter 💚
neu -> ~an Feiertagen auf | Hallo, die Filiale am Rudolfplatz hat an Feiertagen von 10 bis 18 Uhr geöffnet. Wir
    passen die Website an, danke für den Hinweis!

## general
neu -> ~Cold Brew | Hi! Für Cold Brew empfehlen wir den Brasil Cerrado, grob gemahlen, 16 Stunden im
    Kühlschrank. ^Tim
pos -> ~rettet mir jeden Montag | Danke, das freut uns riesig! ☕💚

## en
neu -> en:negative | Sorry to hear that! Please DM us your order number and we'll look into it right away.
    ^Tim

## abusive
neu -> ~Drecksäcke | Kritik gern, Beleidigungen nicht. Beiträge dieser Art blenden wir aus. Danke für euer
    Verständnis.
"""
)

SPAM = (
    "🔥🔥 GRATIS Lindenhof Gutschein im Wert von 100 € 🔥🔥 Nur heute! Einfach hier registrieren 👉 "
    "lindenhof-gutschein-aktion.top/gratis ☕☕ #Lindenhof #Gewinnspiel"
)
