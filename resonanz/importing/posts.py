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

Whose posts they are (``brand``, CLI ``--brand``; a ``brand`` column of the Resonanz format overrides it per
row, an empty cell keeps it): the own brand (the default) or a competitor some source is tagged with
(``resonanz sources tag``); a name differing only in case takes the tag's spelling, any other name is refused
(the whole import for ``--brand``, the row for a cell). A competitor's posts are stored under that brand's
import source (platform ``import``, never collected), so they count for the competitor in the comparison and
stay out of the own brand's answers and the queue. A post that is already stored moves with a stated brand
(``--brand`` or a cell) only when it has no source or an import source: a collected post keeps its source.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
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
from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from resonanz.core.i18n import N_, _
from resonanz.core.tables import POST
from resonanz.importing.common import (
    EXTRA_FIELDS,
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
from resonanz.pipeline.sources import BrandNameError, clean_brand, known_brands
from store.db import session_scope
from store.ingest import ingest_posts
from store.models import Source
from store.records import IdentityRecord, PostRecord

log = logging.getLogger(__name__)

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
            raise ValueError(_("the author's account id must not be empty"))
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
    brand: str | None = None
    """The row's brand as written (the ``brand`` column); checked against the tagged brands by the importer."""

    @field_validator("platform")
    @classmethod
    def _platform(cls, v: str) -> str:
        value = v.strip().lower()
        if not value:
            raise ValueError(_("must not be empty"))
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: Any) -> str:
        value = str(v).strip()
        if not value:
            raise ValueError(_("must not be empty"))
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        value = (v or "post").strip().lower()
        if value not in KINDS:
            raise ValueError(_("must be one of {values}").format(values=", ".join(sorted(KINDS))))
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
                raise ValueError(
                    _("{field}: not a whole number (got {value!r})").format(field=key, value=value)
                ) from None
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
    brand: str | None = None,
) -> ImportReport:
    """Validate every row of a ``.csv`` or ``.jsonl`` file (or of a tool's export, see the module docstring),
    then upsert identities and posts.

    ``brand``: whose posts they are (``None``: the own brand, see the module docstring); an unknown name
    raises :class:`ImportFileError` before the file is read."""
    with session_scope(engine) as session:
        brands = BrandNames.of(session)
    try:
        default = brands.resolve(brand)
    except ValueError as exc:
        raise ImportFileError(f"--brand: {exc}") from None
    report = ImportReport(file=str(path), kind="posts")
    suffix = path.suffix.lower()
    rows: dict[tuple[str, str], tuple[int, PostRow]] = {}
    targets: dict[tuple[str, str], str | None] = {}
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
        raise ImportFileError(
            _("{path}: unknown file type {suffix!r}; use .csv or .jsonl").format(path=path, suffix=suffix)
        )
    for line, raw in source:
        report.rows += 1
        if isinstance(raw, str):
            report.errors.append(RowError(str(path), line, raw))
            continue
        try:
            if "__extra__" in raw:
                raise ValueError(_(EXTRA_FIELDS))
            row = PostRow.model_validate(convert(clean(raw)))
        except Exception as exc:  # any bad value is this row's problem, never the file's
            report.errors.append(RowError(str(path), line, row_problem(exc)))
            continue
        try:
            stated = brands.resolve(row.brand)  # an empty cell states nothing: the file's brand
        except ValueError as exc:
            report.errors.append(RowError(str(path), line, f"brand: {exc}"))
            continue
        key = (row.platform, row.external_id)
        if key in rows:
            first = rows[key][0]
            duplicate = _("duplicate post {platform}:{id} (first at line {first})").format(
                platform=row.platform, id=row.external_id, first=first
            )
            report.errors.append(RowError(str(path), line, duplicate))
            continue
        rows[key] = (line, row)
        targets[key] = default if stated is None else stated
    by_target: dict[str | None, list[tuple[str, str]]] = {}
    for key, target in targets.items():
        by_target.setdefault(target, []).append(key)
    with session_scope(engine) as session:
        for target, keys in by_target.items():
            source_id = _import_source(session, target) if target not in (None, OWN) else None
            result = ingest_posts(session, [_record(rows[key][1]) for key in keys], source_id=source_id)
            report.inserted += result.new
            report.updated += result.updated + result.deleted
            report.unchanged += result.unchanged
            if target is not None:
                _move_to_brand(session, keys, source_id)
    return report


OWN = ""
"""The own brand, named explicitly (``--brand "eigene Marke"`` or a cell): already stored posts move back to it.
``None`` is the own brand by default: new posts are the own brand's, stored ones keep their brand."""
OWN_BRAND_WORDS = ("own brand", "eigene Marke")
"""What names the own brand in ``--brand`` or a ``brand`` cell (the English and the German word)."""
IMPORT_PLATFORM = "import"
"""The platform of the sources imported competitor posts are stored under (never collected)."""
_CHUNK = 900


