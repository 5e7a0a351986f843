"""Hand-written texts for the Resonanz demo dataset (see ``make_demo_data.py``).

Everything here was written by the Resonanz authors for the fictional coffee company
"Lindenhof Kaffee" (Köln): online shop, 12 Filialen, an app with loyalty points ("Bohnen"),
a coffee subscription (Abo), deliveries by DHL/Hermes, invoices via PayPal/Klarna.

Timeline of the eight weeks (2026-W40..W47): the app update 4.2 wipes loyalty points on
Fri 16 Oct ("#Bohnengate", fixed by 4.2.3 on 28 Oct); the Abo price increase (+15 % from
1 Dec) is announced on Tue 3 Nov (special cancellation until 17 Nov); the Weihnachtsröstung
launches on Mon 16 Nov and sells out within hours.

The tables are plain text so that they stay readable (and no formatter rewraps them):
``## name`` starts a section; an entry is ``HEAD | text`` and lines indented below it continue
the text (joined with one space). HEAD is ``sentiment [flag ...] [-> target]`` with sentiment
``neg``/``neu``/``pos`` and flags ``churn``, ``sarcasm``, ``abusive``; a target names the post a
reply belongs under (a topic, or ``~`` plus a snippet of that post's text).
"""

from __future__ import annotations

from typing import NamedTuple


class Entry(NamedTuple):
    sentiment: str
    text: str
    flags: tuple[str, ...] = ()
    target: str | None = None


SENTIMENTS = {"neg": "negative", "neu": "neutral", "pos": "positive"}


def parse_entries(block: str) -> dict[str, list[Entry]]:
    """Parse a text table (format in the module docstring) into ``{section: [Entry, ...]}``."""
    sections: dict[str, list[Entry]] = {}
    current: list[Entry] | None = None
    for line in block.splitlines():
        if not line.strip():
            continue
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif line[0].isspace():
            assert current, f"continuation without an entry: {line!r}"
            last = current[-1]
            current[-1] = last._replace(text=f"{last.text} {line.strip()}")
        else:
            assert current is not None, f"entry outside a section: {line!r}"
            head, _, text = line.partition(" | ")
            words, _, target = head.partition(" -> ")
            sentiment, *flags = words.split()
            assert sentiment in SENTIMENTS, line
            current.append(Entry(SENTIMENTS[sentiment], text.strip(), tuple(flags), target.strip() or None))
    return sections


