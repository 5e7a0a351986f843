"""Reading import files and reporting what was wrong where."""

from __future__ import annotations

import codecs
import csv
import json
import logging
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from resonanz.core import i18n
from resonanz.core.i18n import N_, _, ngettext
from store.types import without_nul

RowT = TypeVar("RowT", bound=BaseModel)
log = logging.getLogger(__name__)

BATCH_ROWS = 5_000
"""Rows validated, looked up and written together: bounded memory for files of any size."""
PROGRESS_ROWS = 100_000
"""A progress line (log, INFO) every this many rows."""
IMPORT_KINDS = {"customers": N_("Customers"), "orders": N_("Orders"), "posts": N_("Posts")}
"""What an import brought in, in words (:meth:`ImportReport.summary`)."""
PYDANTIC_PROBLEMS = {
    "missing": N_("required"),
    "string_type": N_("must be text"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "dict_type": N_("must be a JSON object"),
    "model_type": N_("must be a JSON object"),
    "model_attributes_type": N_("must be a JSON object"),
    "list_type": N_("must be a list"),
    "datetime_type": N_("must be a date"),
    "datetime_parsing": N_("must be a date"),
}
"""Pydantic's error types -> what the report says (English msgids; any other type keeps pydantic's own words)."""


class ImportError_(Exception):  # noqa: N801  (avoid shadowing the builtin ImportError)
    """Base class for import problems."""


class ImportFileError(ImportError_):
    """The file as a whole cannot be imported (encoding, header, format). Nothing was written."""


@dataclass(frozen=True)
class RowError:
    """A rejected (or skipped) row; ``reason`` is in the language that was active when the file was read (the
    CLI prints the report in the same process, in the same language)."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class ImportReport:
    file: str
    kind: str
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    suppressed: list[RowError] = field(default_factory=list)
    """Rows skipped because their customer or order was erased (GDPR Art. 17); not errors."""

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """One line in the current language: ``Kund:innen aus kunden.csv: 2 Zeilen, 1 neu, ...``."""
        kind = _(IMPORT_KINDS[self.kind]) if self.kind in IMPORT_KINDS else self.kind
        line = ngettext(
            "{kind} from {file}: {rows} row, {new} new, {updated} updated, {unchanged} unchanged, {rejected} rejected",
            "{kind} from {file}: {rows} rows, {new} new, {updated} updated, {unchanged} unchanged, {rejected} rejected",
            self.rows,
        ).format(kind=kind, file=self.file, rows=i18n.number(self.rows), new=i18n.number(self.inserted),
                 updated=i18n.number(self.updated), unchanged=i18n.number(self.unchanged),
                 rejected=i18n.number(len(self.errors)))  # fmt: skip
        if self.suppressed:
            line += _(", {n} skipped (erased under GDPR Art. 17)").format(n=i18n.number(len(self.suppressed)))
        return line


def decode(path: Path, encoding: str = "utf-8") -> str:
    """Read ``path`` as text; explain undecodable bytes with their line and a fix."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(_unreadable(path, exc)) from exc
    if not raw.strip():
        raise ImportFileError(_empty(path))
    enc = _codec(encoding)
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            _(
                "{path}:{line}: not valid {encoding} (byte 0x{byte}); nothing was imported. Save the file as UTF-8, "
                "or pass --encoding cp1252 for files exported by Excel on Windows."
            ).format(path=path, line=line, encoding=encoding, byte=f"{raw[exc.start]:02x}")
        ) from exc


def _unreadable(path: Path, exc: OSError) -> str:
    return _("{path}: cannot read the file: {error}").format(path=path, error=exc.strerror or exc)


def _empty(path: Path) -> str:
    return _("{path}: the file is empty; expected a header line and data rows").format(path=path)


