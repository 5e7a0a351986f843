"""Import posts and comments from CSV or JSON-lines exports; upsert on platform + external id.

JSON lines carry an ``author`` object; CSV files flatten it into ``author_*`` columns
(see ``resonanz/demo/data/README.md`` for the full column mapping).

``source_format`` (CLI ``--from``) reads the mention exports of the tools users leave behind instead,
CSV or Excel (``.xlsx``) as they come out of the tool, report header lines above the table included:

- **brandwatch**: Brandwatch Consumer Research mention exports (columns as in the export: ``Date``,
  ``Url``, ``Full Text``/``Snippet``, ``Title``, ``Author``, ``Full Name``, ``Page Type``, ``Resource Id``,
  ``Language``, ``Thread Entry Type``, ``Sentiment``, ``Twitter/Facebook/Instagram ...`` counts, ...);
- **talkwalker**: Talkwalker result exports (``url``, ``published``, ``content``, ``title``, ``lang``,
  ``source_type``, ``parent_url``, ``extra_author_attributes.*``, ``engagement``, ``reach``, ...).

The platform comes from the page/source type (``twitter``, ``facebook``, ``news``, ``forum`` ...); the
external id is the tool's mention id (``bw:<Resource Id>``) or, where the tool has none, a hash of the
URL (``tw:<sha256>``), so importing the next export updates what is there. The tool's own sentiment is
kept as ``metrics["source_sentiment"]`` (Resonanz scores the text itself); every non-empty cell of the
row stays in ``raw``. Times without a zone are read in ``timezone`` (``--timezone``, default UTC).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Engine

from resonanz.importing.common import (
    ImportFileError,
    ImportReport,
    RowError,
    clean,
    csv_rows,
    decode,
    jsonl_rows,
    parse_datetime,
    row_problem,
)
from store.db import session_scope
from store.ingest import ingest_posts
from store.records import IdentityRecord, PostRecord

REQUIRED_CSV = {"platform", "external_id", "text", "created_at", "author_account_id"}
KINDS = {"post", "comment", "review"}


class AuthorRow(BaseModel):
    account_id: str
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    bio: str | None = None
    location: str | None = None

    @field_validator("account_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not str(v).strip():
            raise ValueError("the author's account id must not be empty")
        return str(v).strip()


class PostRow(BaseModel):
    platform: str
    external_id: str
    kind: str = "post"
    url: str | None = None
    text: str
    title: str | None = None
    language: str | None = None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    author: AuthorRow
    parent_external_id: str | None = None
    root_external_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("platform")
    @classmethod
    def _platform(cls, v: str) -> str:
        value = v.strip().lower()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: Any) -> str:
        value = str(v).strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        value = (v or "post").strip().lower()
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(sorted(KINDS))}")
        return str(value)

    @field_validator("created_at", mode="before")
    @classmethod
    def _created(cls, v: Any) -> datetime:
        return parse_datetime(v)

    @field_validator("edited_at", "deleted_at", mode="before")
    @classmethod
    def _optional_dt(cls, v: Any) -> datetime | None:
        return parse_datetime(v) if v else None

    @field_validator("url", "title", "language", "parent_external_id", "root_external_id", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return v or None


def _from_csv(raw: dict[str, str]) -> dict[str, Any]:
    author = {k[len("author_") :]: v for k, v in raw.items() if k.startswith("author_") and v}
    author["account_id"] = raw.get("author_account_id", "")
    metrics: dict[str, Any] = {}
    for key in ("likes", "reposts", "replies"):
        value = raw.get(key)
        if value:
            try:
                metrics[key] = int(value)
            except ValueError:
                raise ValueError(f"{key}: not a whole number (got {value!r})") from None
    out: dict[str, Any] = {k: v for k, v in raw.items() if not k.startswith("author_") and k not in metrics}
    out.pop("likes", None), out.pop("reposts", None), out.pop("replies", None)
    out["author"] = author
    out["metrics"] = metrics
    return out


def import_posts(
    engine: Engine,
    path: Path,
    encoding: str = "utf-8",
    *,
    source_format: str | None = None,
    timezone: str = "UTC",
) -> ImportReport:
    """Validate every row of a ``.csv`` or ``.jsonl`` file (or of a tool's export, see the module docstring),
    then upsert identities and posts."""
    report = ImportReport(file=str(path), kind="posts")
    suffix = path.suffix.lower()
    rows: dict[tuple[str, str], tuple[int, PostRow]] = {}
    source: Any
    convert: Callable[[dict[str, Any]], dict[str, Any]]
    if source_format:
        export = export_format(source_format)
        zone = _zone(timezone)
        source = export_rows(path, export, encoding)
        convert = lambda raw: export.map_row(raw, zone)  # noqa: E731
    elif suffix == ".csv":
        source = csv_rows(path, REQUIRED_CSV, encoding)
        convert = _from_csv
    elif suffix in (".jsonl", ".ndjson", ".json"):
        source = jsonl_rows(path, encoding)
        convert = dict
    else:
        raise ImportFileError(f"{path}: unknown file type {suffix!r}; use .csv or .jsonl")
    for line, raw in source:
        report.rows += 1
        if isinstance(raw, str):
            report.errors.append(RowError(str(path), line, raw))
            continue
        try:
            if "__extra__" in raw:
                raise ValueError("more fields than columns in the header")
            row = PostRow.model_validate(convert(clean(raw)))
        except Exception as exc:  # any bad value is this row's problem, never the file's
            report.errors.append(RowError(str(path), line, row_problem(exc)))
            continue
        key = (row.platform, row.external_id)
        if key in rows:
            first = rows[key][0]
            report.errors.append(
                RowError(str(path), line, f"duplicate post {row.platform}:{row.external_id} (first at line {first})")
            )
            continue
        rows[key] = (line, row)
    records = [_record(row) for _, row in rows.values()]
    with session_scope(engine) as session:
        result = ingest_posts(session, records)
    report.inserted, report.updated, report.unchanged = result.new, result.updated + result.deleted, result.unchanged
    return report


def _record(row: PostRow) -> PostRecord:
    """The store's ingest record for one validated row."""
    author = row.author
    return PostRecord(
        platform=row.platform,
        external_id=row.external_id,
        kind=row.kind,
        url=row.url,
        text=row.text,
        title=row.title,
        language=row.language,
        created_at=row.created_at,
        edited_at=row.edited_at,
        deleted=row.deleted_at is not None,
        metrics=row.metrics,
        raw=row.raw,
        parent_external_id=row.parent_external_id,
        root_external_id=row.root_external_id,
        identity=IdentityRecord(
            platform=row.platform,
            account_id=author.account_id,
            handle=author.handle,
            display_name=author.display_name,
            profile_url=author.profile_url,
            bio=author.bio,
            location=author.location,
        ),
    )


# -- exports of other listening tools (``--from``) -------------------------------------------------------

HEADER_SEARCH_ROWS = 50
"""The table's header row is looked for in this many rows (exports put report details above it)."""
_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_CELL_REF = re.compile(r"([A-Z]+)")


@dataclass(frozen=True)
class ExportFormat:
    """How one tool's export looks: the columns that mark its header row and how a row becomes a post."""

    name: str
    label: str
    required: frozenset[str]
    text_columns: tuple[str, ...]
    map_row: Callable[[dict[str, str], ZoneInfo], dict[str, Any]]
    how_to_export: str


def export_format(name: str) -> ExportFormat:
    fmt = EXPORT_FORMATS.get(name.strip().lower())
    if fmt is None:
        raise ImportFileError(
            f"unbekanntes Exportformat {name!r}: --from kennt {', '.join(sorted(EXPORT_FORMATS))}. Ohne --from "
            "erwartet der Import das Resonanz-Format (siehe resonanz/demo/data/README.md)."
        )
    return fmt


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(f"unbekannte Zeitzone {name!r}; z. B. --timezone Europe/Berlin oder UTC") from None


def _xlsx_table(path: Path) -> list[tuple[int, list[str]]]:
    """``(row number, cells)`` of the first worksheet of an ``.xlsx`` file (values as shown, dates as serials)."""
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            shared: list[str] = []
            if "xl/sharedStrings.xml" in names:
                for item in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).iter(f"{_SHEET_NS}si"):
                    shared.append("".join(t.text or "" for t in item.iter(f"{_SHEET_NS}t")))
            sheet = _first_sheet(book, names)
            root = ElementTree.fromstring(book.read(sheet))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as exc:
        raise ImportFileError(
            f"{path}: keine lesbare Excel-Datei ({exc}); nichts wurde importiert. Speichere den Export als .xlsx "
            "oder als CSV."
        ) from exc
    table: list[tuple[int, list[str]]] = []
    for number, row in enumerate(root.iter(f"{_SHEET_NS}row"), start=1):
        cells: dict[int, str] = {}
        for cell in row.iter(f"{_SHEET_NS}c"):
            match = _CELL_REF.match(cell.get("r") or "")
            column = len(cells) if match is None else _column_index(match.group(1))
            kind = cell.get("t")
            value = cell.find(f"{_SHEET_NS}v")
            if kind == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{_SHEET_NS}t"))
            elif value is None or value.text is None:
                continue
            elif kind == "s":
                cells[column] = shared[int(value.text)]
            else:
                cells[column] = value.text
        line = int(row.get("r") or number)
        table.append((line, [cells.get(i, "") for i in range(max(cells) + 1)] if cells else []))
    return table