# Topic pools, German. The generator spreads them over the eight weeks by topic.
POOLS = parse_entries(
    """
## price
neg | Lindenhof erhöht die Abo-Preise um 15 %. Fünfzehn. Prozent. Und die Mail dazu klingt, als müsste ich
    mich noch bedanken. #Lindenhof #Preiserhöhung
neg sarcasm | „Wir müssen gestiegene Rohkaffeepreise leider weitergeben“ – und die eigene Marge bleibt
    natürlich unangetastet, klar.
neg | Preiserhöhung bei Lindenhof zum 1.12. Ich zahl dann 14,90 für 500 g. Da kann ich auch direkt bei der
    kleinen Rösterei um die Ecke kaufen.
neg sarcasm | Wer hat bei Lindenhof eigentlich entschieden, die Preiserhöhung zwei Wochen vor Black Friday
    zu verkünden? Mutig.
neg | Hab grad die Mail wegen der neuen Preise gelesen. Nee, Leute. Einfach nee.
neg | Kaffee wird teurer, Lieferung wird langsamer, App wird schlechter. Irgendwas läuft da falsch,
    #Lindenhof
neg | Die Preiserhöhung wär ja ok, wenn man wenigstens gefragt würde. Stattdessen: „Sie müssen nichts tun,
    Ihr Abo läuft automatisch weiter.“ Na danke.
neg | 15 % mehr fürs Abo. Mein Gehalt ist dieses Jahr um 2 % gestiegen. Rechnet sich irgendwie nicht.
neg | Ernsthaft, 29,80 € fürs Kilo Hausmischung? Ja, ich weiß, Qualität, fairer Handel. Trotzdem. Autsch.
neg | Lindenhof jetzt 15 % teurer. Et hätt noch immer jot jejange – ävver nit för mi Portemonnaie. 😩
neg | Preiserhöhung angekündigt und gleichzeitig gibt's nur noch halb so viele Bohnen-Punkte pro Euro.
    Kundenbindung rückwärts.
neg | Neue Preisliste: Espresso Nr. 7 von 12,50 auf 14,40 für 500 g. Ich glaub, ich steig auf Tee um 🫖
neg | Kann mir mal jemand erklären, warum das Abo ab Dezember teurer ist als der Einzelkauf in der Filiale?
    Hab's zweimal nachgerechnet.
neg | Nicht die Preiserhöhung an sich nervt, sondern dass sie in einer Mail mit dem Betreff „Gute
    Neuigkeiten für Ihr Abo“ versteckt war.
neg | Lindenhof so: „Wir investieren in Nachhaltigkeit.“ Auch Lindenhof: +15 % und versandkostenfrei erst
    ab 39 € statt 29 €.
neg | Bei uns im Büro wird gerade diskutiert, ob wir nach der Preiserhöhung noch bei Lindenhof bleiben.
    Stimmung: eher nein.
neg sarcasm | Wann ist Kaffee eigentlich zum Luxusgut geworden? Lindenhof jetzt mit Preisen wie beim
    Juwelier 💎☕
neg | Teurer, aber dafür gibt's nicht mal mehr die kleinen Schokobohnen im Paket. Da merkt man, wo gespart
    wird.
neg | Ich hab nix gegen faire Preise für die Kaffeebauern. Aber dann sagt bitte auch, wie viel von den 15 %
    wirklich in Kolumbien ankommt.
neg | 15 % teurer und in der Filiale in Ehrenfeld steht trotzdem nur noch eine Person hinterm Tresen. Wohin
    geht das Geld?
neg sarcasm | Preiserhöhung mit vier Wochen Vorlauf ist schon sportlich. Aber gut, Kaffee braucht man ja
    nicht wirklich 🙃
neg sarcasm | Die Mail zur Preiserhöhung: vier Absätze über Klimawandel, ein Satz zum neuen Preis.
    Kleingedruckt. Chapeau.
neg | Erst #Bohnengate in der App, dann die Preiserhöhung. Lindenhof hat dieses Jahr echt ein Talent.
neg | Pro Tasse zahl ich ab Dezember mehr als für den Filterkaffee beim Bäcker. Und den muss ich nicht mal
    selber kochen.
neg | Ich dachte, das Abo lohnt sich, weil's günstiger ist. Jetzt ist es nur noch bequemer. Und teurer. 🤷
neu | Wer's noch nicht mitbekommen hat: Lindenhof-Abos werden ab 1.12. teurer. Sonderkündigung geht bis
    17.11., steht ganz unten in der Mail.
neu | Kurze Frage: Gilt die Preiserhöhung auch für Bestandsabos, die vor 2025 abgeschlossen wurden?
neu | Steht irgendwo, ob die Preise in den Filialen auch steigen oder nur im Onlineshop?
neu | Preisvergleich gemacht: Lindenhof nach Erhöhung 29,80 €/kg, die Specialty-Rösterei bei mir um die
    Ecke 34 €/kg, Supermarkt-Premium 22 €/kg. Macht damit, was ihr wollt.
neu | Ehrlich gesagt ist die Preiserhöhung nachvollziehbar, Rohkaffee an der Börse kostet fast doppelt so
    viel wie vor zwei Jahren. Die Kommunikation war trotzdem mies.
pos | Lieber 1,50 € mehr und dafür fair gehandelt als Billigbohnen aus dem Discounter. Ich bleib dabei. ☕
pos | Ich find's gut, dass Lindenhof offen erklärt, woher die Preiserhöhung kommt. Machen andere nicht.

## app
neg | Nach dem App-Update sind alle meine Bohnen weg. 2.340 Punkte. Einfach weg. #Bohnengate
neg | Die Lindenhof-App sagt, ich hätte -12 Bohnen. Minus. Wie schafft man das? 😂 #Bohnengate
neg | App stürzt beim Öffnen ab. Neu installiert, Cache geleert, Handy neu gestartet. Nix. Version 4.2.0,
    iPhone 13.
neg | Wollte nur schnell in der Filiale mit der App zahlen. Zehn Minuten später stand ich immer noch an der
    Kasse. Danke für nix.
neg | Die App loggt mich jede. einzelne. Stunde. aus. Und die Bestätigungs-SMS kommt nach fünf Minuten.
neg | Kleiner Tipp an Lindenhof: Updates vielleicht nicht freitags um 17 Uhr ausrollen. #Bohnengate
neg | Mein Kollege hat jetzt 48.000 Bohnen in der App. Meine stehen auf 0. Vielleicht hat er meine? 🤔
    #Bohnengate
neg | Das Meme mit dem leeren Jutesack und „meine Bohnen nach dem Update“ ist das einzig Gute, was die App
    diese Woche produziert hat 😂
neg | Die neue App ist so langsam, dass ich in der Zeit eine French Press aufsetzen kann. Und austrinken.
neg | Warum braucht eine Kaffee-App Zugriff auf meine Kontakte und den Standort im Hintergrund?? Nope.
    Deinstalliert.
neg | Bestellung über die App abgeschickt, Geld abgebucht, Bestellung laut App „nicht vorhanden“. Support
    sagt, das sei ein bekanntes Problem. Aha.
neg | Seit dem Update kann ich mein Abo in der App nicht mehr pausieren. Der Button ist einfach grau.
    Zufall? 🧐
neg sarcasm | Lindenhof-App 4.2: Jetzt mit neuem Design! Und ohne funktionierenden Warenkorb.
neg | Die Push-Nachricht „Deine Bohnen vermissen dich!“ um 3:12 Uhr nachts war jetzt echt nicht nötig.
neg sarcasm | Meine Bohnen sind wieder da! Also... 40 von 1.800. Immerhin ein Anfang? #Bohnengate
neg | Wer hat bei Lindenhof das Update getestet? Ernst gemeinte Frage. Ich bin Software-Testerin und hätte
    Zeit.
neg sarcasm | App-Bewertung von 4,6 auf 2,1 in einer Woche. Respekt, das muss man erstmal schaffen.
neg | Unter Android stürzt die App ab, sobald man in der Filiale den QR-Code scannen will. Pixel 7, falls
    das wen interessiert.
neg | Könnt ihr bitte einfach die alte App-Version wieder reinstellen? Die hat wenigstens funktioniert.
neg | Ich hab keine Lust mehr, jedes Mal mein Passwort zurückzusetzen, nur um mir nen Cappu zu holen.
neg | Support-Chat in der App: „Ihre Anfrage ist uns wichtig.“ Dann 40 Minuten nix. Dann Chat geschlossen.
neu | Gibt es die Lindenhof-App eigentlich auch für die Smartwatch oder nur fürs Handy?
neu | Weiß jemand, ob man die Bohnen-Punkte auch ohne App in der Filiale sammeln kann? Mit Karte oder so?
pos | Update 4.2.3 ist da und meine Bohnen sind wieder komplett. Hat gedauert, aber passt. Danke 👍
pos | Nach dem Fix läuft die App bei mir schneller als vorher. Und die neue Abo-Übersicht ist echt
    übersichtlich.

## delivery
neg sarcasm | Super, schon wieder 3 Wochen auf meine Lieferung gewartet 🙄
neg | DHL-Sendungsverfolgung sagt seit Dienstag „Die Sendung wurde im Start-Paketzentrum bearbeitet“. Es
    ist Samstag. Mein Kaffee macht wohl Urlaub.
neg | Hermes hat meine Bohnen „beim Nachbarn“ abgegeben. Welchem Nachbarn? Das weiß offenbar niemand.
neg | Lieferung angeblich zugestellt. Bei mir ist nix. Das Foto vom Zusteller zeigt eine Haustür, die nicht
    meine ist. 🙃
neg | Bestellung vor neun Tagen aufgegeben, heute kam die Mail: „Ihre Bestellung wird in Kürze versendet.“
    Definiere Kürze.
neg | Paket kam an, Karton aufgerissen, eine Packung Bohnen fehlt. Fotos gemacht, Mail an Lindenhof
    geschickt. Mal sehen.
neg | Warum wird mein Abo eigentlich mit Hermes verschickt, wenn ich explizit DHL gewählt hab?
neg | Das Abo soll immer zum Monatsersten kommen. Diesen Monat kam es am 14. Da war die letzte Packung
    längst leer.
neg | Zum dritten Mal in Folge kommt meine Lieferung später als angekündigt. Langsam glaube ich, die Bohnen
    kommen per Segelschiff.
neg | Zustellung in den Paketshop statt an die Haustür, obwohl ich zuhause war. Klingeln war wohl zu
    anstrengend.
neg | „Lieferung in 1-3 Werktagen.“ Tag 8. Ich fang an, die Werktage anders zu zählen.
neg | Meine Lieferung ist seit elf Tagen unterwegs. Von Köln nach Bonn. Das sind 30 km. Zu Fuß wär's
    schneller gegangen.
neg | Die Bohnen kamen, die Filtertüten nicht. Teillieferung ohne jede Info. Und jetzt? Kaffee durchs
    Küchenpapier?
neg | Paket lag drei Tage im Regen vor der Tür, weil der Zusteller „keinen Empfänger angetroffen“ hat. Die
    Bohnen sind zum Glück gut verpackt.
neu | Wie lange braucht Lindenhof aktuell für den Versand? Bei mir steht die Bestellung seit sechs Tagen
    auf „in Bearbeitung“.
neu | Kann man bei Lindenhof eigentlich eine Packstation als Lieferadresse angeben?
pos | Um 9 bestellt, am nächsten Tag um 11 da. So kann's laufen, Lindenhof 👌
pos | Lob an den DHL-Boten, der mein Kaffeepaket bei strömendem Regen in den 4. Stock getragen hat. Und an
    Lindenhof für die gute Verpackung.

## quality
neg | Die neue Charge Hausmischung schmeckt irgendwie verbrannt. Hat noch jemand das Problem oder ist meine
    Maschine kaputt?
neg | Die Lindenhof-Handmühle hat nach vier Monaten den Geist aufgegeben. Mahlwerk klemmt. Für 89 € erwarte
    ich mehr.
neg | Röstdatum auf der Packung: vor drei Monaten. „Frisch geröstet“ ist wohl relativ.
neg | Der Espresso Nr. 7 war mal mein Liebling. Seit der Rezepturänderung schmeckt er nur noch bitter.
    Schade.
neg | Kleines Steinchen in der Packung Entkoffeiniert gefunden. Zum Glück vor der Mühle. Bitte besser
    kontrollieren!
neg | Die elektrische Mühle aus dem Shop mahlt seit dem zweiten Monat ungleichmäßig. Garantiefall, sagt der
    Support. Versand auf meine Kosten. Hä?
neg | Die Herbströstung ist leider nix für mich. Zu sauer, zu dünn. Geschmack ist Geschmack, aber das war
    ein Fehlkauf.
neg | Aromaventil an der Packung kaputt, Bohnen riechen nach nix. Kann passieren, ärgert mich aber
    trotzdem.
pos | Die Herbströstung von Lindenhof ist der Wahnsinn. Schokolade, Haselnuss, ein bisschen Kirsche. Ich
    bin verliebt ☕🍂
pos | Neuer Lieblingskaffee: Lindenhof Äthiopien Yirgacheffe in der V60. Blumig, hell, fantastisch.
pos | Seit drei Jahren trinke ich jeden Morgen den Espresso Nr. 7. Konstant gut. Kann man nicht über jede
    Rösterei sagen.
pos | Meine Oma (87) sagt, der Lindenhof-Kaffee schmeckt „wie früher“. Höheres Lob gibt's nicht.
pos | Die Bohnen zum ersten Mal im Siebträger probiert. Crema wie aus dem Bilderbuch 😍
pos | Der Entkoffeinierte von Lindenhof ist der erste Decaf, der nicht nach Pappe schmeckt. Endlich Kaffee
    nach 18 Uhr.
pos | Unterschätzt: die Hausmischung in der French Press. Rund, nussig, null bitter. Für den Preis top.
pos | Die Weihnachtsröstung ist angekommen und schon halb leer. Zimt, Orange, ein Hauch Nelke – aber
    dezent. Genau richtig 🎄
neu | Hat jemand die Lindenhof-Bohnen im Vollautomaten? Gibt's da Probleme mit öligen Bohnen?
neu | Kennt jemand das Röstprofil vom Espresso Nr. 7? Eher hell und nordisch oder dunkel und italienisch?

## service
neg sarcasm | 47 Minuten in der Warteschleife der Lindenhof-Hotline. Die Musik kann ich jetzt auswendig.
    Mitsingen möglich.
neg | Chat-Support: „Ich leite das an die Fachabteilung weiter.“ Die Fachabteilung schweigt seit neun
    Tagen.
neg | Drei Mails, zwei Anrufe, ein Chat. Jedes Mal muss ich die Geschichte von vorne erzählen. Habt ihr
    kein Ticketsystem?
neg | Der Bot im Lindenhof-Chat hat mir auf meine Frage zur Retoure ein Rezept für Eiskaffee geschickt. Ok?
neg | Die Hotline ist nur Mo-Fr 9-16 Uhr erreichbar. Also genau dann, wenn man arbeitet. Kundenfreundlich
    ist anders.
neg | Antwort vom Kundenservice nach zwölf Tagen: „Hat sich Ihr Anliegen inzwischen erledigt?“ Ja. Hab
    woanders bestellt.
neg | Warteschleife, Ansage „Wir sind gleich für Sie da“, nach 30 Minuten aufgelegt. Dritter Versuch diese
    Woche.
pos | Muss auch mal was Positives sagen: Der Lindenhof-Kundenservice hat mir die kaputte Mühle ohne
    Diskussion ersetzt. Danke!
pos | Die Dame an der Lindenhof-Hotline war super nett, hat sich 20 Minuten Zeit genommen und alles
    geklärt. Gibt's also doch noch.
pos | Chat-Support hat in fünf Minuten geantwortet und die falsche Lieferung direkt neu verschickt. 👍
pos | Hatte mich bei der Hausnummer vertippt, Lindenhof hat's gemerkt und angerufen, bevor das Paket raus
    ging. Aufmerksam!

## billing
neg | PayPal hat mein Abo doppelt abgebucht. Lindenhof sagt, ich soll mich an PayPal wenden. PayPal sagt,
    an Lindenhof. Ping-Pong.
neg | Klarna-Mahnung für eine Rechnung, die ich vor zwei Wochen bezahlt habe. Toll, jetzt auch noch
    Mahngebühren.
neg | Auf der Rechnung stehen 3x Espresso, geliefert wurden 2x. Reklamation läuft. Seit drei Wochen.
neg | Warum kann ich bei Lindenhof nicht mehr direkt auf Rechnung zahlen? Nur noch über Klarna. Ich will
    aber kein Klarna-Konto.
neg | Die Rechnung als PDF gibt's nur in der App. Die App stürzt ab. Das Finanzamt freut sich.
neg | Gutschrift für die Retoure versprochen am 3.10. Heute ist der 5.11. Gutschrift: nicht da.
neg | Firmenrechnung ohne unsere USt-IdNr. ausgestellt. Zum zweiten Mal. Unsere Buchhaltung dreht durch.
neu | Kann man bei Lindenhof auch per Lastschrift zahlen? Ich sehe nur PayPal, Klarna und Kreditkarte.
neu | Für Firmenkunden: Gibt es bei Lindenhof monatliche Sammelrechnungen? Wir bestellen fürs Büro und die
    Buchhaltung stöhnt.

## returns
neg | Retoure angemeldet, Rücksendeetikett kommt nicht. Dritte Mail. Die Mühle steht seit drei Wochen im
    Flur.
neg | Rücksendung nur im Originalkarton? Den hab ich natürlich längst weggeschmissen. Wer hebt denn Kartons
    auf?
neg | Laut DHL ist meine Retoure seit 18 Tagen bei Lindenhof. Geld? Noch nicht da. #Lindenhof
pos | Retoure der falsch gelieferten Bohnen lief total easy: Label per Mail, Geld nach vier Tagen zurück.
    So muss das.
pos | Hab die Siebträgermühle zurückgeschickt, weil sie mir zu laut war. Rückgabe problemlos, Geld war nach
    einer Woche da.
neu | Kann man geöffnete Kaffeepackungen zurückgeben, wenn einem die Sorte nicht schmeckt? Oder ist das
    unverschämt?

## availability
neg | Weihnachtsröstung nach zwei Stunden ausverkauft. Und ich saß natürlich im Meeting. 😤
neg | Seit sechs Wochen ist der Espresso Nr. 7 „bald wieder verfügbar“. Bald ist relativ, was?
neg | In der Filiale am Rudolfplatz war heute früh die Hausmischung ausverkauft. Um 9 Uhr. Was ist da los?
neg sarcasm | Ausverkauft, ausverkauft, ausverkauft. Ist der Lindenhof-Shop ein Museum für Kaffee, den man
    nicht kaufen kann?
neg | Mein Abo wurde ungefragt auf eine andere Sorte umgestellt, weil meine ausverkauft ist. Hätte man mich
    nicht fragen können?
neg sarcasm | Weihnachtsröstung weg, aber auf Kleinanzeigen gibt's sie jetzt für 39 € die Packung. Ganz
    toll gemacht, Lindenhof.
neg | Warum limitiert man eine Röstung auf 2.000 Packungen, wenn man 100.000 Abo-Kunden hat? Ernsthafte
    Frage.
neu | Weiß jemand, wann der Kenia AA wieder reinkommt? Im Shop steht nur „derzeit nicht verfügbar“.
neu | Tipp: In der Filiale Münster gab's heute Mittag noch Weihnachtsröstung. Wer in der Nähe ist, schnell
    hin.
neu | Gibt's die Weihnachtsröstung noch irgendwo in einer Filiale in Köln? Online ist alles weg.

## subscription
neg churn | Ich kündige mein Abo. Preiserhöhung, Lieferchaos, App kaputt. Reicht jetzt.
neg churn | Nie wieder Lindenhof. Sechs Jahre Kundin, und so wird man behandelt.
neg | Abo kündigen geht natürlich nur per Telefon. Abschließen ging mit einem Klick. Wie war das noch mit
    dem Kündigungsbutton?
neg churn | Abo gekündigt, Bestätigung hab ich keine bekommen. Ich wette, im Dezember wird trotzdem
    abgebucht.
neg churn | Nach vier Jahren Abo: gekündigt. Tut mir leid für die Leute in den Filialen, die können nix
    dafür.
neg churn | Überlege ernsthaft, mein Lindenhof-Abo nach der Preiserhöhung zu kündigen. Gibt's gute
    Alternativen in NRW?
neg churn | Gekündigt. Und die Mail „Dürfen wir Ihnen 10 % Rabatt anbieten, wenn Sie bleiben?“ kam eine
    Stunde später. Warum nicht vorher?
neg churn | Hab das Abo pausiert statt gekündigt. Noch. Wenn im Dezember wieder was schiefläuft, bin ich
    weg.
pos | Ich bleib bei meinem Abo. Die Bohnen sind gut, und wenn was schiefging, hat's mit dem Support bisher
    immer geklappt.
pos | Abo für zwei Monate pausiert wegen Elternzeit – ging in 30 Sekunden. Wenigstens das klappt
    reibungslos.
neu | Kann man das Abo auch alle drei Wochen liefern lassen statt monatlich? Ein Kilo reicht bei uns keinen
    Monat 😅
neu | Lohnt sich das Lindenhof-Abo für eine Person, die nur am Wochenende Kaffee trinkt? Oder lieber
    einzeln bestellen?

## store
pos | Sonntagmorgen in der Lindenhof-Filiale in Ehrenfeld. Zimtschnecke, Flat White, Regen draußen.
    Perfekt.
pos | Die Barista in der Filiale am Düsseldorfer Hbf hat sich meinen Namen UND meine Bestellung gemerkt.
    Nach zwei Besuchen. 🥹
pos | Die neue Lindenhof-Filiale in Münster ist wirklich schön geworden. Viel Holz, und man kann die Bohnen
    vor Ort mahlen lassen.
pos | Lindenhof in Bonn-Poppelsdorf ist mein Lieblingsort zum Arbeiten. WLAN stabil, Kaffee gut, niemand
    guckt komisch, wenn man drei Stunden bleibt.
pos | Latte-Art-Workshop in der Filiale Aachen gemacht. Mein Herz sieht aus wie eine Kartoffel, aber es war
    super lustig ☕❤️
pos | Heute in der Filiale in Essen-Rüttenscheid einen Kaffee für die Person hinter mir bezahlt. Sie hat
    dasselbe für die nächste gemacht. Schöner Montag.
neg | Filiale Köln-Südstadt: 25 Minuten für einen Cappuccino. Zwei Leute hinterm Tresen, einer davon hat
    nur kassiert.
neg | Hamburg-Ottensen: Tische klebrig, Milchschaum lauwarm, Musik viel zu laut. War schon mal besser.
neg sarcasm | In den Lindenhof-Filialen kann man nicht mehr bar zahlen?? Meine Oma hat sich sehr gefreut.
    Nicht.
neg | Berlin-Friedrichshain hat die Öffnungszeiten auf 8-16 Uhr gekürzt. Für Berufstätige quasi
    unerreichbar.
neu | Hat die Lindenhof-Filiale am Rudolfplatz an Feiertagen auf? Google sagt ja, die Website sagt nein.
neu | Kann man in den Lindenhof-Filialen eigene Becher mitbringen und kriegt dann Rabatt?

## general
pos | Liebe Leute von Lindenhof, trotz allem Gemecker hier: Euer Kaffee rettet mir jeden Montag. Danke ☕
pos | Geschenkbox von Lindenhof zum Geburtstag bekommen. Die Karte war handgeschrieben. So was freut mich
    einfach.
pos | Ganz ehrlich, ich versteh die Aufregung nicht. Seit Jahren Kunde, nie Probleme gehabt. Guter Kaffee,
    fertig.
pos | Zum Firmenjubiläum haben wir 40 Lindenhof-Geschenksets bestellt. Pünktlich, schön verpackt, alle
    happy. 🎉
neu | Welche Lindenhof-Sorte nehmt ihr für Cold Brew? Hausmischung oder lieber was Helleres?
neu | Gibt es bei Lindenhof Firmenabos? Wir sind ein Team von 12 und trinken ca. 4 kg im Monat.
neu | Gibt's die Lindenhof-Kapseln eigentlich auch kompostierbar, oder nur Alu?
neu | Kaufberatung: Lindenhof Hausmischung oder Espresso Nr. 7 für einen einfachen Vollautomaten? Milch
    kommt fast immer rein.
neu | Macht Lindenhof dieses Jahr wieder den Adventskalender mit 24 Mini-Röstungen? Letztes Jahr war der
    ruckzuck weg.
"""
)