def _codec(encoding: str) -> str:
    """The codec to read ``encoding`` with: UTF-8 drops a leading byte-order mark (Excel writes one)."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def check_text(path: Path, encoding: str = "utf-8") -> str:
    """Check that ``path`` is non-empty text in ``encoding`` without holding it in memory; returns the codec.

    Reads 1 MiB at a time through an incremental decoder, so a file of a million rows costs a megabyte
    here, not its size several times over. On an undecodable byte, :func:`decode` reads the file once more
    to name the exact line (the error path only).
    """
    enc = _codec(encoding)
    try:
        decoder = codecs.getincrementaldecoder(enc)()
    except LookupError:
        raise ImportFileError(
            _("{path}: unknown encoding {encoding!r}; use e.g. utf-8 or cp1252").format(path=path, encoding=encoding)
        ) from None
    content = False
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                content = content or bool(chunk.strip())
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except OSError as exc:
        raise ImportFileError(_unreadable(path, exc)) from exc
    except UnicodeDecodeError:
        decode(path, encoding)  # raises with the line number and the fix
        raise
    if not content:
        raise ImportFileError(_empty(path))
    return enc


def csv_rows(path: Path, required: set[str], encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row of a CSV file with a header.

    The delimiter (comma or semicolon, common in German exports) is sniffed from the header. The file is
    checked first (:func:`check_text`) and then streamed: rows are read as they are consumed.
    """
    enc = check_text(path, encoding)
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long fields are rejected per row (clean), not per file
    with path.open(encoding=enc, newline="") as fh:
        first = fh.readline()
        fh.seek(0)
        delimiter = ";" if first.count(";") > first.count(",") else ","
        reader = csv.DictReader(fh, delimiter=delimiter, strict=True)
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
        except csv.Error as exc:
            raise ImportFileError(_("{path}:1: cannot read the header: {error}").format(path=path, error=exc)) from exc
        reader.fieldnames = header
        missing = required - set(header)
        if missing:
            raise ImportFileError(
                _(
                    "{path}:1: missing required column(s) {missing}; found {found}. See the column mapping in the "
                    "README."
                ).format(path=path, missing=", ".join(sorted(missing)), found=", ".join(header) or _("none"))
            )
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise ImportFileError(
                    _("{path}:{line}: malformed CSV: {error}; nothing was imported").format(
                        path=path, line=reader.line_num, error=exc
                    )
                ) from exc
            if None in row:
                yield reader.line_num, {"__extra__": "x"}
                continue
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def jsonl_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield ``(line number, object)``; a line that is not a JSON object yields an error string."""
    text = decode(path, encoding)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_FIELD * 4:
            long = _("line of {n} characters; at most {max}").format(
                n=i18n.number(len(line)), max=i18n.number(MAX_FIELD * 4)
            )
            yield number, long
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, _("invalid JSON: {error} at column {column}").format(error=exc.msg, column=exc.colno)
            continue
        except RecursionError:
            yield number, _("JSON nested too deeply")
            continue
        except ValueError as exc:  # e.g. an integer with thousands of digits
            yield number, _("invalid JSON value: {error}").format(error=exc)
            continue
        if not isinstance(obj, dict):
            yield number, _("expected a JSON object, got {type}").format(type=type(obj).__name__)
            continue
        yield number, obj


MAX_FIELD = 100_000
"""Characters per field; a longer one (a pasted file, a runaway quote) rejects its row only."""
EXTRA_FIELDS = N_("more fields than columns in the header")


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """A row's values without NUL characters (PostgreSQL refuses them in text); over-long fields raise."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and len(value) > MAX_FIELD:
            raise ValueError(
                _("{field}: {n} characters; at most {max} per field").format(
                    field=key, n=i18n.number(len(value)), max=i18n.number(MAX_FIELD)
                )
            )
        out[key] = without_nul(value)
    return out


def row_problem(exc: Exception) -> str:
    """One line for the report: what was wrong with the row, whatever raised."""
    if isinstance(exc, ValidationError):
        return explain(exc)
    if isinstance(exc, ValueError | TypeError | OverflowError):
        return str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {exc}"


