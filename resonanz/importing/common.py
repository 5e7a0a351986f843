"""Reading import files and reporting what was wrong where."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from store.types import without_nul

RowT = TypeVar("RowT", bound=BaseModel)


class ImportError_(Exception):  # noqa: N801  (avoid shadowing the builtin ImportError)
    """Base class for import problems."""


class ImportFileError(ImportError_):
    """The file as a whole cannot be imported (encoding, header, format). Nothing was written."""


@dataclass(frozen=True)
class RowError:
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
        return (
            f"{self.kind} from {self.file}: {self.rows} rows, {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged, {len(self.errors)} rejected"
            + (f", {len(self.suppressed)} skipped (erased under GDPR Art. 17)" if self.suppressed else "")
        )


def decode(path: Path, encoding: str = "utf-8") -> str:
    """Read ``path`` as text; explain undecodable bytes with their line and a fix."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc
    if not raw.strip():
        raise ImportFileError(f"{path}: the file is empty; expected a header line and data rows")
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        return raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"{path}:{line}: not valid {encoding} (byte 0x{raw[exc.start]:02x}); nothing was imported. "
            "Save the file as UTF-8, or pass --encoding cp1252 for files exported by Excel on Windows."
        ) from exc


def csv_rows(path: Path, required: set[str], encoding: str = "utf-8") -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` for each data row of a CSV file with a header.

    The delimiter (comma or semicolon, common in German exports) is sniffed from the header.
    """
    text = decode(path, encoding)
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long fields are rejected per row (clean), not per file
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportFileError(f"{path}:1: cannot read the header: {exc}") from exc
    reader.fieldnames = header
    missing = required - set(header)
    if missing:
        raise ImportFileError(
            f"{path}:1: missing required column(s) {', '.join(sorted(missing))}; "
            f"found {', '.join(header) or 'none'}. See the column mapping in the README."
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"{path}:{reader.line_num}: malformed CSV: {exc}; nothing was imported") from exc
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
            yield number, f"line of {len(line):,} characters; at most {MAX_FIELD * 4:,}"
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, f"invalid JSON: {exc.msg} at column {exc.colno}"
            continue
        except RecursionError:
            yield number, "JSON nested too deeply"
            continue
        except ValueError as exc:  # e.g. an integer with thousands of digits
            yield number, f"invalid JSON value: {exc}"
            continue
        if not isinstance(obj, dict):
            yield number, f"expected a JSON object, got {type(obj).__name__}"
            continue
        yield number, obj


MAX_FIELD = 100_000
"""Characters per field; a longer one (a pasted file, a runaway quote) rejects its row only."""


def clean(raw: dict[str, Any]) -> dict[str, Any]:
    """A row's values without NUL characters (PostgreSQL refuses them in text); over-long fields raise."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and len(value) > MAX_FIELD:
            raise ValueError(f"{key}: {len(value):,} characters; at most {MAX_FIELD:,} per field")
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
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "row"
        value = err.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float) and loc != "row" else ""
        parts.append(f"{loc}: {err['msg']}{shown}")
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
        raise ValueError(f"not a date: {value!r} (use ISO-8601 like 2026-11-16T09:30:00+01:00)")
    text = value.strip()
    if not text:
        raise ValueError("a date is required")
    for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _in_range(parsed, text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use ISO-8601 like 2026-11-16T09:30:00+01:00)") from None
    return _in_range(parsed, text)


def _in_range(parsed: datetime, original: object) -> datetime:
    """``parsed`` in UTC when its year is plausible (1900-2100; year 1 or 9999 are placeholders or typos
    and overflow in UTC conversion)."""
    from resonanz.core.periods import MAX_YEAR, MIN_YEAR
    from store.types import as_utc

    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"date out of range: {original!r} (years {MIN_YEAR}-{MAX_YEAR})")
    try:
        result = as_utc(parsed)
    except (OverflowError, ValueError):
        raise ValueError(f"date out of range: {original!r}") from None
    assert result is not None
    return result


MAX_AMOUNT = 1e12
"""Larger amounts are typos or overflow (``1e400``), not orders."""
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?$")


def finite_amount(number: float, original: object) -> float:
    """``number`` if it is a real money amount: finite and below :data:`MAX_AMOUNT` in size."""
    if not math.isfinite(number) or abs(number) > MAX_AMOUNT:
        raise ValueError(f"not a usable amount: {original!r} (must be a finite number below {MAX_AMOUNT:,.0f})")
    return number


def parse_amount(value: str) -> float:
    """A money amount in an unambiguous form: ``1234.56``, ``1234,56``, ``1.234,56`` or ``1,234.56``.

    A single separator followed by exactly three digits (``1.234``, ``1,234``) is refused with a hint:
    it is a thousands separator in one convention and a decimal point in the other, and guessing
    would be off by a factor of 1000. ``NaN``, ``inf`` and absurd sizes are refused too.
    """
    text = value.strip().replace("€", "").replace("EUR", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValueError("an amount is required")
    commas, dots = text.count(","), text.count(".")
    if commas and dots:
        last = max(text.rfind(","), text.rfind("."))
        decimal = text[last]
        grouping = "." if decimal == "," else ","
        if text.count(decimal) != 1 or not _GROUPED.match(text):
            raise ValueError(f"not a number: {value!r} (write 1234.56 or 1234,56)")
        text = text.replace(grouping, "").replace(decimal, ".")
    elif commas + dots == 1:
        whole, _, fraction = text.replace(",", ".").partition(".")
        digits = whole.lstrip("+-")
        if len(fraction) == 3 and digits.isdigit() and len(digits) <= 3 and digits != "0":
            raise ValueError(
                f"ambiguous amount {value!r}: thousands or decimals? Write 1234 or 1.234,00 (German) "
                "or 1,234.00 (English), or 1,234 as 1.234 without grouping"
            )
        text = whole + "." + fraction
    elif commas + dots > 1:
        sep = "," if commas else "."
        if not _GROUPED.match(text):
            raise ValueError(f"not a number: {value!r} (write 1234.56 or 1234,56)")
        text = text.replace(sep, "")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"not a number: {value!r}") from None
    return finite_amount(number, value)


def validated_rows(
    path: Path,
    required: set[str],
    model: type[RowT],
    key: str,
    report: ImportReport,
    encoding: str = "utf-8",
    check: Callable[[RowT], str | None] | None = None,
) -> dict[str, tuple[int, RowT]]:
    """Validate every CSV row into ``model``; bad rows and duplicate ``key`` values go to ``report``.

    Returns the good rows by key with their line numbers (the first occurrence of a key wins).
    """
    good: dict[str, tuple[int, RowT]] = {}
    for line, raw in csv_rows(path, required, encoding):
        report.rows += 1
        if "__extra__" in raw:
            report.errors.append(RowError(str(path), line, "more fields than columns in the header"))
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
        if value in good:
            first = good[value][0]
            report.errors.append(RowError(str(path), line, f"duplicate {key} {value!r} (first at line {first})"))
            continue
        good[value] = (line, row)
    return good


def upsert(
    session: Any,
    stored: Any | None,
    model: type[Any],
    key: dict[str, Any],
    values: dict[str, Any],
    report: ImportReport,
) -> Any:
    """Insert ``model(**key, **values)`` when nothing is stored, else update only what changed; count the outcome.

    Returns the row that was written, or ``None`` when the stored row already held ``values``.
    """
    if stored is None:
        row = model(**key, **values)
        session.add(row)
        report.inserted += 1
        return row
    changed = {k: v for k, v in values.items() if getattr(stored, k) != v}
    if not changed:
        report.unchanged += 1
        return None
    for name, value in changed.items():
        setattr(stored, name, value)
    session.add(stored)
    report.updated += 1
    return stored


def in_chunks(session: Any, model: type[Any], column: Any, values: Iterable[Any], size: int = 900) -> list[Any]:
    """``select(model).where(column.in_(values))`` in chunks of ``size`` (SQLite allows 999 variables)."""
    from sqlmodel import col, select

    items = list(values)
    out: list[Any] = []
    for start in range(0, len(items), size):
        out.extend(session.exec(select(model).where(col(column).in_(items[start : start + size]))).all())
    return out


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
            when = at.strftime("%d.%m.%Y")
            report.suppressed.append(RowError(report.file, line, f"skipped: erased under GDPR Art. 17 on {when}"))