# English texts (about 10 % of the dataset).
POOLS_EN = parse_entries(
    """
## delivery
pos | Ordered from Lindenhof Kaffee in Cologne, shipped to Amsterdam in two days. Beans are excellent,
    chocolatey medium roast. Would buy again.
neg | DHL says delivered. It was not delivered. Classic Lindenhof week.
neu | Does Lindenhof ship to Austria? The checkout only shows Germany.
neg sarcasm | Ordered a subscription box for my sister in Bonn. Three weeks later: nothing. Tracking says "in
    transit". Sure it is.

## app
neg | The Lindenhof app update wiped all my loyalty points. Anyone else? #Bohnengate
neg | App keeps crashing on Android 14 since the update. Tried everything. Uninstalled.
neg | Imagine shipping an update that deletes everyone's loyalty points on a Friday evening. Lindenhof did.
neu | Does the Lindenhof app work with a Dutch phone number? The verification SMS never arrives.

## price
neg | Lindenhof raised their subscription price by 15% with four weeks notice. Not cool.
neg | Coffee prices going up everywhere, sure, but 15% in one go? Lindenhof, come on.
neu | For the non-Germans here: Lindenhof subscriptions get ~15% more expensive on Dec 1st, you can cancel
    until Nov 17th.

## quality
pos | Honestly the best decaf I've had in Germany. Lindenhof, you did it.
pos | Lindenhof's autumn roast in a V60 is a revelation. Hazelnut, cocoa, a hint of cherry.
neu | Is Lindenhof Espresso No. 7 any good in a moka pot? Asking for a friend (me).

## service
neg | Customer service took three weeks to answer my email. Three. Weeks.
neg | Their hotline is German only. Google Translate and I had a lovely chat with the hold music.
pos | Wow, Lindenhof replaced my broken grinder within a week, no questions asked. Impressed.

## store
pos | Lindenhof café at Düsseldorf Hbf saved my morning after a two-hour train delay. Good cortado,
    friendly staff.
neu | Visiting Cologne next week. Is Lindenhof worth it or just another chain? Looking for a proper flat
    white near the cathedral.
neg | Lindenhof in Hamburg-Ottensen: twenty minutes for a flat white, and it was lukewarm. Not great.

## general
pos | Small thing, but Lindenhof's paper bags are actually home-compostable. More roasters should do this.

## availability
neg sarcasm | Love how their Christmas roast sold out in two hours and is now on eBay for 3x the price.
    Peak 2026.

## subscription
neg churn | Cancelled my Lindenhof subscription. Price hike plus late deliveries = bye.
"""
)