@dataclass(frozen=True)
class BrandNames:
    """The brands posts can be imported for: the own brand and the competitors sources are tagged with."""

    competitors: tuple[str, ...]

    @classmethod
    def of(cls, session: Session) -> BrandNames:
        return cls(tuple(known_brands(session)))

    def allowed(self) -> str:
        """The accepted names for a message: the competitors, then the own brand's word."""
        return ", ".join([*self.competitors, f"„{_('own brand')}“"])

    def resolve(self, name: str | None) -> str | None:
        """``None``: the own brand by default; :data:`OWN`: the own brand named; else a competitor's tag as
        spelled on its sources. An unknown name raises :class:`ValueError` with the allowed ones."""
        if name is None:
            return None
        try:
            cleaned = clean_brand(name)
        except BrandNameError as exc:
            raise ValueError(str(exc)) from None
        if cleaned is None:
            return None
        folded = cleaned.casefold()
        if folded in {w.casefold() for w in (*OWN_BRAND_WORDS, _("own brand"))}:
            return OWN
        for known in self.competitors:
            if known.casefold() == folded:
                return known
        if not self.competitors:
            raise ValueError(
                _(
                    "unknown brand {name!r}: no source is tagged with a competitor yet, so only the own brand "
                    "(“{own}”) is possible. Tag a source with the competitor first: resonanz sources tag SOURCE "
                    "--brand {name!r}"
                ).format(name=cleaned, own=_("own brand"))
            )
        raise ValueError(
            _(
                "unknown brand {name!r}; allowed are {allowed}. A new competitor comes from tagging a source: "
                "resonanz sources tag SOURCE --brand NAME"
            ).format(name=cleaned, allowed=self.allowed())
        )


def _import_source(session: Session, brand: str) -> int:
    """The id of ``brand``'s import source, created (disabled, platform ``import``) on first use."""
    found = session.execute(
        select(col(Source.id)).where(col(Source.platform) == IMPORT_PLATFORM, col(Source.brand) == brand)
    ).scalar()
    if found is not None:
        return int(found)
    taken = set(session.execute(select(col(Source.name))).scalars())
    base = f"Import {brand}"[:190]
    name = next(n for n in (base, *(f"{base} ({i})" for i in range(2, 1000))) if n not in taken)
    source = Source(name=name, platform=IMPORT_PLATFORM, brand=brand, enabled=False, interval_seconds=86400)
    session.add(source)
    session.flush()
    assert source.id is not None
    return source.id


def _move_to_brand(session: Session, keys: list[tuple[str, str]], source_id: int | None) -> None:
    """Stored posts of ``keys`` without a source or under an import source go to ``source_id`` (``None``: the
    own brand); collected posts keep their source."""
    imports = select(col(Source.id)).where(col(Source.platform) == IMPORT_PLATFORM)
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in keys:
        by_platform.setdefault(platform, []).append(external_id)
    movable: ColumnElement[bool]
    if source_id is None:
        movable = POST.c.source_id.in_(imports)
    else:
        movable = or_(POST.c.source_id.is_(None), and_(POST.c.source_id.in_(imports), POST.c.source_id != source_id))
    moved = 0
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), _CHUNK):
            result = session.execute(
                update(POST)
                .where(POST.c.platform == platform, POST.c.external_id.in_(ids[start : start + _CHUNK]), movable)
                .values(source_id=source_id)
            )
            moved += int(getattr(result, "rowcount", 0) or 0)
    if moved:
        log.info("%d stored posts moved to the brand of their import", moved)


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
    """An English msgid (``N_``), translated where the message is shown."""


def export_format(name: str) -> ExportFormat:
    fmt = EXPORT_FORMATS.get(name.strip().lower())
    if fmt is None:
        raise ImportFileError(
            _(
                "unknown export format {name!r}: --from knows {formats}. Without --from the import expects the "
                "Resonanz format (see resonanz/demo/data/README.md)."
            ).format(name=name, formats=", ".join(sorted(EXPORT_FORMATS)))
        )
    return fmt


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFileError(
            _("unknown time zone {name!r}; e.g. --timezone Europe/Berlin or UTC").format(name=name)
        ) from None


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
            _(
                "{path}: not a readable Excel file ({error}); nothing was imported. Save the export as .xlsx or as CSV."
            ).format(path=path, error=exc)
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
            raise KeyError(_("no worksheet")) from None
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
        raise ImportFileError(
            _("{path}:{line}: malformed CSV ({error}); nothing was imported").format(
                path=path, line=reader.line_num, error=exc
            )
        ) from exc
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
        raise ImportFileError(_("{path}: the file does not exist").format(path=path))
    suffix = path.suffix.lower()
    table = _xlsx_table(path) if suffix in (".xlsx", ".xlsm") else _csv_table(path, export, encoding)
    start = _header_at([cells for _, cells in table], export)
    if start is None:
        raise ImportFileError(
            _(
                "{path}: this does not look like a {label} export: the first {n} rows hold no header row with "
                "{required} and {text}. {how}"
            ).format(
                path=path, label=export.label, n=HEADER_SEARCH_ROWS, required=", ".join(sorted(export.required)),
                text=(" " + _("or") + " ").join(export.text_columns), how=_(export.how_to_export),
            )
        )  # fmt: skip
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
        raise ValueError(_("no date"))
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
                raise ValueError(_("not a readable date: {value!r}").format(value=text)) from None
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
        raise ValueError(_("neither 'Resource Id' nor 'Url': the row cannot be matched to a post"))
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
        raise ValueError(_("without 'url' the row cannot be matched to a post"))
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
        how_to_export=N_("In Brandwatch Consumer Research: Mentions > Export (CSV or Excel), columns as exported."),
    ),
    "talkwalker": ExportFormat(
        name="talkwalker",
        label="Talkwalker",
        required=frozenset({"url", "published"}),
        text_columns=("content", "title"),
        map_row=_talkwalker,
        how_to_export=N_("In Talkwalker: Results > Export (CSV or Excel), leave the column names unchanged."),
    ),
}