def explain(exc: ValidationError) -> str:
    """Pydantic's errors in the current language: a validator's own message (already translated where it was
    raised), or the words of :data:`PYDANTIC_PROBLEMS` for pydantic's types; ``field: problem (got 'x')``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        error = (err.get("ctx") or {}).get("error")
        if err["type"] == "value_error" and error is not None:
            problem = str(error)
        elif err["type"] in PYDANTIC_PROBLEMS:
            problem = _(PYDANTIC_PROBLEMS[err["type"]])
        else:
            problem = err["msg"]
        value = err.get("input")
        if not loc:
            parts.append(_("row: {problem}").format(problem=problem))
        elif isinstance(value, str | int | float):
            parts.append(_("{field}: {problem} (got {value!r})").format(field=loc, problem=problem, value=value))
        else:
            parts.append(_("{field}: {problem}").format(field=loc, problem=problem))
    return "; ".join(parts)


def split_multi(value: str | None) -> list[str]:
    """Split a multi-valued cell on ``;`` or ``|`` (commas occur inside names)."""
    if not value:
        return []
    for sep in ("|",):
        value = value.replace(sep, ";")
    return [v.strip() for v in value.split(";") if v.strip()]


def parse_datetime(value: str | datetime) -> datetime:
    """ISO-8601 (date or date-time; naive values are UTC) or German ``TT.MM.JJJJ[ HH:MM]``."""
    if isinstance(value, datetime):
        return _in_range(value, value)
    if not isinstance(value, str):
        raise ValueError(_not_a_date(value))
    text = value.strip()
    if not text:
        raise ValueError(_("a date is required"))
    if "." not in text[:3]:  # ISO first: the usual export, and a German date never parses as ISO (or vice versa)
        try:
            iso = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return _in_range(iso, text)
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _in_range(parsed, text)
    raise ValueError(_not_a_date(text))


def _not_a_date(value: object) -> str:
    return _("not a date: {value!r} (use ISO-8601 like 2026-11-16T09:30:00+01:00)").format(value=value)


def _in_range(parsed: datetime, original: object) -> datetime:
    """``parsed`` in UTC when its year is plausible (1900-2100; year 1 or 9999 are placeholders or typos
    and overflow in UTC conversion)."""
    from resonanz.core.periods import MAX_YEAR, MIN_YEAR
    from store.types import as_utc

    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(
            _("date out of range: {value!r} (years {first}-{last})").format(
                value=original, first=MIN_YEAR, last=MAX_YEAR
            )
        )
    try:
        result = as_utc(parsed)
    except (OverflowError, ValueError):
        raise ValueError(_("date out of range: {value!r}").format(value=original)) from None
    assert result is not None
    return result


MAX_AMOUNT = 1e12
"""Larger amounts are typos or overflow (``1e400``), not orders."""
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?$")


def finite_amount(number: float, original: object) -> float:
    """``number`` if it is a real money amount: finite and below :data:`MAX_AMOUNT` in size."""
    if not math.isfinite(number) or abs(number) > MAX_AMOUNT:
        raise ValueError(
            _("not a usable amount: {value!r} (must be a finite number below {max})").format(
                value=original, max=i18n.number(MAX_AMOUNT)
            )
        )
    return number


def parse_amount(value: str) -> float:
    """A money amount in an unambiguous form: ``1234.56``, ``1234,56``, ``1.234,56`` or ``1,234.56``.

    A single separator followed by exactly three digits (``1.234``, ``1,234``) is refused with a hint:
    it is a thousands separator in one convention and a decimal point in the other, and guessing
    would be off by a factor of 1000. ``NaN``, ``inf`` and absurd sizes are refused too.
    """
    text = value.strip().replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValueError(_("an amount is required"))
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        last = max(text.rfind(","), text.rfind("."))
        decimal = text[last]
        grouping = "." if decimal == "," else ","
        if text.count(decimal) != 1 or not _GROUPED.match(text):
            raise ValueError(_not_a_number(value))
        text = text.replace(grouping, "").replace(decimal, ".")
    elif commas + dots == 1:
        whole, _dot, fraction = text.replace(",", ".").partition(".")
        digits = whole.lstrip("+-")
        if len(fraction) == 3 and digits.isdigit() and len(digits) <= 3 and digits != "0":
            raise ValueError(
                _(
                    "ambiguous amount {value!r}: thousands or decimals? Write 1234 or 1.234,00 (German) or 1,234.00 "
                    "(English), or 1,234 as 1.234 without grouping"
                ).format(value=value)
            )
        text = whole + "." + fraction
    elif commas + dots > 1:
        sep = "," if commas else "."
        if not _GROUPED.match(text):
            raise ValueError(_not_a_number(value))
        text = text.replace(sep, "")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(_("not a number: {value!r}").format(value=value)) from None
    return finite_amount(number, value)


def _not_a_number(value: str) -> str:
    return _("not a number: {value!r} (write 1234.56 or 1234,56)").format(value=value)


def validated_batches(
    path: Path,
    required: set[str],
    model: type[RowT],
    key: str,
    report: ImportReport,
    encoding: str = "utf-8",
    check: Callable[[RowT], str | None] | None = None,
    size: int | None = None,
) -> Iterator[dict[str, tuple[int, RowT]]]:
    """Validate every CSV row into ``model``, yielding the good rows in batches of ``size`` (:data:`BATCH_ROWS`).

    Bad rows and repeated ``key`` values go to ``report`` (the first occurrence of a key wins, across
    batches). Each batch maps key -> (line number, row). A progress line is logged every
    :data:`PROGRESS_ROWS` rows. Trade-off: a file with a malformed line far down is only rejected when the
    reader gets there; callers write all batches in one transaction, so it still leaves nothing behind.
    """
    size = size or BATCH_ROWS
    first_line: dict[str, int] = {}
    batch: dict[str, tuple[int, RowT]] = {}
    for line, raw in csv_rows(path, required, encoding):
        report.rows += 1
        if report.rows % PROGRESS_ROWS == 0:
            log.info("%s: %s rows read, %s rejected so far", path.name, f"{report.rows:,}".replace(",", "."),
                     f"{len(report.errors):,}".replace(",", "."))  # fmt: skip
        if "__extra__" in raw:
            report.errors.append(RowError(str(path), line, _(EXTRA_FIELDS)))
            continue
        try:
            row = model.model_validate(clean(raw))
            problem = check(row) if check else None
        except Exception as exc:  # any bad value is this row's problem, never the file's
            report.errors.append(RowError(str(path), line, row_problem(exc)))
            continue
        if problem:
            report.errors.append(RowError(str(path), line, problem))
            continue
        value = getattr(row, key)
        first = first_line.get(value)
        if first is not None:
            report.errors.append(
                RowError(
                    str(path),
                    line,
                    _("duplicate {key} {value!r} (first at line {first})").format(key=key, value=value, first=first),
                )
            )
            continue
        first_line[value] = line
        batch[value] = (line, row)
        if len(batch) >= size:
            yield batch
            batch = {}
    if batch:
        yield batch


def validated_rows(
    path: Path,
    required: set[str],
    model: type[RowT],
    key: str,
    report: ImportReport,
    encoding: str = "utf-8",
    check: Callable[[RowT], str | None] | None = None,
) -> dict[str, tuple[int, RowT]]:
    """All of :func:`validated_batches` in one mapping (small files; the importers stream batches)."""
    good: dict[str, tuple[int, RowT]] = {}
    for batch in validated_batches(path, required, model, key, report, encoding, check):
        good.update(batch)
    return good


def stored_by_key(session: Any, key: Any, columns: Sequence[Any], keys: Iterable[Any]) -> dict[Any, Any]:
    """``key value -> row of columns`` of the stored rows whose ``key`` is in ``keys`` (Core, in chunks of 900)."""
    from sqlalchemy import select

    items = list(keys)
    out: dict[Any, Any] = {}
    for start in range(0, len(items), 900):
        query = select(key, *columns).where(key.in_(items[start : start + 900]))
        for row in session.execute(query):
            out[row[0]] = row
    return out


def write_batch(session: Any, table: Any, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    """Insert ``inserts`` and update ``updates`` (each with its row ``id``) with one executemany each."""
    from sqlalchemy import bindparam, insert, update

    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        names = [n for n in updates[0] if n != "id"]
        statement = update(table).where(table.c.id == bindparam("_id")).values({n: bindparam(f"_{n}") for n in names})
        session.execute(statement, [{f"_{k}": v for k, v in row.items()} for row in updates])


def log_progress(report: ImportReport, batches: int) -> None:
    """A progress line after every few batches (about :data:`PROGRESS_ROWS` rows)."""
    if batches % max(PROGRESS_ROWS // BATCH_ROWS, 1) == 0:
        log.info(
            "%s: %s written (%s new, %s updated, %s unchanged)", report.kind,
            *(f"{n:,}".replace(",", ".") for n in (report.inserted + report.updated + report.unchanged,
                                                   report.inserted, report.updated, report.unchanged)),
        )  # fmt: skip


def drop_erased(
    session: Any, rows: dict[str, tuple[int, Any]], kind: str, report: ImportReport, key_of: Callable[[Any], str]
) -> None:
    """Remove (and report) the rows whose ``kind`` key is on the GDPR suppression list."""
    from resonanz.pipeline.suppression import erased_among

    erased = erased_among(session, kind, {key_of(row) for _, row in rows.values()})
    if not erased:
        return
    for key, (line, row) in list(rows.items()):
        at = erased.get(key_of(row))
        if at is not None:
            del rows[key]
            skipped = _("skipped: erased under GDPR Art. 17 on {date}").format(date=i18n.date(at))
            report.suppressed.append(RowError(report.file, line, skipped))
