"""``resonanz import posts --from brandwatch|talkwalker``: mention exports of other tools onto the posts import.

The files below are written the way the tools export them:

- Brandwatch Consumer Research mention exports: report lines above the table (the header row is not the
  first line; public tools that read these files search for it, e.g. a Brandwatch "post enricher" that looks
  for the row holding ``Date``, ``Author`` and ``Snippet``), then the export's column names (``Query Id``,
  ``Query Name``, ``Date``, ``Title``, ``Url``, ``Domain``, ``Sentiment``, ``Page Type``, ``Language``,
  ``Author``, ``Full Name``, ``Full Text``, ``Snippet``, ``Resource Id``, ``Thread Entry Type``,
  ``Twitter Author ID``, ``Twitter Likes``, ``Twitter Retweets``, ``Twitter Reply Count``, ``City``,
  ``Country``, as listed in public Brandwatch export readers and Brandwatch's mention field definitions)
  and the ``Date`` form ``2026-11-19 14:32:00.0``.
- Talkwalker result exports: flat column names (``url``, ``published``, ``title``, ``content``, ``lang``,
  ``source_type`` such as ``SOCIALMEDIA,SOCIALMEDIA_TWITTER``, ``parent_url``, ``extra_author_attributes.name``,
  ``extra_source_attributes.world_data.country``, ``engagement``, ``reach``, ``sentiment``), as public
  scripts that read Talkwalker exports use them; ``published`` as Unix milliseconds, ISO text, or (Excel)
  a serial date.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from resonanz.importing import ImportFileError, import_posts
from resonanz.importing.posts import talkwalker_platform
from store.models import Post, SocialIdentity

BRANDWATCH = (
    '"Brandwatch Consumer Research"\n'
    '"Report:","Mentions"\n'
    '"Project:","Lindenhof Kaffee"\n'
    '"Query:","Lindenhof Marke"\n'
    '"From:","2026-11-01 00:00:00.0"\n'
    '"To:","2026-11-20 23:59:59.0"\n'
    "\n"
    '"Query Id","Query Name","Date","Title","Url","Domain","Sentiment","Page Type","Language","Country","City",'
    '"Author","Full Name","Full Text","Snippet","Resource Id","Thread Entry Type","Twitter Author ID",'
    '"Twitter Likes","Twitter Retweets","Twitter Reply Count","Reach (new)"\n'
    '"2003456789","Lindenhof Marke","2026-11-19 14:32:00.0","Anna K. on X","https://x.com/anna_k/status/1858'
    '2210000000000001","x.com","negative","twitter","de","Germany","Köln","anna_k","Anna K.","Seit der '
    'Preiserhöhung ist das Abo teurer als der Laden, @lindenhof?","Seit der Preiserhöhung ist das Abo …",'
    '"1858221000000000001","post","98765432","12","3","1","4,210"\n'
    '"2003456789","Lindenhof Marke","2026-11-18 09:05:10.0","","https://www.reddit.com/r/koeln/comments/1gq2abc/'
    'kaffee/lx7y8z9/","reddit.com","neutral","reddit","de","Germany","","kaffeeliebe_koeln","","","Die Filiale '
    'in Ehrenfeld ist okay, aber voll.","1858221000000000002","reply","","","","",""\n'
    '"2003456789","Lindenhof Marke","2026-11-17 06:00:00.0","Lindenhof erhöht die Preise","https://www.ksta.de/'
    'wirtschaft/lindenhof-preise-123","ksta.de","neutral","news","de","Germany","Köln","","","Die Kölner '
    'Kaffeekette Lindenhof erhöht zum Dezember die Preise.","","1858221000000000003","","","","","",""\n'
    '"2003456789","Lindenhof Marke","gestern","","https://x.com/b/status/1","x.com","neutral","twitter","de",'
    '"","","b","","kaputt","","1858221000000000004","post","1","","","",""\n'
    '"2003456789","Lindenhof Marke","2026-11-19 15:00:00.0","","https://x.com/c/status/2","x.com","negative",'
    '"twitter","de","","","c_user","","RT @anna_k: Seit der Preiserhöhung ist das Abo teurer","",'
    '"1858221000000000005","retweet","55555","","","",""\n'
)

TALKWALKER_HEADER = (
    "url,published,title,content,lang,source_type,parent_url,extra_author_attributes.id,"
    "extra_author_attributes.name,extra_author_attributes.short_name,extra_author_attributes.url,"
    "extra_source_attributes.name,extra_source_attributes.world_data.country,engagement,reach,sentiment,"
    "article_extended_attributes.twitter_likes\n"
)
TALKWALKER = TALKWALKER_HEADER + (
    "https://twitter.com/t_brandt/status/1858300000000000001,1795104012000,,Neue Herbstmischung bei "
    '@lindenhof probiert: top!,de,"SOCIALMEDIA,SOCIALMEDIA_TWITTER",,tw:t_brandt,Tom Brandt,t_brandt,'
    "https://twitter.com/t_brandt,Twitter,Germany,14,2300,5,11\n"
    "https://www.wz.de/lindenhof-muenster,2026-11-18T07:30:00+01:00,Lindenhof eröffnet in Münster,Die Kette "
    'eröffnet ihre zwölfte Filiale.,de,"ONLINENEWS,ONLINENEWS_OTHER",,,,,,Westfälische Zeitung,Germany,0,'
    "51000,0,\n"
    "https://www.facebook.com/lindenhof/posts/1?comment_id=77,2026-11-18 20:15,,Warum ist das Abo teurer?,de,"
    '"SOCIALMEDIA,SOCIALMEDIA_FACEBOOK",https://www.facebook.com/lindenhof/posts/1,fb:4711,Petra B.,,,'
    "Facebook,Germany,2,,-2,\n"
    ',2026-11-18 20:15,,ohne url,de,"SOCIALMEDIA,SOCIALMEDIA_FACEBOOK",,,,,,,,,,,\n'
)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def stored(engine: Engine) -> dict[str, Post]:
    with Session(engine) as session:
        return {p.external_id: p for p in session.exec(select(Post))}


def identity(engine: Engine, post: Post) -> SocialIdentity:
    with Session(engine) as session:
        found = session.get(SocialIdentity, post.identity_id)
    assert found is not None
    return found


def test_brandwatch_csv_below_its_report_lines(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "brandwatch.csv", BRANDWATCH)
    report = import_posts(engine, path, source_format="brandwatch", timezone="Europe/Berlin")
    assert (report.rows, report.inserted) == (5, 4)
    (bad,) = report.errors
    assert bad.line == 12 and "kein lesbares Datum: 'gestern'" in bad.reason
    posts = stored(engine)
    tweet = posts["bw:1858221000000000001"]
    assert (tweet.platform, tweet.kind, tweet.language) == ("twitter", "post", "de")
    assert tweet.text.startswith("Seit der Preiserhöhung ist das Abo teurer als der Laden")  # Full Text, not Snippet
    assert tweet.created_at.replace(tzinfo=UTC) == datetime(2026, 11, 19, 13, 32, tzinfo=UTC)  # Berlin -> UTC
    assert tweet.metrics == {"source": "brandwatch", "likes": 12, "reposts": 3, "replies": 1, "reach": 4210,
                             "source_sentiment": "negative"}  # fmt: skip
    assert tweet.raw["Query Name"] == "Lindenhof Marke" and "Title" in tweet.raw
    author = identity(engine, tweet)
    assert (author.account_id, author.handle, author.display_name) == ("98765432", "anna_k", "Anna K.")
    assert author.location == "Köln, Germany"
    comment = posts["bw:1858221000000000002"]
    assert (comment.platform, comment.kind) == ("reddit", "comment")
    assert comment.text == "Die Filiale in Ehrenfeld ist okay, aber voll."  # Snippet when there is no Full Text
    news = posts["bw:1858221000000000003"]
    assert (news.platform, news.title) == ("news", "Lindenhof erhöht die Preise")
    assert identity(engine, news).account_id == "ksta.de"  # no author: the site speaks
    assert posts["bw:1858221000000000005"].metrics["repost"] is True
    again = import_posts(engine, path, source_format="brandwatch", timezone="Europe/Berlin")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)


def test_talkwalker_csv_platforms_replies_and_time_forms(engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path / "talkwalker.csv", TALKWALKER)
    report = import_posts(engine, path, source_format="talkwalker")
    assert report.inserted == 3 and [e.line for e in report.errors] == [5]
    assert "url" in report.errors[0].reason
    by_platform = {p.platform: p for p in stored(engine).values()}
    assert set(by_platform) == {"twitter", "news", "facebook"}
    tweet = by_platform["twitter"]
    assert tweet.created_at.replace(tzinfo=UTC) == datetime(2026, 11, 19, 16, 0, 12, tzinfo=UTC)  # Unix ms
    assert tweet.metrics == {"source": "talkwalker", "likes": 11, "engagement": 14, "reach": 2300,
                             "source_sentiment": "5"}  # fmt: skip
    assert (
        tweet.external_id.startswith("tw:") and tweet.url == "https://twitter.com/t_brandt/status/1858300000000000001"
    )
    author = identity(engine, tweet)
    assert (author.account_id, author.handle, author.display_name) == ("tw:t_brandt", "t_brandt", "Tom Brandt")
    news = by_platform["news"]
    assert news.created_at.replace(tzinfo=UTC) == datetime(2026, 11, 18, 6, 30, tzinfo=UTC)
    assert identity(engine, news).account_id == "Westfälische Zeitung"
    reply = by_platform["facebook"]
    assert reply.kind == "comment" and reply.parent_external_id is not None
    assert reply.parent_external_id.startswith("tw:") and reply.parent_external_id != reply.external_id


def xlsx(path: Path, rows: list[list[str | float]]) -> Path:
    """A minimal workbook as Excel writes it: shared strings, numbers as numbers, a sheet via workbook rels."""
    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows, start=1):
        out = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(value, float):
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
            elif value != "":
                strings.append(str(value))
                out.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    sheets = '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets>'
    target = f'<Relationship Id="rId1" Type="{office}/worksheet" Target="worksheets/export.xml"/>'
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/workbook.xml", f'<workbook {ns} xmlns:r="{office}">{sheets}</workbook>')
        book.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{package}">{target}</Relationships>')
        book.writestr("xl/sharedStrings.xml", f"<sst {ns}>{shared}</sst>")
        book.writestr(
            "xl/worksheets/export.xml", f"<worksheet {ns}><sheetData>{''.join(cells)}</sheetData></worksheet>"
        )
    return path


def test_talkwalker_excel_export_with_a_serial_date(engine: Engine, tmp_path: Path) -> None:
    header: list[str | float] = list(TALKWALKER_HEADER.strip().split(","))
    url, text = "https://www.instagram.com/p/DCePrHWHOtz/", "Warteschlange bis draußen 😩"
    row: list[str | float] = [url, 46344.5, "", text, "de", "SOCIALMEDIA,SOCIALMEDIA_INSTAGRAM", "", "", "koeln.isst"]
    path = xlsx(tmp_path / "talkwalker.xlsx", [["Talkwalker export"], [], header, row])
    report = import_posts(engine, path, source_format="talkwalker", timezone="Europe/Berlin")
    assert report.inserted == 1 and not report.errors
    (post,) = stored(engine).values()
    assert (post.platform, post.text) == ("instagram", "Warteschlange bis draußen 😩")
    assert post.created_at.replace(tzinfo=UTC) == datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # serial 46344.5, Berlin


def test_a_file_that_is_not_the_named_export_is_rejected_before_anything_is_written(
    engine: Engine, tmp_path: Path
) -> None:
    resonanz_csv = write(tmp_path / "posts.csv", "platform,external_id,text,created_at,author_account_id\n"
                                                 "bluesky,1,hallo,2026-11-17T12:00:00Z,did:plc:a\n")  # fmt: skip
    with pytest.raises(ImportFileError, match="nicht nach einem Brandwatch-Export.*Mentions > Export"):
        import_posts(engine, resonanz_csv, source_format="brandwatch")
    with pytest.raises(ImportFileError, match="unbekanntes Exportformat 'sprinklr'"):
        import_posts(engine, resonanz_csv, source_format="sprinklr")
    with pytest.raises(ImportFileError, match="Zeitzone"):
        import_posts(engine, write(tmp_path / "bw.csv", BRANDWATCH), source_format="brandwatch", timezone="Mars/Olymp")
    with pytest.raises(ImportFileError, match="keine lesbare Excel-Datei"):
        import_posts(engine, write(tmp_path / "x.xlsx", "kein zip"), source_format="talkwalker")
    assert stored(engine) == {}


def test_a_utf16_tab_separated_export_is_read(engine: Engine, tmp_path: Path) -> None:
    """Excel's "Unicode text" (UTF-16 with BOM, tab separated), as exports are often re-saved."""
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(csv.reader(io.StringIO(TALKWALKER)))
    path = tmp_path / "tw.txt"
    path.write_bytes("\ufeff".encode("utf-16-le") + out.getvalue().encode("utf-16-le"))
    report = import_posts(engine, path, source_format="talkwalker")
    assert report.inserted == 3 and [e.line for e in report.errors] == [5]
    assert {p.platform for p in stored(engine).values()} == {"twitter", "news", "facebook"}


def test_talkwalker_source_types() -> None:
    assert talkwalker_platform("SOCIALMEDIA,SOCIALMEDIA_TWITTER") == "twitter"
    assert talkwalker_platform("ONLINENEWS,ONLINENEWS_OTHER") == "news"
    assert talkwalker_platform("MESSAGEBOARD") == "forum"
    assert talkwalker_platform("") == "web"


def test_the_cli_flag(db_url: str, tmp_path: Path) -> None:
    from resonanz.cli.main import app

    runner = CliRunner()
    path = write(tmp_path / "brandwatch.csv", BRANDWATCH)
    result = runner.invoke(app, ["import", "posts", str(path), "--from", "brandwatch", "--timezone", "Europe/Berlin"])
    assert result.exit_code == 1, result.output  # the row with the unreadable date is rejected
    assert "5 Zeilen, 4 neu" in result.output and "kein lesbares Datum" in result.output
    wrong = runner.invoke(app, ["import", "posts", str(path), "--from", "sprinklr"])
    assert wrong.exit_code == 2 and "unbekanntes Exportformat" in wrong.output