def _first_sheet(book: zipfile.ZipFile, names: set[str]) -> str:
    """The part name of the workbook's first sheet (via workbook.xml and its relationships)."""
    try:
        workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
        first = next(workbook.iter(f"{_SHEET_NS}sheet"))
        rel_id = first.get(f"{_REL_NS}id")
        rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
        target = next(r.get("Target") for r in rels if r.get("Id") == rel_id)
        part = str(target).lstrip("/")
        return part if part.startswith("xl/") else f"xl/{part}"
    except (KeyError, StopIteration, ElementTree.ParseError):
        sheets = sorted(n for n in names if n.startswith("xl/worksheets/sheet"))
        if not sheets:
            raise KeyError("no worksheet") from None
        return sheets[0]


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _csv_table(path: Path, export: ExportFormat, encoding: str) -> list[tuple[int, list[str]]]:
    with open(path, "rb") as handle:
        bom = handle.read(2)
    text = decode(path, "utf-16" if bom in (b"\xff\xfe", b"\xfe\xff") else encoding)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    head = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    delimiter = max((",", ";", "\t"), key=lambda d: _header_at(list(csv.reader(io.StringIO(head), delimiter=d)),
                                                               export) is not None)  # fmt: skip
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    table: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            table.append((reader.line_num, row))
    except csv.Error as exc:
        raise ImportFileError(f"{path}:{reader.line_num}: fehlerhaftes CSV ({exc}); nichts wurde importiert") from exc
    return table