SPAM_BOTS = ["gutschein_aktion_2026", "lindenhof_gewinn", "deals4u_de", "gratis_kaffee_de", "kaffeeprofi_promo"]

# Anonymous accounts: handle stem | display name | bio | location ("-" for none).
ANON_PEOPLE = [
    tuple(None if cell == "-" else cell for cell in (part.strip() for part in line.split(" | ")))
    for line in """
kaffeeklatsch_ms | Kaffeeklatsch 🐝 | Münsterland. Zu viel Kaffee, zu wenig Schlaf. | -
bohnenzaehler | Der Bohnenzähler | Controller. Ja, wirklich. | -
ruhrpottroester | Ruhrpott Röster | Hobbyröster aus Bochum | Bochum
nerdmitmilch | Nerd mit Milch | Softwareentwicklerin, Hafermilch-Lobby | -
filterfreund | - | - | -
mokkamaus | Mokkamaus | 🐭☕ | -
veedelskind | Veedelskind | Nippes forever. Kölsch & Kaffee. | Köln
tassenkuchen | Tassenkuchen | - | -
dieKaffeetante | Die Kaffeetante | Drei Kinder, zwei Katzen, ein Siebträger. | Düsseldorf
frank_the_tank | Frank | Fußball, Grillen, Kaffee. In der Reihenfolge. | -
lattelena | Lena ☕ | Studentin in Bonn | -
brueh_gut | Brüh gut! | Filterkaffee-Evangelist | -
schwarzwaldkaffee | Schwarzwald Kaffee | - | Freiburg
grumpy_barista | Grumpy Barista | Ex-Barista. Sieht alles. | -
crema_carla | Carla | Pflegekraft, Nachtschicht, Espresso. | -
tobi_codet | Tobi | Backend. Berlin. Bohnen. | Berlin
mrsmilchschaum | Mrs. Milchschaum | - | -
hafermilchheld | Hafermilchheld | vegan seit 2015 | -
koelsche_jung_77 | Kölsche Jung | Effzeh, Karneval, Kaffee | Köln
aeropress_andi | Andi | AeroPress-Meisterschaft 2019 (vorletzter Platz) | -
omas_filter | Omas Filterkaffee | Wie früher. Nur besser. | -
pendlerin_nrw | Pendlerin NRW | RE5-Leidgeprüfte | -
dr_koffein | Dr. Koffein | Promoviert in Müdigkeit | -
spreewaldsusi | Susi | - | Cottbus
kaffeesatzleserin | Kaffeesatzleserin | Wahrsagerin a.D. | -
moin_bohne | Moin Bohne | Hamburger Deern | Hamburg
elternzeitpapa | Elternzeit-Papa | Schlafmangel mit Milchschaum | -
schichtdienstmarc | Marc | Rettungsdienst Essen | Essen
espressionist | Espressionist | Kunst & Kaffee | -
kaffeekurt | Kurt | Rentner. Hat Zeit. | -
la_tazza_rossa | Tazza Rossa | Italienerin in Köln. Ich sag's nur: Espresso ist kein Kaffee-to-go. | Köln
ms_beanie | Ms Beanie | English teacher in Düsseldorf | Düsseldorf
joe_in_cgn | Joe | Expat in Cologne. Coffee snob, sorry. | Cologne
mugshot_sam | Sam | London → Köln | -
wiebke_liest | Wiebke | Buchhändlerin. Lesen, Tee, manchmal Kaffee. | -
bonner_bohne | Bonner Bohne | - | Bonn
halbautomat | Halbautomat | Halb Mensch, halb Kaffeemaschine | -
siebtraegersven | Sven | Siebträger, Sauerteig, Sonntagsbrötchen | -
kaffeejunkie_ffm | Kaffeejunkie FFM | - | Frankfurt am Main
zuckerwuerfel | Zuckerwürfel | - | -
schaumschlaegerin | Schaumschlägerin | Latte Art Anfängerin | -
aachener_printe | Printe | Aachen. Öcher Mädche. | Aachen
der_kaffeerebell | Kaffeerebell | Gegen Kapseln. Für Bohnen. | -
bluemchenkaffee | Blümchenkaffee | - | -
nachteule_dd | Nachteule | Dresden. Schlaflos. | Dresden
kaffee_und_kekse | Kaffee & Kekse | Food-Bloggerin | -
heinz_im_ruhestand | Heinz | - | -
muenchner_kindl | Münchner Kindl | Servus! Kaffee statt Weißbier (meistens) | München
grossstadtpflanze | Großstadtpflanze | Berlin-Neukölln | Berlin
cortado_chris | Chris | - | -
fairtrade_fee | Fee | Fair Trade oder gar nicht | -
kleinerbrauner | Kleiner Brauner | Wienerin im Exil (Köln) | -
morgenmuffel | Morgenmuffel | Vor dem ersten Kaffee nicht ansprechen. | -
roestgrad_ronja | Ronja | Röstgrad: mittel. Laune: auch. | -
bohnenbert | Bohnenbert | - | -
kaffeepause_kiel | Kaffeepause | - | Kiel
entkoffeiniert | Entkoffeiniert | Schwanger und traurig darüber | -
kanne_karl | Karl | Filterkaffee aus der Kanne, wie Opa | -
dritte_welle | Dritte Welle | Specialty Coffee Nerd | -
milchkaffeemama | Milchkaffee-Mama | - | -
""".strip().splitlines()
]