def _header_at(rows: list[list[str]], export: ExportFormat) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = {c.strip().lstrip("\ufeff") for c in row}
        if export.required <= cells and cells.intersection(export.text_columns):
            return index
    return None


def export_rows(path: Path, export: ExportFormat, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, {column: value})`` for each data row of a tool's CSV or Excel export, below its header row."""
    if not path.exists():
        raise ImportFileError(f"{path}: die Datei gibt es nicht")
    suffix = path.suffix.lower()
    table = _xlsx_table(path) if suffix in (".xlsx", ".xlsm") else _csv_table(path, export, encoding)
    start = _header_at([cells for _, cells in table], export)
    if start is None:
        raise ImportFileError(
            f"{path}: das sieht nicht nach einem {export.label}-Export aus: in den ersten {HEADER_SEARCH_ROWS} Zeilen "
            f"steht keine Kopfzeile mit {', '.join(sorted(export.required))} und {' oder '.join(export.text_columns)}. "
            f"{export.how_to_export}"
        )
    header = [c.strip().lstrip("\ufeff") for c in table[start][1]]
    for line, cells in table[start + 1 :]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            yield line, {"__extra__": "x"}
            continue
        yield line, {name: (value or "").strip() for name, value in zip(header, cells, strict=False) if name}


def _export_time(value: str | None, zone: ZoneInfo) -> datetime:
    """A timestamp as exports write it: ISO 8601, German ``TT.MM.JJJJ HH:MM``, Unix milliseconds (Talkwalker's
    API form) or an Excel serial date; without a zone it is read in ``zone``."""
    text = (value or "").strip()
    if not text:
        raise ValueError("kein Datum")
    parsed: datetime | None = None
    if re.fullmatch(r"\d{12,13}", text):
        parsed = datetime.fromtimestamp(int(text) / 1000, UTC)
    elif re.fullmatch(r"\d{5}(\.\d+)?", text) and 20000 < float(text) < 80000:
        parsed = _EXCEL_EPOCH + timedelta(days=float(text))
    else:
        for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                parsed = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if parsed is None:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise ValueError(f"kein lesbares Datum: {text!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)


def _first(row: dict[str, str], *columns: str) -> str:
    return next((row[c] for c in columns if row.get(c)), "")


def _count(row: dict[str, str], *columns: str) -> int | None:
    """The first readable whole number among ``columns`` (``1,234``/``1.234`` grouping allowed); None if none."""
    for column in columns:
        value = re.sub(r"[\s.,'](?=\d{3}\b)", "", row.get(column) or "")
        if re.fullmatch(r"\d+(\.0+)?", value):
            return int(float(value))
    return None


def _metrics(row: dict[str, str], source: str, columns: dict[str, tuple[str, ...]], sentiment: str) -> dict[str, Any]:
    metrics: dict[str, Any] = {"source": source}
    for name, candidates in columns.items():
        number = _count(row, *candidates)
        if number is not None:
            metrics[name] = number
    if row.get(sentiment):
        metrics["source_sentiment"] = row[sentiment].lower()
    return metrics


def _url_id(prefix: str, url: str) -> str:
    return f"{prefix}:{hashlib.sha256(url.encode()).hexdigest()[:32]}"


def _language(value: str) -> str | None:
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _platform(value: str, fallback: str = "web") -> str:
    name = re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")
    return (name or fallback)[:40]


BRANDWATCH_COUNTS = {
    "likes": ("Twitter Likes", "Facebook Likes", "Instagram Likes", "Likes"),
    "reposts": ("Twitter Retweets", "Facebook Shares", "Linkedin Shares", "Shares"),
    "replies": ("Twitter Reply Count", "Facebook Comments", "Instagram Comments", "Linkedin Comments", "Comments"),
    "reach": ("Reach (new)", "Reach", "Impressions"),
}


def _brandwatch(row: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """A Brandwatch Consumer Research mention export row as a post row."""
    mention = _first(row, "Resource Id", "Mention Id")
    url = _first(row, "Url", "Original Url")
    if not mention and not url:
        raise ValueError("weder 'Resource Id' noch 'Url': die Zeile lässt sich keinem Beitrag zuordnen")
    page_type = _platform(_first(row, "Page Type", "Content Source Name", "Domain"))
    entry = row.get("Thread Entry Type", "").lower()
    kind = "review" if page_type == "review" else "comment" if entry in ("reply", "comment") else "post"
    handle = row.get("Author", "")
    account = _first(row, "Twitter Author ID", "Facebook Author ID", "Instagram Author ID") or handle
    place = ", ".join(p for p in (row.get("City"), row.get("Country")) if p)
    return {
        "platform": page_type,
        "external_id": f"bw:{mention}" if mention else _url_id("bw", url),
        "kind": kind,
        "url": url or None,
        "text": _first(row, "Full Text", "Snippet"),
        "title": row.get("Title") or None,
        "language": _language(row.get("Language", "")),
        "created_at": _export_time(row.get("Date"), zone),
        "author": {
            "account_id": account or row.get("Domain") or "unbekannt",
            "handle": handle or None,
            "display_name": row.get("Full Name") or None,
            "profile_url": None,
            "location": place or None,
        },
        "metrics": {
            **_metrics(row, "brandwatch", BRANDWATCH_COUNTS, "Sentiment"),
            **({"repost": True} if entry in ("retweet", "share") else {}),
        },  # fmt: skip
        "raw": {k: v for k, v in row.items() if v},
    }


TALKWALKER_PREFIXES = {
    "ONLINENEWS": "news",
    "BLOG": "blog",
    "FORUM": "forum",
    "MESSAGEBOARD": "forum",
    "PRINT": "print",
    "BROADCAST": "broadcast",
    "PODCAST": "podcast",
    "REVIEW": "review",
}
TALKWALKER_COUNTS = {
    "likes": tuple(f"article_extended_attributes.{p}_likes" for p in ("twitter", "facebook", "instagram", "youtube")),
    "reposts": ("article_extended_attributes.twitter_retweets", "article_extended_attributes.facebook_shares"),
    "replies": ("article_extended_attributes.num_comments", "article_extended_attributes.twitter_replies"),
    "engagement": ("engagement",),
    "reach": ("reach",),
}


def talkwalker_platform(source_type: str) -> str:
    """``SOCIALMEDIA,SOCIALMEDIA_TWITTER`` -> ``twitter``; ``ONLINENEWS,ONLINENEWS_OTHER`` -> ``news``."""
    tokens = [t.strip().upper() for t in source_type.split(",") if t.strip()]
    for token in sorted(tokens, key=lambda t: -t.count("_")):
        if token.startswith("SOCIALMEDIA_"):
            return _platform(token.removeprefix("SOCIALMEDIA_"))
        for prefix, name in TALKWALKER_PREFIXES.items():
            if token.startswith(prefix):
                return name
    return _platform(tokens[0]) if tokens else "web"


def _talkwalker(row: dict[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """A Talkwalker result export row as a post row."""
    url = row.get("url", "")
    if not url:
        raise ValueError("ohne 'url' lässt sich die Zeile keinem Beitrag zuordnen")
    platform = talkwalker_platform(row.get("source_type", ""))
    parent = row.get("parent_url", "")
    reply = bool(parent) and parent != url
    name = row.get("extra_author_attributes.name", "")
    short = row.get("extra_author_attributes.short_name", "")
    account = _first(row, "extra_author_attributes.id") or short or name or _first(
        row, "extra_source_attributes.name", "domain_url", "host_url")  # fmt: skip
    country = _first(row, "extra_author_attributes.world_data.country", "extra_source_attributes.world_data.country")
    return {
        "platform": platform,
        "external_id": _url_id("tw", url),
        "kind": "review" if platform == "review" else "comment" if reply else "post",
        "url": url,
        "text": _first(row, "content", "content_snippet", "title_snippet"),
        "title": row.get("title") or None,
        "language": _language(row.get("lang", "")),
        "created_at": _export_time(row.get("published"), zone),
        "author": {
            "account_id": account or "unbekannt",
            "handle": short or None,
            "display_name": name or None,
            "profile_url": row.get("extra_author_attributes.url") or None,
            "location": country or None,
        },
        "parent_external_id": _url_id("tw", parent) if reply else None,
        "metrics": _metrics(row, "talkwalker", TALKWALKER_COUNTS, "sentiment"),
        "raw": {k: v for k, v in row.items() if v},
    }


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "brandwatch": ExportFormat(
        name="brandwatch",
        label="Brandwatch",
        required=frozenset({"Date", "Url"}),
        text_columns=("Full Text", "Snippet"),
        map_row=_brandwatch,
        how_to_export="In Brandwatch Consumer Research: Mentions > Export (CSV oder Excel), Spalten wie exportiert.",
    ),
    "talkwalker": ExportFormat(
        name="talkwalker",
        label="Talkwalker",
        required=frozenset({"url", "published"}),
        text_columns=("content", "title"),
        map_row=_talkwalker,
        how_to_export="In Talkwalker: Ergebnisse > Export (CSV oder Excel), Spaltennamen unverändert lassen.",
    ),
}
